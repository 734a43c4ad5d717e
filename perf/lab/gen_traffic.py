#!/usr/bin/python3
"""Benchmark frames for the ipsecgw performance lab, as pcap files.

usage: gen_traffic.py SIZE OUT_PLAIN.pcap OUT_ESP.pcap --key HEX(key||salt)
                      [--spi 105] [--count 768] [--esp-dst-mac M] [--plain-dst-mac M]
                      [--tun-src 172.16.2.5] [--inner-dst-net 192.168.115]
SIZE is a frame size in bytes (Ethernet + IPv4 + UDP, no FCS) or "imix":
the repeating 12-frame pattern 7 x 64, 4 x 570, 1 x 1518 (simple IMIX 7:4:1).
Plaintext frames: 192.168.1.x -> 192.168.105.x (matched by the outbound
policy, SPI 5). ESP frames: tunnel 172.16.2.5 -> 172.16.1.5 around
192.168.2.x -> 192.168.115.x, made by scapy's SecurityAssociation (an
implementation independent of both gateways); their inner frame has SIZE
bytes, so both directions move the same plaintext. 256 flows.
"""
import argparse
from scapy.all import Ether, IP, UDP, Raw, wrpcap
from scapy.layers.ipsec import SecurityAssociation, ESP

IMIX = [64, 570, 64, 64, 1518, 64, 570, 64, 64, 570, 64, 570]  # 7:4:1, interleaved


def sizes_of(spec, count):
    if spec == "imix":
        return [IMIX[i % len(IMIX)] for i in range(count)]
    return [int(spec)] * count


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("size")
    ap.add_argument("plain")
    ap.add_argument("esp")
    ap.add_argument("--key", required=True)
    ap.add_argument("--spi", type=int, default=105)
    ap.add_argument("--count", type=int, default=768)
    ap.add_argument("--plain-dst-mac", default="02:00:00:00:00:02", help="for a real NIC: its MAC")
    ap.add_argument("--esp-dst-mac", default="02:00:00:00:00:04", help="for a real NIC: its MAC")
    ap.add_argument("--src-mac", default="02:00:00:00:00:01")
    ap.add_argument("--tun-src", default="172.16.2.5", help="ESP: outer source (the peer)")
    ap.add_argument("--inner-dst-net", default="192.168.115", help="ESP: inner destinations NET.1-250")
    a = ap.parse_args()
    sa = SecurityAssociation(ESP, spi=a.spi, crypt_algo="AES-GCM", crypt_key=bytes.fromhex(a.key),
                             tunnel_header=IP(src=a.tun_src, dst="172.16.1.5"))
    plain, esp = [], []
    for i, size in enumerate(sizes_of(a.size, a.count)):
        f = i % 256
        p = (Ether(src=a.src_mac, dst=a.plain_dst_mac)
             / IP(src="192.168.1.%d" % (f % 250 + 1), dst="192.168.105.%d" % (f % 250 + 1))
             / UDP(sport=1000 + f, dport=2000))
        plain.append(p / Raw(bytes(max(size - len(p), 0))))
        inner = IP(src="192.168.2.%d" % (f % 250 + 1), dst="%s.%d" % (a.inner_dst_net, f % 250 + 1)) / UDP(
            sport=1000 + f, dport=2000)
        inner = inner / Raw(bytes(max(size - 14 - len(inner), 0)))
        esp.append(Ether(src=a.src_mac, dst=a.esp_dst_mac) / sa.encrypt(inner, seq_num=i + 1))
    wrpcap(a.plain, plain)
    wrpcap(a.esp, esp)


if __name__ == "__main__":
    main()
