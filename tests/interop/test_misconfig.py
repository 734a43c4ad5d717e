"""Scenario 6: misconfigurations fail clearly on both sides: wrong PSK
(AUTHENTICATION_FAILED), no common IKE proposal (NO_PROPOSAL_CHOSEN: A
offers only MODP-2048, the gateway only ECP-256), traffic selectors the
gateway does not allow (TS_UNACCEPTABLE). charon's log and the gateway's
`gwctl show ike` name the error; no SA is installed. Finally the right
configuration still connects."""
import swanlab as sl

CASES = [
    # name, charon A's connection and secret, error notify, charon's log line
    ("wrong PSK", sl.swanctl_file([sl.swanctl_conn(local_addrs="%(a)s")], psk="not-the-gateways-psk-0000"),
     "AUTHENTICATION_FAILED", "received AUTHENTICATION_FAILED notify error"),
    ("no proposal chosen", sl.swanctl_file([sl.swanctl_conn(local_addrs="%(a)s",
                                                             proposals="aes128gcm16-prfsha256-modp2048")]),
     "NO_PROPOSAL_CHOSEN", "received NO_PROPOSAL_CHOSEN notify error"),
    ("traffic selectors unacceptable", sl.swanctl_file([sl.swanctl_conn(local_addrs="%(a)s",
                                                                         local_ts="192.168.11.0/24")]),
     "TS_UNACCEPTABLE", "received TS_UNACCEPTABLE notify"),
]


def test(binary, gwctl):
    with sl.Lab("misconfig", binary=binary, gwctl=gwctl) as lab:
        gw = lab.gw
        gw.start_ike([sl.gw_conn(remote=lab.a_seen)], psks={sl.GW_CONN: sl.PSK})
        a = None
        for name, conf, notify, charon_line in CASES:
            conf = conf.replace("%(a)s", lab.a_addr)
            if a is None:
                a = lab.start_swan_a(conf)
            else:
                a.reload(conf)
            log_before = len(a.log_text())
            r = a.initiate(check_rc=False)
            sl.check(r.returncode != 0, "%s: swanctl --initiate succeeded:\n%s" % (name, r.stdout[-1500:]))
            sl.check(charon_line in a.log_text()[log_before:],
                     "%s: charon A's log lacks '%s':\n%s" % (name, charon_line, a.log_tail()))
            ike = gw.ctl("show", "ike")
            sl.check(notify in sl.upper_words(ike),
                     "%s: gwctl show ike does not name %s as the last error: %s\nipsecgw log tail:\n%s"
                     % (name, notify, ike, gw.log_tail()))
            sl.check(not gw.sas(), "%s: the gateway installed SAs: %s" % (name, gw.sas()))
            sl.log("%s: charon says '%s', gwctl names %s" % (name, charon_line, notify))
            a.swanctl("--terminate", "--ike", "gw", "--force", check_rc=False)  # the TS case leaves the IKE SA up
        a.reload(sl.swanctl_file([sl.swanctl_conn(local_addrs=lab.a_addr)]))
        a.initiate()
        sl.spis_agree(lab)
        sl.ping(lab.ns_a, sl.P_PRIV_ADDR, src=sl.A_PRIV_ADDR)


if __name__ == "__main__":
    sl.main(test)
