#!/usr/bin/python3
"""The ESP engine on sample packets: ipsecgw encrypts, scapy (an independent
implementation) decrypts, and the engine's named rejections are shown.

usage: esp_demo.py PATH/TO/esp_tool
"""
import os
import subprocess
import sys

from scapy.all import IP, IPv6, UDP, ICMP, Raw, raw
from scapy.layers.ipsec import ESP, SecurityAssociation

tool = subprocess.Popen([sys.argv[1]], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def call(line):
    tool.stdin.write(line + "\n")
    tool.stdin.flush()
    return tool.stdout.readline().split()


keymat = os.urandom(20)  # AES-128 key + 4-byte salt (RFC 4106), never printed
print("SA 0x1001: AES-128-GCM tunnel 192.0.2.1 -> 198.51.100.2 (outbound), and its inbound twin")
for d in ("out", "in"):
    call("sa 4097 %s tunnel %s 0 192.0.2.1 198.51.100.2" % (d, keymat.hex()))
scapy_sa = SecurityAssociation(ESP, spi=4097, crypt_algo="AES-GCM", crypt_key=keymat,
                               tunnel_header=IP(src="192.0.2.1", dst="198.51.100.2"))

samples = [
    IP(src="10.0.0.1", dst="10.0.1.1") / ICMP() / Raw(b"ping from site A"),
    IP(src="10.0.0.2", dst="10.0.1.9", tos=0xb8) / UDP(sport=5060, dport=5060) / Raw(b"x" * 160),
    IP(src="10.0.0.3", dst="10.0.1.7") / UDP(sport=40000, dport=443) / Raw(os.urandom(1300)),
]
print("\n%-58s %-44s %s" % ("plaintext", "ESP on the wire (ipsecgw)", "scapy decrypts"))
esp_pkts = []
for p in samples:
    p = IP(raw(p))
    r = call("enc 4097 " + raw(p).hex())
    wire = IP(bytes.fromhex(r[1]))
    esp_pkts.append(raw(wire))
    on_wire = "%s>%s spi=%#x seq=%d len=%d" % (wire.src, wire.dst, wire[ESP].spi, wire[ESP].seq, wire.len)
    back = scapy_sa.decrypt(wire)  # (scapy rewrites the packet it decrypts)
    print("%-58s %-44s %s" % (p.summary()[:58], on_wire, "identical" if raw(back) == raw(p) else "MISMATCH"))

print("\nInbound checks (ipsecgw decrypts):")
r = call("dec 4097 " + esp_pkts[0].hex())
print("  first copy of seq 1          ->", r[0])
r = call("dec 4097 " + esp_pkts[0].hex())
print("  same packet again            ->", " ".join(r))
t = bytearray(esp_pkts[1])
t[-1] ^= 1
r = call("dec 4097 " + t.hex())
print("  seq 2 with one ICV bit flip  ->", " ".join(r))
r = call("dec 4097 " + esp_pkts[1].hex())
print("  seq 2 intact                 ->", r[0], "(the forged copy did not move the replay window)")
tool.stdin.close()
tool.wait(timeout=10)
