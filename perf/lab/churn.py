#!/usr/bin/python3
"""Throughput lost to control-plane churn.

One gateway forwards outbound traffic at full rate (net_pcap infinite_rx ->
ipsecgw, 1 worker -> net_null, as the lab's source 1) while a client on the
control socket adds N SAs, deletes them again, and replaces the policy table
M times (each policy change compiles and publishes a new SPD). The gateway's
TX rate is sampled every 0.25 s through DPDK telemetry, before, during and
after the churn, in the same run, so the loss is a ratio of two rates taken
under the same conditions. Also reported: changes per second, the worker
thread's CPU share (is the worker still polling at 100 %?), the gateway's
resident memory before and after (a leak shows here), and that the SA table
is back to where it started.

usage: perf/lab/churn.py [--sas 10000] [--policy-rounds 1000] [--size 64] [--out DIR]
Root, only virtual devices (--no-pci). Writes DIR/churn.md and DIR/churn.json
(default DIR perf/results/churn-<time>).
"""
import argparse
import json
import os
import shutil
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab as labmod  # noqa: E402

SAMPLE = 0.25


class Ctl:
    """Pipelined JSON-lines client: keeps up to `depth` requests in flight."""

    def __init__(self, path, depth=32):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(30)
        self.s.connect(path)
        self.buf = b""
        self.n = 0
        self.depth = depth
        self.inflight = 0
        self.errors = []

    def _read_one(self):
        while b"\n" not in self.buf:
            chunk = self.s.recv(1 << 16)
            if not chunk:
                raise RuntimeError("gateway closed the control connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        self.inflight -= 1
        r = json.loads(line)
        if not r.get("ok"):
            self.errors.append(r)
        return r

    def send(self, cmd, **args):
        self.n += 1
        self.s.sendall((json.dumps({"v": 1, "id": self.n, "cmd": cmd, "args": args}) + "\n").encode())
        self.inflight += 1
        while self.inflight >= self.depth:
            self._read_one()

    def drain(self):
        while self.inflight:
            self._read_one()

    def call(self, cmd, **args):
        self.drain()
        self.send(cmd, **args)
        return self._read_one()


def thread_cpu_ns(pid, tid):
    try:
        with open("/proc/%d/task/%d/stat" % (pid, tid)) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) * 1e9 / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def worker_tid(pid, lcore):
    """The thread of the worker lcore: DPDK 22.11 names it rte-worker-N; the main lcore is the process itself."""
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                if f.read().strip() == "rte-worker-%d" % lcore:
                    return int(tid)
    except OSError:
        pass
    return pid


