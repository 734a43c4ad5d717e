"""Interoperability lab: strongSwan (charon-systemd with kernel-libipsec, so
ESP runs in userspace, always UDP-encapsulated) against ipsecgw on
net_af_packet ports, in network namespaces this module creates and removes.

    [A: charon 10.99.0.1, 192.168.10.1 on lo] vethA <-> vethB [G: ipsecgw port 1 10.99.0.2]
    [G: ipsecgw port 0 192.168.20.254] vethP <-> vethQ [P: 192.168.20.1]
    nat=True:  A vethA 10.99.1.1 <-> nA [N: SNAT to 10.99.0.254] nB <-> vethB G

The kernel in G owns no address on vethB/vethP: the gateway answers ARP and
knows its neighbours from static `neighbour` lines built from the veths' MACs.
With peer="charon" a second charon takes G's place (10.99.0.2 on vethB,
192.168.20.1 on lo), to check the strongSwan side alone.

Every process started here is stopped by its own handle and every namespace
created here is deleted when the Lab closes, also on failure or SIGTERM
(meson's timeout). The work directory (logs, configs, captures) is kept when
a test fails and removed otherwise; key and secret files are always removed.
"""
import ipaddress
import json
import os
import re
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

CHARON = "/usr/sbin/charon-systemd"
SWANCTL = "/usr/sbin/swanctl"
HERE = os.path.dirname(os.path.abspath(__file__))
SKIP = 77

PSK = "interop-test-psk-0123456789"
ID_A = "gw-a.test"
ID_B = "gw-b.test"
A_PRIV = "192.168.10.0/24"
P_PRIV = "192.168.20.0/24"
A_PRIV_ADDR = "192.168.10.1"
P_PRIV_ADDR = "192.168.20.1"
GW_PUB = "10.99.0.2"
GW_PRIV = "192.168.20.254"
NS_PREFIX = "swi"
GW_CONN = "swan"  # the gateway's connection name


class Fail(AssertionError):
    pass


def check(cond, msg):
    if not cond:
        raise Fail(msg)


def log(*a):
    print("[%7.2f]" % (time.monotonic() - _T0), *a, flush=True)


_T0 = time.monotonic()


def run(cmd, ns=None, check_rc=True, timeout=30, input=None, env=None):
    """Runs cmd (a list), in namespace ns if given; returns CompletedProcess."""
    full = (["ip", "netns", "exec", ns] if ns else []) + list(cmd)
    try:
        r = subprocess.run(full, capture_output=True, text=True, timeout=timeout, input=input, env=env)
    except subprocess.TimeoutExpired:
        raise Fail("timed out after %ss: %s" % (timeout, " ".join(full)))
    if check_rc and r.returncode != 0:
        raise Fail("exit %d: %s\n%s%s" % (r.returncode, " ".join(full), r.stdout, r.stderr))
    return r


def wait_for(what, fn, timeout, interval=0.1):
    """Polls fn() until it returns a true value (returned) or timeout seconds pass (Fail)."""
    end = time.monotonic() + timeout
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() >= end:
            raise Fail("gave up after %.0f s waiting for %s" % (timeout, what))
        time.sleep(interval)


# ---------------------------------------------------------------- skipping


def skip(reason):
    print("SKIP:", reason, flush=True)
    sys.exit(SKIP)


def require_environment(nat=False):
    """Exits 77 (meson: skipped) when this machine cannot run the lab."""
    if os.geteuid() != 0:
        skip("needs root (network namespaces)")
    for tool in ["ip", "tcpdump", "ethtool"] + (["nft"] if nat else []):
        if not shutil.which(tool):
            skip("%s is not installed" % tool)
    for path in (CHARON, SWANCTL):
        if not os.access(path, os.X_OK):
            skip("%s is missing (apt-get install charon-systemd strongswan-swanctl)" % path)
    if not os.path.exists("/usr/lib/ipsec/plugins/libstrongswan-kernel-libipsec.so"):
        skip("strongSwan kernel-libipsec plugin missing (libcharon-extra-plugins)")
    probe = "%sprobe%d" % (NS_PREFIX, os.getpid())
    if subprocess.run(["ip", "netns", "add", probe], capture_output=True).returncode != 0:
        skip("cannot create network namespaces here")
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)


def remove_stale_namespaces():
    """Deletes namespaces an earlier, killed run of these tests left behind
    (name swi<PID><letter> whose PID is gone)."""
    r = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    for line in r.stdout.splitlines():
        m = re.match(r"(%s(\d+)[A-Z])\b" % NS_PREFIX, line)
        if m and not os.path.exists("/proc/%s" % m.group(2)):
            subprocess.run(["ip", "netns", "del", m.group(1)], capture_output=True)


# ---------------------------------------------------------------- processes


def read_text(path):
    """A log file's text, or "" while it does not exist."""
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def last_lines(text, n):
    return "\n".join(text.splitlines()[-n:])


