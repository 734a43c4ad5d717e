"""Test certificates made with the openssl CLI: a self-signed CA and
end-entity certificates with a subjectAltName dNS identity, RSA or ECDSA
(P-256). Private keys are PKCS#8 PEM files of mode 0600."""
import os
import subprocess


def _openssl(*args, cwd):
    r = subprocess.run(["openssl"] + list(args), cwd=cwd, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        raise AssertionError("openssl %s failed:\n%s" % (" ".join(args), r.stderr))


def _newkey(kind):
    return ["-newkey", "rsa:2048"] if kind == "rsa" else ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256"]


def make_ca(d, name, kind):
    """d/NAME.crt and d/NAME.key: a CA valid for two days."""
    os.makedirs(d, exist_ok=True)
    old = os.umask(0o077)
    try:
        _openssl("req", "-x509", *_newkey(kind), "-nodes", "-keyout", name + ".key", "-out", name + ".crt",
                 "-days", "2", "-subj", "/O=ipsecgw interop/CN=%s" % name,
                 "-addext", "basicConstraints=critical,CA:TRUE",
                 "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    finally:
        os.umask(old)
    return os.path.join(d, name + ".crt"), os.path.join(d, name + ".key")


def make_ee(d, name, dns, kind, ca):
    """d/NAME.crt (issued by ca = (crt, key)) and d/NAME.key, SAN DNS:dns."""
    old = os.umask(0o077)
    try:
        _openssl("req", "-new", *_newkey(kind), "-nodes", "-keyout", name + ".key", "-out", name + ".csr",
                 "-subj", "/O=ipsecgw interop/CN=%s" % dns, cwd=d)
        with open(os.path.join(d, name + ".ext"), "w") as f:
            f.write("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                    "subjectAltName=DNS:%s\n" % dns)
        _openssl("x509", "-req", "-in", name + ".csr", "-CA", ca[0], "-CAkey", ca[1], "-CAcreateserial",
                 "-days", "2", "-sha256", "-extfile", name + ".ext", "-out", name + ".crt", cwd=d)
    finally:
        os.umask(old)
    return os.path.join(d, name + ".crt"), os.path.join(d, name + ".key")
