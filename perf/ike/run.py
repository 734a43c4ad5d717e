#!/usr/bin/python3
"""IKE SA setup rate: ipsecgw's control core against strongSwan's charon,
measured the same way, plus the engine's in-process ceiling.

The driver (build/perf/ike_setup_bench) runs COUNT IKEv2 initiators, each
with its own identity, keeping WINDOW exchanges in flight, from namespace A
(10.99.0.1) of the interop lab (tests/interop/swanlab.py) against

  ipsecgw   in namespace G on net_af_packet, a `conn` accepting any peer:
            IKE punted by the worker to the control core, CHILD_SAs installed
            in the dataplane (SA + policies, one table version each);
  charon    charon-systemd with kernel-libipsec in G (10.99.0.2), a
            connection accepting any peer; CHILD_SAs installed in libipsec.

Reported per responder: setups per second (IKE_SA_INIT + IKE_AUTH with its
CHILD_SA), p50/p99 setup latency, failures, the responder's CPU seconds
(ipsecgw: its control thread only, the worker polls at 100 % anyway; charon:
the whole process) and setups per responder CPU-second, the fair figure on a
shared 2-core machine. For ipsecgw also: a ping flood through the gateway
(bypass policy, A -> P) during the setup flood and without it, so the cost to
forwarding shows.

usage: perf/ike/run.py [--count 500] [--window 16] [--out FILE.md]   (root)
"""
import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "interop"))
import swanlab as sl  # noqa: E402

PSK = "ike-setup-bench-psk-0123456789"


def cpu_s(pid, tid=None):
    path = "/proc/%d/task/%d/stat" % (pid, tid) if tid else "/proc/%d/stat" % pid
    try:
        with open(path) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def drive(lab, bench, a):
    cmd = [bench, "--local", lab.a_addr, "--remote", sl.GW_PUB, "--count", str(a.count), "--window",
           str(a.window), "--max-seconds", str(a.max_seconds)] + ([] if a.keep else ["--delete"])
    r = sl.run(["ip", "netns", "exec", lab.ns_a] + cmd, input=PSK + "\n", check_rc=False,
               timeout=a.max_seconds + 30)
    try:
        return json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise sl.Fail("driver failed (%d): %s %s" % (r.returncode, r.stdout[-500:], r.stderr[-500:]))


def ping_flood(lab, count):
    """ping -f from A to P through the gateway's bypass policy: loss and average RTT."""
    r = sl.run(["ping", "-n", "-q", "-f", "-c", str(count), "-W", "1", "-I", sl.A_PRIV_ADDR, sl.P_PRIV_ADDR],
               ns=lab.ns_a, check_rc=False, timeout=60)
    out = r.stdout
    loss = rtt = None
    for line in out.splitlines():
        if "packet loss" in line:
            loss = float(line.split("%")[0].split()[-1])
        if line.startswith("rtt") or line.startswith("round-trip"):
            rtt = float(line.split("=")[1].split("/")[1])
    return {"loss_pct": loss, "rtt_avg_ms": rtt, "elapsed_s": None}


def control_tid(pid):
    """ipsecgw with -l 0-1: the main lcore (the process's own thread) is the control core."""
    return pid


def bench_ipsecgw(a, bench):
    with sl.Lab("ike-bench-gw", binary=a.ipsecgw, gwctl=a.gwctl) as lab:
        conn = ("conn bench local %s remote any local-id fqdn:resp.bench auth psk "
                "ike aes128gcm16-prfsha256-ecp256 esp aes128gcm16 local-ts %s remote-ts 10.200.0.0/16\n"
                % (sl.GW_PUB, sl.P_PRIV))
        extra = ("ike-cookie-threshold %d\n" % max(64, a.window * 4) +
                 "policy byp-in in priority 5 src %s dst %s bypass\n" % (sl.A_PRIV, sl.P_PRIV) +
                 "policy byp-out out priority 5 src %s dst %s bypass\n" % (sl.P_PRIV, sl.A_PRIV))
        lab.gw.write("ike.secrets", 'psk bench "%s"\n' % PSK, secret=True)
        text = "default-policy discard\n" + lab.gw.base_config() + extra + "ike-secrets ike.secrets\n" + conn
        lab.gw.start(text)
        sl.run(["ip", "-n", lab.ns_a, "route", "add", sl.P_PRIV, "via", sl.GW_PUB, "src", sl.A_PRIV_ADDR],
               check_rc=False)
        idle = ping_flood(lab, a.pings)
        pid = lab.gw.proc.p.pid
        c0 = cpu_s(pid, control_tid(pid))
        # the flood of setups and, beside it, the ping flood
        pinger = subprocess.Popen(["ip", "netns", "exec", lab.ns_a, "ping", "-n", "-q", "-f", "-c", str(a.pings),
                                   "-W", "1", "-I", sl.A_PRIV_ADDR, sl.P_PRIV_ADDR], stdout=subprocess.PIPE,
                                  stderr=subprocess.STDOUT, text=True)
        res = drive(lab, bench, a)
        try:
            out, _ = pinger.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            pinger.kill()
            out, _ = pinger.communicate()
        busy = {"loss_pct": None, "rtt_avg_ms": None}
        for line in out.splitlines():
            if "packet loss" in line:
                busy["loss_pct"] = float(line.split("%")[0].split()[-1])
            if line.startswith("rtt"):
                busy["rtt_avg_ms"] = float(line.split("=")[1].split("/")[1])
        c1 = cpu_s(pid, control_tid(pid))
        res["responder_cpu_s"] = c1 - c0 if c0 is not None and c1 is not None else None
        res["ping_idle"], res["ping_during"] = idle, busy
        stats = lab.gw.stats()
        res["gateway_drops"] = {d["reason"]: d["packets"] for d in stats.get("drops", []) if d.get("packets")}
        return res