class Proc:
    """A process started in a namespace; output goes to a log file."""

    def __init__(self, name, cmd, ns, logpath, env=None, stop_signal=signal.SIGTERM):
        self.name, self.logpath, self.stop_signal = name, logpath, stop_signal
        self.cmd = (["ip", "netns", "exec", ns] if ns else []) + list(cmd)
        self.logf = open(logpath, "w")
        # 'ip netns exec' exec()s, so this PID is the program's own.
        self.p = subprocess.Popen(self.cmd, stdout=self.logf, stderr=subprocess.STDOUT,
                                  stdin=subprocess.DEVNULL, env=env)

    def alive(self):
        return self.p.poll() is None

    def stop(self, timeout=5):
        """Stops the process (its stop signal, then SIGKILL); returns its exit status."""
        if self.p.poll() is None:
            try:
                self.p.send_signal(self.stop_signal)
                self.p.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(timeout=5)
        self.logf.close()
        return self.p.returncode

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait(timeout=5)

    def log_text(self):
        return read_text(self.logpath)

    def tail(self, n=40):
        return last_lines(self.log_text(), n)


# ---------------------------------------------------------------- strongSwan

STRONGSWAN_CONF = """\
# strongswan.conf for one charon-systemd of the interop lab.
charon {
    # kernel-libipsec before kernel-netlink: it must take the kernel-ipsec role.
    load = random nonce openssl aes gcm sha1 sha2 hmac kdf curve25519 pem pkcs1 pkcs8 x509 pubkey constraints kernel-libipsec kernel-netlink socket-default vici
    port = 500
    port_nat_t = 4500
    install_routes = yes
    routing_table = 220
    routing_table_prio = 220
    # fail fast: an unanswered exchange gives up after about 1+1.4+2 s
    retransmit_timeout = 1.0
    retransmit_base = 1.4
    retransmit_tries = 3
    plugins {
        vici {
            socket = unix://%(dir)s/charon.vici
        }
        kernel-libipsec {
            allow_peer_ts = no
        }
    }
    filelog {
        main {
            path = %(dir)s/charon.log
            append = no
            time_format = %%H:%%M:%%S
            time_add_ms = yes
            # level 2: exchanges and notifies, never keys (they appear at 4)
            default = 1
            ike = 2
            chd = 2
            cfg = 2
            knl = 1
            net = 1
            flush_line = yes
        }
    }
}
charon-systemd {
}
"""


def swanctl_conn(name="gw", child="net", local_addrs=None, remote_addrs=GW_PUB,
                 proposals="aes128gcm16-prfsha256-ecp256", esp="aes128gcm16",
                 local_id=ID_A, remote_id=ID_B, auth="psk", local_certs=None,
                 local_ts=A_PRIV, remote_ts=P_PRIV, dpd_delay="30s", start_action="none",
                 rekey_time=None, extra_child=""):
    """One swanctl.conf connection block (strongSwan syntax)."""
    certs = "            certs = %s\n" % local_certs if local_certs else ""
    la = "        local_addrs = %s\n" % local_addrs if local_addrs else ""
    rk = "                rekey_time = %s\n" % rekey_time if rekey_time else ""
    return """\
    %(name)s {
        version = 2
%(la)s        remote_addrs = %(remote_addrs)s
        proposals = %(proposals)s
        dpd_delay = %(dpd_delay)s
        local {
            auth = %(auth)s
            id = %(local_id)s
%(certs)s        }
        remote {
            auth = %(auth)s
            id = %(remote_id)s
        }
        children {
            %(child)s {
                mode = tunnel
                local_ts = %(local_ts)s
                remote_ts = %(remote_ts)s
                esp_proposals = %(esp)s
                start_action = %(start_action)s
                dpd_action = clear
%(rk)s%(extra_child)s            }
        }
    }
""" % locals()


def swanctl_file(conns, psk=PSK):
    """A whole swanctl.conf: connections plus (psk given) one IKE secret."""
    text = "connections {\n" + "".join(conns) + "}\n"
    if psk is not None:
        text += 'secrets {\n    ike-lab {\n        id-a = %s\n        id-b = %s\n        secret = "%s"\n    }\n}\n' % (
            ID_A, ID_B, psk)
    return text


def parse_vici_raw(text):
    """Parses `swanctl --raw` output (vici messages: key=value, name {...},
    name [a b]) into a list of dicts, one per message."""
    tokens = re.findall(r"[{}\[\]]|[^\s{}\[\]]+", text)
    out, stack, pending = [], [], None
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if t == "{":
            d = {}
            if stack:
                stack[-1][pending] = d
            else:
                out.append(d)
            stack.append(d)
            pending = None
        elif t == "}":
            stack.pop()
        elif t == "[":
            lst = []
            i += 1
            while i < len(tokens) and tokens[i] != "]":
                lst.append(tokens[i])
                i += 1
            stack[-1][pending] = lst
            pending = None
        elif "=" in t and stack:
            k, v = t.split("=", 1)
            if v == "" and i + 1 < len(tokens) and tokens[i + 1] == "[":
                pending = k  # name=[a b]
            else:
                stack[-1][k] = v
        else:
            pending = t  # a section or list name (or a message name at top level)
        i += 1
    return out


