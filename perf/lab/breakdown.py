#!/usr/bin/python3
"""Where the cycles go: per-stage cost per packet of a gateway's worker.

usage: perf/lab/breakdown.py [--ipsecgw BIN] [--cases out:64,in:64,out:1420,in:1420]
                             [--key-bits 128] [--window 3] [--secgw] [--out DIR]

For each case the gateway forwards replayed frames (net_pcap infinite_rx ->
gateway -> net_null, one worker on --lcore) and, over one window:
  * packets: the TX port's opackets (DPDK telemetry);
  * CPU time: the worker thread's on-CPU nanoseconds (/proc/.../schedstat),
    so time the scheduler gave to other processes is not charged;
  * where: `perf record -e cpu-clock -t TID` samples of that thread (this VM
    has no hardware PMU: cpu-clock is a timer, which is what we want here).
ns/packet = CPU time / packets; each stage's share of the samples splits it.
Cycles are ns x the nominal TSC rate from /proc/cpuinfo. Symbols map to
stages by the rules in STAGES (first match wins); inlined code counts for its
caller, so read the stage rules together with the code.
"""
import argparse
import collections
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import lab as L  # noqa: E402

# (stage, dso regex, symbol regex); first match wins.
STAGES = [
    ("crypto (AES-GCM)", r"libIPSec_MB|aesni_gcm|ipsec_mb", r""),
    ("RX", r"net_pcap|net_memif", r""),
    ("TX", r"net_null|mempool|librte_mbuf", r""),
    ("TX", r"", r"enqueue_tx|flush_tx|flush_all|rte_eth_tx_burst|pktmbuf_free|send_single|send_burst|"
               r"prepare_tx|route4_pkts|send_pkts"),
    ("RX", r"", r"Worker::run$|rte_eth_rx_burst|ipsec_poll_mode_worker|main_loop"),
    ("SPD", r"librte_acl", r""),
    ("SPD", r"", r"Spd|classify[46]|check_inner|inbound_plain|Worker::outbound|sp4_|sp6_|check_sp|inbound_sp_sa|"
                r"outbound_spd|split46_traffic"),
    ("SA lookup", r"", r"SadTable|peek_spi|Worker::inbound_esp|sa_lookup|single_inbound_lookup|inbound_sa_lookup|"
                      r"outbound_sa_lookup"),
    ("route", r"librte_lpm|librte_fib|librte_rib", r""),
    ("route", r"", r"Route|Worker::forward|Worker::send_to|route4|route6|get_hop"),
    ("ESP engine (hdr/trailer/seq/replay)", r"librte_ipsec", r""),
    ("ESP engine (hdr/trailer/seq/replay)", r"", r"esp::|Worker::encrypt|Worker::decrypt|Replay|esp_|ipsec_process|"
                                                 r"cpu_crypto|process_pkts"),
    ("classify (parse)", r"", r"handle_burst|ip_packet_length|fill_key|prepare_one_packet|prepare_traffic|"
                              r"process_pkts_in|classify"),
    ("other", r"", r""),
]
ORDER = ["RX", "classify (parse)", "SPD", "SA lookup", "ESP engine (hdr/trailer/seq/replay)", "crypto (AES-GCM)",
         "route", "TX", "other"]


def stage_of(dso, sym):
    for st, d, s in STAGES:
        if (not d or re.search(d, dso)) and (not s or re.search(s, sym)):
            return st
    return "other"


def gw_pid(p):
    """The gateway under `timeout`: the child of the Popen'd process."""
    return L.child_pid(p, tries=50, wait=0.1)


def on_cpu_ns(pid, tid):
    with open("/proc/%d/task/%d/schedstat" % (pid, tid)) as f:
        return int(f.read().split()[0])


def busiest_thread(pid):
    def snap():
        d = {}
        for t in os.listdir("/proc/%d/task" % pid):
            try:
                d[int(t)] = on_cpu_ns(pid, int(t))
            except OSError:
                pass
        return d
    a = snap()
    time.sleep(0.5)
    b = snap()
    return max(b, key=lambda t: b[t] - a.get(t, 0))


