#!/bin/bash
# Run perf/pktgen/ipsecgw.lua against a mock of pktgen's Lua API (lua5.4, a
# Debian package) to catch API misuse and check the search converges: the
# mock DUT forwards up to 5 Mpps on 10 Gb/s links, so the loss-free rate at
# 64+4-byte frames must come out near 5 Mpps (33.6 % of 14.88 Mpps).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
command -v lua5.4 >/dev/null || { echo "selftest: apt install lua5.4" >&2; exit 1; }
OUT=$(mktemp -d /tmp/pktgen-selftest.XXXXXX); trap 'rm -rf "$OUT"' EXIT
run() { # DIR [ENV...]
  env IPSECGW_TRIAL_MS=1000 IPSECGW_OUT="$OUT/r.csv" IPSECGW_DUT_MAC=02:00:00:00:00:02 IPSECGW_DIR="$1" "${@:2}" \
    lua5.4 -e "dofile('$HERE/mock_pktgen.lua')" "$HERE/../ipsecgw.lua"
}
run out IPSECGW_SIZES=68 IPSECGW_LATENCY=1 | tee "$OUT/out.txt"
run in | tee "$OUT/in.txt"
run loop IPSECGW_SIZES=68,1424 IPSECGW_LATENCY=1 > "$OUT/loop.txt"
grep -q "loss-free 3[0-9]\.[0-9]*% of 10 Gb/s = [45]\.[0-9]* Mpps" "$OUT/out.txt" \
  || { echo "selftest: outbound search did not converge near 5 Mpps" >&2; exit 1; }
grep -q "latency at 90% of loss-free" "$OUT/out.txt" || { echo "selftest: no latency lines" >&2; exit 1; }
grep -q "size pcap: loss-free" "$OUT/in.txt" || { echo "selftest: inbound search failed" >&2; exit 1; }
grep -q "size 1424: loss-free 100" "$OUT/loop.txt" || { echo "selftest: 1424-byte frames should pass at line rate" >&2; exit 1; }
echo "selftest: ok"
