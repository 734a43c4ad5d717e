#!/usr/bin/python3
"""Interop with the anchor: DPDK's own ipsec-secgw example (built from Debian's
dpdk-doc sources by ../shared/bench/build_secgw.sh, or its copy of that logic
below) encrypts, ipsecgw decrypts, and the reverse, each with an ipsec-secgw
cfg file (mirror images of one another). AES-128-GCM and AES-256-GCM, IPv4
tunnels. Both run on net_pcap ports with --no-pci --no-huge.

usage: test_secgw_interop.py PATH/TO/ipsecgw [SECGW_BUILD_DIR]
Skips (exit 77) when the ipsec-secgw sources are not installed."""
import os
import shutil
import subprocess
import sys

from scapy.all import Ether, IP, UDP, Raw, raw
from scapy.layers.ipsec import ESP

from gwtest import Gateway, check

SRC = "/usr/share/dpdk/examples/ipsec-secgw"
K128 = "2b:7e:15:16:28:ae:d2:a6:ab:f7:15:88:09:cf:4f:3c:de:ad:be:ef"
K256 = ("60:3d:eb:10:15:ca:71:be:2b:73:ae:f0:85:7d:77:81:1f:35:2c:07:3b:61:08:d7:2d:98:10:a3:09:14:df:f4:"
        "ca:fe:ba:be")


def build_secgw(where):
    """ipsec-secgw as the benchmark kit builds it: only RX checksum offload is
    not required, so it runs on virtual ports."""
    binary = os.path.join(where, "build", "ipsec-secgw")
    if os.path.exists(binary):
        return binary
    shutil.rmtree(where, ignore_errors=True)
    shutil.copytree(SRC, where)
    common = os.path.join(os.path.dirname(where), "common")
    if os.path.isdir("/usr/share/dpdk/examples/common") and not os.path.isdir(common):
        shutil.copytree("/usr/share/dpdk/examples/common", common)
    path = os.path.join(where, "ipsec-secgw.c")
    text = open(path).read().replace(".offloads = RTE_ETH_RX_OFFLOAD_CHECKSUM,", ".offloads = 0,")
    open(path, "w").write(text)
    r = subprocess.run(["make", "-C", where, "-j2", "static=0"], capture_output=True, text=True, timeout=600)
    check(r.returncode == 0, "building ipsec-secgw failed:\n" + r.stdout[-2000:] + r.stderr[-2000:])
    return binary


def cfg(out_spi, in_spi, out_net, in_net, local, remote, algo, key):
    """One side's cfg: protect traffic to out_net with out_spi, accept in_spi for in_net."""
    return "\n".join([
        "sp ipv4 out esp protect %d pri 1 dst %s sport 0:65535 dport 0:65535" % (out_spi, out_net),
        "sp ipv4 in esp protect %d pri 1 dst %s sport 0:65535 dport 0:65535" % (in_spi, in_net),
        "sa out %d aead_algo %s aead_key %s mode ipv4-tunnel src %s dst %s type cpu-crypto"
        % (out_spi, algo, key, local, remote),
        "sa in %d aead_algo %s aead_key %s mode ipv4-tunnel src %s dst %s type cpu-crypto"
        % (in_spi, algo, key, remote, local),
        "rt ipv4 dst %s/32 port 1" % remote,
        "rt ipv4 dst %s port 0" % in_net,
        "neigh port 0 02:00:00:00:00:10",
        "neigh port 1 02:00:00:00:00:11",
        ""])


def plain(dst_net, n):
    eth = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    return [eth / IP(src="192.168.2.%d" % i, dst="%s.%d" % (dst_net, i)) / UDP(sport=1000 + i, dport=2000)
            / Raw(bytes((i + k) % 256 for k in range(i * 23))) for i in range(1, n + 1)]


def inner_key(ip):
    """What must survive the tunnel: the IP packet apart from TTL and checksum."""
    q = IP(raw(ip))
    q.ttl = 0
    q.chksum = 0
    return raw(q)


def test(gw, secgw_dir):
    if not os.path.isdir(SRC):
        print("SKIP: %s not installed (Debian package dpdk-doc)" % SRC)
        sys.exit(77)
    secgw = Gateway(build_secgw(secgw_dir), "anchor")
    # -l: librte_ipsec mode (ipsec-secgw needs it for cpu-crypto SAs; ipsecgw ignores it)
    args = ["-l", "-p", "0x3", "-u", "0x2", "-P", "--config", "(0,0,0),(1,0,0)", "--rxoffload", "0", "--txoffload", "0"]
    try:
        for algo, key, spi_a, spi_b, net_a, net_b in [("aes-128-gcm", K128, 5, 105, "192.168.105", "192.168.115"),
                                                      ("aes-256-gcm", K256, 6, 106, "192.168.106", "192.168.116")]:
            # A = ipsec-secgw at 172.16.1.5, B = ipsecgw at 172.16.2.5.
            ca = secgw.write("a.cfg", cfg(spi_a, spi_b, net_a + ".0/24", net_b + ".0/24", "172.16.1.5", "172.16.2.5", algo, key))
            cb = gw.write("b.cfg", cfg(spi_b, spi_a, net_b + ".0/24", net_a + ".0/24", "172.16.2.5", "172.16.1.5", algo, key))
            to_b, to_a = plain(net_a, 12), plain(net_b, 12)
            crypto = ["--vdev", "crypto_aesni_gcm0"]
            # ipsec-secgw encrypts, ipsecgw decrypts.
            ra = secgw.run([to_b, []], args + ["-f", ca], extra_eal=crypto, seconds=4)
            esp = [f for f in ra.tx[1] if ESP in f]
            check(len(esp) == len(to_b), "%s: ipsec-secgw sent %d ESP frames for %d\n%s%s"
                  % (algo, len(esp), len(to_b), ra.out[-1500:], ra.err[-1500:]))
            check(all(f[ESP].spi == spi_a for f in esp), "%s: ipsec-secgw used another SPI" % algo)
            rb = gw.run([[], esp], args + ["-f", cb])
            got = sorted(inner_key(f.payload) for f in rb.tx[0])
            check(got == sorted(inner_key(f.payload) for f in to_b),
                  "%s: ipsecgw decrypted %d of %d ipsec-secgw packets intact\n%s" % (algo, len(got), len(to_b), rb.out))
            # ipsecgw encrypts, ipsec-secgw decrypts.
            rb = gw.run([to_a, []], args + ["-f", cb])
            esp = [f for f in rb.tx[1] if ESP in f]
            check(len(esp) == len(to_a), "%s: ipsecgw sent %d ESP frames for %d" % (algo, len(esp), len(to_a)))
            ra = secgw.run([[], esp], args + ["-f", ca], extra_eal=crypto, seconds=4)
            got = sorted(inner_key(f.payload) for f in ra.tx[0])
            check(got == sorted(inner_key(f.payload) for f in to_a),
                  "%s: ipsec-secgw decrypted %d of %d ipsecgw packets intact\n%s%s"
                  % (algo, len(got), len(to_a), ra.out[-1500:], ra.err[-1500:]))
            print("%s: ipsec-secgw -> ipsecgw and ipsecgw -> ipsec-secgw: %d packets each way intact"
                  % (algo, len(to_a)))
    finally:
        secgw.close()


if __name__ == "__main__":
    secgw_dir = sys.argv[2] if len(sys.argv) > 2 else "/tmp/ipsecgw-anchor/ipsec-secgw"
    from gwtest import main
    sys.argv = sys.argv[:2]
    main(lambda gw: test(gw, secgw_dir))
