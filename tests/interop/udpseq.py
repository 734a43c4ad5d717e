"""Sequence-numbered UDP stream for the interop tests.

    udpseq.py send DST PORT COUNT RATE [SRC]
    udpseq.py recv BIND PORT COUNT OUT.json MAX_SECONDS

Each datagram carries a header (magic, count, sequence number) and a body
derived from the sequence number (SHA-256 chained), 64 to 1000 bytes long,
so the receiver can tell lost, duplicated and corrupted packets apart. The
sender paces by deadline; after the last packet it sends a few END markers.
The receiver stops at the first END, after COUNT distinct packets plus a
short grace, or after MAX_SECONDS, and writes its findings as JSON.
"""
import hashlib
import json
import socket
import struct
import sys
import time

MAGIC = 0x53514E31  # "SQN1"
END = 0xFFFFFFFF
HDR = struct.Struct("!III")


def body(seq):
    size = 64 + (seq * 37) % 937
    out, h = b"", hashlib.sha256(struct.pack("!I", seq)).digest()
    while len(out) < size:
        out += h
        h = hashlib.sha256(h).digest()
    return out[:size]


def send(dst, port, count, rate, src=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    if src:
        s.bind((src, 0))
    start = time.monotonic()
    for seq in range(count):
        delay = start + seq / rate - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        s.sendto(HDR.pack(MAGIC, count, seq) + body(seq), (dst, port))
    time.sleep(0.5)  # let the tail of the stream arrive before the END markers
    for _ in range(5):
        s.sendto(HDR.pack(MAGIC, count, END), (dst, port))
        time.sleep(0.05)
    print("sent %d" % count, flush=True)


def recv(bind, port, count, out, max_seconds):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    s.bind((bind, port))
    s.settimeout(0.2)
    print("listening on %s:%d" % (bind, port), flush=True)
    seen, dups, corrupt = set(), 0, 0
    deadline = time.monotonic() + max_seconds
    done_at = None
    while time.monotonic() < deadline:
        if done_at is not None and time.monotonic() > done_at:
            break
        try:
            data = s.recv(65536)
        except socket.timeout:
            continue
        if len(data) < HDR.size:
            corrupt += 1
            continue
        magic, n, seq = HDR.unpack_from(data)
        if magic != MAGIC or n != count:
            corrupt += 1
            continue
        if seq == END:
            break
        if seq >= count or data[HDR.size:] != body(seq):
            corrupt += 1
            continue
        if seq in seen:
            dups += 1
        seen.add(seq)
        if len(seen) == count and done_at is None:
            done_at = time.monotonic() + 0.5  # catch duplicates that follow
    lost = sorted(set(range(count)) - seen)
    with open(out, "w") as f:
        json.dump({"expected": count, "received": len(seen), "lost": lost,
                   "duplicates": dups, "corrupt": corrupt}, f)
    print("received %d of %d" % (len(seen), count), flush=True)


if __name__ == "__main__":
    a = sys.argv
    if len(a) >= 6 and a[1] == "send":
        send(a[2], int(a[3]), int(a[4]), float(a[5]), a[6] if len(a) > 6 else None)
    elif len(a) == 7 and a[1] == "recv":
        recv(a[2], int(a[3]), int(a[4]), a[5], float(a[6]))
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
