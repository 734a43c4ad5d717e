#!/usr/bin/python3
"""NAT traversal on the wire (RFC 3948): scapy's ESP-in-UDP (nat_t_header)
in on the unprotected port decrypts to the plaintext scapy encrypted; our
plaintext out leaves as ESP-in-UDP from 4500 to the peer's NAT port and
decrypts in scapy. IKE to UDP 500 and to 4500 behind the non-ESP marker is
punted (and, with no IKE service installed, freed and counted by the control
loop); NAT keepalives, malformed UDP and encapsulation mismatches are
counted under their own names."""
from scapy.all import Ether, IP, UDP, Raw, raw
from scapy.layers.ipsec import SecurityAssociation, ESP

from gwtest import main, check, MAC_GW

K_OUT = bytes.fromhex("000102030405060708090a0b0c0d0e0f" "01020304")
K_IN = bytes.fromhex("101112131415161718191a1b1c1d1e1f" "05060708")
NAT_PORT = 30093

CONF = """\
port 0 protected
port 1 unprotected address 172.16.1.5
default-policy discard
sa to-b out spi 0x3000 aead aes128gcm16 key {kout} mode tunnel local 172.16.1.5 remote 172.16.2.5 encap udp encap-sport 4500 encap-dport {nat}
sa from-b in spi 0x3001 aead aes128gcm16 key {kin} mode tunnel local 172.16.1.5 remote 172.16.2.5 encap udp
sa plain-in in spi 0x3002 aead aes128gcm16 key {kin} mode tunnel local 172.16.1.5 remote 172.16.2.5
policy to-b out src 10.1.0.0/16 dst 10.20.0.0/16 protect to-b
policy from-b in src 10.20.0.0/16 dst 10.1.0.0/16 protect from-b
route 10.1.0.0/16 port 0
route 172.16.2.0/24 port 1 via 172.16.1.1
neighbour 172.16.1.1 port 1 mac 02:00:00:00:aa:01
neighbour default port 0 mac 02:00:00:00:aa:02
"""


def wire(pkt):
    """scapy's IPv4 ESP-in-UDP says UDP length 8 (it sets the length before
    appending ESP): put the true length, as a real peer sends it."""
    b = bytearray(raw(pkt))
    ulen = len(b) - 20
    b[24:26] = ulen.to_bytes(2, "big")
    return IP(bytes(b))


def udp_to_gw(dport, payload, ulen=None):
    u = UDP(sport=NAT_PORT, dport=dport, chksum=0)
    if ulen is not None:
        u.len = ulen
    return IP(src="172.16.2.5", dst="172.16.1.5") / u / Raw(payload)