class Charon:
    """One charon-systemd in namespace ns, configured under dir."""

    def __init__(self, lab, side, ns):
        self.lab, self.side, self.ns = lab, side, ns
        self.dir = os.path.join(lab.work, side)
        for sub in ("", "x509", "x509ca", "private"):
            os.makedirs(os.path.join(self.dir, sub), exist_ok=True)
        self.vici = os.path.join(self.dir, "charon.vici")
        self.logpath = os.path.join(self.dir, "charon.log")
        self.conf = os.path.join(self.dir, "strongswan.conf")
        with open(self.conf, "w") as f:
            f.write(STRONGSWAN_CONF % {"dir": self.dir})
        self.proc = None

    def start(self, swanctl_text):
        self.write_swanctl(swanctl_text)
        env = dict(os.environ, STRONGSWAN_CONF=self.conf)
        self.proc = self.lab.spawn("charon-" + self.side, [CHARON], self.ns,
                                   os.path.join(self.dir, "charon.stdout"), env=env)
        wait_for("charon %s's vici socket" % self.side,
                 lambda: os.path.exists(self.vici) or not self.proc.alive(), 15)
        check(self.proc.alive(), "charon %s exited:\n%s" % (self.side, self.proc.tail()))
        self.load_all()
        return self

    def write_swanctl(self, text):
        path = os.path.join(self.dir, "swanctl.conf")
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, 0o600)
        self.lab.secret_files.append(path)

    def load_all(self):
        # swanctl loads x509ca/, x509/, private/ next to --file
        self.swanctl("--load-all", "--file", os.path.join(self.dir, "swanctl.conf"))

    def swanctl(self, *args, check_rc=True, timeout=30):
        r = run([SWANCTL] + list(args) + ["--uri", "unix://" + self.vici], check_rc=False, timeout=timeout)
        if check_rc and r.returncode != 0:
            raise Fail("swanctl %s failed (exit %d):\n%s%s\ncharon %s log tail:\n%s" % (
                " ".join(args), r.returncode, r.stdout, r.stderr, self.side, self.log_tail()))
        return r

    def initiate(self, child="net", check_rc=True, timeout=15):
        return self.swanctl("--initiate", "--child", child, "--timeout", str(timeout),
                            check_rc=check_rc, timeout=timeout + 10)

    def ike_sa_list(self):
        """[(name, ike_dict)] of every IKE SA charon holds (vici keys)."""
        r = self.swanctl("--list-sas", "--raw")
        return [(name, ike) for msg in parse_vici_raw(r.stdout) for name, ike in msg.items()
                if isinstance(ike, dict)]

    def list_sas(self):
        """{ike_name: ike_dict}; the last one listed when a name has several."""
        return dict(self.ike_sa_list())

    def reload(self, swanctl_text):
        """Replaces the loaded connections and secrets."""
        self.write_swanctl(swanctl_text)
        f = os.path.join(self.dir, "swanctl.conf")
        self.swanctl("--load-creds", "--clear", "--file", f)
        self.swanctl("--load-conns", "--file", f)

    def child_sas(self):
        """List of installed CHILD_SA dicts across all IKE SAs."""
        out = []
        for ike in self.list_sas().values():
            for c in (ike.get("child-sas") or {}).values():
                if isinstance(c, dict):
                    out.append(c)
        return out

    def log_text(self):
        return read_text(self.logpath)

    def log_tail(self, n=30):
        return last_lines(self.log_text(), n)


# ---------------------------------------------------------------- ipsecgw


