#!/bin/bash
# ipsecgw performance lab: the whole benchmark matrix on one machine.
# usage: perf/lab/run.sh [--quick] [--ipsecgw BIN] [--out DIR] [more: --help]
# Writes DIR/table.md, DIR/results.json, DIR/*.png and DIR/logs/ (default
# DIR: perf/results/<time>, git-ignored). Needs root (hugepages, DPDK runtime dirs) and
# the Debian packages dpdk-dev (dpdk-testpmd, dpdk-telemetry), dpdk-doc
# (ipsec-secgw sources), libintel-ipsec-mb-dev, python3-scapy and
# python3-matplotlib. Only virtual devices (--no-pci).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
for t in dpdk-testpmd pkg-config cc taskset timeout; do
  command -v "$t" >/dev/null || { echo "run.sh: $t missing (apt install dpdk-dev pkg-config gcc)" >&2; exit 1; }
done
exec /usr/bin/python3 "$HERE/lab.py" "$@"
