#!/usr/bin/python3
"""Every gwctl command against a running ipsecgw on net_pcap ports
(--no-pci --no-huge, unique --file-prefix): human and --json output, exit
codes, keys never shown; traffic keeps flowing while clients misbehave on the
socket; `gwctl shutdown` stops the gateway cleanly.
usage: test_gateway_cli.py IPSECGW GWCTL"""
import json
import os
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "dataplane"))
from gwtest import Gateway, check, MAC_GW  # noqa: E402
from scapy.all import Ether, IP, UDP, Raw  # noqa: E402

ipsecgw, gwctl = sys.argv[1], sys.argv[2]
KEY_OUT = "2b7e151628aed2a6abf7158809cf4f3cdeadbeef"
KEY_IN = "603deb1015ca71be2b73aef0857d7781cafef00d"
KEY_NEW = "00112233445566778899aabbccddeeff0a0b0c0d"

CONF = """port 0 protected
port 1 unprotected address 172.16.1.5
default-policy discard
sa a-to-b out spi 0x1001 aead aes128gcm16 key-ref a-to-b mode tunnel local 172.16.1.5 remote 172.16.2.5 \\
   lifetime-seconds 3000:3600
sa b-to-a in spi 0x2001 aead aes128gcm16 key-ref b-to-a mode tunnel local 172.16.1.5 remote 172.16.2.5 \\
   replay-window 1024
policy to-b out priority 10 src 10.1.0.0/16 dst 10.2.0.0/16 protect a-to-b
policy from-b in priority 10 src 10.2.0.0/16 dst 10.1.0.0/16 protect b-to-a
route 10.1.0.0/16 port 0
route 172.16.2.0/24 port 1 via 172.16.1.1
neighbour default port 0 mac 02:00:00:00:0a:01
neighbour 172.16.1.1 port 1 mac 02:00:00:00:0f:01
key-file keys
"""