class Gateway:
    """ipsecgw in namespace G on net_af_packet ports (0: vethP protected,
    1: vethB unprotected), controlled through its socket with gwctl."""

    def __init__(self, lab, binary, gwctl):
        self.lab, self.binary, self.gwctl_bin = lab, binary, gwctl
        self.dir = os.path.join(lab.work, "gw")
        os.makedirs(self.dir, exist_ok=True)
        self.socket = os.path.join(self.dir, "gw.sock")
        self.conf = os.path.join(self.dir, "gw.conf")
        self.proc = None
        self.runs = 0

    def base_config(self):
        """Ports, routes and static neighbours for this lab (no policies)."""
        lab = self.lab
        return "\n".join([
            "port 0 protected address %s" % GW_PRIV,
            "port 1 unprotected address %s" % GW_PUB,
            "route %s port 0" % P_PRIV,
            "route 10.99.0.0/24 port 1",
            "route %s port 1 via %s" % (A_PRIV, lab.a_seen),
            "neighbour %s port 0 mac %s" % (P_PRIV_ADDR, lab.mac(lab.ns_p, "vethQ")),
            "neighbour %s port 1 mac %s" % (lab.a_seen, lab.a_seen_mac()),
            ""])

    def write(self, name, text, mode=0o600, secret=False):
        path = os.path.join(self.dir, name)
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        if secret:
            self.lab.secret_files.append(path)
        return path

    def start(self, conf_text, lcores="0-1", ready_timeout=30):
        self.write("gw.conf", conf_text)
        self.runs += 1
        prefix = "%s%dg%d" % (NS_PREFIX, os.getpid(), self.runs)
        cmd = [self.binary, "-l", lcores, "-n", "1", "--no-pci", "--no-huge", "-m", "512",
               "--file-prefix", prefix, "--log-level", "lib.eal:error",
               "--vdev", "net_af_packet0,iface=vethP", "--vdev", "net_af_packet1,iface=vethB",
               "--", "--conf", self.conf, "--socket", self.socket]
        self.proc = self.lab.spawn("ipsecgw", cmd, self.lab.ns_g,
                                   os.path.join(self.dir, "ipsecgw-%d.log" % self.runs),
                                   stop_signal=signal.SIGINT)

        def ready():
            if not self.proc.alive():
                raise Fail("ipsecgw exited with %s before its socket answered:\n%s"
                           % (self.proc.p.returncode, self.proc.tail()))
            return os.path.exists(self.socket) and self.ctl_rc("show", "status") == 0

        wait_for("ipsecgw's control socket", ready, ready_timeout, 0.2)
        log("ipsecgw up (log %s)" % self.proc.logpath)
        return self

    def ike_config(self, conns, psks=None, extra=""):
        """default-policy discard, ports/routes/neighbours, IKE connections and
        (psks: {conn: secret}) a secrets file of mode 0600."""
        text = "default-policy discard\n" + self.base_config() + extra
        if psks:
            self.write("ike.secrets", "".join('psk %s "%s"\n' % kv for kv in psks.items()), secret=True)
            text += "ike-secrets ike.secrets\n"
        return text + "".join(conns)

    def start_ike(self, conns, psks=None, extra=""):
        return self.start(self.ike_config(conns, psks, extra))

    def spis(self, direction):
        return sorted(sa["spi"] for sa in self.sas() if sa.get("dir") == direction)

    def established(self, name=GW_CONN):
        """IKE SAs of connection `name` that are established (show ike)."""
        return [sa for sa in self.ike_sas()
                if sa.get("conn") == name and str(sa.get("state", "")).lower() == "established"]

    def wait_child(self, timeout=15, exclude_in=()):
        """Waits for exactly one inbound and one outbound SA (the CHILD_SA),
        with an inbound SPI not in exclude_in; returns (spi_in, spi_out)."""
        def one_pair():
            i, o = self.spis("in"), self.spis("out")
            if len(i) == 1 and len(o) == 1 and i[0] not in exclude_in:
                return i[0], o[0]
            return None
        try:
            return wait_for("the gateway's CHILD_SA (one SA each way)", one_pair, timeout, 0.2)
        except Fail as e:
            raise Fail("%s; show sa: %s; show ike: %s\nipsecgw log tail:\n%s"
                       % (e, self.ctl("show", "sa", check_rc=False), self.ctl("show", "ike", check_rc=False),
                          self.log_tail()))

    def wait_no_sas(self, timeout=15):
        def none_left():
            return not self.sas()
        try:
            return wait_for("the gateway to remove its SAs", none_left, timeout, 0.2)
        except Fail as e:
            raise Fail("%s; show sa: %s" % (e, self.sas()))

    def stop(self):
        if self.proc:
            rc = self.proc.stop(timeout=10)
            self.proc = None
            return rc

    def ctl_raw(self, *args, timeout=15):
        return run([self.gwctl_bin, "--socket", self.socket, "--json"] + list(args),
                   check_rc=False, timeout=timeout)

    def ctl_rc(self, *args):
        return self.ctl_raw(*args).returncode

    def ctl(self, *args, check_rc=True):
        """gwctl --json ARGS; returns the parsed result (Fail on non-zero exit unless check_rc=False)."""
        r = self.ctl_raw(*args)
        if r.returncode != 0:
            if check_rc:
                raise Fail("gwctl %s failed (exit %d): %s%s\nipsecgw log tail:\n%s" % (
                    " ".join(args), r.returncode, r.stdout, r.stderr, self.log_tail()))
            return None
        try:
            return json.loads(r.stdout)
        except ValueError:
            raise Fail("gwctl %s printed no JSON: %r" % (" ".join(args), r.stdout[:500]))

    def sas(self):
        return self.ctl("show", "sa").get("sas", [])

    def ike_sas(self):
        """Every IKE SA in `show ike` (connections[].ike_sas[]), each with its
        connection's name added as "conn"."""
        res = self.ctl("show", "ike")
        out = []
        for conn in res.get("connections", []):
            for sa in conn.get("ike_sas", []):
                out.append(dict(sa, conn=conn.get("name")))
        return out

    def stats(self):
        return self.ctl("show", "stats")

    def drop(self, reason):
        for d in self.stats().get("drops", []):
            if d.get("reason") == reason:
                return d.get("packets", 0)
        return 0

    def log_tail(self, n=30):
        return self.proc.tail(n) if self.proc else ""


