"""A flood of IKE_SA_INIT from spoofed sources: the gateway starts demanding
COOKIEs (seen on the wire and in gwctl), a legitimate strongSwan peer still
connects (answering the cookie challenge), and ESP keeps flowing through an
established tunnel during the flood without losing a packet."""
import os

import swanlab as sl

FLOOD = 300


def cookie_replies(w, dst_filter):
    n = 0
    for src, sport, dst, dport, msg in w["ike_msgs"]:
        h = sl.ike_header(msg)
        if src == sl.GW_PUB and dst_filter(dst) and h and h[2] == sl.IKE_SA_INIT and h[3] \
                and sl.NOTIFY_COOKIE in sl.ike_notify_types(msg):
            n += 1
    return n


def test(binary, gwctl):
    with sl.Lab("cookie", binary=binary, gwctl=gwctl) as lab:
        gw = lab.gw
        # `remote any`: every spoofed request matches and becomes a half-open SA;
        # replies to the spoofed sources go back towards A (and die there)
        gw.start_ike([sl.gw_conn(remote="any")], psks={sl.GW_CONN: sl.PSK},
                     extra="route 198.18.0.0/15 port 1 via %s\n" % lab.a_seen)
        a = lab.start_swan_a(sl.swanctl_file([sl.swanctl_conn(local_addrs=lab.a_addr)]))
        a.initiate()
        sl.spis_agree(lab)

        wire = lab.capture("flood")
        fwd = lab.udp_stream("flood-fwd", forward=True, port=5001, count=1000, rate=200)
        gw_mac = lab.mac(lab.ns_g, "vethB")
        flood = lab.spawn("ike-flood", ["/usr/bin/python3", os.path.join(sl.HERE, "ike_flood.py"), "vethA",
                                        gw_mac, sl.GW_PUB, str(FLOOD), "500"],
                          lab.ns_a, os.path.join(lab.work, "flood.log"))
        sl.wait_for("the flood to be sent", lambda: not flood.alive(), 30, 0.2)
        sl.check(flood.p.returncode == 0, "ike_flood.py failed:\n" + flood.tail())
        sl.check_stream("UDP A -> P during the flood", fwd.result(30))

        ike = gw.ctl("show", "ike")
        stats = gw.stats()
        counters = [(k, v) for k, v in sl.find_values([ike, stats], r"(?i)cookie|half.?open")
                    if isinstance(v, int) and v > 0]
        sl.check(counters, "gwctl show ike / show stats report no half-open SAs or cookie demands: %s %s"
                 % (ike, stats))
        sl.log("gateway reports %s" % counters)

        # the legitimate peer reconnects while the half-open SAs are still there
        a.swanctl("--terminate", "--ike", "gw")
        lab.gw.wait_no_sas()
        a.initiate()
        sl.spis_agree(lab)
        sl.ping(lab.ns_a, sl.P_PRIV_ADDR, src=sl.A_PRIV_ADDR)
        w = wire.stop()
        spoofed = cookie_replies(w, lambda d: d.startswith("198.18."))
        legit = cookie_replies(w, lambda d: d == lab.a_seen)
        sl.log("COOKIE demands on the wire: %d to spoofed sources, %d to charon A" % (spoofed, legit))
        sl.check(spoofed > 0, "the gateway never demanded a COOKIE during a flood of %d IKE_SA_INIT" % FLOOD)
        sl.check(legit > 0, "charon A's reconnection was not asked for a COOKIE (half-open SAs: %s)" % counters)
        sl.check(not w["plaintext"], "plaintext on the wire: %s" % w["plaintext"][:5])


if __name__ == "__main__":
    sl.main(test)
