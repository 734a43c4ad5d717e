#!/usr/bin/python3
"""scapy-made ESP in on the unprotected port -> plaintext out on the
protected one, identical to what scapy encrypted (TTL one lower). Tampered,
replayed, unknown-SPI and policy-violating packets, and cleartext without a
BYPASS policy, are dropped and counted under their own names, and those
tied to an SA also under that SA (the exit report's "sa drops" section)."""
import re

from scapy.all import Ether, IP, IPv6, UDP, Raw, raw
from scapy.layers.ipsec import SecurityAssociation, ESP

from gwtest import main, check, MAC_GW

K128 = bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3c" "deadbeef")
K256 = bytes.fromhex("603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4" "cafef00d")


def colon(b):
    return ":".join("%02x" % x for x in b)


CFG = """\
sp ipv4 in esp protect 105 pri 1 dst 192.168.115.0/24 sport 0:65535 dport 0:65535
sp ipv6 in esp protect 106 pri 1 dst 2001:db8:115::/48 sport 0:65535 dport 0:65535
sp ipv4 in esp bypass pri 1 dst 192.168.245.0/24 sport 0:65535 dport 0:65535
sa in 105 aead_algo aes-128-gcm aead_key {k128} mode ipv4-tunnel src 172.16.2.5 dst 172.16.1.5
sa in 106 aead_algo aes-256-gcm aead_key {k256} mode ipv6-tunnel src 2001:db8:ff::2 dst 2001:db8:ff::1
rt ipv4 dst 192.168.0.0/16 port 0
rt ipv6 dst 2001:db8:115::/48 port 0
neigh port 0 02:00:00:00:01:00
neigh port 1 02:00:00:00:01:01
""".format(k128=colon(K128), k256=colon(K256))


def forwarded(p):
    q = p.copy()
    if isinstance(q, IPv6):
        q.hlim -= 1
        return IPv6(raw(q))
    q.ttl -= 1
    return IP(raw(q))


def test(gw):
    conf = gw.write("in.cfg", CFG)
    sa4 = SecurityAssociation(ESP, spi=105, crypt_algo="AES-GCM", crypt_key=K128,
                              tunnel_header=IP(src="172.16.2.5", dst="172.16.1.5"))
    sa6 = SecurityAssociation(ESP, spi=106, crypt_algo="AES-GCM", crypt_key=K256,
                              tunnel_header=IPv6(src="2001:db8:ff::2", dst="2001:db8:ff::1"))
    bad_spi = SecurityAssociation(ESP, spi=999, crypt_algo="AES-GCM", crypt_key=K128,
                                  tunnel_header=IP(src="172.16.2.5", dst="172.16.1.5"))
    eth = Ether(src="02:00:00:00:00:99", dst=MAC_GW[1])
    good4 = [IP(src="192.168.2.%d" % i, dst="192.168.115.%d" % i) / UDP(sport=1000 + i, dport=2000) / Raw(b"x" * (i * 41))
             for i in range(1, 9)]
    good6 = [IPv6(src="2001:db8:2::%x" % i, dst="2001:db8:115::%x" % i) / UDP(sport=5, dport=6) / Raw(b"y" * (i * 77))
             for i in range(1, 5)]
    frames = [eth / sa4.encrypt(p, seq_num=n + 1) for n, p in enumerate(good4)]
    frames += [eth / sa6.encrypt(p, seq_num=n + 1) for n, p in enumerate(good6)]
    # Replays: sequence numbers 2 and 3 once more.
    frames += [eth / sa4.encrypt(good4[1], seq_num=2), eth / sa4.encrypt(good4[2], seq_num=3)]
    # ... and one on the IPv6 SA, so per-SA drops must name the right SA.
    frames.append(eth / sa6.encrypt(good6[0], seq_num=1))
    # Tampered ciphertext (last payload byte before the ICV flipped).
    t = sa4.encrypt(good4[0], seq_num=20)
    b = bytearray(raw(t))
    b[-20] ^= 0x01
    frames.append(eth / IP(bytes(b)))
    # Unknown SPI.
    frames.append(eth / bad_spi.encrypt(good4[0], seq_num=1))
    # Valid ESP whose inner packet lies outside SA 105's selectors.
    frames.append(eth / sa4.encrypt(IP(src="192.168.2.1", dst="192.168.200.1") / UDP(), seq_num=30))
    # Cleartext: allowed by BYPASS, refused otherwise.
    bypass = IP(src="192.168.2.1", dst="192.168.245.7") / UDP(sport=1, dport=2) / Raw(b"bypass")
    frames.append(eth / bypass)
    frames.append(eth / (IP(src="192.168.2.1", dst="192.168.115.1") / UDP() / Raw(b"sneaky")))

    r = gw.run([[], frames], ["-p", "0x3", "-u", "0x2", "-w", "64", "--config", "(0,0,0),(1,0,0)", "-f", conf])
    out = [f.payload for f in r.tx[0]]
    check(not r.tx[1], "nothing should leave the unprotected port")
    for f in r.tx[0]:
        check(f[Ether].dst == "02:00:00:00:01:00", "wrong MAC %s" % f[Ether].dst)
    want = [raw(forwarded(p)) for p in good4 + good6] + [raw(forwarded(bypass))]
    got = [raw(p) for p in out]
    check(sorted(got) == sorted(want),
          "plaintext out differs: got %d packets, want %d\n%s" % (len(got), len(want), r.out))
    for name, n in [("replayed", 3), ("icv_failure", 1), ("bad_spi", 1), ("inbound_policy_mismatch", 1),
                    ("cleartext_not_allowed", 1)]:
        check(r.drop(name) == n, "drop %s = %d, expected %d\n%s" % (name, r.drop(name), n, r.out))
    check(r.sa[105, "in"]["packets"] == 8 and r.sa[106, "in"]["packets"] == 4, "SA counters %r" % r.sa)
    # Per-SA drops: the unknown SPI and the refused cleartext belong to no SA.
    sa_drops = {}
    section = r.out.split("sa drops:\n", 1)
    check(len(section) == 2, "no sa drops section\n%s" % r.out)
    for m in re.finditer(r"^(\S+)\s+(in|out)\s+(\d+)\s+([a-z_]+)\s+(\d+)$", section[1].split("drops:\n", 1)[0], re.M):
        sa_drops[int(m.group(3)), m.group(2), m.group(4)] = int(m.group(5))
    want_sa_drops = {(105, "in", "replay"): 2, (105, "in", "icv_failure"): 1,
                     (105, "in", "inbound_policy_mismatch"): 1, (106, "in", "replay"): 1}
    check(sa_drops == want_sa_drops, "per-SA drops %r, expected %r\n%s" % (sa_drops, want_sa_drops, r.out))


main(test)
