#!/usr/bin/python3
"""Two worker lcores on two RX queues per port. Outbound: both workers
encrypt with one SA and no sequence number is used twice. Inbound: one SA's
ESP arrives on both queues (with copies of the same packets on both), and
each packet is accepted exactly once: the SA's owner worker holds its replay
window, the other hands the packets over."""
from scapy.all import Ether, IP, UDP, Raw
from scapy.layers.ipsec import SecurityAssociation, ESP

from gwtest import main, check

KEY = bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3c" "deadbeef")
COLON = ":".join("%02x" % b for b in KEY)
CFG = """\
sp ipv4 out esp protect 5 pri 1 dst 192.168.105.0/24
sp ipv4 in esp protect 105 pri 1 dst 192.168.115.0/24
sa out 5 aead_algo aes-128-gcm aead_key {k} mode ipv4-tunnel src 172.16.1.5 dst 172.16.2.5
sa in 105 aead_algo aes-128-gcm aead_key {k} mode ipv4-tunnel src 172.16.2.5 dst 172.16.1.5
rt ipv4 dst 172.16.2.5/32 port 1
rt ipv4 dst 192.168.115.0/24 port 0
neigh port 0 02:00:00:00:00:10
neigh port 1 02:00:00:00:00:11
""".format(k=COLON)
N = 300


def test(gw):
    conf = gw.write("mw.cfg", CFG)
    eth = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    plain = [eth / IP(src="192.168.1.1", dst="192.168.105.%d" % (i % 250 + 1)) / UDP(sport=i + 1, dport=9) / Raw(b"m" * 40)
             for i in range(2 * N)]
    sa = SecurityAssociation(ESP, spi=105, crypt_algo="AES-GCM", crypt_key=KEY,
                             tunnel_header=IP(src="172.16.2.5", dst="172.16.1.5"))
    esp = [eth / sa.encrypt(IP(src="192.168.2.1", dst="192.168.115.1") / UDP(sport=s, dport=9), seq_num=s)
           for s in range(1, N + 1)]
    q0 = esp[0::2] + esp[1:60:2]      # odd sequence numbers, plus 30 copies of even ones
    q1 = esp[1::2] + esp[0:60:2]      # even ones, plus 30 copies of odd ones
    r = gw.run([(plain[:N], plain[N:]), (q0, q1)],
               ["-p", "0x3", "-u", "0x2", "-w", "1024", "--config", "(0,0,0),(0,1,1),(1,0,0),(1,1,1)", "-f", conf],
               lcores="0,1", txq=2, seconds=3)
    check("2 worker(s)" in r.out, "expected two workers\n" + r.out)
    seqs = sorted(f[ESP].seq for f in r.tx[1] if ESP in f)
    check(seqs == list(range(1, 2 * N + 1)), "outbound sequence numbers not unique/contiguous: %d packets, %d distinct"
          % (len(seqs), len(set(seqs))))
    ports = sorted(f[UDP].sport for f in r.tx[0])
    check(ports == list(range(1, N + 1)), "inbound: %d packets out, %d distinct, want each of %d once\n%s"
          % (len(ports), len(set(ports)), N, r.out))
    check(r.drop("replayed") == 60, "replayed = %d, want 60\n%s" % (r.drop("replayed"), r.out))


main(test)