def main():
    gw = Gateway(ipsecgw, "cli")
    fails = []

    def ok(cond, what):
        if not cond:
            fails.append(what)
            print("FAIL:", what)

    try:
        gw.write("keys", "a-to-b %s\nb-to-a %s\n" % (KEY_OUT, KEY_IN))
        conf = gw.write("gw.conf", CONF)
        sock = gw.path("ctl/gw.sock")
        frames = [Ether(src="02:00:00:00:00:01", dst=MAC_GW[0]) /
                  IP(src="10.1.0.%d" % (i % 200 + 1), dst="10.2.0.1") / UDP(sport=1000, dport=2000) / Raw(b"x" * 64)
                  for i in range(300)]
        # -m 1024 (the later -m wins): a route change builds a second route
        # table (two 64 MiB IPv4 LPMs) before the old one is released.
        handle = gw.start([frames, []], ["--conf", conf, "--socket", sock], extra_eal=["-m", "1024"])
        proc = handle[0]
        deadline = time.time() + 20
        while not os.path.exists(sock) and time.time() < deadline and proc.poll() is None:
            time.sleep(0.05)
        ok(os.path.exists(sock), "control socket did not appear")
        ok((os.stat(sock).st_mode & 0o777) == 0o660, "socket mode %o" % (os.stat(sock).st_mode & 0o777))

        def run(*args, stdin=None):
            p = subprocess.run([gwctl, "--socket", sock] + list(args), input=stdin, capture_output=True,
                               text=True, timeout=20)
            return p.returncode, p.stdout, p.stderr

        # Let the pcap drain so counters are final.
        deadline = time.time() + 10
        while time.time() < deadline:
            rc, out, err = run("--json", "show", "stats")
            if rc == 0 and sum(l["rx_packets"] for l in json.loads(out)["lcores"]) >= 300:
                break
            time.sleep(0.1)

        rc, out, err = run("show", "status")
        ok(rc == 0 and "version:" in out and "uptime s:" in out and "LCORE" in out and "PORT" in out,
           "show status: %r %r" % (out, err))
        rc, out, err = run("--json", "show", "status")
        st = json.loads(out) if rc == 0 else {}
        ok(st.get("sas") == 2 and st.get("policies") == 2 and len(st.get("ports", [])) == 2, "status json: %r" % st)

        rc, out, err = run("--json", "show", "ports")
        ports = json.loads(out)["ports"] if rc == 0 else []
        ok(len(ports) == 2 and ports[0]["rx_packets"] == 300 and ports[1]["tx_packets"] == 300,
           "ports json: %r %r" % (ports, err))
        rc, out, err = run("show", "ports")
        ok(rc == 0 and out.splitlines()[0].split()[:2] == ["PORT", "LINK"], "ports table: %r" % out)

        rc, out, err = run("--json", "show", "sa")
        sas = json.loads(out)["sas"] if rc == 0 else []
        by = {s["name"]: s for s in sas}
        ok(set(by) == {"a-to-b", "b-to-a"}, "sa names: %r" % sas)
        if "a-to-b" in by:
            a = by["a-to-b"]
            ok(a["dir"] == "out" and a["spi"] == 0x1001 and a["aead"] == "aes128gcm16" and a["mode"] == "tunnel" and
               a["local"] == "172.16.1.5" and a["remote"] == "172.16.2.5" and a["seq"] == 300 and
               a["packets"] == 300, "outbound SA: %r" % a)
            ok(by["b-to-a"]["replay_window"] == 1024, "inbound SA: %r" % by["b-to-a"])
        rc, out, err = run("show", "sa")
        ok(rc == 0 and "a-to-b" in out and "NAME" in out, "sa table: %r" % out)
        rc, out, err = run("--json", "show", "sa", "0x1001")
        d = json.loads(out) if rc == 0 else {}
        ok(d.get("name") == "a-to-b" and d["lifetime"]["hard_seconds_left"] <= 3600 and
           d["selectors"][0]["policy"] == "to-b", "sa detail: %r" % d)
        rc, out, err = run("show", "sa", "0x1001")
        ok(rc == 0 and "lifetime:" in out and "selectors:" in out, "sa detail human: %r" % out)
        rc, out, err = run("show", "sa", "77777")
        ok(rc == 1 and "not_found" in err, "missing SA: %r" % err)

        rc, out, err = run("--json", "show", "policy")
        pol = json.loads(out) if rc == 0 else {}
        ok(pol.get("default") == "discard" and [p["name"] for p in pol.get("policies", [])] == ["to-b", "from-b"],
           "policy: %r" % pol)
        rc, out, err = run("show", "policy")
        ok(rc == 0 and "to-b" in out and "10.2.0.0/16" in out, "policy human: %r" % out)
        rc, out, err = run("--json", "show", "routes")
        ok(rc == 0 and [r["prefix"] for r in json.loads(out)["routes"]] == ["10.1.0.0/16", "172.16.2.0/24"],
           "routes: %r" % out)
        rc, out, err = run("show", "routes")
        ok(rc == 0 and "172.16.1.1" in out, "routes human: %r" % out)
        rc, out, err = run("--json", "show", "neighbors")
        ok(rc == 0 and len(json.loads(out)["neighbors"]) == 2, "neighbors: %r" % out)
        rc, out, err = run("show", "neighbors")
        ok(rc == 0 and "02:00:00:00:0f:01" in out, "neighbors human: %r" % out)

        rc, out, err = run("show", "stats")
        ok(rc == 0 and "LCORE" in out, "stats human: %r" % out)
        rc, out, err = run("show", "stats", "--prometheus")
        ok(rc == 0 and 'ipsecgw_sa_packets_total{sa="a-to-b",spi="4097",dir="out"} 300' in out and
           "# TYPE ipsecgw_drops_total counter" in out, "prometheus: %r" % out[:2000])
        rc, out, err = run("show", "ike")
        ok(rc == 0, "show ike: %r" % err)
        rc, out, err = run("log-level", "info")
        ok(rc == 0, "log-level: %r" % err)
        rc, out, err = run("log-level", "loud")
        ok(rc == 1 and "invalid_argument" in err, "bad log level: %r" % err)

        # Never a key, anywhere.
        for args in (["--json", "show", "sa"], ["--json", "show", "sa", "0x2001"], ["show", "stats", "--prometheus"],
                     ["--json", "show", "status"]):
            rc, out, err = run(*args)
            ok(all(k[:16] not in out for k in (KEY_OUT, KEY_IN, KEY_NEW)), "key shown by %s" % args)

        # Live changes: SA, policy, route, neighbour; reload. State survives.
        keyf = gw.write("c.key", "c-out " + KEY_NEW + "\n")
        sa_c = ["sa", "add", "--name", "c-out", "--dir", "out", "--spi", "0x1002", "--local", "172.16.1.5",
                "--remote", "172.16.2.5", "--key-file", keyf]
        rc, out, err = run(*sa_c)
        ok(rc == 0 and KEY_NEW not in out + err, "sa add: %r %r" % (out, err))
        rc, out, err = run(*sa_c)
        ok(rc == 1 and "conflict" in err, "duplicate sa add: %r" % err)
        rc, out, err = run("sa", "add", "--name", "bad", "--dir", "out", "--spi", "0x1003", "--local", "172.16.1.5",
                           "--remote", "172.16.2.5", "--key-file", "-", stdin="abcd\n")
        ok(rc == 1 and "invalid_argument" in err and "abcd" not in err, "short key refused: %r" % err)
        rc, out, err = run("--json", "show", "sa", "0x1002")
        d = json.loads(out) if rc == 0 else {}
        ok(d.get("name") == "c-out" and d.get("seq") == 0 and d.get("packets") == 0, "new SA: %r %r" % (d, err))
        rc, out, err = run("policy", "add", "--name", "to-c", "--dir", "out", "--priority", "20", "--dst",
                           "10.3.0.0/16", "--action", "protect", "--sa", "c-out")
        ok(rc == 0, "policy add: %r" % err)
        rc, out, err = run("--json", "show", "policy")
        names = [p["name"] for p in json.loads(out)["policies"]] if rc == 0 else []
        ok(names == ["to-b", "from-b", "to-c"], "policies after add: %r" % names)
        rc, out, err = run("policy", "add", "--name", "x", "--dir", "out", "--action", "protect", "--sa", "nope")
        ok(rc == 1 and "not_found" in err, "policy with unknown SA: %r" % err)
        rc, out, err = run("policy", "add", "--name", "y", "--dir", "sideways", "--action", "bypass")
        ok(rc == 1 and "invalid_argument" in err, "bad policy: %r" % err)
        rc, out, err = run("sa", "del", "0x1002")
        ok(rc == 1 and "conflict" in err and "to-c" in err, "sa del in use: %r" % err)
        rc, out, err = run("policy", "del", "to-c")
        ok(rc == 0, "policy del: %r" % err)
        rc, out, err = run("sa", "del", "0x1002")
        ok(rc == 0, "sa del: %r" % err)
        rc, out, err = run("show", "sa", "0x1002")
        ok(rc == 1 and "not_found" in err, "deleted SA gone: %r" % err)
        rc, out, err = run("route", "add", "10.9.0.0/16", "--port", "1", "--via", "172.16.1.1")
        ok(rc == 0, "route add: %r" % err)
        rc, out, err = run("--json", "show", "routes")
        ok(rc == 0 and "10.9.0.0/16" in [r["prefix"] for r in json.loads(out)["routes"]], "route added: %r" % out)
        rc, out, err = run("route", "add", "10.9.0.0/16", "--port", "7")
        ok(rc == 1, "route to a missing port / duplicate refused: %r" % err)
        rc, out, err = run("route", "del", "10.9.0.0/16")
        ok(rc == 0, "route del: %r" % err)
        rc, out, err = run("route", "del", "10.9.0.0/16")
        ok(rc == 1 and "not_found" in err, "route del twice: %r" % err)
        rc, out, err = run("neighbor", "add", "172.16.1.2", "--port", "1", "--mac", "02:00:00:00:0f:02")
        ok(rc == 0, "neighbor add: %r" % err)
        rc, out, err = run("--json", "show", "neighbors")
        ok(rc == 0 and len(json.loads(out)["neighbors"]) == 3, "neighbor added: %r" % out)
        rc, out, err = run("neighbor", "del", "172.16.1.2")
        ok(rc == 0, "neighbor del: %r" % err)
        rc, out, err = run("neighbor", "add", "172.16.1.2", "--port", "1", "--mac", "zz")
        ok(rc == 1 and "invalid_argument" in err, "bad mac: %r" % err)

        # reload: the file gains a route and an SA; the old SA keeps its state.
        gw.write("gw.conf", CONF + "route 10.8.0.0/16 port 1 via 172.16.1.1\n"
                 "sa d-out out spi 0x1004 aead aes128gcm16 key-ref b-to-a mode tunnel local 172.16.1.5 remote 172.16.2.5\n")
        rc, out, err = run("--json", "reload")
        r = json.loads(out) if rc == 0 else {}
        ok(r.get("sas_added") == 1 and r.get("sas_removed") == 0 and r.get("routes_rebuilt") is True,
           "reload: %r %r" % (r, err))
        rc, out, err = run("--json", "show", "sa")
        by = {s["name"]: s for s in json.loads(out)["sas"]} if rc == 0 else {}
        ok("d-out" in by and by.get("a-to-b", {}).get("seq") == 300 and by["a-to-b"]["packets"] == 300,
           "state kept across reload: %r" % by)
        gw.write("gw.conf", CONF + "route 10.8.0.0/16 port 9\n")
        rc, out, err = run("reload")
        ok(rc == 1 and "nothing changed" in err, "broken reload refused: %r" % err)
        rc, out, err = run("--json", "show", "routes")
        ok(rc == 0 and "10.8.0.0/16" in [x["prefix"] for x in json.loads(out)["routes"]], "state kept: %r" % out)
        gw.write("gw.conf", CONF)
        rc, out, err = run("--json", "reload")
        r = json.loads(out) if rc == 0 else {}
        ok(r.get("sas_removed") == 1, "reload back: %r %r" % (r, err))
        rc, out, err = run("trace", "10", "--wait", "1")
        ok(rc == 0 and "pending:" in out, "trace without traffic: %r %r" % (out, err))
        rc, out, err = run("--json", "trace", "3", "--wait", "0")
        ok(rc == 0 and json.loads(out)["pending"] == 3, "trace json: %r %r" % (out, err))

        # Hostile clients while the gateway runs: it keeps answering.
        junk = []
        for i in range(20):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(sock)
            s.sendall(b"{\"v\":1,\"cmd\":" if i % 2 else b"\x00garbage\n" + b"y" * 70000)
            junk.append(s)
        rc, out, err = run("--json", "show", "status")
        ok(rc == 0, "answers beside hostile clients: %r" % err)
        for s in junk:
            s.close()

        rc, out, err = run("shutdown")
        ok(rc == 0 and "stopping" in out, "shutdown: %r %r" % (out, err))
        try:
            out, err = proc.communicate(timeout=15)
            ok(proc.returncode == 0, "gateway exit %d: %s" % (proc.returncode, err))
            ok("final counters" in out, "final counters missing")
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            ok(False, "gateway did not stop on gwctl shutdown")
        ok(not os.path.exists(sock), "socket left behind after a clean stop")
    finally:
        if "handle" in locals() and handle[0].poll() is None:
            handle[0].kill()
            handle[0].wait()
        gw.close()
    if fails:
        print("%d check(s) failed" % len(fails))
        sys.exit(1)
    print("PASS")


main()