def find_values(obj, key_re):
    """Every (key, value) in a nested JSON value whose key matches key_re."""
    found = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            if re.search(key_re, k):
                found.append((k, v))
            found += find_values(v, key_re)
    elif isinstance(obj, list):
        for v in obj:
            found += find_values(v, key_re)
    return found


def gw_conn(name=GW_CONN, remote=None, auth="auth psk", ike="aes128gcm16-prfsha256-ecp256",
            esp="aes128gcm16", local_ts=P_PRIV, remote_ts=A_PRIV, local_id="fqdn:" + ID_B,
            remote_id="fqdn:" + ID_A, start=None, dpd=None, extra=""):
    """One `conn` statement of the native configuration (see config/README.md)."""
    words = ["conn", name, "local", GW_PUB, "remote", remote or "any",
             "local-id", local_id, "remote-id", remote_id, auth,
             "ike", ike, "esp", esp, "local-ts", local_ts, "remote-ts", remote_ts]
    if start:
        words += ["start", start]
    if dpd:
        words += ["dpd", str(dpd)]
    return " ".join(words) + (" " + extra if extra else "") + "\n"


def upper_words(obj):
    """All strings in a JSON value, upper-cased with spaces and dashes as '_'
    (so 'authentication failed' and AUTHENTICATION_FAILED compare equal)."""
    return re.sub(r"[\s-]+", "_", json.dumps(obj).upper())


# ---------------------------------------------------------------- capture


class Capture:
    """tcpdump on one interface of one namespace, into a pcap file."""

    def __init__(self, lab, ns, iface, name):
        self.lab, self.pcap = lab, os.path.join(lab.work, name + ".pcap")
        self.proc = lab.spawn("tcpdump-" + name,
                              ["tcpdump", "--immediate-mode", "-U", "-n", "-s", "256", "-i", iface,
                               "-w", self.pcap], ns, os.path.join(lab.work, name + ".tcpdump.log"),
                              stop_signal=signal.SIGINT)
        wait_for("tcpdump on %s" % iface,
                 lambda: "listening on" in self.proc.log_text() or not self.proc.alive(), 10)
        check(self.proc.alive(), "tcpdump failed:\n" + self.proc.tail())

    def stop(self):
        self.proc.stop()
        return self.analyse()

    def analyse(self):
        """Counts what crossed the wire: ESP-in-UDP by SPI and direction, IKE,
        NAT keepalives, and plaintext packets of the private networks."""
        from scapy.all import IP, UDP, rdpcap
        res = {"esp": 0, "esp_spis": {}, "ike": 0, "keepalive": 0, "plaintext": [], "packets": 0,
               "esp_ports": set(), "ike_msgs": []}
        try:
            pkts = rdpcap(self.pcap)
        except Exception as e:  # empty or missing file
            raise Fail("cannot read capture %s: %s" % (self.pcap, e))
        nets = [ipaddress.ip_network("192.168.0.0/16")]
        for p in pkts:
            if IP not in p:
                continue
            res["packets"] += 1
            ip = p[IP]
            if any(ipaddress.ip_address(a) in n for a in (ip.src, ip.dst) for n in nets):
                res["plaintext"].append(p.summary())
                continue
            if UDP in p and 4500 in (p[UDP].sport, p[UDP].dport):
                data = bytes(p[UDP].payload)
                if data == b"\xff":
                    res["keepalive"] += 1
                elif len(data) >= 4 and data[:4] == b"\0\0\0\0":
                    res["ike"] += 1
                    res["ike_msgs"].append((ip.src, p[UDP].sport, ip.dst, p[UDP].dport, data[4:]))
                elif len(data) >= 8:
                    spi = struct.unpack("!I", data[:4])[0]
                    res["esp"] += 1
                    key = (ip.src, spi)
                    res["esp_spis"][key] = res["esp_spis"].get(key, 0) + 1
                    res["esp_ports"].add((ip.src, p[UDP].sport, ip.dst, p[UDP].dport))
            elif UDP in p and 500 in (p[UDP].sport, p[UDP].dport):
                res["ike"] += 1
                res["ike_msgs"].append((ip.src, p[UDP].sport, ip.dst, p[UDP].dport, bytes(p[UDP].payload)))
        return res


def check_wire(w, gw_addr=GW_PUB, min_each_way=1):
    """ESP with non-zero SPIs crossed the wire both ways; no plaintext did."""
    check(not w["plaintext"], "plaintext private-network packets on the wire: %s" % w["plaintext"][:5])
    to_gw = sum(n for (src, spi), n in w["esp_spis"].items() if src != gw_addr and spi)
    from_gw = sum(n for (src, spi), n in w["esp_spis"].items() if src == gw_addr and spi)
    check(to_gw >= min_each_way and from_gw >= min_each_way,
          "expected UDP/4500 ESP both ways: %d packets to the gateway, %d from it (SPIs %s)"
          % (to_gw, from_gw, {("%s" % s, "0x%08x" % i): n for (s, i), n in w["esp_spis"].items()}))
    return to_gw, from_gw