def test(gw):
    conf = gw.write("nat.conf", CONF.format(kout=K_OUT.hex(), kin=K_IN.hex(), nat=NAT_PORT))
    tunnel = IP(src="172.16.2.5", dst="172.16.1.5")
    peer_in = SecurityAssociation(ESP, spi=0x3001, crypt_algo="AES-GCM", crypt_key=K_IN, tunnel_header=tunnel,
                                  nat_t_header=UDP(sport=NAT_PORT, dport=4500))
    to_plain_sa = SecurityAssociation(ESP, spi=0x3002, crypt_algo="AES-GCM", crypt_key=K_IN, tunnel_header=tunnel,
                                      nat_t_header=UDP(sport=NAT_PORT, dport=4500))
    raw_esp = SecurityAssociation(ESP, spi=0x3001, crypt_algo="AES-GCM", crypt_key=K_IN, tunnel_header=tunnel)
    eth = Ether(src="02:00:00:00:00:99", dst=MAC_GW[1])
    inner = [IP(src="10.20.0.%d" % i, dst="10.1.0.%d" % i) / UDP(sport=7, dport=9) / Raw(b"n" * (30 * i))
             for i in range(1, 4)]
    rx1 = [eth / wire(peer_in.encrypt(p, seq_num=n + 1)) for n, p in enumerate(inner)]
    rx1 += [eth / wire(to_plain_sa.encrypt(inner[0], seq_num=1)),   # ESP-in-UDP for a plain SA
            eth / raw_esp.encrypt(inner[0], seq_num=9)]              # protocol 50 for a UDP SA
    ike = b"\x11" * 8 + b"\x00" * 8 + b"\x21\x20\x22\x08" + b"\x00" * 8  # an IKE header's look
    rx1 += [eth / udp_to_gw(500, ike), eth / udp_to_gw(500, ike + b"x"),
            eth / udp_to_gw(4500, b"\x00\x00\x00\x00" + ike),          # non-ESP marker
            eth / udp_to_gw(4500, b"\xff"),                              # keepalive
            eth / udp_to_gw(4500, b"\x00\x00\x30\x01\x00"),              # too short for ESP
            eth / udp_to_gw(4500, b"\x00\x00\x30\x01" + b"\x00" * 40, ulen=12)]  # UDP length lies
    plain = [Ether(src="02:00:00:00:00:01", dst=MAC_GW[0]) / IP(src="10.1.0.1", dst="10.20.0.%d" % i)
             / UDP(sport=1, dport=2) / Raw(b"o" * (50 * i)) for i in range(1, 3)]

    r = gw.run([plain, rx1], ["--config", "(0,0,0),(1,0,0)", "--conf", conf])

    # Inbound: scapy's ESP-in-UDP decrypted, forwarded with TTL - 1.
    got = sorted(raw(f.payload) for f in r.tx[0])
    want = []
    for p in inner:
        q = IP(raw(p))
        q.ttl -= 1
        del q.chksum
        want.append(raw(IP(raw(q))))
    check(got == sorted(want), "inbound ESP-in-UDP: got %d packets, want %d\n%s" % (len(got), len(want), r.out))
    check(r.sa[0x3001, "in"]["packets"] == 3, "SA counters %r" % r.sa)

    # Outbound: ESP-in-UDP from 4500 to the NAT port, checksum zero, decrypts in scapy.
    out = [f for f in r.tx[1] if IP in f]
    check(len(out) == 2, "expected 2 ESP-in-UDP packets on port 1, got %d\n%s" % (len(out), r.out))
    peer_out = SecurityAssociation(ESP, spi=0x3000, crypt_algo="AES-GCM", crypt_key=K_OUT,
                                   tunnel_header=IP(src="172.16.1.5", dst="172.16.2.5"),
                                   nat_t_header=UDP(sport=4500, dport=NAT_PORT))
    dec = []
    for f in out:
        ip = f[IP]
        check(ip.proto == 17 and ip.src == "172.16.1.5" and ip.dst == "172.16.2.5", "outer header %r" % ip)
        u = ip[UDP]
        check((u.sport, u.dport, u.chksum) == (4500, NAT_PORT, 0), "UDP header %r" % u)
        check(u.len == ip.len - 20, "UDP length %d vs IP %d" % (u.len, ip.len))
        check(f[Ether].dst == "02:00:00:00:aa:01", "next hop MAC %s" % f[Ether].dst)
        dec.append(raw(peer_out.decrypt(IP(raw(ip)))))
    want = []
    for p in plain:
        q = IP(raw(p[IP]))
        q.ttl -= 1
        del q.chksum
        want.append(raw(IP(raw(q))))
    check(sorted(dec) == sorted(want), "outbound plaintext differs after scapy decryption")

    for name, n in [("punted", 3), ("nat_keepalive", 1), ("malformed_udp", 2), ("encapsulation_mismatch", 2),
                    ("punt_full", 0), ("nat_traversal", 0)]:
        check(r.drop(name) == n, "counter %s = %d, expected %d\n%s" % (name, r.drop(name), n, r.out))
    check("3 punted IKE packet(s) discarded" in r.out, "the control loop did not free the punted IKE\n" + r.out)


main(test)
