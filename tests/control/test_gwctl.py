#!/usr/bin/python3
"""gwctl against a stand-in gateway (the real server and protocol, canned
tables): tables for people, --json for scripts, exit codes, per-command
--help, keys from a file or stdin and never echoed.
usage: test_gwctl.py GWCTL FAKE_GATEWAY"""
import json
import os
import subprocess
import sys
import tempfile
import time

gwctl, fake = sys.argv[1], sys.argv[2]
tmp = tempfile.mkdtemp(prefix="gwctl-test-")
sock = os.path.join(tmp, "gw.sock")
KEY = "00112233445566778899aabbccddeeff01020304"
fails = []


def run(*args, stdin=None, sock_path=sock):
    p = subprocess.run([gwctl, "--socket", sock_path] + list(args), input=stdin,
                       capture_output=True, text=True, timeout=20)
    return p.returncode, p.stdout, p.stderr


def check(cond, what):
    if not cond:
        fails.append(what)
        print("FAIL:", what)


gw = subprocess.Popen([fake, sock], stdout=subprocess.PIPE, text=True)
try:
    check(gw.stdout.readline().strip() == "ready", "fake gateway did not start")

    rc, out, err = run("show", "status")
    check(rc == 0 and "version:" in out and "0.1.0" in out, "show status human: %r %r" % (out, err))
    rc, out, err = run("--json", "show", "status")
    check(rc == 0 and json.loads(out)["version"] == "0.1.0", "show status --json: %r" % out)

    rc, out, err = run("show", "sa")
    lines = out.splitlines()
    check(rc == 0 and lines[0].split()[:3] == ["NAME", "DIR", "SPI"], "show sa header: %r" % out)
    check(len(lines) == 3 and len({len(l.rstrip()) >= 1 for l in lines}) == 1, "show sa rows: %r" % out)
    # Columns are aligned: every row's SPI ends where the header's SPI column ends.
    col_end = lines[0].index("SPI") + len("SPI")
    spi_ends = [l.index(s) + len(s) for l, s in zip(lines[1:], ["4096", "8192"])]
    check(all(e == max(spi_ends) for e in spi_ends), "SPI column right-aligned: %r" % out)
    check(col_end <= max(spi_ends), "SPI column under its header: %r" % out)
    rc, out, err = run("show", "sa", "8192")
    check(rc == 0 and "a-in" in out and "a-out" not in out, "show sa SPI: %r" % out)
    rc, out, err = run("show", "sa", "0x1000")
    check(rc == 0 and "a-out" in out, "show sa hex SPI: %r" % out)
    rc, out, err = run("--json", "show", "sa", "4096")
    check(rc == 0 and json.loads(out)["sas"][0]["spi"] == 4096, "show sa --json: %r" % out)
    rc, out, err = run("show", "sa", "999")
    check(rc == 1 and out == "" and "no SA with SPI 999" in err and "not_found" in err, "missing SA: %r %r" % (out, err))

    rc, out, err = run("show", "stats", "--prometheus")
    check(rc == 0 and out.startswith("# TYPE ipsecgw_drops_total counter"), "prometheus: %r" % out)
    rc, out, err = run("show", "stats")
    check(rc == 0 and "LCORE" in out and "REASON" in out, "stats tables: %r" % out)

    # Commands the stand-in does not implement: the gateway's error, exit 1.
    rc, out, err = run("show", "routes")
    check(rc == 1 and "unknown_command" in err, "unimplemented command: %r" % err)

    # Usage errors: exit 2 with a reason.
    for args in (["frobnicate"], ["show"], ["show", "sa", "--bogus"], ["sa", "add", "--name", "x"], ["trace"]):
        rc, out, err = run(*args)
        check(rc == 2 and err.startswith("gwctl: "), "usage error %s: rc=%d %r" % (args, rc, err))
    rc, out, err = run()
    check(rc == 2 and "usage:" in err, "no command: %r" % err)

    # --help: global and per command.
    rc, out, err = run("--help")
    check(rc == 0 and "show sa" in out and "log-level" in out, "global help: %r" % out)
    for args in (["show", "sa"], ["sa", "add"], ["policy", "add"], ["route", "add"], ["neighbor", "del"],
                 ["show", "stats"], ["reload"], ["trace"], ["log-level"], ["shutdown"]):
        rc, out, err = run(*(args + ["--help"]))
        check(rc == 0 and out.startswith("usage: gwctl") and " ".join(args) in out, "help %s: %r" % (args, out))

    # Keys: from a file or stdin, never printed, never on argv.
    keyfile = os.path.join(tmp, "k.key")
    with open(keyfile, "w") as f:
        f.write("mykey 0x" + KEY + "\n")
    os.chmod(keyfile, 0o600)
    sa = ["sa", "add", "--name", "n1", "--dir", "out", "--spi", "0x3000", "--local", "192.0.2.1",
          "--remote", "198.51.100.1"]
    rc, out, err = run(*(sa + ["--key-file", keyfile]))
    check(rc == 0 and "n1" in out and KEY not in out + err, "sa add from file: %r %r" % (out, err))
    # What reached the gateway: the whole key, parsed from "NAME 0xHEX".
    import socket as s
    c = s.socket(s.AF_UNIX, s.SOCK_STREAM)
    c.settimeout(5)
    c.connect(sock)
    c.sendall(b'{"v":1,"id":1,"cmd":"debug.last_add"}\n')
    reply = b""
    while not reply.endswith(b"\n"):
        reply += c.recv(65536)
    c.close()
    last = json.loads(reply)["result"]
    check(last["key"] == "<40 hex digits>" and last["spi"] == 0x3000 and last["dir"] == "out",
          "sa add request: %r" % last)
    rc, out, err = run(*(sa + ["--key-file", "-"]), stdin=KEY + "\n")
    check(rc == 0 and KEY not in out + err, "sa add from stdin: %r %r" % (out, err))
    rc, out, err = run(*(sa + ["--key-file", "-"]), stdin="not-hex\n")
    check(rc == 2 and "hexadecimal" in err and "not-hex" not in err, "bad key: %r" % err)
    rc, out, err = run(*(sa + ["--key-file", os.path.join(tmp, "missing")]))
    check(rc == 2, "missing key file: %r" % err)
    rc, out, err = run(*(sa + ["--key", KEY]))
    check(rc == 2, "a key on argv is refused: %r" % err)

    # Raw protocol from a script, without gwctl.
    c = s.socket(s.AF_UNIX, s.SOCK_STREAM)
    c.settimeout(5)
    c.connect(sock)
    c.sendall(b'{"v":1,"id":"x","cmd":"hello"}\n')
    reply = b""
    while not reply.endswith(b"\n"):
        reply += c.recv(65536)
    r = json.loads(reply)
    check(r["ok"] and r["id"] == "x" and r["result"]["protocol"] == 1, "raw hello: %r" % r)
    c.close()

    rc, out, err = run("shutdown")
    check(rc == 0, "shutdown: %r" % err)
    try:
        check(gw.wait(timeout=10) == 0, "fake gateway exit status")
    except subprocess.TimeoutExpired:
        check(False, "fake gateway did not stop")

    # Nobody listening: exit 3 with the reason.
    rc, out, err = run("show", "status")
    check(rc == 3 and "cannot connect" in err, "no gateway: rc=%d %r" % (rc, err))
finally:
    if gw.poll() is None:
        gw.kill()
        gw.wait()
    subprocess.run(["rm", "-rf", tmp])

if fails:
    print("%d check(s) failed" % len(fails))
    sys.exit(1)
print("PASS")
