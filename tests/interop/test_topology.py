"""The lab itself, without IKE in ipsecgw: (1) strongSwan A against a second
charon in the gateway's namespace: IKE_SA and CHILD_SA up, ESP-in-UDP on the
wire and nothing in clear, ping and UDP streams both ways; (2) ipsecgw on
net_af_packet ports with `default-policy bypass`: it answers ARP, uses the
static neighbours and forwards plain pings and UDP both ways."""
import swanlab as sl


def charon_pair(binary, gwctl):
    with sl.Lab("charon-pair", peer="charon") as lab:
        a = lab.start_swan_a(sl.swanctl_file([sl.swanctl_conn(local_addrs=lab.a_addr)]))
        lab.start_swan_b(sl.swanctl_file([sl.swanctl_conn(
            local_addrs=sl.GW_PUB, remote_addrs=lab.a_addr, local_id=sl.ID_B, remote_id=sl.ID_A,
            local_ts=sl.P_PRIV, remote_ts=sl.A_PRIV)]))
        wire = lab.capture()
        a.initiate()
        for side in (lab.swan_a, lab.swan_b):
            children = side.child_sas()
            sl.check(len(children) == 1 and children[0].get("state") == "INSTALLED"
                     and children[0].get("encap") == "yes",
                     "charon %s: expected one INSTALLED CHILD_SA in UDP: %s" % (side.side, children))
        sl.ping(lab.ns_a, sl.P_PRIV_ADDR, src=sl.A_PRIV_ADDR)
        sl.ping(lab.ns_g, sl.A_PRIV_ADDR, src=sl.P_PRIV_ADDR)
        fwd = sl.UdpStream(lab, "fwd", lab.ns_a, lab.ns_g, sl.P_PRIV_ADDR, 5001, 200, 200, src=sl.A_PRIV_ADDR)
        rev = sl.UdpStream(lab, "rev", lab.ns_g, lab.ns_a, sl.A_PRIV_ADDR, 5002, 200, 200, src=sl.P_PRIV_ADDR)
        sl.check_stream("A -> B", fwd.result(30))
        sl.check_stream("B -> A", rev.result(30))
        w = wire.stop()
        to_b, from_b = sl.check_wire(w, min_each_way=200)
        sl.log("charon pair: %d ESP packets to B, %d from B, %d IKE" % (to_b, from_b, w["ike"]))


def gateway_bypass(binary, gwctl):
    with sl.Lab("bypass", binary=binary, gwctl=gwctl) as lab:
        gw = lab.gw
        gw.start("default-policy bypass\n" + gw.base_config())
        # A reaches P's network through the gateway, in clear
        sl.run(["ip", "-n", lab.ns_a, "route", "add", sl.P_PRIV, "via", sl.GW_PUB, "src", sl.A_PRIV_ADDR])
        wire = lab.capture()
        sl.ping(lab.ns_a, sl.P_PRIV_ADDR, src=sl.A_PRIV_ADDR)
        sl.ping(lab.ns_p, sl.A_PRIV_ADDR)
        fwd = lab.udp_stream("fwd", forward=True, port=5001)
        rev = lab.udp_stream("rev", forward=False, port=5002)
        sl.check_stream("A -> P", fwd.result(30))
        sl.check_stream("P -> A", rev.result(30))
        w = wire.stop()
        sl.check(len(w["plaintext"]) >= 400 + 12, "expected the clear traffic on vethA, saw %d packets"
                 % len(w["plaintext"]))
        stats = gw.stats()
        sl.log("bypass: %d packets on vethA; gateway drops %s" % (w["packets"], stats.get("drops")))
        sl.check(not stats.get("drops"), "the gateway dropped packets: %s" % stats.get("drops"))
        sl.check(gw.stop() == 0, "ipsecgw did not exit cleanly")


def test(binary, gwctl):
    charon_pair(binary, gwctl)
    gateway_bypass(binary, gwctl)


if __name__ == "__main__":
    sl.main(test)
