#!/usr/bin/python3
"""Two gateways measured side by side, in the same seconds.

usage: perf/lab/ab.py [--a secgw|BIN] [--b BIN] [--cases out:64,in:64] [--rounds 4]
                      [--window 2] [--warm 1] [--key-bits 128] [--out DIR]

On a shared VM the speed of a core drifts in phases of several seconds (+-30 %
seen here, from whatever the neighbours of the host do), so two gateways
measured one after the other compare phases, not code. Here both run at once,
each with one worker on its own CPU (A on CPU 0 and B on CPU 1, swapped every
round), each fed by its own net_pcap replay into net_null as in the lab's
source 1, and both are read over the same window: packets from the TX port
(telemetry) and the worker thread's on-CPU time (schedstat). Each round gives
the ratio B/A of packets per CPU-second; the report is the median and range of
those ratios. Swapping the CPUs cancels a difference between the two cores.

--a secgw (the default) is ipsec-secgw built by the lab; otherwise a gateway
binary with ipsecgw's (= ipsec-secgw's) command line. --b defaults to
build/dataplane/ipsecgw. Needs both CPUs free for meaningful numbers.

--best compares the best --slice (0.25 s) of each gateway's window instead
of the whole window: the speed of the code in the moments the machine let it
run freely, steadier than the mean when phases come and go within a round.
"""
import argparse
import os
import shutil
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import lab as L  # noqa: E402


def thread_ns(pid):
    """On-CPU ns of the busiest thread of pid (the polling worker)."""
    best = 0
    for t in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, t)) as f:
                best = max(best, int(f.read().split()[0]))
        except OSError:
            pass
    return best


