#!/usr/bin/python3
"""ESP interoperability with scapy's SecurityAssociation (an implementation
not written here): packets scapy encrypts decrypt to the same bytes with our
engine, and packets our engine encrypts decrypt in scapy. AES-GCM-128/256,
tunnel (4in4, 6in6, 4in6, 6in4) and transport (IPv4, IPv6), with and without ESN.

usage: scapy_interop.py PATH/TO/esp_tool
"""
import os
import subprocess
import sys

from scapy.all import IP, IPv6, UDP, TCP, Raw, raw
from scapy.layers.ipsec import ESP, SecurityAssociation

TOOL = sys.argv[1]
passed = failed = 0


def check(name, cond, detail=""):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL", name, detail)


def inner(v6, size, i):
    if v6:
        p = IPv6(src="fd00::1", dst="fd00:1::%x" % (i + 1), tc=0x28 << 2) / UDP(sport=1000 + i, dport=53)
    else:
        p = IP(src="10.0.0.1", dst="10.0.1.%d" % (i + 1), tos=0x28 << 2, flags="DF", id=i) / TCP(sport=1000 + i, dport=80)
    return p.__class__(raw(p / Raw(bytes((i + k) % 256 for k in range(size)))))


class Tool:
    def __init__(self):
        self.p = subprocess.Popen([TOOL], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def call(self, line):
        self.p.stdin.write(line + "\n")
        self.p.stdin.flush()
        return self.p.stdout.readline().split()

    def close(self):
        self.p.stdin.close()
        self.p.wait(timeout=10)


def run_case(tool, spi, mode, inner_v6, outer_v6, key_len, esn):
    keymat = os.urandom(key_len + 4)
    tsrc, tdst = ("2001:db8::1", "2001:db8:1::2") if outer_v6 else ("192.0.2.1", "198.51.100.2")
    hdr = (IPv6 if outer_v6 else IP)(src=tsrc, dst=tdst)
    kw = dict(crypt_algo="AES-GCM", crypt_key=keymat)
    if mode == "tunnel":
        kw["tunnel_header"] = hdr
    start = (1 << 32) - 3 if esn else 1  # cross the 2^32 boundary with ESN
    if esn:
        kw.update(esn_en=True, esn=start >> 32)
    name = "%s %s-in-%s aes%d esn=%d" % (mode, "6" if inner_v6 else "4",
                                        "6" if outer_v6 else "4", key_len * 8, esn)
    for d in ("in", "out"):
        r = tool.call("sa %d %s %s %s %d %s %s %d" % (spi, d, mode, keymat.hex(), esn, tsrc, tdst, start))
        check(name + " sa", r == ["ok"], r)
    skip = 0
    for i, size in enumerate([0, 1, 2, 3, 57, 500, 1400]):
        # scapy takes a low word of 0 as "no number given", so its side skips 2^32.
        if (start + i + skip) & 0xffffffff == 0:
            skip = 1
        seq = start + i + skip
        sa = SecurityAssociation(ESP, spi=spi, **kw)
        if esn:
            sa.esn = seq >> 32
        plain = inner(inner_v6, size, i)
        if mode == "transport":
            plain = (IPv6(src=tsrc, dst=tdst) if inner_v6 else IP(src=tsrc, dst=tdst, id=i)) / plain.payload
            plain = plain.__class__(raw(plain))
        # scapy -> ours
        enc = sa.encrypt(plain, seq_num=seq & 0xffffffff)
        r = tool.call("dec %d %s" % (spi, raw(enc).hex()))
        ok = r[0] == "ok" and bytes.fromhex(r[1]) == raw(plain) and int(r[2]) == seq
        check(name + " scapy->ours size %d" % size, ok, r[:2] if r[0] == "err" else r[:1] + r[2:])
        # ours -> scapy: our SA numbers its packets itself, from `start` on
        seq = start + i
        if esn:
            sa.esn = seq >> 32
        r = tool.call("enc %d %s" % (spi, raw(plain).hex()))
        if r[0] != "ok":
            check(name + " ours->scapy size %d" % size, False, r)
            continue
        pkt = (IPv6 if outer_v6 or (mode == "transport" and inner_v6) else IP)(bytes.fromhex(r[1]))
        esp = pkt[ESP]
        check(name + " seq", esp.seq == seq & 0xffffffff, esp.seq)
        if mode == "tunnel":
            check(name + " outer proto", (pkt.nh if outer_v6 else pkt.proto) == 50)
            check(name + " outer dst", pkt.dst == tdst)
        try:
            dec = sa.decrypt(pkt)
            check(name + " ours->scapy size %d" % size, raw(dec) == raw(plain),
                  "\n%s\n%s" % (raw(dec).hex(), raw(plain).hex()))
        except Exception as e:  # scapy raises on a bad ICV or malformed packet
            check(name + " ours->scapy size %d" % size, False, repr(e))


def main():
    tool = Tool()
    spi = 0x100
    for mode in ("tunnel", "transport"):
        for inner_v6 in (False, True):
            for outer_v6 in ((False, True) if mode == "tunnel" else (inner_v6,)):
                for key_len in (16, 32):
                    for esn in (0, 1):
                        spi += 1
                        run_case(tool, spi, mode, inner_v6, outer_v6, key_len, esn)
    tool.close()
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed or not passed else 0)


main()
