#!/bin/bash
# ESP (and plaintext) pcaps for pktgen-DPDK's pcap replay (-s P:FILE), made by
# scapy with the keys of perf/pktgen/dut.sh, one pair per frame size.
# usage: perf/pktgen/make_pcaps.sh OUTDIR [--key-bits 128|256] [--dut-mac0 MAC --dut-mac1 MAC]
#                                  [--sizes "64 128 256 512 1024 1420 imix"]
# With the DUT's MACs the frames are addressed to its ports (no -P needed).
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$1; shift; BITS=128; M0=02:00:00:00:00:02; M1=02:00:00:00:00:04
SIZES="64 128 256 512 1024 1420 imix"
while [ $# -gt 0 ]; do
  case $1 in
    --key-bits) BITS=$2; shift 2;; --dut-mac0) M0=$2; shift 2;; --dut-mac1) M1=$2; shift 2;;
    --sizes) SIZES=$2; shift 2;;
    *) echo "make_pcaps.sh: unknown option $1" >&2; exit 2;;
  esac
done
if [ "$BITS" = 256 ]; then KEY=603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4
else KEY=2b7e151628aed2a6abf7158809cf4f3c; fi
mkdir -p "$OUT"
for S in $SIZES; do
  /usr/bin/python3 "$HERE/../lab/gen_traffic.py" "$S" "$OUT/plain_$S.pcap" "$OUT/esp_${S}_$BITS.pcap" \
     --key "${KEY}deadbeef" --plain-dst-mac "$M0" --esp-dst-mac "$M1"
  echo "$OUT/plain_$S.pcap $OUT/esp_${S}_$BITS.pcap"
done