def one_round(lab, a, gws, cpus, direction, pcap, bits):
    """Starts every gateway of gws on its CPU, measures them over one shared window."""
    runs = []
    try:
        for (name, binary), cpu in zip(gws, cpus):
            a.lcore = cpu
            prefix = lab.prefix(name)
            pcap_dev = ["--vdev", "net_pcap0,rx_pcap=%s,infinite_rx=1" % pcap]
            null_dev = ["--vdev", "net_null0,no-rx=1"]
            ports, txport = (pcap_dev + null_dev, 1) if direction == "out" else (null_dev + pcap_dev, 0)
            cmd = lab.gw_cmd(binary, prefix, ports, 1, bits)
            p = lab.start(cmd, "%s.log" % prefix, 30 + a.warm + a.window)
            runs.append({"name": name, "p": p, "prefix": prefix, "port": txport, "cpu": cpu})
        for r in runs:
            if not lab.wait_telemetry(r["p"], r["prefix"]):
                L.log("ab: %s did not come up (see %s/logs)" % (r["name"], a.out))
                return None
            t0 = time.time()
            while time.time() - t0 < 10:
                st = lab.port_stats(r["prefix"], r["port"])
                if st and st.get("opackets", 0) > 0:
                    break
                time.sleep(0.05)
            r["pid"] = L.child_pid(r["p"])
        time.sleep(a.warm)
        for r in runs:
            r["s1"], r["c1"] = lab.port_stats(r["prefix"], r["port"]), thread_ns(r["pid"])
            r["prev"], r["best"] = (r["s1"], r["c1"]), 0.0
        # The window in slices: the whole-window rate, and (--best) the best
        # slice, the speed of the code when the machine let it run freely.
        t_end = time.time() + a.window
        while time.time() < t_end:
            time.sleep(min(a.slice, max(0.0, t_end - time.time())))
            for r in runs:
                s, c = lab.port_stats(r["prefix"], r["port"]), thread_ns(r["pid"])
                ps, pc = r["prev"]
                if s and ps and c > pc + 1e6:
                    r["best"] = max(r["best"], (s["opackets"] - ps["opackets"]) / ((c - pc) / 1e9) / 1e6)
                r["prev"] = (s, c)
        for r in runs:
            r["s2"], r["c2"] = r["prev"]
        out = {}
        for r in runs:
            if not r["s1"] or not r["s2"] or r["c2"] <= r["c1"]:
                return None
            n = r["s2"]["opackets"] - r["s1"]["opackets"]
            mean = n / ((r["c2"] - r["c1"]) / 1e9) / 1e6
            out[r["name"]] = {"cpu": r["cpu"], "mpps_per_cpu_s": r["best"] if a.best else mean,
                              "mean_mpps_per_cpu_s": mean, "best_slice_mpps_per_cpu_s": r["best"],
                              "mpps": n / a.window / 1e6}
        return out
    finally:
        for r in runs:
            lab.stop(r["p"])
            shutil.rmtree("/var/run/dpdk/%s" % r["prefix"], ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--a", default="secgw", help="'secgw' or a gateway binary")
    ap.add_argument("--b", default=os.path.join(L.ROOT, "build", "dataplane", "ipsecgw"))
    ap.add_argument("--cases", default="out:64,in:64")
    ap.add_argument("--rounds", type=int, default=4)
    ap.add_argument("--window", type=float, default=2.0)
    ap.add_argument("--warm", type=float, default=1.0)
    ap.add_argument("--slice", type=float, default=0.25, help="the window is read in slices of this length")
    ap.add_argument("--best", action="store_true",
                    help="compare the best slice of each gateway instead of the whole-window rate")
    ap.add_argument("--key-bits", type=int, default=128)
    ap.add_argument("--out")
    ap.add_argument("--cache", default="/var/tmp/ipsecgw-lab")
    ap.add_argument("--shared-bench", default=os.path.join(os.path.dirname(L.ROOT), "shared", "bench"))
    ap.add_argument("--no-huge", action="store_true")
    a = ap.parse_args()
    a.out = os.path.abspath(a.out or os.path.join(L.ROOT, "perf", "results", "ab-" + time.strftime("%Y%m%d-%H%M%S")))
    a.no_secgw = a.a != "secgw"
    a.ipsecgw = a.b
    a.lcore = 1
    lab = L.Lab(a)
    lines = ["# Side by side: B / A, packets per CPU-second of each worker, same windows", "",
             "Command: `%s`" % " ".join(["perf/lab/ab.py"] + sys.argv[1:]), "",
             "A = %s, B = %s; %d rounds of %.1f s (warm-up %.1f s), CPUs swapped every round; %s." % (
                 a.a, a.b, a.rounds, a.window, a.warm,
                 "rates of the best %.2f s slice of each window" % a.slice if a.best else "whole-window rates"), "",
             "| case | A Mpps per CPU-s (median) | B Mpps per CPU-s (median) | B/A median | B/A min-max | rounds |",
             "|---|---|---|---|---|---|"]
    results = []
    try:
        lab.build()
        a_bin = lab.secgw if a.a == "secgw" else os.path.join(lab.work, "gw_a")
        if a.a != "secgw":
            shutil.copy2(a.a, a_bin)
        gws = [("A", a_bin), ("B", lab.ipsecgw)]
        for case in a.cases.split(","):
            direction, size = case.split(":")
            plain, esp = lab.traffic(size, a.key_bits)
            lab.cur_size = size
            rounds = []
            for i in range(a.rounds):
                r = one_round(lab, a, gws, (0, 1) if i % 2 == 0 else (1, 0), direction,
                              plain if direction == "out" else esp, a.key_bits)
                if r:
                    rounds.append(r)
                    L.log("ab: %s round %d: A %.2f (cpu %d)  B %.2f (cpu %d)  B/A %.2f" % (
                        case, i, r["A"]["mpps_per_cpu_s"], r["A"]["cpu"], r["B"]["mpps_per_cpu_s"], r["B"]["cpu"],
                        r["B"]["mpps_per_cpu_s"] / r["A"]["mpps_per_cpu_s"]))
            if not rounds:
                continue
            ratios = [r["B"]["mpps_per_cpu_s"] / r["A"]["mpps_per_cpu_s"] for r in rounds]
            results.append({"case": case, "rounds": rounds, "ratios": ratios})
            lines.append("| %s | %.2f | %.2f | **%.2f** | %.2f-%.2f | %d |" % (
                case, statistics.median(r["A"]["mpps_per_cpu_s"] for r in rounds),
                statistics.median(r["B"]["mpps_per_cpu_s"] for r in rounds), statistics.median(ratios),
                min(ratios), max(ratios), len(rounds)))
    finally:
        lab.stop_all()
        shutil.rmtree(lab.work, ignore_errors=True)
    text = "\n".join(lines) + "\n"
    with open(os.path.join(a.out, "ab.md"), "w") as f:
        f.write(text)
    import json
    with open(os.path.join(a.out, "ab.json"), "w") as f:
        json.dump(results, f, indent=1)
    print(text)
    L.log("ab: results in %s" % a.out)


if __name__ == "__main__":
    main()
