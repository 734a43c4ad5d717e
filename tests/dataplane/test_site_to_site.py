#!/usr/bin/python3
"""Two gateways back to back with the example configurations in config/,
used as config/README.md says (copied, key files chmod 600): traffic from A's
protected port, encrypted by A, decrypted by B, arrives intact at B's
protected port, and the same from B to A, IPv4 and IPv6. Also runs the
ipsec-secgw-format example as written."""
import os
import shutil
import time

from scapy.all import Ether, IP, IPv6, UDP, Raw, raw
from scapy.layers.ipsec import ESP

from gwtest import main, check

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIG = os.path.join(HERE, "..", "..", "config")


def traffic(src4, dst4, src6, dst6):
    eth = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    pk = [eth / IP(src=src4 % i, dst=dst4 % i) / UDP(sport=1000 + i, dport=53) / Raw(b"q" * (i * 30)) for i in range(1, 11)]
    pk += [eth / IPv6(src=src6 % i, dst=dst6 % i) / UDP(sport=7, dport=7) / Raw(b"z" * (i * 50)) for i in range(1, 6)]
    return pk


def hops(frame, n):
    q = frame.payload.copy()
    if isinstance(q, IPv6):
        q.hlim -= n
        return raw(IPv6(raw(q)))
    q.ttl -= n
    return raw(IP(raw(q)))


def one_way(gw, first, second, sent):
    ra = gw.run([sent, []], ["--config", "(0,0,0),(1,0,0)", "--conf", first])
    esp = ra.tx[1]
    check(len(esp) == len(sent) and all(ESP in f for f in esp), "%s: %d ESP frames for %d sent\n%s"
          % (os.path.basename(first), len(esp), len(sent), ra.out))
    rb = gw.run([[], esp], ["--config", "(0,0,0),(1,0,0)", "--conf", second])
    got = sorted(raw(f.payload) for f in rb.tx[0])
    want = sorted(hops(f, 2) for f in sent)
    check(got == want, "%s -> %s: %d of %d packets arrived intact\n%s"
          % (os.path.basename(first), os.path.basename(second), len(set(got) & set(want)), len(want), rb.out))


def test(gw):
    for f in ["site-a.conf", "site-b.conf", "site-a.keys", "site-b.keys", "ipsec-secgw.cfg"]:
        shutil.copy(os.path.join(CONFIG, f), gw.path(f))
        os.chmod(gw.path(f), 0o600 if f.endswith(".keys") or f.endswith(".cfg") else 0o644)
    a, b = gw.path("site-a.conf"), gw.path("site-b.conf")
    one_way(gw, a, b, traffic("10.1.0.%d", "10.2.0.%d", "2001:db8:a::%x", "2001:db8:b::%x"))
    one_way(gw, b, a, traffic("10.2.0.%d", "10.1.0.%d", "2001:db8:b::%x", "2001:db8:a::%x"))

    # Live: both gateways at once, joined by a net_memif link (port 1 each),
    # traffic both ways at the same time.
    sock = gw.path("memif.sock")  # an abstract socket name (memif's default)
    a_sent = traffic("10.1.0.%d", "10.2.0.%d", "2001:db8:a::%x", "2001:db8:b::%x")
    b_sent = traffic("10.2.0.%d", "10.1.0.%d", "2001:db8:b::%x", "2001:db8:a::%x")
    ha = gw.start([a_sent], ["--conf", a], lcores="0",
                  extra_eal=["--vdev", "net_memif0,role=server,socket=%s,id=0" % sock])
    # The memif client connects once, when its port starts: the server must
    # listen by then. EAL creates the telemetry socket after probing devices.
    tel = "/var/run/dpdk/%s/dpdk_telemetry.v2" % ha[1][ha[1].index("--file-prefix") + 1]
    deadline = time.time() + 5
    while not os.path.exists(tel) and time.time() < deadline:
        time.sleep(0.05)
    hb = gw.start([b_sent], ["--conf", b], lcores="1",
                  extra_eal=["--vdev", "net_memif0,role=client,socket=%s,id=0" % sock])
    ra, rb = gw.finish(ha, 4.5), gw.finish(hb, 4)
    for name, r, sent in [("A", ra, b_sent), ("B", rb, a_sent)]:
        got = sorted(raw(f.payload) for f in r.tx[0])
        want = sorted(hops(f, 2) for f in sent)
        check(got == want, "memif: %d of %d packets arrived intact at %s\n%s%s"
              % (len(set(got) & set(want)), len(want), name, ra.out + ra.err, rb.out + rb.err))

    # A world-readable key file is refused with the reason.
    os.chmod(gw.path("site-a.keys"), 0o644)
    r = gw.run([[], []], ["--conf", a], expect_rc=1)
    check("world-readable" in r.err and "site-a.conf:" in r.err, "world-readable keys: " + r.err)

    # The ipsec-secgw example: IPv4 and IPv6 out.
    eth = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    pk = [eth / IP(src="192.168.1.1", dst="192.168.105.%d" % i) / UDP() for i in range(1, 4)]
    pk += [eth / IPv6(src="2001:db8:1::1", dst="2001:db8:105::%d" % i) / UDP() for i in range(1, 4)]
    r = gw.run([pk, []], ["-p", "0x3", "-u", "0x2", "-P", "--config", "(0,0,0),(1,0,0)", "-f", gw.path("ipsec-secgw.cfg")])
    check(len([f for f in r.tx[1] if ESP in f]) == 6, "ipsec-secgw.cfg example: %r\n%s" % (r.tx[1], r.out))


main(test)