# charon as a benchmark responder: all initiators come from one address, and
# charon's defaults (COOKIE above 10 half-open SAs, at most 5 half-open SAs
# per address) would throttle them where ipsecgw (COOKIE above the
# configured ike-cookie-threshold, no per-address limit) does not; and its
# lab logging (ike/chd/cfg level 2, flushed per line) would cost it CPU.
CHARON_BENCH_SETTINGS = """    cookie_threshold = 1000000
    block_threshold = 1000000
    ikesa_table_size = 4096
    ikesa_table_segments = 16
"""


def charon_bench_conf(text):
    text = text.replace("    port = 500\n", "    port = 500\n" + CHARON_BENCH_SETTINGS, 1)
    for level in ("ike = 2", "chd = 2", "cfg = 2"):
        text = text.replace(level, level.replace("2", "0"))
    return text.replace("flush_line = yes", "flush_line = no")


def bench_charon(a, bench):
    sl.STRONGSWAN_CONF = charon_bench_conf(sl.STRONGSWAN_CONF)
    with sl.Lab("ike-bench-swan", peer="charon") as lab:
        conf = """connections {
    bench {
        version = 2
        local_addrs = %s
        proposals = aes128gcm16-prfsha256-ecp256
        dpd_delay = 0s
        local { auth = psk
                id = resp.bench }
        remote { auth = psk
                 id = %%any }
        children { net { mode = tunnel
                         local_ts = %s
                         remote_ts = 10.200.0.0/16
                         esp_proposals = aes128gcm16 } }
    }
}
secrets { ike-any { secret = "%s" } }
""" % (sl.GW_PUB, sl.P_PRIV, PSK)
        b = lab.start_swan_b(conf)
        pid = b.proc.p.pid if hasattr(b, "proc") else None
        c0 = cpu_s(pid) if pid else None
        res = drive(lab, bench, a)
        c1 = cpu_s(pid) if pid else None
        res["responder_cpu_s"] = c1 - c0 if c0 is not None and c1 is not None else None
        return res


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--count", type=int, default=500)
    ap.add_argument("--window", type=int, default=16)
    ap.add_argument("--pings", type=int, default=2000)
    ap.add_argument("--keep", action="store_true",
                    help="keep every IKE SA up (the responder accumulates COUNT SAs); default: delete each once up")
    ap.add_argument("--max-seconds", type=float, default=120)
    ap.add_argument("--ipsecgw", default=os.path.join(ROOT, "build", "dataplane", "ipsecgw"))
    ap.add_argument("--gwctl", default=os.path.join(ROOT, "build", "control", "gwctl"))
    ap.add_argument("--bench", default=os.path.join(ROOT, "build", "perf", "ike_setup_bench"))
    ap.add_argument("--out", help="write the Markdown table here too")
    a = ap.parse_args()
    sl.require_environment()
    rows = []
    eng = json.loads(subprocess.run([a.bench, "--engine-only", "--count", str(a.count), "--window", str(a.window)],
                                    capture_output=True, text=True, check=True).stdout)
    eng["responder_cpu_s"] = eng["driver_cpu_s"] / 2  # both sides in one process: about half each
    rows.append(("lib/ike engine, in process (both sides on one core)", eng))
    rows.append(("ipsecgw (control core, worker forwarding)", bench_ipsecgw(a, a.bench)))
    rows.append(("strongSwan 5.9.8 charon (kernel-libipsec)", bench_charon(a, a.bench)))
    md = ["# IKE SA setup rate (%d initiators, %d in flight, PSK, AES-GCM-128, ECP-256, SAs %s)" % (
          a.count, a.window, "kept" if a.keep else "deleted once up"), "",
          "`perf/ike/run.py --count %d --window %d%s`, %s" % (a.count, a.window, " --keep" if a.keep else "",
                                                           time.strftime("%Y-%m-%d %H:%M")), "",
          "| responder | established | setups/s | p50 ms | p99 ms | responder CPU s | setups per responder CPU-s |",
          "|---|---|---|---|---|---|---|"]
    for name, r in rows:
        cpu = r.get("responder_cpu_s")
        md.append("| %s | %d/%d | %.0f | %.1f | %.1f | %s | %s |" % (
            name, r["established"], r["count"], r["setups_per_s"], r["p50_ms"], r["p99_ms"],
            "%.2f" % cpu if cpu else "-", "%.0f" % (r["established"] / cpu) if cpu else "-"))
    gw = rows[1][1]
    md += ["", "ipsecgw forwarding meanwhile (ping -f -c %d through a bypass policy, A -> P): idle %s %% loss, "
           "%s ms avg RTT; during the setup flood %s %% loss, %s ms avg RTT. Gateway drops: %s." % (
               a.pings, gw["ping_idle"]["loss_pct"], gw["ping_idle"]["rtt_avg_ms"], gw["ping_during"]["loss_pct"],
               gw["ping_during"]["rtt_avg_ms"], gw.get("gateway_drops") or "none"),
           "", "Failures: " + "; ".join("%s: %s" % (n, r.get("failures") or "none") for n, r in rows)]
    text = "\n".join(md) + "\n"
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)
    return 0 if all(r["established"] == r["count"] for _, r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
