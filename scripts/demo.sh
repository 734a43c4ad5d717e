#!/bin/bash
# The demo a new user runs first: no NIC needed, everything on built-in
# virtual devices. Installs dependencies and builds when needed.
#
# usage: scripts/demo.sh
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
build=$("$ROOT/scripts/build.sh")
echo "== Site-to-site: two gateways (config/site-a.conf, config/site-b.conf) over net_memif"
/usr/bin/python3 "$ROOT/scripts/site_to_site_demo.py" "$build/dataplane/ipsecgw"
echo
echo "== ESP engine on sample packets, checked by scapy"
/usr/bin/python3 "$ROOT/scripts/esp_demo.py" "$build/tests/esp/esp_tool"
echo
echo "== ESP engine speed beside raw IPsec-MB AES-GCM (one core, 0.3 s per cell)"
"$build/perf/esp_bench" --seconds 0.3 --path direct --sizes 64,1420
