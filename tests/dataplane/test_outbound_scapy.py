#!/usr/bin/python3
"""Plaintext in on a protected net_pcap port -> ESP out on the unprotected
one; scapy's SecurityAssociation must decrypt every packet to the original
inner packet (TTL/hop limit one lower: the gateway forwarded it). Covers IPv4
and IPv6 inner and outer, tunnel and transport, 128- and 256-bit keys."""
from scapy.all import Ether, IP, IPv6, UDP, TCP, Raw, raw
from scapy.layers.ipsec import SecurityAssociation, ESP

from gwtest import main, check, MAC_GW

K128 = bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3c" "deadbeef")
K256 = bytes.fromhex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4" "cafef00d")

# (spi, key, outer, inner-dst-selector, scapy tunnel header or None)
CASES = [
    (1001, K128, "ipv4-tunnel", "10.1.0.0/16", IP(src="172.16.1.5", dst="172.16.2.5")),
    (1002, K256, "ipv4-tunnel", "10.2.0.0/16", IP(src="172.16.1.5", dst="172.16.2.5")),
    (1003, K128, "ipv6-tunnel", "2001:db8:3::/48", IPv6(src="2001:db8:ff::1", dst="2001:db8:ff::2")),
    (1004, K256, "ipv6-tunnel", "10.4.0.0/16", IPv6(src="2001:db8:ff::1", dst="2001:db8:ff::2")),
    (1005, K128, "transport", "172.16.2.9/32", None),
    (1006, K256, "transport", "2001:db8:ff::9/128", None),
]


def colon(b):
    return ":".join("%02x" % x for x in b)


def cfg():
    lines = []
    for spi, key, mode, sel, th in CASES:
        fam = "ipv6" if ":" in sel else "ipv4"
        lines.append("sp %s out esp protect %d pri 1 dst %s sport 0:65535 dport 0:65535" % (fam, spi, sel))
        algo = "aes-128-gcm" if len(key) == 20 else "aes-256-gcm"
        tun = ""
        if th is not None:
            tun = " src %s dst %s" % (th.src, th.dst)
        lines.append("sa out %d aead_algo %s aead_key %s mode %s%s" % (spi, algo, colon(key), mode, tun))
    lines += ["rt ipv4 dst 172.16.2.0/24 port 1", "rt ipv6 dst 2001:db8:ff::/64 port 1",
              "neigh port 0 02:00:00:00:01:00", "neigh port 1 02:00:00:00:01:01"]
    return "\n".join(lines) + "\n"


def inner_packets():
    pkts = []
    for i in range(5):
        pkts.append((1001, IP(src="192.168.1.%d" % (i + 1), dst="10.1.0.%d" % (i + 1), ttl=64) / UDP(sport=1000 + i, dport=2000) / Raw(b"a" * (i * 37))))
        pkts.append((1002, IP(src="192.168.1.1", dst="10.2.3.%d" % (i + 1)) / TCP(sport=5000, dport=80, flags="S") / Raw(b"b" * (i * 50 + 1))))
        pkts.append((1003, IPv6(src="2001:db8:1::1", dst="2001:db8:3::%x" % (i + 1), hlim=20) / UDP(sport=7, dport=9) / Raw(b"c" * (i * 64 + 3))))
        pkts.append((1004, IP(src="192.168.1.1", dst="10.4.0.%d" % (i + 1)) / UDP(sport=1, dport=2) / Raw(b"d" * 100)))
        pkts.append((1005, IP(src="192.168.1.1", dst="172.16.2.9") / UDP(sport=3, dport=4) / Raw(b"e" * (i + 10))))
        pkts.append((1006, IPv6(src="2001:db8:1::1", dst="2001:db8:ff::9") / UDP(sport=3, dport=4) / Raw(b"f" * (i + 200))))
    return pkts


def forwarded(p):
    q = p.copy()
    if IP in q and not isinstance(q, IPv6):
        q[IP].ttl -= 1
        q = IP(raw(q))
    else:
        q.hlim -= 1
        q = IPv6(raw(q))
    return q


def test(gw):
    conf = gw.write("out.cfg", cfg())
    pkts = inner_packets()
    frames = [Ether(src="02:00:00:00:00:01", dst=MAC_GW[0]) / p for _, p in pkts]
    r = gw.run([frames, []], ["-p", "0x3", "-u", "0x2", "-P", "--config", "(0,0,0),(1,0,0)", "-f", conf])
    out = r.tx[1]
    check(len(out) == len(pkts), "expected %d ESP frames on port 1, got %d\n%s" % (len(pkts), len(out), r.out))
    check(not r.tx[0], "nothing should leave the protected port")
    sas = {spi: SecurityAssociation(ESP, spi=spi, crypt_algo="AES-GCM", crypt_key=key, tunnel_header=th)
           for spi, key, _, _, th in CASES}
    # Packets keep their order per SA (IPv4 and IPv6 are classified in
    # separate batches, so the order across families may change).
    want = {}
    for spi, orig in pkts:
        want.setdefault(spi, []).append(forwarded(orig))
    got = {}
    for frame in out:
        check(frame[Ether].dst == "02:00:00:00:01:01", "wrong neighbour MAC %s" % frame[Ether].dst)
        outer = frame.payload
        check(ESP in outer and outer[ESP].spi in sas, "unexpected frame %r" % outer.summary())
        spi = outer[ESP].spi
        got.setdefault(spi, []).append(outer)
    for spi, outers in got.items():
        check(len(outers) == len(want[spi]), "SA %d: %d packets, expected %d" % (spi, len(outers), len(want[spi])))
        for n, (outer, exp) in enumerate(zip(outers, want[spi])):
            check(outer[ESP].seq == n + 1, "SA %d: sequence %d, expected %d" % (spi, outer[ESP].seq, n + 1))
            plain = sas[spi].decrypt(outer)
            check(raw(plain) == raw(exp), "SA %d: decrypted packet differs\n got %r\nwant %r" % (spi, plain, exp))
    for spi, *_ in CASES:
        check(r.sa[spi, "out"]["packets"] == 5, "SA %d counter: %r" % (spi, r.sa.get((spi, "out"))))
    check(sum(r.drops.values()) == 0, "unexpected drops %r" % r.drops)


main(test)