# ---------------------------------------------------------------- traffic


def ping(ns, dst, count=3, src=None, check_rc=True, size=None):
    cmd = ["ping", "-n", "-c", str(count), "-i", "0.2", "-W", "2", "-p", "a5c3"]
    if src:
        cmd += ["-I", src]
    if size:
        cmd += ["-s", str(size)]
    r = run(cmd + [dst], ns=ns, check_rc=False, timeout=count * 2 + 10)
    ok = r.returncode == 0 and " 0% packet loss" in r.stdout and "wrong data" not in r.stdout
    if check_rc:
        check(ok, "ping %s -> %s failed:\n%s%s" % (ns, dst, r.stdout, r.stderr))
    return ok


class UdpStream:
    """A sequence-numbered UDP stream (tests/interop/udpseq.py) from one
    namespace to another; result() says what arrived, lost and corrupted."""

    def __init__(self, lab, name, src_ns, dst_ns, dst, port, count, rate, src=None):
        tool = os.path.join(HERE, "udpseq.py")
        self.count = count
        self.out = os.path.join(lab.work, name + ".json")
        self.rx = lab.spawn(name + "-rx", ["/usr/bin/python3", tool, "recv", "0.0.0.0", str(port),
                                           str(count), self.out, str(count / rate + 30)],
                            dst_ns, os.path.join(lab.work, name + ".rx.log"))
        wait_for("UDP receiver %s" % name,
                 lambda: "listening" in self.rx.log_text() or not self.rx.alive(), 10)
        args = ["/usr/bin/python3", tool, "send", dst, str(port), str(count), str(rate)]
        if src:
            args.append(src)
        self.tx = lab.spawn(name + "-tx", args, src_ns, os.path.join(lab.work, name + ".tx.log"))

    def sending(self):
        return self.tx.alive()

    def result(self, timeout):
        """Waits for the sender to finish and the receiver to report."""
        wait_for("UDP sender to finish", lambda: not self.tx.alive(), timeout)
        wait_for("UDP receiver to report", lambda: not self.rx.alive(), 10)
        check(os.path.exists(self.out), "UDP receiver wrote no result:\n" + self.rx.tail())
        with open(self.out) as f:
            return json.load(f)


def check_stream(name, res):
    check(res["received"] == res["expected"] and not res["lost"] and not res["corrupt"]
          and not res["duplicates"],
          "%s: %d of %d packets arrived intact; lost %s%s, corrupt %d, duplicates %d"
          % (name, res["received"], res["expected"], res["lost"][:20],
             "..." if len(res["lost"]) > 20 else "", res["corrupt"], res["duplicates"]))


# ---------------------------------------------------------------- the lab


