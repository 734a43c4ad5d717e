#!/usr/bin/python3
"""ipsecgw performance lab: the benchmark matrix on one machine.

Run through perf/lab/run.sh (see perf/README.md). Everything is measured in
one run so that ratios are comparable: ipsecgw, DPDK's ipsec-secgw, the
crypto ceiling (IPsec-MB AES-GCM alone, ../shared/bench/gcm_limit.c) and the
harness alone (testpmd io forwarding of the same frames).

Traffic sources:
  pcap   in-process replay: net_pcap infinite_rx -> gateway -> net_null; rate
         = TX port opackets through DPDK telemetry (as shared/bench/compare.sh).
  memif  a separate generator/sink process (perf/lab/trafgen.c) wired to the
         gateway through two net_memif links; it offers paced traffic, counts
         what comes back, searches the loss-free rate and measures latency
         from timestamps carried in the packets. Cross-check: dpdk-testpmd
         txonly -> gateway -> dpdk-testpmd rxonly (outbound only).
"""
import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
IMIX_SIZES = [64, 570, 1518]
IMIX_WEIGHTS = [7, 4, 1]
KEYS = {128: "2b7e151628aed2a6abf7158809cf4f3c",
        256: "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4"}
SALT = "deadbeef"


BEST_SLICE = 0.25        # --best: length of the slices a window is read in, s
BEST_CEILING_RUNS = 4    # --best: gcm_limit runs per ceiling, the fastest counts


def log(*a):
    print(*a, file=sys.stderr, flush=True)


# ------------------------------------------------------------------ helpers
def child_pid(p, tries=20, wait=0.05):
    """The DPDK process under `timeout` (None once the parent is gone)."""
    for _ in range(tries):
        try:
            with open("/proc/%d/task/%d/children" % (p.pid, p.pid)) as f:
                kids = f.read().split()
            if kids:
                return int(kids[0])
        except OSError:
            return None
        time.sleep(wait)
    return None


def cpu_ns(pid):
    """On-CPU nanoseconds of all threads of pid (busy-polling workers dominate)."""
    if pid is None:
        return None
    tot = 0
    try:
        tasks = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return None
    for t in tasks:
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, t)) as f:
                tot += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass  # a thread that ended meanwhile
    return tot