def tsc_mhz():
    for l in open("/proc/cpuinfo"):
        if l.startswith("cpu MHz"):
            return float(l.split(":")[1])
    return 0.0


def parse_report(text):
    rows = []
    for line in text.splitlines():
        m = re.match(r"\s*([\d.]+)%\s+(\S+)\s+\[.\]\s+(.+?)\s*$", line)
        if m:
            rows.append((float(m.group(1)), m.group(2), re.sub(r"(\s+-)+$", "", m.group(3))))
    return rows


def one_case(lab, a, name, binary, direction, size):
    plain, esp = lab.traffic(size, a.key_bits)
    pcap = plain if direction == "out" else esp
    prefix = lab.prefix("bd")
    pdev = ["--vdev", "net_pcap0,rx_pcap=%s,infinite_rx=1" % pcap]
    ndev = ["--vdev", "net_null0,no-rx=1"]
    ports, txport = (pdev + ndev, 1) if direction == "out" else (ndev + pdev, 0)
    cmd = lab.gw_cmd(binary, prefix, ports, 1, a.key_bits)
    p = lab.start(cmd, "%s.log" % prefix, 30 + a.window)
    data = os.path.join(a.out, "perf-%s-%s-%s.data" % (name, direction, size))
    try:
        if not lab.wait_telemetry(p, prefix):
            return None
        pid = gw_pid(p)
        time.sleep(1.0)
        tid = busiest_thread(pid)
        s1, c1 = lab.port_stats(prefix, txport), on_cpu_ns(pid, tid)
        rec = subprocess.run(["timeout", str(int(a.window + 10)), "perf", "record", "-q", "-e", "cpu-clock", "-F",
                              "5000", "-t", str(tid), "-o", data, "--", "sleep", str(a.window)],
                             capture_output=True, text=True)
        s2, c2 = lab.port_stats(prefix, txport), on_cpu_ns(pid, tid)
    finally:
        lab.stop(p)
        import shutil
        shutil.rmtree("/var/run/dpdk/%s" % prefix, ignore_errors=True)
    if not s1 or not s2:
        L.log("breakdown: %s %s %s: no telemetry" % (name, direction, size))
        return None
    pkts = s2["opackets"] - s1["opackets"]
    if pkts <= 0 or rec.returncode != 0:
        L.log("breakdown: %s %s %s: no packets or perf failed: %s" % (name, direction, size, rec.stderr[-300:]))
        return None
    rep = subprocess.run(["perf", "report", "-i", data, "--stdio", "--no-children", "--sort", "dso,symbol"],
                         capture_output=True, text=True).stdout
    rows = parse_report(rep)
    ns_pkt = (c2 - c1) / pkts
    stages = collections.OrderedDict((s, 0.0) for s in ORDER)
    for pct, dso, sym in rows:
        stages[stage_of(dso, sym)] += pct
    tot = sum(stages.values()) or 1.0
    mhz = tsc_mhz()
    return {"gateway": name, "dir": direction, "size": size, "packets": pkts, "cpu_s": (c2 - c1) / 1e9,
            "ns_per_pkt": ns_pkt, "cycles_per_pkt": ns_pkt * mhz / 1e3, "mhz": mhz,
            "mpps_per_cpu_second": 1e3 / ns_pkt,
            "stages": {s: {"pct": v * 100 / tot, "ns": ns_pkt * v / tot, "cycles": ns_pkt * v / tot * mhz / 1e3}
                       for s, v in stages.items()},
            "top": [{"pct": r[0], "dso": r[1], "symbol": r[2], "stage": stage_of(r[1], r[2])} for r in rows[:25]]}


