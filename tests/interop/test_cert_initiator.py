"""Scenario 2: ipsecgw initiates, strongSwan responds; X.509 certificates
made here with the openssl CLI (CAs and end-entity certificates with SAN dNS
identities). Two rounds so that each side signs with RSA once and with ECDSA
once: gateway RSA / strongSwan ECDSA started by `start initiate`, then gateway
ECDSA / strongSwan RSA started by `gwctl ike initiate`."""
import os
import re
import shutil

import pki
import swanlab as sl


def round_(binary, gwctl, gw_kind, a_kind, how):
    with sl.Lab("cert-%s-%s" % (gw_kind, a_kind), binary=binary, gwctl=gwctl) as lab:
        d = os.path.join(lab.work, "pki")
        cas = {k: pki.make_ca(d, "ca-" + k, k) for k in ("rsa", "ecdsa")}
        gw_crt, gw_key = pki.make_ee(d, "gw-b", sl.ID_B, gw_kind, cas[gw_kind])
        a_crt, a_key = pki.make_ee(d, "gw-a", sl.ID_A, a_kind, cas[a_kind])
        lab.secret_files += [gw_key, a_key] + [c[1] for c in cas.values()]
        # strongSwan A: its own certificate and key, both CAs as trust anchors
        a_dir = os.path.join(lab.work, "A")
        os.makedirs(os.path.join(a_dir, "private"), exist_ok=True)
        for sub in ("x509", "x509ca"):
            os.makedirs(os.path.join(a_dir, sub), exist_ok=True)
        shutil.copy(a_crt, os.path.join(a_dir, "x509"))
        shutil.copy(a_key, os.path.join(a_dir, "private"))
        for crt, _ in cas.values():
            shutil.copy(crt, os.path.join(a_dir, "x509ca"))
        a = lab.start_swan_a(sl.swanctl_file([sl.swanctl_conn(
            local_addrs=lab.a_addr, auth="pubkey", local_certs="gw-a.crt")], psk=None))

        auth = "auth pubkey cert %s key %s ca %s,%s" % (gw_crt, gw_key, cas["rsa"][0], cas["ecdsa"][0])
        start = "initiate" if how == "start" else "none"
        lab.gw.start_ike([sl.gw_conn(remote=lab.a_seen, auth=auth, start=start)])
        if how == "gwctl":
            lab.gw.ctl("ike", "initiate", sl.GW_CONN)

        def installed():
            return [c for c in a.child_sas() if c.get("state") == "INSTALLED"]
        try:
            sl.wait_for("the gateway to establish the tunnel with charon A", installed, 20, 0.2)
        except sl.Fail as e:
            raise sl.Fail("%s\ncharon A log tail:\n%s\nipsecgw log tail:\n%s\nshow ike: %s"
                          % (e, a.log_tail(), lab.gw.log_tail(), lab.gw.ctl("show", "ike", check_rc=False)))
        ike = a.list_sas()["gw"]
        sl.check(ike.get("initiator") != "yes", "charon A initiated, not the gateway: %s" % ike)
        m = re.search(r"authentication of '%s' with (\S+) successful" % re.escape(sl.ID_B), a.log_text())
        sl.check(m, "charon A's log does not show the gateway's certificate authentication")
        want = "ECDSA" if gw_kind == "ecdsa" else "RSA"
        sl.check(m.group(1).startswith(want), "the gateway signed with %s, expected %s" % (m.group(1), want))
        sl.log("gateway authenticated to strongSwan with %s (%s key); strongSwan used %s"
               % (m.group(1), gw_kind, a_kind))
        sl.check(len(lab.gw.established()) == 1, "gwctl show ike: no ESTABLISHED IKE SA: %s" % lab.gw.ike_sas())
        sl.check_tunnel(lab)


def test(binary, gwctl):
    round_(binary, gwctl, "rsa", "ecdsa", "start")
    round_(binary, gwctl, "ecdsa", "rsa", "gwctl")


if __name__ == "__main__":
    sl.main(test)