def rss_kib(pid):
    try:
        for line in open("/proc/%d/status" % pid):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ipsecgw", default=os.path.join(labmod.ROOT, "build", "dataplane", "ipsecgw"))
    ap.add_argument("--sas", type=int, default=10000, help="SAs added, then deleted")
    ap.add_argument("--policy-rounds", type=int, default=1000, help="policy table replacements")
    ap.add_argument("--size", default="64", help="frame size")
    ap.add_argument("--baseline", type=float, default=3.0, help="seconds measured before and after")
    ap.add_argument("--limit", type=float, default=600, help="give up on the churn after this many seconds")
    ap.add_argument("--out")
    ap.add_argument("--cache", default="/var/tmp/ipsecgw-lab")
    ap.add_argument("--lcore", type=int, default=1, help="worker lcore")
    ap.add_argument("--control-lcore", type=int, default=0,
                    help="control lcore (-1: none; control then runs as a thread beside the worker)")
    ap.add_argument("--workers", type=int, default=1, choices=(1, 2),
                    help="2: workers on lcores 0 and 1, control as a thread beside them")
    ap.add_argument("--no-huge", action="store_true")
    a = ap.parse_args()
    if a.control_lcore is not None and a.control_lcore < 0:
        a.control_lcore = None
    a.out = os.path.abspath(a.out or os.path.join(labmod.ROOT, "perf", "results",
                                                  "churn-" + time.strftime("%Y%m%d-%H%M%S")))
    a.memif_rsize = 12
    a.warm, a.window = 1.0, 1.0
    lab = labmod.Lab(a)
    binary = os.path.join(lab.work, "ipsecgw")
    shutil.copy2(a.ipsecgw, binary)
    plain, _ = lab.traffic(a.size, 128)
    prefix = lab.prefix("churn")
    sock = os.path.join(lab.work, "gw.sock")
    rxq = ",".join(["rx_pcap=%s" % plain] * a.workers)
    ports = ["--vdev", "net_pcap0,%s,infinite_rx=1" % rxq, "--vdev", "net_null0,no-rx=1"]
    cmd = lab.gw_cmd(binary, prefix, ports, a.workers, 128) + ["--socket", sock]
    if a.workers == 1 and a.control_lcore is not None and a.control_lcore != a.lcore:
        # The main lcore does the control work when it is not a worker: the
        # production layout, where churn does not take the worker's core.
        cmd[cmd.index("-l") + 1] = "%d,%d" % (a.control_lcore, a.lcore)
    g = lab.start(cmd, "%s.log" % prefix, a.limit + 120)
    res = {"sas": a.sas, "policy_rounds": a.policy_rounds, "size": a.size, "samples": []}
    try:
        if not lab.wait_telemetry(g, prefix):
            sys.exit("churn: gateway did not come up (%s/logs/%s.log)" % (a.out, prefix))
        pid = labmod.child_pid(g)
        wtid = worker_tid(pid, a.lcore if a.workers == 1 else 1)
        t0 = time.time()
        while time.time() - t0 < 10 and (lab.port_stats(prefix, 1) or {}).get("opackets", 0) == 0:
            time.sleep(0.05)
        time.sleep(1.0)
        ctl = Ctl(sock)
        sa0 = len(ctl.call("show.sa")["result"]["sas"])
        rss0 = rss_kib(pid)
        phase = ["baseline"]
        stop = threading.Event()

        def sampler():
            s1, t1, c1 = lab.port_stats(prefix, 1), time.time(), thread_cpu_ns(pid, wtid)
            while not stop.is_set():
                time.sleep(SAMPLE)
                s2, t2, c2 = lab.port_stats(prefix, 1), time.time(), thread_cpu_ns(pid, wtid)
                if s1 and s2:
                    res["samples"].append({"t": t2 - t0, "phase": phase[0],
                                           "mpps": (s2["opackets"] - s1["opackets"]) / (t2 - t1) / 1e6,
                                           "worker_cpu": (c2 - c1) / 1e9 / (t2 - t1) if c1 and c2 else None})
                s1, t1, c1 = s2, t2, c2

        th = threading.Thread(target=sampler)
        t0 = time.time()
        th.start()
        time.sleep(a.baseline)
        timing = {}
        key = os.urandom(20).hex()  # one throwaway key for all: the churn, not the keys, is measured
        deadline = time.time() + a.limit

        def run_phase(name, ops):
            phase[0] = name
            ts = time.time()
            n = 0
            for cmd_, args in ops:
                if time.time() > deadline:
                    break
                ctl.send(cmd_, **args)
                n += 1
            ctl.drain()
            timing[name] = {"changes": n, "seconds": time.time() - ts}

        half = a.sas // 2
        adds = [("sa.add", dict(name="ch%d" % i, dir="out" if i < half else "in", spi=0x100000 + i,
                                aead="aes128gcm16", mode="tunnel", local="172.16.1.5", remote="172.16.2.%d" % (i % 200 + 10),
                                key=key)) for i in range(a.sas)]
        run_phase("sa_add", adds)
        run_phase("sa_del", [("sa.del", dict(spi=0x100000 + i, dir="out" if i < half else "in"))
                             for i in range(a.sas)])
        pol = []
        for r in range(a.policy_rounds):
            pol.append(("policy.add", dict(name="churn", dir="out", priority=20, dst="10.77.%d.0/24" % (r % 250),
                                           action="discard")))
            pol.append(("policy.del", dict(name="churn")))
        run_phase("policy", pol)
        phase[0] = "after"
        time.sleep(a.baseline)
        stop.set()
        th.join()
        res["timing"] = timing
        res["errors"] = ctl.errors[:5]
        res["error_count"] = len(ctl.errors)
        res["sa_before"], res["sa_after"] = sa0, len(ctl.call("show.sa")["result"]["sas"])
        res["rss_kib_before"], res["rss_kib_after"] = rss0, rss_kib(pid)
        res["alive"] = g.poll() is None
    finally:
        lab.stop_all()
        shutil.rmtree("/var/run/dpdk/%s" % prefix, ignore_errors=True)

    def mean(ph, k="mpps"):
        v = [s[k] for s in res["samples"] if s["phase"] in ph and s[k] is not None]
        return sum(v) / len(v) if v else None

    # On a shared machine the worker's core is also lent to other processes
    # (the control client, the kernel): Mpps per second of the worker
    # thread's own CPU time separates what churn costs the dataplane from
    # what the scheduler takes.
    for x in res["samples"]:
        x["mpps_cpu"] = x["mpps"] / x["worker_cpu"] if x["worker_cpu"] else None
    base = mean(("baseline", "after"))
    base_cpu = mean(("baseline", "after"), "mpps_cpu")

    def lost(m, b):
        return "%.1f %%" % (100 * (1 - m / b)) if m and b else "-"
    rows = []
    for ph in ("baseline", "sa_add", "sa_del", "policy", "after"):
        m, mc = mean((ph,)), mean((ph,), "mpps_cpu")
        mn = min((s["mpps"] for s in res["samples"] if s["phase"] == ph), default=None)
        tm = res["timing"].get(ph)
        during = ph not in ("baseline", "after")
        rows.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            ph, labmod.fmt(m), labmod.fmt(mn), labmod.fmt(mean((ph,), "worker_cpu")), labmod.fmt(mc),
            lost(m, base) if during else "-", lost(mc, base_cpu) if during else "-",
            tm["changes"] if tm else "-", "%.0f" % (tm["changes"] / tm["seconds"]) if tm and tm["seconds"] else "-"))
    churn = mean(("sa_add", "sa_del", "policy"))
    churn_cpu = mean(("sa_add", "sa_del", "policy"), "mpps_cpu")
    res["baseline_mpps"], res["churn_mpps"] = base, churn
    res["baseline_mpps_per_cpu"], res["churn_mpps_per_cpu"] = base_cpu, churn_cpu
    res["loss"] = 1 - churn / base if base and churn else None
    res["loss_per_cpu"] = 1 - churn_cpu / base_cpu if base_cpu and churn_cpu else None
    where = ("on lcore %d" % a.control_lcore if a.workers == 1 and a.control_lcore is not None
             else "a thread beside the worker(s)")
    md = ["# Churn under load (%s B frames, AES-128-GCM outbound, %d worker(s), control %s)" % (
          a.size, a.workers, where), "",
          "`perf/lab/churn.py --sas %d --policy-rounds %d --size %s --workers %d`" % (
              a.sas, a.policy_rounds, a.size, a.workers), "",
          "| phase | Mpps (mean) | Mpps (worst 0.25 s) | worker CPU share | Mpps per worker CPU-s | lost (wall) "
          "| lost (per worker CPU-s) | changes | changes/s |",
          "|---|---|---|---|---|---|---|---|---|"] + rows + [
        "", "Over the whole churn: %s Mpps against %s Mpps without (%s lost in wall-clock rate, %s per worker "
        "CPU-second). SAs before/after: %s/%s. "
        "RSS before/after: %s/%s KiB. Failed requests: %d. Gateway alive at the end: %s." % (
            labmod.fmt(churn), labmod.fmt(base), lost(churn, base), lost(churn_cpu, base_cpu),
            res["sa_before"], res["sa_after"], res["rss_kib_before"], res["rss_kib_after"], res["error_count"],
            res["alive"])]
    with open(os.path.join(a.out, "churn.json"), "w") as f:
        json.dump(res, f, indent=1)
    with open(os.path.join(a.out, "churn.md"), "w") as f:
        f.write("\n".join(md) + "\n")
    print("\n".join(md))
    ok = res["alive"] and res["error_count"] == 0 and res["sa_after"] == res["sa_before"]
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
