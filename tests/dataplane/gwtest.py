"""Helpers for end-to-end tests: run ipsecgw on net_pcap ports fed by scapy
pcaps, collect what it transmitted and the counters it printed at exit.

Every run uses --no-pci, --no-huge -m 512, a unique --file-prefix, and a hard
time bound (SIGINT after `seconds`, SIGKILL a few seconds later)."""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

from scapy.all import Ether, rdpcap, wrpcap

MAC_GW = ["02:00:00:00:00:%02x" % (0x10 + i) for i in range(8)]


class Result:
    def __init__(self, rc, out, err, tx):
        self.rc, self.out, self.err, self.tx = rc, out, err, tx
        self.drops = {m.group(1): int(m.group(2))
                      for m in re.finditer(r"^  (\w+)\s+(\d+)$", out, re.M) if m.group(1) != "total"}
        self.sa = {}
        for m in re.finditer(r"^(\S+)\s+(in|out)\s+(\d+)\s+(\w+)\s+(\d+)\s+(\d+)$", out, re.M):
            self.sa[int(m.group(3)), m.group(2)] = {"name": m.group(1), "state": m.group(4),
                                                   "packets": int(m.group(5)), "bytes": int(m.group(6))}

    def drop(self, name):
        return self.drops.get(name, 0)


class Gateway:
    """One test directory; run() may be called several times."""

    def __init__(self, binary, name):
        self.binary = binary
        self.name = name
        self.dir = tempfile.mkdtemp(prefix="gwtest-%s-" % name)
        self.runs = 0

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def path(self, name):
        return os.path.join(self.dir, name)

    def write(self, name, text, mode=0o600):
        p = self.path(name)
        with open(p, "w") as f:
            f.write(text)
        os.chmod(p, mode)
        return p

    def run(self, rx, app_args, lcores="0", seconds=2.5, extra_eal=(), expect_rc=0, txq=1):
        """rx: one entry per port: a list of scapy frames, or a tuple of such
        lists (one per RX queue). txq: TX queues (= workers) per port; their
        captures are concatenated in Result.tx. extra_eal: more ports after
        the pcap ones (e.g. --vdev net_memif...)."""
        return self.finish(self.start(rx, app_args, lcores, extra_eal, txq), seconds, expect_rc)

    def start(self, rx, app_args, lcores="0", extra_eal=(), txq=1):
        self.runs += 1
        tag = "%s%d" % (self.name, self.runs)
        eal = [self.binary, "-l", lcores, "-n", "1", "--no-pci", "--no-huge", "-m", "512",
               "--file-prefix", "gwt%d%s" % (os.getpid(), tag), "--log-level", "lib.eal:error"]
        outs = []
        for i, frames in enumerate(rx):
            queues = frames if isinstance(frames, tuple) else (frames,)
            args = []
            for q, qframes in enumerate(queues):
                rxp = self.path("%s-rx%d-%d.pcap" % (tag, i, q))
                wrpcap(rxp, qframes, linktype=1)
                args.append("rx_pcap=" + rxp)
            port_outs = []
            for q in range(txq):
                txp = self.path("%s-tx%d-%d.pcap" % (tag, i, q))
                port_outs.append(txp)
                args.append("tx_pcap=" + txp)
            outs.append(port_outs)
            eal += ["--vdev", "net_pcap%d,%s" % (i, ",".join(args))]
        cmd = eal + list(extra_eal) + ["--"] + list(app_args)
        p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        return p, cmd, outs, time.time()

    def finish(self, handle, seconds=2.5, expect_rc=0):
        """Waits until `seconds` after start, stops the gateway with SIGINT, collects."""
        p, cmd, outs, started = handle
        seconds = max(0.1, started + seconds - time.time())
        try:
            out, err = p.communicate(timeout=seconds)
        except subprocess.TimeoutExpired:
            p.send_signal(signal.SIGINT)
            try:
                out, err = p.communicate(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                out, err = p.communicate()
                raise AssertionError("ipsecgw did not stop on SIGINT\n" + out + err)
        if p.returncode != expect_rc:
            raise AssertionError("ipsecgw exited %d (expected %d)\ncmd: %s\n%s\n%s"
                                 % (p.returncode, expect_rc, " ".join(cmd), out, err))
        tx = []
        for port_outs in outs:
            frames = []
            for t in port_outs:
                if os.path.exists(t) and os.path.getsize(t) > 24:
                    frames += list(rdpcap(t))
            tx.append(frames)
        return Result(p.returncode, out, err, tx)


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def main(test):
    """Run test(gw) with the binary given as argv[1]; exit 0 or 1."""
    gw = Gateway(sys.argv[1], os.path.splitext(os.path.basename(sys.argv[0]))[0].replace("test_", ""))
    start = time.time()
    try:
        test(gw)
    except AssertionError as e:
        print("FAIL:", e)
        sys.exit(1)
    finally:
        gw.close()
    print("PASS (%.1f s)" % (time.time() - start))
