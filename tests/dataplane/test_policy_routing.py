#!/usr/bin/python3
"""Native configuration end to end: PROTECT/BYPASS/DISCARD with priorities,
the default policy (discard, then bypass), routing to the right one of three
ports with the right neighbour MAC, TTL expiry, ARP for the gateway's own
address, SA hard lifetime."""
from scapy.all import ARP, Ether, IP, IPv6, UDP, TCP, Raw, raw, ICMPv6ND_NS, ICMPv6ND_NA, ICMPv6NDOptSrcLLAddr, ICMPv6NDOptDstLLAddr
from scapy.layers.ipsec import ESP

from gwtest import main, check, MAC_GW

KEY = "000102030405060708090a0b0c0d0e0f" "01020304"

CONF = """\
# three ports: two private networks and the public side
port 0 protected
port 1 unprotected address 172.16.1.5 address 2001:db8:1::5
port 2 protected
default-policy {default}
sa to-b out spi 0x2000 aead aes128gcm16 key {key} mode tunnel local 172.16.1.5 remote 172.16.2.5 lifetime-packets 3:{hard}
policy to-b out priority 10 src 10.0.0.0/8 dst 10.20.0.0/16 protect to-b
policy web out priority 20 dst 10.20.0.0/16 proto tcp dport 80-80 bypass
policy block out priority 30 dst 10.20.9.0/24 discard
policy lan out priority 5 dst 10.30.0.0/16 bypass
route 172.16.2.0/24 port 1 via 172.16.1.1
route 10.20.0.0/16 port 1 via 172.16.1.1
route 10.30.0.0/16 port 2
neighbour 172.16.1.1 port 1 mac 02:00:00:00:aa:01
neighbour 10.30.0.7 port 2 mac 02:00:00:00:aa:07
neighbour default port 2 mac 02:00:00:00:aa:02
"""


def udp(dst, ttl=64):
    return Ether(src="02:00:00:00:00:01", dst=MAC_GW[0]) / IP(src="10.1.0.1", dst=dst, ttl=ttl) / UDP(sport=1, dport=2) / Raw(b"p" * 20)


def tcp(dst, dport):
    return Ether(src="02:00:00:00:00:01", dst=MAC_GW[0]) / IP(src="10.1.0.1", dst=dst) / TCP(sport=999, dport=dport)


def test(gw):
    conf = gw.write("gw.conf", CONF.format(default="discard", key=KEY, hard=100))
    rx0 = [udp("10.20.1.1"), udp("10.20.1.2"),          # PROTECT
           tcp("10.20.1.1", 80),                         # BYPASS beats PROTECT (priority 20 > 10)
           udp("10.20.9.1"),                             # DISCARD beats both (30)
           udp("10.30.0.7"), udp("10.30.0.8"),           # BYPASS to port 2: exact neighbour, then port default
           udp("10.99.0.1"),                             # no policy: default discard
           udp("10.30.0.9", ttl=1)]                      # TTL expiry
    arp = Ether(src="02:00:00:00:00:99", dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc="02:00:00:00:00:99", psrc="172.16.1.1", pdst="172.16.1.5")
    ns = (Ether(src="02:00:00:00:00:99", dst="33:33:ff:00:00:05") / IPv6(src="fe80::99", dst="ff02::1:ff00:5", hlim=255)
          / ICMPv6ND_NS(tgt="2001:db8:1::5") / ICMPv6NDOptSrcLLAddr(lladdr="02:00:00:00:00:99"))
    r = gw.run([rx0, [arp, ns], []], ["--config", "(0,0,0),(1,0,0),(2,0,0)", "--conf", conf])
    p1, p2 = r.tx[1], r.tx[2]
    esp = [f for f in p1 if ESP in f]
    plain = [f for f in p1 if ESP not in f and TCP in f]
    arps = [f for f in p1 if ARP in f]
    check(len(esp) == 2, "expected 2 ESP packets on port 1, got %d\n%s" % (len(esp), r.out))
    check(all(f[Ether].dst == "02:00:00:00:aa:01" and f[IP].dst == "172.16.2.5" for f in esp), "ESP next hop wrong")
    check(len(plain) == 1 and plain[0][TCP].dport == 80, "BYPASS web packet missing on port 1")
    check(len(arps) == 1 and arps[0][ARP].op == 2 and arps[0][ARP].psrc == "172.16.1.5"
          and arps[0][ARP].pdst == "172.16.1.1", "ARP reply missing or wrong: %r" % arps)
    nas = [f for f in p1 if ICMPv6ND_NA in f]
    check(len(nas) == 1, "no neighbour advertisement: %r" % p1)
    na = nas[0]
    check(na[ICMPv6ND_NA].tgt == "2001:db8:1::5" and na[ICMPv6ND_NA].S == 1 and na[IPv6].dst == "fe80::99"
          and na[ICMPv6NDOptDstLLAddr].lladdr == na[Ether].src and na[Ether].dst == "02:00:00:00:00:99",
          "bad NA %r" % na.show(dump=True))
    ck = na[ICMPv6ND_NA].cksum
    re = Ether(raw(na))
    del re[ICMPv6ND_NA].cksum
    check(Ether(raw(re))[ICMPv6ND_NA].cksum == ck, "NA checksum wrong")
    macs = sorted(f[Ether].dst for f in p2)
    check(macs == ["02:00:00:00:aa:02", "02:00:00:00:aa:07"], "port 2 neighbours: %r" % macs)
    check(all(f[IP].ttl == 63 for f in p2), "TTL not decremented")
    check(r.drop("policy_discard") == 1, "policy_discard %r" % r.drops)
    check(r.drop("no_policy") == 1, "no_policy %r" % r.drops)
    check(r.drop("ttl_expired") == 1, "ttl_expired %r" % r.drops)

    # Default bypass: the unmatched packet is routed... but has no route -> counted as no_route.
    conf = gw.write("gw2.conf", CONF.format(default="bypass", key=KEY, hard=100))
    r = gw.run([[udp("10.99.0.1"), udp("10.30.5.5")], [], []], ["--config", "(0,0,0),(1,0,0),(2,0,0)", "--conf", conf])
    check(r.drop("no_route") == 1 and len(r.tx[2]) == 1, "default bypass: %r %r" % (r.drops, r.tx))

    # Hard packet lifetime: the SA stops after its limit (checked by the control thread every 50 ms).
    conf = gw.write("gw3.conf", CONF.format(default="discard", key=KEY, hard=5))
    r = gw.run([[udp("10.20.1.%d" % i) for i in range(1, 6)], [], []], ["--config", "(0,0,0),(1,0,0),(2,0,0)", "--conf", conf],
               seconds=2.5)
    check("soft lifetime reached (packets)" in r.out and "hard lifetime reached (packets)" in r.out,
          "lifetime events missing\n" + r.out)
    check(r.sa[0x2000, "out"]["state"] == "dead", "SA not stopped: %r" % r.sa)


main(test)
