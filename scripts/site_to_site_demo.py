#!/usr/bin/python3
"""Site-to-site demo on virtual devices: two ipsecgw gateways (config/site-a.conf
and config/site-b.conf, used as config/README.md says) joined by a net_memif
link, each with a pcap "private network" behind it. Traffic from both sites
crosses the tunnel at the same time; the demo checks that every packet arrived
byte for byte and shows each gateway's counters (ports, SAs, drops by name).

usage: site_to_site_demo.py PATH/TO/ipsecgw
"""
import json
import os
import signal
import shutil
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "dataplane"))
from gwtest import Gateway  # noqa: E402  (the end-to-end tests' harness)
from scapy.all import Ether, IP, IPv6, UDP, ICMP, Raw, raw, wrpcap  # noqa: E402

CONFIG = os.path.join(HERE, "..", "config")


def traffic(src4, dst4, src6, dst6, n=20):
    """IPv4 and IPv6 UDP of sizes from 40 to 1400 bytes, and a ping."""
    eth = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    pk = [eth / IP(src=src4 % i, dst=dst4 % i) / UDP(sport=1000 + i, dport=53) / Raw(b"q" * (i * 40 % 1400))
          for i in range(1, n + 1)]
    pk += [eth / IP(src=src4 % 1, dst=dst4 % 2) / ICMP() / Raw(b"ping")]
    pk += [eth / IPv6(src=src6 % i, dst=dst6 % i) / UDP(sport=7, dport=7) / Raw(b"z" * (i * 60 % 1400))
           for i in range(1, n // 2 + 1)]
    return pk


def counters(out):
    keep = [l for l in out.splitlines() if l.strip()]
    return "\n".join("    " + l for l in keep[-30:])


def telemetry(prefix, query):
    """One request to a DPDK process's telemetry socket (what dpdk-telemetry.py does)."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    try:
        s.settimeout(1)
        s.connect("/var/run/dpdk/%s/dpdk_telemetry.v2" % prefix)
        s.recv(1024)  # greeting
        s.send(query.encode())
        return json.loads(s.recv(65536).decode())
    except (OSError, ValueError):
        return None
    finally:
        s.close()


def opackets(prefix, port):
    r = telemetry(prefix, "/ethdev/stats,%d" % port)
    return r["/ethdev/stats"]["opackets"] if r else None


def live_rate(gw, binary, seconds=6):
    """A replays a capture forever into the tunnel; B delivers to a null port.
    Rates are read once a second from both gateways' telemetry."""
    pcap = gw.path("live.pcap")
    loop = traffic("10.1.0.%d", "10.2.0.%d", "2001:db8:a::%x", "2001:db8:b::%x", n=64)
    wrpcap(pcap, loop, linktype=1)
    sock = gw.path("live.sock")
    tag = "demo%d" % os.getpid()
    common = ["-n", "1", "--no-pci", "--no-huge", "-m", "512", "--log-level", "lib.eal:error"]
    a = subprocess.Popen([binary, "-l", "0", "--file-prefix", tag + "a"] + common +
                         ["--vdev", "net_pcap0,rx_pcap=%s,infinite_rx=1" % pcap,
                          "--vdev", "net_memif0,role=server,socket=%s,id=0" % sock,
                          "--", "--conf", gw.path("site-a.conf")],
                         stdout=subprocess.DEVNULL, stderr=open(gw.path("live.log"), "a"))
    deadline = time.time() + 5
    while telemetry(tag + "a", "/") is None and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    b = subprocess.Popen([binary, "-l", "1", "--file-prefix", tag + "b"] + common +
                         ["--vdev", "net_null0,no-rx=1", "--vdev", "net_memif0,role=client,socket=%s,id=0" % sock,
                          "--", "--conf", gw.path("site-b.conf")],
                         stdout=subprocess.DEVNULL, stderr=open(gw.path("live.log"), "a"))
    print("\nlive: A replays %d packets in a loop (40-1400 B, IPv4 and IPv6); rates from telemetry" % len(loop))
    print("%6s %18s %22s" % ("second", "A ESP out (kpps)", "B delivered (kpps)"))
    totals = []
    try:
        time.sleep(1.5)
        last = (opackets(tag + "a", 1), opackets(tag + "b", 0), time.time())
        for sec in range(1, seconds + 1):
            time.sleep(1)
            now = (opackets(tag + "a", 1), opackets(tag + "b", 0), time.time())
            if None in now or None in last:
                print("%6d %18s %22s" % (sec, "-", "-"))
            else:
                dt = now[2] - last[2]
                ra, rb = (now[0] - last[0]) / dt / 1e3, (now[1] - last[1]) / dt / 1e3
                totals.append((ra, rb))
                print("%6d %18.1f %22.1f" % (sec, ra, rb))
            last = now
    finally:
        for p in (a, b):
            p.send_signal(signal.SIGINT)
        for p in (a, b):
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
    if not totals:
        print(open(gw.path("live.log")).read()[-2000:])
    if totals:
        print("summary: A encrypted %.1f kpps on average, B decrypted and delivered %.1f kpps "
              "(two processes sharing %d cores; a memif link, not a NIC)"
              % (sum(t[0] for t in totals) / len(totals), sum(t[1] for t in totals) / len(totals), os.cpu_count()))


def main():
    gw = Gateway(sys.argv[1], "demo")
    try:
        for f in ["site-a.conf", "site-b.conf", "site-a.keys", "site-b.keys"]:
            shutil.copy(os.path.join(CONFIG, f), gw.path(f))
            os.chmod(gw.path(f), 0o600)
        a_sent = traffic("10.1.0.%d", "10.2.0.%d", "2001:db8:a::%x", "2001:db8:b::%x")
        b_sent = traffic("10.2.0.%d", "10.1.0.%d", "2001:db8:b::%x", "2001:db8:a::%x")
        sock = gw.path("memif.sock")
        print("site A 10.1.0.0/16 [A] 172.16.1.5 === memif === 172.16.2.5 [B] 10.2.0.0/16")
        print("A sends %d packets to B's network, B sends %d to A's, at the same time\n" % (len(a_sent), len(b_sent)))
        ha = gw.start([a_sent], ["--conf", gw.path("site-a.conf")], lcores="0",
                      extra_eal=["--vdev", "net_memif0,role=server,socket=%s,id=0" % sock])
        tel = "/var/run/dpdk/%s/dpdk_telemetry.v2" % ha[1][ha[1].index("--file-prefix") + 1]
        deadline = time.time() + 5
        while not os.path.exists(tel) and time.time() < deadline:
            time.sleep(0.05)
        hb = gw.start([b_sent], ["--conf", gw.path("site-b.conf")], lcores="1",
                      extra_eal=["--vdev", "net_memif0,role=client,socket=%s,id=0" % sock])
        ra, rb = gw.finish(ha, 4.5), gw.finish(hb, 4)
        ok = True
        for name, r, sent in [("A", ra, b_sent), ("B", rb, a_sent)]:
            got = {raw(f.payload) for f in r.tx[0]}
            intact = 0
            for f in sent:
                q = f.payload.copy()
                if isinstance(q, IPv6):
                    q.hlim -= 2
                    q = IPv6(raw(q))
                else:
                    q.ttl -= 2
                    q = IP(raw(q))
                intact += raw(q) in got
            ok &= intact == len(sent)
            print("arrived at site %s: %d of %d packets, byte for byte (TTL/hop limit 2 lower: two routers)"
                  % (name, intact, len(sent)))
        print("\nsite A gateway, final counters:\n" + counters(ra.out))
        print("\nsite B gateway, final counters:\n" + counters(rb.out))
        if ok:
            live_rate(gw, sys.argv[1])
        return 0 if ok else 1
    finally:
        gw.close()


sys.exit(main())
