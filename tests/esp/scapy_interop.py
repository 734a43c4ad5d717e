#!/usr/bin/python3
"""ESP interoperability with scapy's SecurityAssociation (an implementation
not written here): packets scapy encrypts decrypt to the same bytes with our
engine, and packets our engine encrypts decrypt in scapy. AES-GCM-128/256,
tunnel (4in4, 6in6, 4in6, 6in4) and transport (IPv4, IPv6), with and without ESN;
the same with RFC 3948 UDP encapsulation (scapy's nat_t_header).

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


NAT_PORT = 30093  # the peer's port as a NAT maps it; ours is 4500


def check_udp(name, pkt, outer_v6):
    """Our ESP-in-UDP: ports, length, checksum (zero on IPv4, scapy's own
    computation on IPv6, where zero is not allowed)."""
    udp = pkt[UDP]
    check(name + " udp ports", (udp.sport, udp.dport) == (4500, NAT_PORT), (udp.sport, udp.dport))
    check(name + " udp len", udp.len == len(raw(udp)), udp.len)
    if outer_v6:
        ip = pkt.copy()
        ip[UDP].chksum = None
        want = pkt.__class__(raw(ip))[UDP].chksum
        check(name + " udp6 checksum", udp.chksum != 0 and udp.chksum == want, (udp.chksum, want))
    else:
        check(name + " udp4 checksum zero", udp.chksum == 0, udp.chksum)


def scapy_wire(enc):
    """scapy's bytes as a correct peer sends them. scapy (2.5) writes the
    UDP length of IPv4 ESP-in-UDP before appending ESP (it says 8); a real
    peer, and our strict check, need the true length. Nothing else changes."""
    b = bytearray(raw(enc))
    if enc.version == 4 and UDP in enc:
        at = (b[0] & 15) * 4
        ulen = len(b) - at
        b[at + 4:at + 6] = ulen.to_bytes(2, "big")
    return bytes(b)


def strip_udp_v6(pkt):
    """scapy's transport-mode decrypt does not undo NAT-T on IPv6: hand it
    plain ESP (the UDP header was checked before)."""
    ip = pkt.copy()
    esp = raw(ip[UDP].payload)
    ip.remove_payload()
    ip.nh = 50
    ip.plen = len(esp)
    return IPv6(raw(ip) + esp)


def run_case(tool, spi, mode, inner_v6, outer_v6, key_len, esn, encap=False):
    keymat = os.urandom(key_len + 4)
    tsrc, tdst = ("2001:db8::1", "2001:db8:1::2") if outer_v6 else ("192.0.2.1", "198.51.100.2")
    hdr = (IPv6 if outer_v6 else IP)(src=tsrc, dst=tdst)
    kw = dict(crypt_algo="AES-GCM", crypt_key=keymat)
    if mode == "tunnel":
        kw["tunnel_header"] = hdr
    if encap:
        kw["nat_t_header"] = UDP(sport=NAT_PORT, dport=4500)
    start = (1 << 32) - 3 if esn else 1  # cross the 2^32 boundary with ESN
    if esn:
        kw.update(esn_en=True, esn=start >> 32)
    name = "%s %s-in-%s%s aes%d esn=%d" % (mode, "6" if inner_v6 else "4", "6" if outer_v6 else "4",
                                          " udp" if encap else "", key_len * 8, esn)
    for d in ("in", "out"):
        r = tool.call("sa %d %s %s %s %d %s %s %d%s" % (spi, d, mode, keymat.hex(), esn, tsrc, tdst, start,
                                                        " encap 4500 %d" % NAT_PORT if encap else ""))
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
        r = tool.call("dec %d %s" % (spi, scapy_wire(enc).hex()))
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
            check(name + " outer proto", (pkt.nh if outer_v6 else pkt.proto) == (17 if encap else 50))
            check(name + " outer dst", pkt.dst == tdst)
        if encap:
            v6 = outer_v6 or (mode == "transport" and inner_v6)
            check_udp(name, pkt, v6)
            if mode == "transport" and v6:
                pkt = strip_udp_v6(pkt)
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
                spi += 1
                run_case(tool, spi, mode, inner_v6, outer_v6, 16, 0, encap=True)
    # scapy's ESP-in-UDP to a plain SA, and its plain ESP to a UDP SA: refused by name.
    keymat = os.urandom(20)
    hdr = IP(src="192.0.2.1", dst="198.51.100.2")
    for spi_, ours, theirs in ((0x900, "", UDP(sport=NAT_PORT, dport=4500)), (0x901, " encap 4500 %d" % NAT_PORT, None)):
        r = tool.call("sa %d in tunnel %s 0 192.0.2.1 198.51.100.2 1%s" % (spi_, keymat.hex(), ours))
        check("mismatch sa", r == ["ok"], r)
        kw = dict(crypt_algo="AES-GCM", crypt_key=keymat, tunnel_header=hdr)
        if theirs is not None:
            kw["nat_t_header"] = theirs
        sa = SecurityAssociation(ESP, spi=spi_, **kw)
        enc = sa.encrypt(inner(False, 10, 0), seq_num=1)
        r = tool.call("dec %d %s" % (spi_, scapy_wire(enc).hex()))
        check("encap mismatch spi %#x" % spi_, r == ["err", "encapsulation_mismatch"], r)
    tool.close()
    print("%d passed, %d failed" % (passed, failed))
    sys.exit(1 if failed or not passed else 0)


main()
