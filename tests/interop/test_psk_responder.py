"""Scenario 1: ipsecgw responds, strongSwan initiates; PSK, AES-GCM-128 for
IKE and ESP, ECP-256. Ping and sequence-numbered UDP both ways; only
ESP-in-UDP with the negotiated SPIs on the wire."""
import swanlab as sl


def test(binary, gwctl):
    with sl.Lab("psk-responder", binary=binary, gwctl=gwctl) as lab:
        lab.gw.start_ike([sl.gw_conn(remote=lab.a_seen)], psks={sl.GW_CONN: sl.PSK})
        a = lab.start_swan_a(sl.swanctl_file([sl.swanctl_conn(local_addrs=lab.a_addr)]))
        r = a.initiate(check_rc=False)
        sl.check(r.returncode == 0, "strongSwan could not establish the tunnel with ipsecgw:\n%s\n"
                 "charon A log tail:\n%s\nipsecgw log tail:\n%s" % (r.stdout[-2000:], a.log_tail(), lab.gw.log_tail()))
        ike = a.list_sas()["gw"]
        sl.check(ike.get("encr-alg") == "AES_GCM_16" and ike.get("encr-keysize") == "128"
                 and ike.get("prf-alg") == "PRF_HMAC_SHA2_256" and ike.get("dh-group") == "ECP_256",
                 "unexpected IKE algorithms at charon A: %s" % ike)
        sl.check(len(lab.gw.established()) == 1, "gwctl show ike: no ESTABLISHED IKE SA for %s: %s"
                 % (sl.GW_CONN, lab.gw.ike_sas()))
        sl.check_tunnel(lab)


if __name__ == "__main__":
    sl.main(test)
