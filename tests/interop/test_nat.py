"""Scenario 4: a source NAT between strongSwan and the gateway. Both ends
detect it, ESP flows on UDP 4500 through the NAT's port mapping."""
import json

import swanlab as sl


def test(binary, gwctl):
    with sl.Lab("nat", nat=True, binary=binary, gwctl=gwctl) as lab:
        gw = lab.gw
        gw.start_ike([sl.gw_conn(remote="any")], psks={sl.GW_CONN: sl.PSK})
        a = lab.start_swan_a(sl.swanctl_file([sl.swanctl_conn(local_addrs=lab.a_addr)]))
        outside = lab.capture("outside", ns=lab.ns_n, iface="nB")
        a.initiate()
        ike = a.list_sas()["gw"]
        sl.check(ike.get("nat-local") == "yes", "charon A did not detect that it is behind a NAT: %s" % ike)
        est = gw.established()
        sl.check(len(est) == 1, "gwctl show ike: no ESTABLISHED IKE SA: %s" % gw.ike_sas())
        nat = [(k, v) for k, v in sl.find_values(est[0], r"(?i)^nat") if v not in (False, None, 0, "", "no", "none")]
        sl.check(nat, "gwctl show ike reports no NAT for the peer: %s" % est[0])
        sl.check("10.99.0.254" in json.dumps(est[0]),
                 "gwctl show ike does not show the peer at the NAT's address 10.99.0.254: %s" % est[0])
        sl.log("NAT seen by charon A (nat-local=yes) and by the gateway %s" % nat)
        sl.check_tunnel(lab)
        o = outside.stop()
        sl.check(not o["plaintext"], "plaintext outside the NAT: %s" % o["plaintext"][:5])
        from_gw = {(s, sp, d, dp) for (s, sp, d, dp) in o["esp_ports"] if s == sl.GW_PUB}
        to_gw = {(s, sp, d, dp) for (s, sp, d, dp) in o["esp_ports"] if d == sl.GW_PUB}
        sl.check(from_gw and all(sp == 4500 and d == "10.99.0.254" and 30000 <= dp <= 30099
                                 for s, sp, d, dp in from_gw),
                 "the gateway's ESP must go from port 4500 to the NAT's mapped port: %s" % from_gw)
        sl.check(to_gw and all(dp == 4500 and s == "10.99.0.254" for s, sp, d, dp in to_gw),
                 "ESP to the gateway must come from the NAT to port 4500: %s" % to_gw)
        sl.log("outside the NAT: ESP %s / %s" % (sorted(from_gw), sorted(to_gw)))


if __name__ == "__main__":
    sl.main(test, nat=True)