class Lab:
    def __init__(self, name, nat=False, peer="gateway", binary=None, gwctl=None):
        self.name, self.nat, self.peer = name, nat, peer
        self.binary, self.gwctl = binary, gwctl
        self.work = tempfile.mkdtemp(prefix="swi.", dir="/tmp")
        check(len(self.work) < 60, "work directory path too long for unix sockets")
        n = Lab.count = getattr(Lab, "count", 0) + 1
        base = "%s%d" % (NS_PREFIX, os.getpid())
        # one letter per namespace; a second Lab in the same process gets other letters
        letters = "AGPN" if n == 1 else "BHQO" if n == 2 else "CIRM"
        self.ns_a, self.ns_g, self.ns_p, self.ns_n = (base + l for l in letters)
        self.namespaces, self.procs, self.secret_files = [], [], []
        self.a_addr = "10.99.1.1" if nat else "10.99.0.1"
        self.a_seen = "10.99.0.254" if nat else "10.99.0.1"
        self.swan_a = None
        self.gw = None
        self.swan_b = None
        self.ok = False

    # -- context manager: always torn down
    def __enter__(self):
        try:
            self.build()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, et, ev, tb):
        self.ok = et is None
        self.close()
        return False

    def spawn(self, name, cmd, ns, logpath, env=None, stop_signal=signal.SIGTERM):
        p = Proc(name, cmd, ns, logpath, env=env, stop_signal=stop_signal)
        self.procs.append(p)
        return p

    def add_ns(self, ns):
        run(["ip", "netns", "add", ns])
        self.namespaces.append(ns)
        run(["ip", "-n", ns, "link", "set", "lo", "up"])
        # IPv4 only: no router solicitations or MLD reports on the wires
        run(["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"], ns=ns)

    def txoff(self, ns, dev):
        run(["ethtool", "-K", dev, "tx", "off"], ns=ns)

    def mac(self, ns, dev):
        r = run(["ip", "-j", "-n", ns, "link", "show", dev])
        return json.loads(r.stdout)[0]["address"]

    def a_seen_mac(self):
        return self.mac(self.ns_n, "nB") if self.nat else self.mac(self.ns_a, "vethA")

    def build(self):
        log("lab %s: work %s, namespaces %s%s" % (self.name, self.work, self.ns_a[:-1],
                                                  "[AGPN]" if self.ns_a.endswith("A") else "*"))
        remove_stale_namespaces()
        a, g, p, nn = self.ns_a, self.ns_g, self.ns_p, self.ns_n
        self.add_ns(a)
        self.add_ns(g)
        if self.nat:
            self.add_ns(nn)
            run(["ip", "link", "add", "vethA", "netns", a, "type", "veth", "peer", "name", "nA", "netns", nn])
            run(["ip", "link", "add", "vethB", "netns", g, "type", "veth", "peer", "name", "nB", "netns", nn])
            run(["ip", "-n", nn, "addr", "add", "10.99.1.254/24", "dev", "nA"])
            run(["ip", "-n", nn, "addr", "add", "10.99.0.254/24", "dev", "nB"])
            for dev in ("nA", "nB"):
                run(["ip", "-n", nn, "link", "set", dev, "up"])
                self.txoff(nn, dev)
            run(["sysctl", "-qw", "net.ipv4.ip_forward=1"], ns=nn)
            nft = ("table ip nat {\n chain post {\n  type nat hook postrouting priority srcnat; policy accept;\n"
                   '  oifname "nB" ip saddr 10.99.1.0/24 meta l4proto udp snat to 10.99.0.254:30000-30099\n'
                   '  oifname "nB" ip saddr 10.99.1.0/24 masquerade\n }\n}\n')
            run(["nft", "-f", "-"], ns=nn, input=nft)
        else:
            run(["ip", "link", "add", "vethA", "netns", a, "type", "veth", "peer", "name", "vethB", "netns", g])
        run(["ip", "-n", a, "addr", "add", self.a_addr + "/24", "dev", "vethA"])
        run(["ip", "-n", a, "link", "set", "vethA", "up"])
        self.txoff(a, "vethA")
        if self.nat:
            run(["ip", "-n", a, "route", "add", "10.99.0.0/24", "via", "10.99.1.254"])
        run(["ip", "-n", a, "addr", "add", A_PRIV_ADDR + "/24", "dev", "lo"])
        run(["ip", "-n", g, "link", "set", "vethB", "up"])
        self.txoff(g, "vethB")
        if self.peer == "charon":
            run(["ip", "-n", g, "addr", "add", GW_PUB + "/24", "dev", "vethB"])
            run(["ip", "-n", g, "addr", "add", P_PRIV_ADDR + "/24", "dev", "lo"])
            return
        # gateway: the kernel of G owns no addresses and stays quiet on both wires
        self.add_ns(p)
        run(["ip", "link", "add", "vethP", "netns", g, "type", "veth", "peer", "name", "vethQ", "netns", p])
        run(["ip", "-n", g, "link", "set", "vethP", "up"])
        self.txoff(g, "vethP")
        run(["ip", "-n", p, "addr", "add", P_PRIV_ADDR + "/24", "dev", "vethQ"])
        run(["ip", "-n", p, "link", "set", "vethQ", "up"])
        self.txoff(p, "vethQ")
        run(["ip", "-n", p, "route", "add", A_PRIV, "via", GW_PRIV])
        self.gw = Gateway(self, self.binary, self.gwctl)

    def start_swan_a(self, swanctl_text):
        self.swan_a = Charon(self, "A", self.ns_a).start(swanctl_text)
        return self.swan_a

    def start_swan_b(self, swanctl_text):
        self.swan_b = Charon(self, "B", self.ns_g).start(swanctl_text)
        return self.swan_b

    def capture(self, name="wire", ns=None, iface="vethA"):
        return Capture(self, ns or self.ns_a, iface, name)

    def udp_stream(self, name, forward=True, port=5001, count=200, rate=200):
        """forward: A's private address -> P; otherwise P -> A's private address."""
        if forward:
            return UdpStream(self, name, self.ns_a, self.ns_p, P_PRIV_ADDR, port, count, rate, src=A_PRIV_ADDR)
        return UdpStream(self, name, self.ns_p, self.ns_a, A_PRIV_ADDR, port, count, rate)

    def close(self):
        # processes first (reverse start order), then namespaces
        for p in reversed(self.procs):
            try:
                p.stop()
            except Exception as e:  # keep tearing down
                print("teardown: %s: %s" % (p.name, e), file=sys.stderr)
        self.procs = []
        for ns in reversed(self.namespaces):
            r = subprocess.run(["ip", "netns", "del", ns], capture_output=True, text=True)
            if r.returncode != 0:
                print("teardown: could not delete namespace %s: %s" % (ns, r.stderr.strip()), file=sys.stderr)
        self.namespaces = []
        for f in self.secret_files:
            try:
                os.unlink(f)
            except OSError:
                pass
        for root, _, files in os.walk(self.work):
            if os.path.basename(root) == "private":
                for f in files:
                    os.unlink(os.path.join(root, f))
        if self.ok and not os.environ.get("SWANLAB_KEEP"):
            shutil.rmtree(self.work, ignore_errors=True)
        else:
            print("logs kept in %s" % self.work, flush=True)


