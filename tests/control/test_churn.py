#!/usr/bin/python3
"""Churn under load: while packets flow through ipsecgw (net_tap ports in a
private network namespace, fed from Python), SAs are added and deleted and
the policy table is replaced over and over through the control socket. Every
ESP packet that leaves must decrypt (scapy) with the key of its SPI to a
packet that was sent: no packet is processed under a half-installed SA.
usage: test_churn.py IPSECGW [ROUNDS]"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

if os.geteuid() != 0 or not os.path.exists("/dev/net/tun") or not shutil.which("unshare"):
    print("SKIP: needs root, /dev/net/tun and unshare (net_tap ports in a private network namespace)")
    sys.exit(77)
if os.environ.get("GW_CHURN_NETNS") != "1":
    # A private network namespace: the tap interfaces never touch the host's.
    os.environ["GW_CHURN_NETNS"] = "1"
    os.execvp("unshare", ["unshare", "--net", sys.executable] + sys.argv)

from scapy.all import Ether, IP, UDP, Raw  # noqa: E402
from scapy.layers.ipsec import SecurityAssociation, ESP  # noqa: E402

ipsecgw = sys.argv[1]
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 150
tmp = tempfile.mkdtemp(prefix="gwchurn-")
sock_path = os.path.join(tmp, "gw.sock")
KEY_A = bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3cdeadbeef")
GW_MAC = "02:00:00:00:00:10"

with open(os.path.join(tmp, "keys"), "w") as f:
    f.write("a-out %s\n" % KEY_A.hex())
os.chmod(os.path.join(tmp, "keys"), 0o600)
conf = os.path.join(tmp, "gw.conf")
with open(conf, "w") as f:
    f.write("""port 0 protected
