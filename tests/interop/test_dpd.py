"""Scenario 5: dead peer detection. The gateway's connection has `dpd 2`;
charon A is killed (no DELETE); the gateway's liveness checks go
unanswered and it removes the IKE SA and its CHILD_SAs within dpd + its
retransmission budget (1+2+4+8+16 s with the engine's default policy)."""
import time

import swanlab as sl

DPD = 2
BUDGET = DPD + 31 + 15  # interval, retransmissions, slack for a loaded 2-core machine


def test(binary, gwctl):
    with sl.Lab("dpd", binary=binary, gwctl=gwctl) as lab:
        gw = lab.gw
        gw.start_ike([sl.gw_conn(remote=lab.a_seen, dpd=DPD)], psks={sl.GW_CONN: sl.PSK})
        a = lab.start_swan_a(sl.swanctl_file([sl.swanctl_conn(local_addrs=lab.a_addr)]))
        a.initiate()
        sl.spis_agree(lab)
        sl.ping(lab.ns_a, sl.P_PRIV_ADDR, src=sl.A_PRIV_ADDR)
        wire = lab.capture("dpd")
        a.proc.kill()
        t0 = time.monotonic()
        sl.log("charon A killed")

        def gone():
            return not gw.sas() and not gw.established()
        try:
            sl.wait_for("the gateway to clear the dead peer's SAs", gone, BUDGET, 0.5)
        except sl.Fail as e:
            raise sl.Fail("%s: show sa %s, show ike %s\nipsecgw log tail:\n%s"
                          % (e, gw.sas(), gw.ike_sas(), gw.log_tail()))
        took = time.monotonic() - t0
        w = wire.stop()
        probes = [m for m in w["ike_msgs"] if m[0] == sl.GW_PUB]
        sl.log("gateway cleared the SAs %.1f s after the kill, after %d unanswered IKE requests"
               % (took, len(probes)))
        sl.check(len(probes) >= 2, "expected the gateway's liveness check and its retransmissions on the "
                 "wire, saw %d IKE messages from it" % len(probes))
        sl.check(all(sl.ike_header(m[4]) and not sl.ike_header(m[4])[3] for m in probes),
                 "the gateway sent IKE responses to a dead peer")


if __name__ == "__main__":
    sl.main(test)
