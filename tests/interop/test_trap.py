"""`start trap`: the gateway negotiates when traffic first needs a tunnel.
Nothing is up until a host behind the gateway sends to A's private network;
that packet hits the connection's ACQUIRE policy (dropped, counted as
`acquire`), the control core initiates towards strongSwan, and once the
CHILD_SA is installed the same traffic crosses as ESP-in-UDP."""
import swanlab as sl


def test(binary, gwctl):
    with sl.Lab("trap", binary=binary, gwctl=gwctl) as lab:
        gw = lab.gw
        gw.start_ike([sl.gw_conn(remote=lab.a_seen, start="trap")], psks={sl.GW_CONN: sl.PSK})
        a = lab.start_swan_a(sl.swanctl_file([sl.swanctl_conn(local_addrs=lab.a_addr)]))
        sl.check(not gw.established() and not gw.sas(), "SAs before any traffic: %s" % gw.sas())
        policies = gw.ctl("show", "policy")
        traps = [v for _, v in sl.find_values(policies, "^action$") if v == "acquire"]
        sl.check(traps, "no ACQUIRE policy installed for the trap connection: %s" % policies)
        # The first packets find no SA: they trigger the negotiation.
        sl.ping(lab.ns_p, sl.A_PRIV_ADDR, count=2, check_rc=False)
        sl.wait_for("the gateway to initiate and install a CHILD_SA", lambda: len(gw.sas()) == 2, 15, 0.2)
        sl.check(gw.drop("acquire") >= 1, "no packet was counted as acquire: %s" % gw.stats())
        ike = a.list_sas()["gw"]
        sl.check(ike.get("initiator") != "yes", "strongSwan initiated, not the gateway: %s" % ike)
        sl.log("acquire: %d packet(s) dropped while the gateway initiated" % gw.drop("acquire"))
        sl.check_tunnel(lab)


if __name__ == "__main__":
    sl.main(test)