def main(test, nat=False):
    """Test entry point: argv[1] = ipsecgw, argv[2] = gwctl. Exits 0 (pass),
    1 (fail) or 77 (skip). SIGTERM (meson's timeout) tears the lab down."""
    require_environment(nat)
    binary, gwctl = (os.path.abspath(a) for a in sys.argv[1:3])

    def on_signal(signum, frame):
        raise Fail("interrupted by signal %d" % signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    start = time.monotonic()
    try:
        test(binary, gwctl)
    except Fail as e:
        print("FAIL:", e, flush=True)
        sys.exit(1)
    print("PASS (%.1f s)" % (time.monotonic() - start), flush=True)


# ---------------------------------------------------------------- scenario steps


def spis_agree(lab, timeout=10):
    """The gateway's CHILD_SA and charon A's are the same SA pair (waiting up
    to timeout s for both to settle after an exchange); returns (gw in, gw out)."""
    state = {}

    def agree():
        spi_in, spi_out = lab.gw.wait_child()
        kids = [c for c in lab.swan_a.child_sas() if c.get("state") == "INSTALLED"]
        state.update(gw=(spi_in, spi_out), kids=kids)
        if len(kids) != 1:
            return None
        a_in, a_out = int(kids[0]["spi-in"], 16), int(kids[0]["spi-out"], 16)
        return (spi_in, spi_out) if (a_out, a_in) == (spi_in, spi_out) else None

    try:
        got = wait_for("charon A and the gateway to agree on one CHILD_SA", agree, timeout, 0.2)
    except Fail as e:
        raise Fail("%s: gateway in/out %s, charon A's INSTALLED CHILD_SAs %s"
                   % (e, ["0x%08x" % x for x in state.get("gw", ())], state.get("kids")))
    kid = state["kids"][0]
    check(kid.get("encap") == "yes", "charon A's CHILD_SA is not UDP-encapsulated: %s" % kid)
    check(kid.get("encr-alg") == "AES_GCM_16" and kid.get("encr-keysize") == "128",
          "charon A's CHILD_SA is not AES-GCM-128: %s" % kid)
    return got


def check_tunnel(lab, name="wire", count=200, rate=200):
    """Ping and sequence-numbered UDP both ways through the tunnel while
    capturing on A's wire: everything arrives intact, only ESP-in-UDP with
    the negotiated SPIs crosses the wire."""
    spi_in, spi_out = spis_agree(lab)
    wire = lab.capture(name)
    ping(lab.ns_a, P_PRIV_ADDR, src=A_PRIV_ADDR)
    ping(lab.ns_p, A_PRIV_ADDR)
    fwd = lab.udp_stream(name + "-fwd", forward=True, port=5001, count=count, rate=rate)
    rev = lab.udp_stream(name + "-rev", forward=False, port=5002, count=count, rate=rate)
    check_stream("UDP A -> P", fwd.result(count / rate + 30))
    check_stream("UDP P -> A", rev.result(30))
    w = wire.stop()
    to_gw, from_gw = check_wire(w, min_each_way=count + 6)
    seen = {(src == GW_PUB, spi) for (src, spi) in w["esp_spis"]}
    check(seen == {(False, spi_in), (True, spi_out)},
          "ESP SPIs on the wire %s, expected 0x%08x to the gateway and 0x%08x from it"
          % (sorted((d, "0x%08x" % s) for d, s in seen), spi_in, spi_out))
    log("tunnel ok: %d ESP packets to the gateway, %d from it, SPIs 0x%08x/0x%08x"
        % (to_gw, from_gw, spi_in, spi_out))
    return w


# ---------------------------------------------------------------- IKE on the wire

IKE_SA_INIT = 34
NOTIFY_COOKIE = 16390


def ike_header(msg):
    """(spi_i, spi_r, exchange, is_response, message_id, first_payload) or None."""
    if len(msg) < 28:
        return None
    spi_i, spi_r, nxt, _ver, exch, flags, mid, _len = struct.unpack("!QQBBBBII", msg[:28])
    return spi_i, spi_r, exch, bool(flags & 0x20), mid, nxt


def ike_notify_types(msg):
    """Notify types among the unencrypted payloads of an IKE message (as far as captured)."""
    h = ike_header(msg)
    if not h:
        return []
    nxt, off, out = h[5], 28, []
    while nxt and off + 4 <= len(msg):
        plen = struct.unpack("!H", msg[off + 2:off + 4])[0]
        if nxt == 41 and off + 8 <= len(msg):  # Notify: protocol, SPI size, type
            out.append(struct.unpack("!H", msg[off + 6:off + 8])[0])
        if plen < 4:
            break
        nxt, off = msg[off], off + plen
    return out