def write(results, a):
    out = ["# Cycles per packet by stage", "",
           "Command: `%s`" % " ".join(["perf/lab/breakdown.py"] + sys.argv[1:]), "",
           "AES-%d-GCM tunnel, one worker, net_pcap replay -> gateway -> net_null. cycles = on-CPU ns x %.0f MHz "
           "(nominal TSC). Stage shares from `perf record -e cpu-clock` samples of the worker thread." % (
               a.key_bits, results[0]["mhz"] if results else 0), ""]
    hdr = "| stage | " + " | ".join("%s %s %s" % (r["gateway"], r["dir"], r["size"]) for r in results) + " |"
    out += [hdr, "|---" * (len(results) + 1) + "|"]
    for s in ORDER:
        out.append("| %s | " % s + " | ".join("%.0f (%.0f%%)" % (r["stages"][s]["cycles"], r["stages"][s]["pct"])
                                                for r in results) + " |")
    out.append("| **total cycles/pkt** | " + " | ".join("**%.0f**" % r["cycles_per_pkt"] for r in results) + " |")
    out.append("| Mpps per CPU-second | " + " | ".join("%.2f" % r["mpps_per_cpu_second"] for r in results) + " |")
    for r in results:
        out += ["", "Top symbols, %s %s %s:" % (r["gateway"], r["dir"], r["size"]), "",
                "| % | stage | dso | symbol |", "|---|---|---|---|"]
        for t in r["top"][:15]:
            out.append("| %.1f | %s | %s | `%s` |" % (t["pct"], t["stage"], t["dso"], t["symbol"][:70]))
    text = "\n".join(out) + "\n"
    with open(os.path.join(a.out, "breakdown.md"), "w") as f:
        f.write(text)
    with open(os.path.join(a.out, "breakdown.json"), "w") as f:
        json.dump(results, f, indent=1)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(results)), 4.5))
        bottom = [0.0] * len(results)
        for i, s in enumerate(ORDER):
            v = [r["stages"][s]["cycles"] for r in results]
            ax.bar(range(len(results)), v, bottom=bottom, label=s, color="C%d" % i)
            bottom = [b + x for b, x in zip(bottom, v)]
        ax.set_xticks(range(len(results)))
        ax.set_xticklabels(["%s\n%s %s" % (r["gateway"], r["dir"], r["size"]) for r in results], fontsize=8)
        ax.set_ylabel("cycles / packet")
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(os.path.join(a.out, "breakdown.png"), dpi=110)
        plt.close(fig)
    except ImportError:
        pass
    return text


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ipsecgw", default=os.path.join(L.ROOT, "build", "dataplane", "ipsecgw"))
    ap.add_argument("--cases", default="out:64,in:64,out:1420,in:1420")
    ap.add_argument("--key-bits", type=int, default=128)
    ap.add_argument("--window", type=float, default=3.0)
    ap.add_argument("--lcore", type=int, default=1)
    ap.add_argument("--secgw", action="store_true", help="also profile ipsec-secgw")
    ap.add_argument("--out")
    ap.add_argument("--cache", default="/var/tmp/ipsecgw-lab")
    ap.add_argument("--shared-bench", default=os.path.join(os.path.dirname(L.ROOT), "shared", "bench"))
    a = ap.parse_args()
    a.out = os.path.abspath(a.out or os.path.join(L.ROOT, "perf", "results", "breakdown-" + time.strftime("%Y%m%d-%H%M%S")))
    a.warm, a.no_secgw, a.ceiling_secs = 1.0, not a.secgw, 0.5
    lab = L.Lab(a)
    results = []
    try:
        lab.build()
        gws = [("ipsecgw", lab.ipsecgw)] + ([("ipsec-secgw", lab.secgw)] if a.secgw else [])
        for case in a.cases.split(","):
            d, size = case.split(":")
            for name, binary in gws:
                r = one_case(lab, a, name, binary, d, size)
                if r:
                    results.append(r)
                    L.log("breakdown: %s %s %s: %.0f cycles/pkt" % (name, d, size, r["cycles_per_pkt"]))
    finally:
        lab.stop_all()
    import shutil
    shutil.rmtree(lab.work, ignore_errors=True)
    print(write(results, a))
    L.log("breakdown: results in %s" % a.out)


if __name__ == "__main__":
    main()
