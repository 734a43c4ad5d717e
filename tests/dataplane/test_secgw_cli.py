#!/usr/bin/python3
"""ipsec-secgw drop-in: the exact application options of
shared/bench/compare.sh with its cfg file, fed with the benchmark's own
traffic generators (plaintext out, scapy ESP in); --help; configuration and
option errors that name the culprit and start nothing."""
import os
import subprocess

from scapy.all import Ether, IP, rdpcap
from scapy.layers.ipsec import SecurityAssociation, ESP

from gwtest import main, check

BENCH = "/work/shared/bench"
KEY = "2b7e151628aed2a6abf7158809cf4f3c"
SALT = "deadbeef"


def colon(h):
    return ":".join(h[i:i + 2] for i in range(0, len(h), 2))


CFG = """\
sp ipv4 out esp protect 5 pri 1 dst 192.168.105.0/24 sport 0:65535 dport 0:65535
sp ipv4 in esp protect 105 pri 1 dst 192.168.115.0/24 sport 0:65535 dport 0:65535
sa out 5 aead_algo aes-128-gcm aead_key {k} mode ipv4-tunnel src 172.16.1.5 dst 172.16.2.5 type cpu-crypto
sa in 105 aead_algo aes-128-gcm aead_key {k} mode ipv4-tunnel src 172.16.2.5 dst 172.16.1.5 type cpu-crypto
rt ipv4 dst 172.16.2.5/32 port 1
rt ipv4 dst 192.168.115.0/24 port 0
neigh port 0 02:00:00:00:00:10
neigh port 1 02:00:00:00:00:11
""".format(k=colon(KEY + SALT))

APP = ["--rxoffload", "0", "--txoffload", "0", "-l", "-P", "-p", "0x3", "-u", "0x2",
       "--config", "(0,0,0),(1,0,0)", "-f"]


def test(gw):
    conf = gw.write("gw.cfg", CFG, mode=0o644)  # compare.sh writes it with the default umask
    plain, esp = gw.path("plain.pcap"), gw.path("esp.pcap")
    if os.path.exists(BENCH + "/gen_pcap.py"):
        subprocess.run(["/usr/bin/python3", BENCH + "/gen_pcap.py", "64", plain, "--flows", "16"], check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run(["/usr/bin/python3", BENCH + "/gen_esp.py", "64", esp, "--spi", "105", "--key", KEY + SALT,
                        "--count", "16"], check=True, stdout=subprocess.DEVNULL)
        rx_plain, rx_esp = list(rdpcap(plain)), list(rdpcap(esp))
    else:
        raise AssertionError("benchmark generators not found in " + BENCH)

    r = gw.run([rx_plain, rx_esp], APP + [conf])
    check("world-readable" in r.err, "no warning for a world-readable cfg with keys")
    check("-l accepted and ignored" in r.err, "no note for -l")
    sa = SecurityAssociation(ESP, spi=5, crypt_algo="AES-GCM", crypt_key=bytes.fromhex(KEY + SALT),
                             tunnel_header=IP(src="172.16.1.5", dst="172.16.2.5"))
    out = [f for f in r.tx[1] if ESP in f]
    check(len(out) == 16, "outbound: %d ESP packets, want 16\n%s" % (len(out), r.out))
    for f in out:
        check(f[Ether].dst == "02:00:00:00:00:11", "outbound neighbour MAC")
        inner = sa.decrypt(f[IP])
        check(inner[IP].dst.startswith("192.168.105."), "outbound inner %r" % inner.summary())
    back = r.tx[0]
    check(len(back) == 16 and all(f[IP].dst.startswith("192.168.115.") for f in back),
          "inbound: %d plaintext packets, want 16\n%s" % (len(back), r.out))

    # --help works without EAL and exits 0.
    h = subprocess.run([gw.binary, "--help"], capture_output=True, text=True, timeout=20)
    check(h.returncode == 0 and "--config" in h.stdout and "-f" in h.stdout, "--help output\n" + h.stdout)

    # A bad line: error names file and line, exit non-zero, no traffic handled.
    bad = gw.write("bad.cfg", CFG + "sa out 9 cipher_algo aes-128-cbc cipher_key 0:0 mode transport\n")
    r = gw.run([rx_plain, []], APP + [bad], expect_rc=1)
    check("bad.cfg:9:" in r.err and "cipher_algo" in r.err, "error message: " + r.err)
    check(not r.tx[1], "traffic flowed although the configuration was rejected")

    # Unsupported options are named.
    r = gw.run([[], []], APP[:-1] + ["--single-sa", "5", "-f", conf], expect_rc=1)
    check("single-sa" in r.err, "unsupported option not named: " + r.err)
    r = gw.run([[], []], ["-p", "0x3", "--config", "(0,0,5)", "-f", conf], expect_rc=1)
    check("lcore 5" in r.err, "bad --config not explained: " + r.err)


main(test)