port 1 unprotected address 172.16.1.5
default-policy discard
key-file keys
sa a-out out spi 0x1001 aead aes128gcm16 key-ref a-out mode tunnel local 172.16.1.5 remote 172.16.2.5
policy to-b out priority 10 dst 10.2.0.0/16 protect a-out
route 172.16.2.0/24 port 1 via 172.16.1.1
route 10.1.0.0/16 port 0
neighbour default port 1 mac 02:00:00:00:0f:01
neighbour default port 0 mac 02:00:00:00:0a:01
""")
os.chmod(conf, 0o600)

subprocess.run(["sysctl", "-q", "-w", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"],
               check=False)
cmd = [ipsecgw, "-l", "0", "-n", "1", "--no-pci", "--no-huge", "-m", "1024", "--file-prefix",
       "gwchurn%d" % os.getpid(), "--log-level", "lib.eal:error", "--no-telemetry",
       "--vdev", "net_tap0,iface=gwp,mac=" + GW_MAC, "--vdev", "net_tap1,iface=gwu,mac=02:00:00:00:00:11",
       "--", "--conf", conf, "--socket", sock_path, "-P"]
gw = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
fails = []


def check(cond, what):
    if not cond:
        fails.append(what)
        print("FAIL:", what)


class Ctl:
    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(10)
        self.s.connect(path)
        self.buf = b""
        self.n = 0

    def call(self, cmd, **args):
        self.n += 1
        self.s.sendall((json.dumps({"v": 1, "id": self.n, "cmd": cmd, "args": args}) + "\n").encode())
        while b"\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise RuntimeError("gateway closed the control connection")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)


try:
    deadline = time.time() + 20
    while not os.path.exists(sock_path) and time.time() < deadline and gw.poll() is None:
        time.sleep(0.05)
    if not os.path.exists(sock_path):
        out, err = gw.communicate(timeout=10) if gw.poll() is not None else ("", "")
        raise SystemExit("FAIL: gateway did not start\n%s\n%s" % (out, err))
    for ifc in ("gwp", "gwu"):
        subprocess.run(["ip", "link", "set", ifc, "up"], check=False)
    time.sleep(0.3)

    rx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
    rx.bind(("gwu", 0))
    rx.settimeout(0.2)
    tx = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    tx.bind(("gwp", 0))
    stop = threading.Event()
    received = []
    sent = {}

    def receiver():
        while not stop.is_set() or True:
            try:
                data, addr = rx.recvfrom(65535)
            except socket.timeout:
                if stop.is_set():
                    return
                continue
            if addr[2] != socket.PACKET_OUTGOING:
                received.append(data)

    def sender():
        i = 0
        t_end = time.time() + 60  # hard bound
        while not stop.is_set() and time.time() < t_end:
            dst = "10.2.0.%d" % (i % 250 + 1) if i % 2 else "10.3.0.%d" % (i % 250 + 1)
            payload = b"churn%08d" % i + b"z" * (i % 200)
            frame = Ether(src="02:00:00:00:0a:01", dst=GW_MAC) / IP(src="10.1.0.1", dst=dst, ttl=64) / \
                UDP(sport=4000, dport=5000) / Raw(payload)
            tx.send(bytes(frame))
            sent[payload[:13]] = dst
            i += 1
            if i % 20 == 0:
                time.sleep(0.002)

    rt = threading.Thread(target=receiver)
    st = threading.Thread(target=sender)
    rt.start()
    st.start()

    ctl = Ctl(sock_path)
    keys = {0x1001: KEY_A}
    t0 = time.time()
    changes = 0
    for r in range(ROUNDS):
        if time.time() - t0 > 40:
            check(False, "churn took too long; stopped after %d rounds" % r)
            break
        spi = 0x10000 + r
        key = os.urandom(20)
        keys[spi] = key
        res = ctl.call("sa.add", name="c%d" % r, dir="out", spi=spi, aead="aes128gcm16", mode="tunnel",
                       local="172.16.1.5", remote="172.16.2.5", key=key.hex())
        check(res["ok"], "sa.add %d: %r" % (r, res))
        # Replace the policy table: the protect policy for 10.3/16 moves to the new SA.
        if r > 0:
            res = ctl.call("policy.del", name="to-c")
            check(res["ok"], "policy.del %d: %r" % (r, res))
        res = ctl.call("policy.add", name="to-c", dir="out", priority=20, dst="10.3.0.0/16", action="protect",
                       sa="c%d" % r)
        check(res["ok"], "policy.add %d: %r" % (r, res))
        res = ctl.call("policy.add", name="extra", dir="out", priority=5, dst="10.4.%d.0/24" % (r % 250),
                       action="discard")
        check(res["ok"], "policy.add extra %d: %r" % (r, res))
        res = ctl.call("policy.del", name="extra")
        check(res["ok"], "policy.del extra %d: %r" % (r, res))
        if r > 0:
            res = ctl.call("sa.del", spi=0x10000 + r - 1, dir="out")
            check(res["ok"], "sa.del %d: %r" % (r, res))
        changes += 6
        time.sleep(0.005)
    churn_s = time.time() - t0
    # trace: the next 40 decisions, taken while traffic flows.
    res = ctl.call("trace", count=40)
    check(res["ok"], "trace: %r" % res)
    t_end = time.time() + 10
    while time.time() < t_end:
        tr = ctl.call("trace.show")["result"]
        if tr["pending"] == 0 and len(tr["packets"]) >= 40:
            break
        time.sleep(0.1)
    check(len(tr["packets"]) == 40 and tr["pending"] == 0, "trace got %d packets" % len(tr["packets"]))
    fwd = [p for p in tr["packets"] if p["decision"] == "forward"]
    check(fwd and all(p["out_port"] == 1 and p["proto"] == 50 and p["src"] == "172.16.1.5" for p in fwd),
          "traced forwards: %r" % fwd[:3])
    time.sleep(0.3)
    stop.set()
    st.join()
    rt.join()
    status = ctl.call("show.stats")
    sas = ctl.call("show.sa")
    check(sas["ok"] and len(sas["result"]["sas"]) == 2, "SAs left: %r" % sas)
    res = ctl.call("shutdown")
    check(res["ok"], "shutdown")
    out, err = gw.communicate(timeout=20)
    check(gw.returncode == 0, "gateway exit %d: %s" % (gw.returncode, err[-2000:]))

    # Every ESP packet decrypts with its SPI's key to a packet that was sent.
    sa_objs = {}
    esp_n = ok_n = 0
    per_spi = {}
    for data in received:
        e = Ether(data)
        if ESP not in e:
            continue
        esp_n += 1
        spi = e[ESP].spi
        if spi not in keys:
            check(False, "unknown SPI %#x" % spi)
            continue
        if spi not in sa_objs:
            sa_objs[spi] = SecurityAssociation(ESP, spi=spi, crypt_algo="AES-GCM", crypt_key=keys[spi],
                                               tunnel_header=IP(src="172.16.1.5", dst="172.16.2.5"))
        try:
            inner = sa_objs[spi].decrypt(e[IP])
        except Exception as ex:  # noqa: BLE001
            check(False, "SPI %#x: packet does not decrypt: %s" % (spi, ex))
            continue
        p = bytes(inner[Raw].load)[:13] if Raw in inner else b""
        want = sent.get(p)
        if want is None or want != inner[IP].dst:
            check(False, "SPI %#x: decrypted to a packet never sent: %r" % (spi, inner.summary()))
            continue
        if (spi == 0x1001) != inner[IP].dst.startswith("10.2."):
            check(False, "SPI %#x carried %s" % (spi, inner[IP].dst))
            continue
        ok_n += 1
        per_spi[spi] = per_spi.get(spi, 0) + 1
    check(esp_n > 500, "too few ESP packets (%d of %d sent)" % (esp_n, len(sent)))
    check(ok_n == esp_n, "%d of %d ESP packets failed" % (esp_n - ok_n, esp_n))
    check(len(per_spi) > ROUNDS // 4, "traffic used only %d of %d SAs" % (len(per_spi), ROUNDS + 1))
    print("sent %d, ESP out %d (all decrypt: %s), SAs used %d, %d changes in %.2f s (%.0f/s)"
          % (len(sent), esp_n, ok_n == esp_n, len(per_spi), changes, churn_s, changes / churn_s))
finally:
    if gw.poll() is None:
        gw.kill()
        gw.wait()
    subprocess.run(["rm", "-rf", tmp])

if fails:
    print("%d check(s) failed" % len(fails))
    sys.exit(1)
print("PASS")