class Lab:
    def __init__(self, a):
        self.a = a
        self.out = a.out
        self.logs = os.path.join(self.out, "logs")
        os.makedirs(self.logs, exist_ok=True)
        self.cache = a.cache
        os.makedirs(self.cache, exist_ok=True)
        self.work = os.path.join(self.out, "work")
        os.makedirs(self.work, exist_ok=True)
        self.seq = 0
        self.last_cpu = None
        self.memif = "rsize=%d,bsize=2048" % getattr(a, "memif_rsize", 12)
        self.procs = []
        self.eal_mem = self.hugepages()
        self.results = {"meta": {}, "pcap": [], "harness": {}, "ceiling": {}, "memif": [], "testpmd": []}

    def hugepages(self):
        """Reserve 2 MiB hugepages (and mount hugetlbfs) if we can; else run without."""
        if getattr(self.a, "no_huge", False):
            return ["--no-huge", "-m", "1024"]
        try:
            with open("/proc/sys/vm/nr_hugepages") as f:
                n = int(f.read())
            if n < 1024:
                with open("/proc/sys/vm/nr_hugepages", "w") as f:
                    f.write("1024")
            mounted = any(l.split()[2] == "hugetlbfs" for l in open("/proc/mounts"))
            if not mounted:
                os.makedirs("/dev/hugepages", exist_ok=True)
                subprocess.run(["mount", "-t", "hugetlbfs", "nodev", "/dev/hugepages"], check=True,
                               stderr=subprocess.DEVNULL)
            free = int([l for l in open("/proc/meminfo") if l.startswith("HugePages_Free")][0].split()[1])
            if free >= 512:
                return ["--huge-unlink"]
        except (OSError, subprocess.CalledProcessError, ValueError, IndexError):
            pass
        log("lab: no hugepages, running with --no-huge (rates will be lower)")
        return ["--no-huge", "-m", "1024"]

    def prefix(self, tag):
        self.seq += 1
        return "lab%d_%s%d" % (os.getpid(), tag, self.seq)

    def start(self, cmd, logname, limit):
        """Start a bounded process in its own session; returns Popen."""
        lf = open(os.path.join(self.logs, logname), "w")
        lf.write(" ".join(cmd) + "\n\n")
        lf.flush()
        p = subprocess.Popen(["timeout", "-s", "INT", "-k", "3", str(int(limit))] + cmd, stdout=lf,
                             stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        self.procs.append(p)
        return p

    def stop(self, p):
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGINT)
            except ProcessLookupError:
                pass
            try:
                p.wait(3)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait(3)
        if p in self.procs:
            self.procs.remove(p)

    def stop_all(self):
        for p in list(self.procs):
            self.stop(p)

    @staticmethod
    def telemetry(prefix, cmd):
        path = "/var/run/dpdk/%s/dpdk_telemetry.v2" % prefix
        s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        s.settimeout(2)
        try:
            s.connect(path)
            info = json.loads(s.recv(4096).decode())
            s.send(cmd.encode())
            return json.loads(s.recv(info.get("max_output_len", 16384)).decode())
        finally:
            s.close()

    def port_stats(self, prefix, port):
        try:
            return self.telemetry(prefix, "/ethdev/stats,%d" % port)["/ethdev/stats"]
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def wait_telemetry(self, p, prefix, limit=15):
        t0 = time.time()
        while time.time() - t0 < limit and p.poll() is None:
            if self.port_stats(prefix, 0) is not None:
                return True
            time.sleep(0.1)
        return False

    def wait_link(self, prefix, port=0, limit=10):
        t0 = time.time()
        while time.time() - t0 < limit:
            try:
                st = self.telemetry(prefix, "/ethdev/link_status,%d" % port)["/ethdev/link_status"]
                if st.get("status") == "UP":
                    return True
            except (OSError, ValueError, KeyError, TypeError, AttributeError):
                pass
            time.sleep(0.1)
        return False

    def rate(self, cmd, prefix, port, logname, counter="opackets"):
        """Mpps of one port's counter over the window, after the port starts moving."""
        a = self.a
        p = self.start(cmd, logname, 20 + a.warm + a.window)
        try:
            if not self.wait_telemetry(p, prefix):
                log("lab: %s did not come up (see logs/%s)" % (cmd[0], logname))
                return None
            t0 = time.time()
            while time.time() - t0 < 10:
                st = self.port_stats(prefix, port)
                if st and st.get(counter, 0) > 0:
                    break
                time.sleep(0.05)
            time.sleep(a.warm)
            pid = child_pid(p)
            s1, t1, c1 = self.port_stats(prefix, port), time.time(), cpu_ns(pid)
            if not getattr(a, "best", False):
                time.sleep(a.window)
                s2, t2, c2 = self.port_stats(prefix, port), time.time(), cpu_ns(pid)
                if not s1 or not s2:
                    return None
                n = s2[counter] - s1[counter]
                self.last_cpu = n / ((c2 - c1) / 1e9) / 1e6 if c1 is not None and c2 is not None and c2 > c1 else None
                return n / (t2 - t1) / 1e6
            # --best: the window read in slices; the best slice's rates (wall and per CPU-s)
            # are the speed of the code while the machine let it run freely.
            best_wall, best_cpu, prev = 0.0, None, (s1, t1, c1)
            t_end = t1 + a.window
            while time.time() < t_end:
                time.sleep(min(BEST_SLICE, max(0.0, t_end - time.time())))
                cur = (self.port_stats(prefix, port), time.time(), cpu_ns(pid))
                (ps, pt, pc), (cs, ct, cc) = prev, cur
                if ps and cs and ct > pt + 0.05:
                    n = cs[counter] - ps[counter]
                    best_wall = max(best_wall, n / (ct - pt) / 1e6)
                    if pc is not None and cc is not None and cc > pc + 1e6:
                        best_cpu = max(best_cpu or 0.0, n / ((cc - pc) / 1e9) / 1e6)
                prev = cur
            self.last_cpu = best_cpu
            return best_wall or None
        finally:
            self.stop(p)
            shutil.rmtree("/var/run/dpdk/%s" % prefix, ignore_errors=True)

    # -------------------------------------------------------------- builds
    def build(self):
        bench = self.a.shared_bench
        secgw = os.path.join(self.cache, "secgw", "build", "ipsec-secgw")
        if not self.a.no_secgw and not os.access(secgw, os.X_OK):
            log("lab: building ipsec-secgw (once, cached in %s)" % self.cache)
            subprocess.run([os.path.join(bench, "build_secgw.sh"), os.path.join(self.cache, "secgw")], check=True,
                           stdout=subprocess.DEVNULL)
        self.secgw = secgw
        self.gcm_limit = os.path.join(self.cache, "gcm_limit")
        if not os.access(self.gcm_limit, os.X_OK):
            subprocess.run(["cc", "-O2", os.path.join(bench, "gcm_limit.c"), "-o", self.gcm_limit, "-lIPSec_MB"],
                           check=True)
        self.trafgen = os.path.join(self.cache, "trafgen")
        src = os.path.join(HERE, "trafgen.c")
        if not os.access(self.trafgen, os.X_OK) or os.path.getmtime(src) > os.path.getmtime(self.trafgen):
            flags = subprocess.run(["pkg-config", "--cflags", "--libs", "libdpdk"], check=True,
                                   capture_output=True, text=True).stdout.split()
            subprocess.run(["cc", "-O2", "-march=native", "-Wall", "-o", self.trafgen, src] + flags +
                           ["-lIPSec_MB"], check=True)
        # Snapshot the gateway binary: the tree may be rebuilt while we measure.
        self.ipsecgw = os.path.join(self.work, "ipsecgw")
        shutil.copy2(self.a.ipsecgw, self.ipsecgw)
        self.results["meta"]["ipsecgw"] = os.path.abspath(self.a.ipsecgw)

    def esp2(self, size, bits):
        """ESP of a second inbound tunnel (SPI 106, 172.16.2.6, inner 192.168.116.x) for 2-worker runs."""
        d = os.path.join(self.cache, "pcap")
        esp = os.path.join(d, "esp106_%s_%d.pcap" % (size, bits))
        gen = os.path.join(HERE, "gen_traffic.py")
        if not os.path.exists(esp) or os.path.getmtime(gen) > os.path.getmtime(esp):
            subprocess.run(["/usr/bin/python3", gen, str(size), os.path.join(self.work, "unused.pcap"), esp, "--key",
                            KEYS[bits] + SALT, "--spi", "106", "--tun-src", "172.16.2.6", "--inner-dst-net",
                            "192.168.116"], check=True, stdout=subprocess.DEVNULL)
        return esp

    def traffic(self, size, bits):
        key = KEYS[bits] + SALT
        d = os.path.join(self.cache, "pcap")
        os.makedirs(d, exist_ok=True)
        plain = os.path.join(d, "plain_%s.pcap" % size)
        esp = os.path.join(d, "esp_%s_%d.pcap" % (size, bits))
        gen = os.path.join(HERE, "gen_traffic.py")
        if not (os.path.exists(plain) and os.path.exists(esp)) or os.path.getmtime(gen) > os.path.getmtime(esp):
            subprocess.run(["/usr/bin/python3", gen, str(size), plain, esp, "--key", key], check=True,
                           stdout=subprocess.DEVNULL)
        return plain, esp

    def cfg(self, bits, workers=1):
        path = os.path.join(self.work, "gw%d_%d.cfg" % (bits, workers))
        k = ":".join((KEYS[bits] + SALT)[i:i + 2] for i in range(0, len(KEYS[bits] + SALT), 2))
        algo = "aes-%d-gcm" % bits
        with open(path, "w") as f:
            f.write("""sp ipv4 out esp protect 5 pri 1 dst 192.168.105.0/24 sport 0:65535 dport 0:65535
sp ipv4 in esp protect 105 pri 1 dst 192.168.115.0/24 sport 0:65535 dport 0:65535
sa out 5 aead_algo {a} aead_key {k} mode ipv4-tunnel src 172.16.1.5 dst 172.16.2.5 type cpu-crypto
sa in 105 aead_algo {a} aead_key {k} mode ipv4-tunnel src 172.16.2.5 dst 172.16.1.5 type cpu-crypto
rt ipv4 dst 172.16.2.5/32 port 1
rt ipv4 dst 192.168.115.0/24 port 0
neigh port 0 02:00:00:00:00:10
neigh port 1 02:00:00:00:00:11
""".format(a=algo, k=k))
            if workers > 1:
                # A second inbound tunnel: with RSS on outer addresses each tunnel
                # lands on one queue; the 2-worker inbound runs replay one tunnel
                # per queue (ipsecgw gives inbound SAs to workers in cfg order).
                f.write("""sp ipv4 in esp protect 106 pri 1 dst 192.168.116.0/24 sport 0:65535 dport 0:65535
sa in 106 aead_algo {a} aead_key {k} mode ipv4-tunnel src 172.16.2.6 dst 172.16.1.5 type cpu-crypto
rt ipv4 dst 192.168.116.0/24 port 0
""".format(a=algo, k=k))
        return path

    # ------------------------------------------------------------ measures
    def lcores(self, workers):
        return [str(self.a.lcore)] if workers == 1 else [str(c) for c in range(workers)]

    def gw_cmd(self, binary, prefix, ports, workers, bits, promisc=True):
        lc = self.lcores(workers)
        conf = ",".join("(%d,%d,%s)" % (port, q, lc[q]) for port in (0, 1) for q in range(workers))
        return ([binary, "-l", ",".join(lc), "-n", "1", "--no-pci", "--file-prefix", prefix] + self.eal_mem + ports +
                ["--vdev", "crypto_aesni_gcm0", "--", "--rxoffload", "0", "--txoffload", "0", "-l"] +
                (["-P"] if promisc else []) + ["-p", "0x3", "-u", "0x2", "--config", conf, "-f",
                                               self.cfg(bits, workers)])

    def gw_pcap(self, name, binary, direction, pcap, bits, workers):
        prefix = self.prefix(name)
        pcaps = [pcap] * workers
        if direction == "in" and workers == 2:
            pcaps[1] = self.esp2(self.cur_size, bits)
        q = ",".join("rx_pcap=%s" % x for x in pcaps)
        pcap_dev = ["--vdev", "net_pcap0,%s,infinite_rx=1" % q]
        null_dev = ["--vdev", "net_null0,no-rx=1"]
        if direction == "out":
            ports, txport = pcap_dev + null_dev, 1
        else:
            ports, txport = null_dev + pcap_dev, 0
        cmd = self.gw_cmd(binary, prefix, ports, workers, bits)
        self.last_cpu = None
        r = self.rate(cmd, prefix, txport, "%s.log" % prefix)
        return r, self.last_cpu

    def harness(self, pcap):
        self.last_cpu = None
        prefix = self.prefix("io")
        cmd = ["dpdk-testpmd", "--lcores", "0@0,1@%d" % self.a.lcore, "-n", "1", "--no-pci", "--file-prefix",
               prefix] + self.eal_mem + ["--vdev", "net_pcap0,rx_pcap=%s,infinite_rx=1" % pcap, "--vdev",
                                          "net_null0,no-rx=1", "--", "--forward-mode=io", "--auto-start",
                                          "--stats-period", "60", "--no-lsc-interrupt"]
        return self.rate(cmd, prefix, 1, "%s.log" % prefix)

    def ceiling(self, size, bits):
        """Mops of AES-GCM alone on the bytes of one frame (IMIX: weighted mean time per frame)."""
        if size == "imix":
            t = sum(w / self.ceiling(s, bits) for s, w in zip(IMIX_SIZES, IMIX_WEIGHTS))
            return sum(IMIX_WEIGHTS) / t
        key = "%d/%d" % (int(size), bits)
        if key not in self.results["ceiling"]:
            best, best_cpu = 0.0, None
            # --best: the fastest of several short runs, as the gateways' best slice
            for _ in range(BEST_CEILING_RUNS if getattr(self.a, "best", False) else 1):
                p = subprocess.Popen(["taskset", "-c", str(self.a.lcore), self.gcm_limit, str(int(size) - 14),
                                      str(bits), str(self.a.ceiling_secs)], stdout=subprocess.PIPE, text=True)
                out = p.stdout.read()
                _, _, ru = os.wait4(p.pid, 0)
                p.returncode = 0
                mops = float(out.split()[1])
                cpu = ru.ru_utime + ru.ru_stime
                best = max(best, mops)
                # gcm_limit runs ceiling_secs of wall time: scale to its CPU time too
                if cpu > 0:
                    best_cpu = max(best_cpu or 0.0, mops * self.a.ceiling_secs / cpu)
            self.results["ceiling"][key] = best
            self.results["ceiling"][key + "/cpu"] = best_cpu
        return self.results["ceiling"][key]

    def forget_ceiling(self, size, bits):
        """Drops the cached ceiling of size (IMIX: of its sizes) so the next call measures it again."""
        for s in (IMIX_SIZES if size == "imix" else [size]):
            key = "%d/%d" % (int(s), bits)
            self.results["ceiling"].pop(key, None)
            self.results["ceiling"].pop(key + "/cpu", None)

    def ceiling_cpu(self, size, bits):
        """As ceiling(), per second of gcm_limit's CPU time."""
        if size == "imix":
            v = [self.ceiling_cpu(s, bits) for s in IMIX_SIZES]
            if None in v:
                return None
            return sum(IMIX_WEIGHTS) / sum(w / x for w, x in zip(IMIX_WEIGHTS, v))
        self.ceiling(size, bits)
        return self.results["ceiling"]["%d/%d/cpu" % (int(size), bits)]

    def memif_gw(self, name, binary, bits, direction, size, phases):
        """Gateway between two memif links, trafgen drives it from another process.
        binary None: dpdk-testpmd io forwarding instead (the memif harness alone)."""
        a = self.a
        sock = os.path.join(self.work, "m%d" % self.seq)
        gprefix, tprefix = self.prefix(name), self.prefix("tg")
        gports = ["--vdev", "net_memif0,role=server,id=0,socket=%s0.sock,%s" % (sock, self.memif),
                  "--vdev", "net_memif1,role=server,id=0,socket=%s1.sock,%s" % (sock, self.memif)]
        if binary is None:
            cmd = ["dpdk-testpmd", "--lcores", "0@%d,1@%d" % (a.lcore, a.lcore), "-n", "1", "--no-pci",
                   "--file-prefix", gprefix] + self.eal_mem + gports + [
                "--", "--forward-mode=io", "--auto-start", "--stats-period", "60", "--no-lsc-interrupt"]
        else:
            cmd = self.gw_cmd(binary, gprefix, gports, 1, bits, promisc=False)
        # trafgen port 0 sends into the gateway's ingress, port 1 receives from its egress
        ing, eg = (0, 1) if direction == "out" else (1, 0)
        tcmd = [self.trafgen, "-l", str(a.gen_lcore), "-n", "1", "--no-pci", "--file-prefix", tprefix] + \
            self.eal_mem + ["--vdev", "net_memif0,role=client,id=0,socket=%s%d.sock,%s" % (sock, ing, self.memif),
                            "--vdev", "net_memif1,role=client,id=0,socket=%s%d.sock,%s" % (sock, eg, self.memif),
                            "--", "--dir", direction, "--size", str(size), "--key", KEYS[bits] + SALT,
                            "--spi", "105", "--window", str(a.memif_window), "--steps", str(a.steps),
                            "--phases", phases, "--max-seconds", str(a.memif_limit)]
        g = self.start(cmd, "%s.log" % gprefix, a.memif_limit + 30)
        res = None
        try:
            if not self.wait_telemetry(g, gprefix):
                log("lab: gateway %s did not come up for memif (logs/%s.log)" % (name, gprefix))
                return None
            gpid = child_pid(g)
            t = self.start(tcmd, "%s.log" % tprefix, a.memif_limit + 20)
            tpid = child_pid(t)
            # On-CPU share of both sides while trafgen runs: on a shared
            # machine this, not the code, often sets source 2's figures.
            w0, g0, t0 = time.time(), cpu_ns(gpid), cpu_ns(tpid)
            g1 = t1 = None
            w1 = w0
            while t.poll() is None and time.time() - w0 < a.memif_limit + 25:
                g1, t1, w1 = cpu_ns(gpid), cpu_ns(tpid) or t1, time.time()
                time.sleep(0.2)
            t.wait(5)
            with open(os.path.join(self.logs, "%s.log" % tprefix)) as f:
                text = f.read()
            i = text.find('{"dir"')
            if i >= 0:
                res = json.loads(text[i:text.rindex("}") + 1])
                res["phases"] = phases
                if g0 is not None and g1 is not None and w1 > w0:
                    res["gw_cpu_share"] = (g1 - g0) / 1e9 / (w1 - w0)
                if t0 is not None and t1 is not None and t1 > t0 and w1 > w0:
                    res["gen_cpu_share"] = (t1 - t0) / 1e9 / (w1 - w0)
            else:
                log("lab: trafgen gave no result (logs/%s.log)" % tprefix)
        except (subprocess.TimeoutExpired, ValueError) as e:
            log("lab: memif run failed: %s" % e)
        finally:
            self.stop_all()
            for pf in (gprefix, tprefix):
                shutil.rmtree("/var/run/dpdk/%s" % pf, ignore_errors=True)
        return res

    def testpmd_wire(self, name, binary, bits, size):
        """dpdk-testpmd txonly -> gateway (outbound) -> dpdk-testpmd rxonly; sink's rx rate."""
        a = self.a
        sock = os.path.join(self.work, "t%d" % self.seq)
        gprefix, gen, sink = self.prefix(name), self.prefix("txonly"), self.prefix("rxonly")
        gports = ["--vdev", "net_memif0,role=server,id=0,socket=%s0.sock,%s" % (sock, self.memif),
                  "--vdev", "net_memif1,role=server,id=0,socket=%s1.sock,%s" % (sock, self.memif)]
        g = self.start(self.gw_cmd(binary, gprefix, gports, 1, bits, promisc=False), "%s.log" % gprefix, 60)
        out = {"gateway": name, "size": size, "key_bits": bits}
        try:
            if not self.wait_telemetry(g, gprefix):
                return None

            def tp(prefix, port, mode):
                return ["dpdk-testpmd", "--lcores", "0@%d,1@%d" % (a.gen_lcore, a.gen_lcore), "-n", "1",
                        "--no-pci", "--file-prefix", prefix] + self.eal_mem + [
                    "--vdev", "net_memif0,role=client,id=0,socket=%s%d.sock,%s" % (sock, port, self.memif), "--",
                    "--forward-mode=%s" % mode, "--auto-start", "--stats-period", "60", "--no-lsc-interrupt",
                    "--txpkts=%d" % size, "--tx-ip=192.168.1.1,192.168.105.1", "--nb-cores=1"]
            # One client at a time: the sink's link must be up before the
            # generator connects (concurrent memif connects can fail).
            for pf, port, mode in ((sink, 1, "rxonly"), (gen, 0, "txonly")):
                p = self.start(tp(pf, port, mode), "%s.log" % pf, 60)
                if not self.wait_telemetry(p, pf) or not self.wait_link(pf):
                    log("lab: testpmd %s did not come up (logs/%s.log)" % (mode, pf))
                    return None
            time.sleep(1 + a.warm)
            a1, b1, t1 = self.port_stats(gen, 0), self.port_stats(sink, 0), time.time()
            time.sleep(a.window)
            a2, b2, t2 = self.port_stats(gen, 0), self.port_stats(sink, 0), time.time()
            if a1 and a2 and b1 and b2:
                out["gen_tx_mpps"] = (a2["opackets"] - a1["opackets"]) / (t2 - t1) / 1e6
                out["sink_rx_mpps"] = (b2["ipackets"] - b1["ipackets"]) / (t2 - t1) / 1e6
                return out
            return None
        finally:
            self.stop_all()
            for pf in (gprefix, gen, sink):
                shutil.rmtree("/var/run/dpdk/%s" % pf, ignore_errors=True)


