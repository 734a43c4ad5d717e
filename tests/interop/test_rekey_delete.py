"""Scenario 3: CHILD_SA rekeys started by either side and IKE SA rekeys
started by either side while sequence-numbered UDP flows both ways at
200 packets/s: not one packet lost; then DELETE from either side removes
the SAs from the gateway (gwctl show sa) and from strongSwan."""
import time

import swanlab as sl


def ike_spis(a):
    return sorted((ike.get("initiator-spi"), ike.get("responder-spi")) for _, ike in a.ike_sa_list())


def wait_ike_rekeyed(lab, before, who):
    a = lab.swan_a

    def rekeyed():
        now = ike_spis(a)
        return now if len(now) == 1 and now != before and a.list_sas()["gw"].get("state") == "ESTABLISHED" else None
    try:
        return sl.wait_for("the IKE SA rekey started by %s" % who, rekeyed, 15, 0.2)
    except sl.Fail as e:
        raise sl.Fail("%s: charon A has %s\ncharon A log tail:\n%s\nipsecgw log tail:\n%s"
                      % (e, ike_spis(a), a.log_tail(), lab.gw.log_tail()))


def test(binary, gwctl):
    with sl.Lab("rekey", binary=binary, gwctl=gwctl) as lab:
        gw = lab.gw
        gw.start_ike([sl.gw_conn(remote=lab.a_seen)], psks={sl.GW_CONN: sl.PSK})
        a = lab.start_swan_a(sl.swanctl_file([sl.swanctl_conn(local_addrs=lab.a_addr)]))
        a.initiate()
        spi_in, spi_out = sl.spis_agree(lab)
        seen_in, seen_out = {spi_in}, {spi_out}

        wire = lab.capture("rekey")
        fwd = lab.udp_stream("rekey-fwd", forward=True, port=5001, count=3000, rate=200)
        rev = lab.udp_stream("rekey-rev", forward=False, port=5002, count=3000, rate=200)
        time.sleep(1)
        for who, action in (("strongSwan", lambda: a.swanctl("--rekey", "--child", "net")),
                            ("the gateway", lambda: gw.ctl("ike", "rekey", sl.GW_CONN))):
            action()
            spi_in, spi_out = gw.wait_child(exclude_in=seen_in)
            sl.check(spi_out not in seen_out, "CHILD_SA rekey by %s kept the outbound SPI 0x%08x" % (who, spi_out))
            sl.spis_agree(lab)
            seen_in.add(spi_in)
            seen_out.add(spi_out)
            sl.log("CHILD_SA rekeyed by %s: in 0x%08x out 0x%08x" % (who, spi_in, spi_out))
            time.sleep(1)
        for who, action in (("strongSwan", lambda: a.swanctl("--rekey", "--ike", "gw")),
                            ("the gateway", lambda: gw.ctl("ike", "rekey", sl.GW_CONN, "--ike"))):
            before = ike_spis(a)
            action()
            after = wait_ike_rekeyed(lab, before, who)
            sl.check(sl.spis_agree(lab) == (spi_in, spi_out), "the IKE SA rekey by %s changed the CHILD_SA" % who)
            sl.wait_for("gwctl show ike to list one ESTABLISHED IKE SA after the rekey by %s" % who,
                        lambda: len(gw.established()) == 1, 10, 0.2)
            sl.log("IKE SA rekeyed by %s: %s -> %s" % (who, before, after))
            time.sleep(1)
        sl.check(fwd.sending() and rev.sending(),
                 "the rekeys took longer than the 15 s UDP streams: the zero-loss check would not cover them")
        sl.check_stream("UDP A -> P across 4 rekeys", fwd.result(40))
        sl.check_stream("UDP P -> A across 4 rekeys", rev.result(30))
        w = wire.stop()
        sl.check_wire(w, min_each_way=3000)
        on_wire = {(src == sl.GW_PUB, spi) for (src, spi) in w["esp_spis"]}
        want = {(False, s) for s in seen_in} | {(True, s) for s in seen_out}
        sl.check(on_wire == want, "ESP SPIs on the wire %s, expected the three generations %s"
                 % (sorted(on_wire), sorted(want)))

        # DELETE from strongSwan, then from the gateway
        a.swanctl("--terminate", "--ike", "gw")
        gw.wait_no_sas()
        sl.wait_for("gwctl show ike to drop the IKE SA", lambda: not gw.established(), 10, 0.2)
        sl.log("DELETE from strongSwan removed the gateway's SAs")
        a.initiate()
        sl.spis_agree(lab)
        gw.ctl("ike", "terminate", sl.GW_CONN)
        gw.wait_no_sas()
        sl.wait_for("charon A to drop the IKE SA after the gateway's DELETE", lambda: not a.ike_sa_list(), 10, 0.2)
        sl.check(not gw.established(), "gwctl show ike still lists the IKE SA: %s" % gw.ike_sas())
        sl.log("DELETE from the gateway removed the SAs on both sides")


if __name__ == "__main__":
    sl.main(test)