# ------------------------------------------------------------------ report
def fmt(x, nd=2):
    return "-" if x is None else ("%.*f" % (nd, x))


def ratio(x, y):
    return x / y if x and y else None


def median(v):
    v = sorted(x for x in v if x is not None)
    if not v:
        return None
    return v[len(v) // 2] if len(v) % 2 else (v[len(v) // 2 - 1] + v[len(v) // 2]) / 2


def fmt_rounds(v, single):
    """Median of per-round ratios with their range, or the single ratio."""
    v = [x for x in (v or []) if x is not None]
    if len(v) < 2:
        return fmt(single)
    return "%s (%s-%s)" % (fmt(median(v)), fmt(min(v)), fmt(max(v)))


def mean_frame(size):
    if size == "imix":
        return sum(s * w for s, w in zip(IMIX_SIZES, IMIX_WEIGHTS)) / sum(IMIX_WEIGHTS)
    return float(size)


def report(lab, a):
    R = lab.results
    lines = ["# ipsecgw performance lab: %s" % R["meta"]["when"], "",
             "Command: `%s`  " % R["meta"]["command"],
             "Machine: %s, %d CPUs; load average at start %s. ipsecgw: `%s` (git %s)." % (
                 R["meta"]["cpu"], os.cpu_count(), R["meta"]["load"], R["meta"]["ipsecgw"], R["meta"]["git"]),
             "", "Rates in Mpps of frames forwarded. `eff. ceiling` = 1/(1/crypto + 1/harness): IPsec-MB AES-GCM "
             "alone on one core over the frame's bytes, and testpmd io forwarding of the same frames. "
             "Read ratios; absolute numbers move with machine load.", "",
             "## Source 1: in-process replay (net_pcap infinite_rx -> gateway -> net_null)", "",
             "`per CPU-s` columns divide packets by the gateway's on-CPU seconds (/proc schedstat) instead of wall "
             "seconds: time the scheduler gave to other processes is not charged, so they are the ratios to trust "
             "on a busy machine (for 2 workers: all threads' CPU time together). With `--repeat N` each row "
             "is N back-to-back rounds of (ipsec-secgw, ipsecgw, crypto ceiling): rates are medians, and the "
             "per CPU-s ratios are the median of the per-round ratios with their range in brackets.%s" % (
                 " **--best**: every gateway and harness rate is its best %.2f s slice of the window, and the "
                 "crypto rate the fastest of %d gcm_limit runs (the speed of each while the machine let it "
                 "run freely)." % (BEST_SLICE, BEST_CEILING_RUNS) if R["meta"].get("args", {}).get("best") else ""),
             "",
             "| key | frame B | dir | workers | ipsec-secgw | ipsecgw | ipsecgw Gbps | ipsecgw/secgw | secgw per CPU-s "
             "| ipsecgw per CPU-s | ratio per CPU-s | crypto Mops | harness | eff. ceiling | ipsecgw/ceiling "
             "| eff. ceiling per CPU-s | ipsecgw/ceiling per CPU-s |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in R["pcap"]:
        ce = r.get("eff_ceiling") if r["workers"] == 1 else None
        ce_cpu = r.get("eff_ceiling_cpu") if r["workers"] == 1 else None
        lines.append("| %d | %s | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["key_bits"], r["size"], r["dir"], r["workers"], fmt(r["secgw"]), fmt(r["ipsecgw"]),
            fmt(r["ipsecgw"] * mean_frame(r["size"]) * 8 / 1e3 if r["ipsecgw"] else None),
            fmt(ratio(r["ipsecgw"], r["secgw"])), fmt(r.get("secgw_cpu")), fmt(r.get("ipsecgw_cpu")),
            fmt_rounds(r.get("ratio_cpu_rounds"), ratio(r.get("ipsecgw_cpu"), r.get("secgw_cpu"))),
            fmt(r["crypto"]) if r["workers"] == 1 else "",
            fmt(r["harness"]) if r["workers"] == 1 else "", fmt(ce), fmt(ratio(r["ipsecgw"], ce)),
            fmt(ce_cpu), fmt_rounds(r.get("ceiling_ratio_cpu_rounds") if r["workers"] == 1 else None,
                                    ratio(r.get("ipsecgw_cpu"), ce_cpu))))
    rep = [r for r in R["pcap"] if r.get("round_rates")]
    if rep:
        lines += ["", "Best round of each, per CPU-s (`--repeat`): a process keeps the speed it starts with on "
                  "this kind of VM (where its memory lands), so rounds differ in kind, not only by noise; the "
                  "best round of each is each one's speed when nothing held it back.", "",
                  "| key | frame B | dir | workers | ipsec-secgw best | ipsecgw best | ratio | eff. ceiling best "
                  "| ipsecgw / ceiling |", "|---|---|---|---|---|---|---|---|---|"]
        for r in rep:
            best = {k: max((x[k] for x in r["round_rates"] if x.get(k)), default=None)
                    for k in ("secgw_cpu", "ipsecgw_cpu", "eff_ceiling_cpu")}
            ce = best["eff_ceiling_cpu"] if r["workers"] == 1 else None
            lines.append("| %d | %s | %s | %d | %s | %s | %s | %s | %s |" % (
                r["key_bits"], r["size"], r["dir"], r["workers"], fmt(best["secgw_cpu"]), fmt(best["ipsecgw_cpu"]),
                fmt(ratio(best["ipsecgw_cpu"], best["secgw_cpu"])), fmt(ce), fmt(ratio(best["ipsecgw_cpu"], ce))))
    two = [r for r in R["pcap"] if r["workers"] == 2]
    if two:
        lines += ["", "Scaling (2 workers / 1 worker, same key, size, direction). `wall` = rate ratio; "
                  "`per CPU-s` = packets per second of the gateway's total CPU time, 2 workers over 1: 1.00 "
                  "means a second worker costs nothing in efficiency (no contention on SAs, rings or cache "
                  "lines); with two free cores the rate should then approach 2x (an inference, not a measurement). Inbound 2-worker runs replay one "
                  "tunnel per RX queue (SPI 105, SPI 106), as RSS on outer addresses would deliver them.", "",
                  "| key | frame B | dir | ipsecgw wall | ipsec-secgw wall | ipsecgw per CPU-s | "
                  "ipsec-secgw per CPU-s |", "|---|---|---|---|---|---|---|"]
        for r in two:
            o = [x for x in R["pcap"] if x["workers"] == 1 and all(x[k] == r[k] for k in ("key_bits", "size", "dir"))]
            if o:
                lines.append("| %d | %s | %s | %s | %s | %s | %s |" % (
                    r["key_bits"], r["size"], r["dir"], fmt(ratio(r["ipsecgw"], o[0]["ipsecgw"])),
                    fmt(ratio(r["secgw"], o[0]["secgw"])), fmt(ratio(r.get("ipsecgw_cpu"), o[0].get("ipsecgw_cpu"))),
                    fmt(ratio(r.get("secgw_cpu"), o[0].get("secgw_cpu")))))
        lines.append("")
        lines.append("On a machine without two free cores the 2-worker runs share the CPUs with the harness, the "
                     "telemetry thread and everything else: read the per CPU-s column.")
    if R["memif"]:
        lines += ["", "## Source 2: separate generator process over net_memif (perf/lab/trafgen.c)", "",
                  "trafgen (lcore %d) -> memif -> gateway (lcore %d, 1 worker) -> memif -> trafgen. "
                  "Loss-free = highest paced rate with offered == received over a %.1f s window (binary search, "
                  "%d steps); PDR = the same search allowing 0.5 %% loss; max = unpaced, received rate. Latency = one-way, from the TSC stamped into the "
                  "packet by the generator (outbound: the sink decrypts the first 48 bytes of sampled ESP "
                  "packets to read it; inbound: stamped packets are encrypted on the fly)." % (
                      a.gen_lcore, a.lcore, a.memif_window, a.steps), "",
                  "`CPU share` = on-CPU time / wall time of the gateway's and the generator's threads while "
                  "trafgen ran (1.00 = a whole CPU each).", "",
                  "| gateway | key | frame B | dir | max fwd Mpps | loss-free Mpps | PDR Mpps (loss <= 0.5 %) "
                  "| CPU share gw / gen | latency at % of | lat@10% p50/p99/p99.9 us | lat@50% | lat@90% |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        for r in R["memif"]:
            res = r["result"] or {}
            lat = {round(x["fraction"], 2): x for x in res.get("latency", [])}

            def L(fr):
                x = lat.get(fr)
                return "%.1f / %.1f / %.1f" % (x["p50_us"], x["p99_us"], x["p999_us"]) if x and x["samples"] else "-"
            lines.append("| %s | %d | %s | %s | %s | %s | %s | %s / %s | %s | %s | %s | %s |" % (
                r["gateway"], r["key_bits"], r["size"], r["dir"], fmt(res.get("max_fwd_mpps")),
                fmt(res.get("loss_free_mpps") if "search" in res.get("phases", "search") else None),
                fmt(res.get("pdr_mpps") if "search" in res.get("phases", "search") else None),
                fmt(res.get("gw_cpu_share")),
                fmt(res.get("gen_cpu_share")),
                res.get("latency_reference", "-") if res.get("latency") else "-",
                L(0.1), L(0.5), L(0.9)))
        lines.append("")
        lines.append("The generator and the gateway share a 2-CPU machine with other work: a descheduled gateway "
                     "drops packets, so the loss-free rate is a lower bound that is very sensitive to noise.")
    if R["testpmd"]:
        lines += ["", "Cross-check, outbound: dpdk-testpmd txonly -> memif -> gateway -> memif -> dpdk-testpmd "
                  "rxonly (generator and sink share lcore %d):" % a.gen_lcore, "",
                  "| gateway | key | frame B | generator tx Mpps | sink rx Mpps |", "|---|---|---|---|---|"]
        for r in R["testpmd"]:
            lines.append("| %s | %d | %s | %s | %s |" % (r["gateway"], r["key_bits"], r["size"],
                                                       fmt(r.get("gen_tx_mpps")), fmt(r.get("sink_rx_mpps"))))
    lines += ["", "Plots: %s" % ", ".join(sorted(f for f in os.listdir(a.out) if f.endswith(".png"))), ""]
    with open(os.path.join(a.out, "table.md"), "w") as f:
        f.write("\n".join(lines))
    with open(os.path.join(a.out, "results.json"), "w") as f:
        json.dump(R, f, indent=1, default=str)
    return "\n".join(lines)


def plots(lab, a):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        log("lab: no matplotlib (apt install python3-matplotlib); skipping plots")
        return
    R = lab.results
    for bits in sorted({r["key_bits"] for r in R["pcap"]}):
        fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), sharey=True)
        for ax, d in zip(axes, ("out", "in")):
            rows = [r for r in R["pcap"] if r["key_bits"] == bits and r["dir"] == d]
            sizes = [s for s in a.sizes if any(r["size"] == s for r in rows)]
            xs = range(len(sizes))

            def series(key, workers):
                v = []
                for s in sizes:
                    m = [r for r in rows if r["size"] == s and r["workers"] == workers]
                    v.append(m[0].get(key) if m and m[0].get(key) is not None else float("nan"))
                return v
            for w in a.workers:
                ax.plot(xs, series("ipsecgw", w), "o-", label="ipsecgw %dw" % w)
                ax.plot(xs, series("secgw", w), "s--", label="ipsec-secgw %dw" % w)
            ax.plot(xs, series("eff_ceiling", 1), "k:", label="eff. ceiling (1 core)")
            ax.set_xticks(list(xs))
            ax.set_xticklabels([str(s) for s in sizes])
            ax.set_xlabel("frame bytes")
            ax.set_title("AES-%d-GCM %sbound" % (bits, d))
            ax.grid(alpha=0.3)
        axes[0].set_ylabel("Mpps")
        axes[1].legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(os.path.join(a.out, "throughput_aes%d.png" % bits), dpi=110)
        plt.close(fig)
    # ratios
    one = [r for r in R["pcap"] if r["workers"] == 1 and r["ipsecgw"]]
    if one:
        fig, ax = plt.subplots(figsize=(10, 4))
        labels = ["%s %s %d" % (r["size"], r["dir"], r["key_bits"]) for r in one]
        xs = range(len(one))
        def cpu_or_wall(r, a_key, b_key):
            if r.get("round_rates"):  # --repeat: best round of each, as the best-round table
                best = [max((x[k] for x in r["round_rates"] if x.get(k)), default=None)
                        for k in (a_key + "_cpu", b_key + "_cpu")]
                return ratio(best[0], best[1]) or 0
            return ratio(r.get(a_key + "_cpu"), r.get(b_key + "_cpu")) or ratio(r.get(a_key), r.get(b_key)) or 0
        ax.bar([x - 0.2 for x in xs], [cpu_or_wall(r, "ipsecgw", "secgw") for r in one], 0.4,
               label="ipsecgw / ipsec-secgw")
        ax.bar([x + 0.2 for x in xs], [cpu_or_wall(r, "ipsecgw", "eff_ceiling") for r in one], 0.4,
               label="ipsecgw / eff. ceiling")
        ax.axhline(1.5, color="C0", ls=":", lw=1)
        ax.axhline(0.9, color="C1", ls=":", lw=1)
        ax.set_xticks(list(xs))
        ax.set_xticklabels(labels, rotation=60, fontsize=7)
        ax.legend(fontsize=8)
        ax.set_title("1 worker, per CPU-second%s: ratios (targets: 1.5x secgw at 64 B, 0.9 of ceiling at 1420 B)" % (
                     ", best round of each" if any(r.get("round_rates") for r in one) else ""), fontsize=9)
        fig.tight_layout()
        fig.savefig(os.path.join(a.out, "ratios.png"), dpi=110)
        plt.close(fig)
    lat = [r for r in R["memif"] if r["result"] and r["result"].get("latency")]
    if lat:
        fig, ax = plt.subplots(figsize=(8, 4.5))
        for i, r in enumerate(lat):
            pts = [x for x in r["result"]["latency"] if x["samples"]]
            for j, (k, st) in enumerate((("p50_us", "o-"), ("p99_us", "s--"), ("p999_us", "^:"))):
                ax.plot([x["fraction"] * 100 for x in pts], [x[k] for x in pts], st, color="C%d" % i,
                        label="%s %s %s %s" % (r["gateway"], r["size"], r["dir"], k[:-3]))
        ax.set_yscale("log")
        ax.set_xlabel("% of loss-free rate")
        ax.set_ylabel("one-way latency, us")
        ax.legend(fontsize=7)
        ax.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(os.path.join(a.out, "latency.png"), dpi=110)
        plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small matrix, short windows (< 3 minutes)")
    ap.add_argument("--ipsecgw", default=os.path.join(ROOT, "build", "dataplane", "ipsecgw"),
                    help="gateway binary (default build/dataplane/ipsecgw; copied before measuring)")
    ap.add_argument("--out", help="results directory (default perf/results/<time>)")
    ap.add_argument("--cache", default="/var/tmp/ipsecgw-lab", help="built tools and pcaps are kept here")
    ap.add_argument("--shared-bench", default=os.path.join(os.path.dirname(ROOT), "shared", "bench"),
                    help="where build_secgw.sh and gcm_limit.c are (default ../shared/bench)")
    ap.add_argument("--sizes", help="comma list of frame sizes and/or imix")
    ap.add_argument("--keys", help="comma list: 128,256")
    ap.add_argument("--workers", help="comma list: 1,2")
    ap.add_argument("--dirs", default="out,in", help="comma list: out (encrypt), in (decrypt)")
    ap.add_argument("--window", type=float, help="pcap measuring window, s")
    ap.add_argument("--warm", type=float, help="warm-up before each window, s")
    ap.add_argument("--repeat", type=int, default=1,
                    help="rounds of (secgw, ipsecgw, ceiling) per row; the table gives the median of the "
                         "per-round ratios and their range")
    ap.add_argument("--best", action="store_true",
                    help="source 1: rates of the best %.2f s slice of each window and the fastest of %d "
                         "ceiling runs, instead of whole-window means (for machines whose speed drifts)" % (
                             0.25, 4))
    ap.add_argument("--lcore", type=int, default=1, help="worker lcore for 1-worker runs")
    ap.add_argument("--gen-lcore", type=int, default=0, help="lcore of the memif generator")
    ap.add_argument("--memif-rsize", type=int, default=12, help="log2 memif ring size (1..14)")
    ap.add_argument("--no-huge", action="store_true", help="force the no-hugepage fallback (--no-huge -m 1024)")
    ap.add_argument("--no-secgw", action="store_true", help="skip ipsec-secgw")
    ap.add_argument("--no-memif", action="store_true", help="skip source 2 (trafgen over memif)")
    ap.add_argument("--no-testpmd", action="store_true", help="skip the testpmd txonly/rxonly cross-check")
    ap.add_argument("--memif-sizes", help="sizes for the memif source (default: 64,1420,imix; quick: 64)")
    ap.add_argument("--report-only", metavar="DIR", help="re-render DIR/table.md and plots from DIR/results.json")
    a = ap.parse_args()
    if a.report_only:
        class Saved:
            pass
        lab = Saved()
        a.out = os.path.abspath(a.report_only)
        with open(os.path.join(a.out, "results.json")) as f:
            lab.results = json.load(f)
        run = lab.results["meta"].get("args", {})
        seen = []
        for r in lab.results["pcap"]:
            if r["size"] not in seen:
                seen.append(r["size"])
        a.sizes = seen
        a.workers = sorted({r["workers"] for r in lab.results["pcap"]})
        a.memif_window = run.get("memif_window", 1.0)
        a.steps = run.get("steps", 8)
        a.gen_lcore, a.lcore = run.get("gen_lcore", a.gen_lcore), run.get("lcore", a.lcore)
        plots(lab, a)
        print(report(lab, a))
        return
    q = a.quick
    a.sizes = (a.sizes or ("64,1420,imix" if q else "64,128,256,512,1024,1420,imix")).split(",")
    a.keys = [int(x) for x in (a.keys or ("128" if q else "128,256")).split(",")]
    a.workers = [int(x) for x in (a.workers or ("1" if q else ("1,2" if os.cpu_count() >= 2 else "1"))).split(",")]
    a.dirs = a.dirs.split(",")
    a.window = a.window or (1.0 if q else 3.0)
    a.warm = a.warm if a.warm is not None else (0.5 if q else 1.0)
    a.ceiling_secs = 0.3 if q else 1.0
    a.memif_window = 0.5 if q else 1.0
    a.steps = 6 if q else 8
    a.memif_limit = 25 if q else 60
    a.memif_sizes = (a.memif_sizes or ("64" if q else "64,1420,imix")).split(",")
    a.out = os.path.abspath(a.out or os.path.join(ROOT, "perf", "results", time.strftime("%Y%m%d-%H%M%S")))
    if not os.access(a.ipsecgw, os.X_OK):
        sys.exit("lab: no ipsecgw binary at %s (scripts/build.sh, or --ipsecgw BIN)" % a.ipsecgw)
    t_start = time.time()
    lab = Lab(a)
    R = lab.results
    R["meta"] = {"when": time.strftime("%Y-%m-%d %H:%M:%S"), "command": " ".join(["perf/lab/run.sh"] + sys.argv[1:]),
                 "load": open("/proc/loadavg").read().split()[0],
                 "cpu": next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")),
                             "?"),
                 "git": subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"], capture_output=True,
                                       text=True).stdout.strip(),
                 "args": {"memif_window": a.memif_window, "steps": a.steps, "gen_lcore": a.gen_lcore,
                          "lcore": a.lcore, "window": a.window, "warm": a.warm, "repeat": a.repeat,
                          "best": a.best}}
    try:
        lab.build()
        for bits in a.keys:
            for size in a.sizes:
                plain, esp = lab.traffic(size, bits)
                lab.cur_size = size
                crypto = lab.ceiling(size, bits)
                crypto_cpu = lab.ceiling_cpu(size, bits)
                if size not in R["harness"]:
                    R["harness"][size] = lab.harness(plain)
                    R["harness"][size + "/cpu"] = lab.last_cpu
                h, h_cpu = R["harness"][size], R["harness"][size + "/cpu"]
                eff = 1 / (1 / crypto + 1 / h) if crypto and h else None
                eff_cpu = 1 / (1 / crypto_cpu + 1 / h_cpu) if crypto_cpu and h_cpu else None
                for w in a.workers:
                    for d in a.dirs:
                        pc = plain if d == "out" else esp
                        # --repeat N: N rounds of (secgw, ipsecgw, crypto ceiling) back to back, so
                        # each round's ratios compare figures taken seconds apart; the row holds
                        # the medians and the per-round ratios (a shared VM drifts between phases
                        # of +-30 %% that hit whatever runs during them).
                        rounds = []
                        for rnd in range(a.repeat):
                            if rnd:
                                lab.forget_ceiling(size, bits)
                                crypto, crypto_cpu = lab.ceiling(size, bits), lab.ceiling_cpu(size, bits)
                                eff = 1 / (1 / crypto + 1 / h) if crypto and h else None
                                eff_cpu = 1 / (1 / crypto_cpu + 1 / h_cpu) if crypto_cpu and h_cpu else None
                            sg = (None, None) if a.no_secgw else lab.gw_pcap("sg", lab.secgw, d, pc, bits, w)
                            gw = lab.gw_pcap("gw", lab.ipsecgw, d, pc, bits, w)
                            rounds.append({"crypto": crypto, "crypto_cpu": crypto_cpu, "eff_ceiling": eff,
                                           "eff_ceiling_cpu": eff_cpu, "secgw": sg[0], "secgw_cpu": sg[1],
                                           "ipsecgw": gw[0], "ipsecgw_cpu": gw[1]})
                        row = {"key_bits": bits, "size": size, "dir": d, "workers": w, "harness": h,
                               "harness_cpu": h_cpu, "rounds": len(rounds)}
                        for k in rounds[0]:
                            row[k] = median([x[k] for x in rounds])
                        if len(rounds) > 1:
                            row["round_rates"] = rounds
                            row["ratio_cpu_rounds"] = [ratio(x["ipsecgw_cpu"], x["secgw_cpu"]) for x in rounds]
                            row["ceiling_ratio_cpu_rounds"] = [ratio(x["ipsecgw_cpu"], x["eff_ceiling_cpu"])
                                                               for x in rounds]
                        R["pcap"].append(row)
                        log("lab: aes%d %5s %-3s %dw  secgw %s  ipsecgw %s  ceiling %s  [%.0fs]" % (
                            bits, size, d, w, fmt(row["secgw"]), fmt(row["ipsecgw"]), fmt(eff),
                            time.time() - t_start))
        if not a.no_memif:
            bits = a.keys[0]
            gws = [("ipsecgw", lab.ipsecgw)] + ([] if a.no_secgw else [("ipsec-secgw", lab.secgw)])
            # The source's own limit: trafgen through testpmd io (no crypto), max rate only.
            for size in a.memif_sizes:
                res = lab.memif_gw("mh", None, bits, "out", size, "max")
                R["memif"].append({"gateway": "harness (testpmd io)", "key_bits": bits, "size": size,
                                   "dir": "-", "result": res})
                log("lab: memif harness %s: max %s [%.0fs]" % (size, fmt((res or {}).get("max_fwd_mpps")),
                                                             time.time() - t_start))
            for size in a.memif_sizes:
                for d in a.dirs:
                    for name, binary in gws:
                        ph = "max,search,latency" if name == "ipsecgw" else "max,search"
                        res = lab.memif_gw("mg", binary, bits, d, size, ph)
                        R["memif"].append({"gateway": name, "key_bits": bits, "size": size, "dir": d,
                                           "result": res})
                        log("lab: memif %s %s %s: max %s loss-free %s pdr %s [%.0fs]" % (
                            name, size, d, fmt((res or {}).get("max_fwd_mpps")),
                            fmt((res or {}).get("loss_free_mpps")), fmt((res or {}).get("pdr_mpps")),
                            time.time() - t_start))
        if not a.no_testpmd and "out" in a.dirs:
            for size in [s for s in a.memif_sizes if s != "imix"]:
                for name, binary in [("ipsecgw", lab.ipsecgw)] + ([] if a.no_secgw else [("ipsec-secgw", lab.secgw)]):
                    r = lab.testpmd_wire("tw", binary, a.keys[0], int(size))
                    if r:
                        r["gateway"] = name
                        R["testpmd"].append(r)
                    log("lab: testpmd wire %s %s: %s [%.0fs]" % (name, size, r, time.time() - t_start))
    finally:
        lab.stop_all()
    R["meta"]["seconds"] = round(time.time() - t_start, 1)
    plots(lab, a)
    print(report(lab, a))
    shutil.rmtree(lab.work, ignore_errors=True)
    log("lab: %.0f s; results in %s" % (time.time() - t_start, a.out))


if __name__ == "__main__":
    main()
