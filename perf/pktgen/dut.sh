#!/bin/bash
# Start ipsecgw as the device under test for pktgen-DPDK on real NICs.
# NOT run by the lab (it binds real PCI devices); see perf/pktgen/README.md.
#
# usage: perf/pktgen/dut.sh --pci0 BDF --pci1 BDF --peer-mac0 MAC --peer-mac1 MAC
#                           [--workers N] [--first-lcore 1] [--key-bits 128|256]
#                           [--site a|b] [--mtu 1600] [--ipsecgw BIN] [--dry-run]
#                           [--cfg-only FILE]   (write the cfg file and stop)
#   --pci0       DUT port 0: protected (plaintext) side, cabled to pktgen port 0
#   --pci1       DUT port 1: unprotected (ESP) side, cabled to pktgen port 1
#   --peer-mac0  MAC of pktgen port 0 (decrypted traffic is sent to it)
#   --peer-mac1  MAC of pktgen port 1 (ESP is sent to it)
#   --workers    worker lcores; each gets one RX queue on each port
#   --site       a (default): port 0 plaintext -> SPI 5 out, SPI 105 in.
#                b: the mirror image, for two DUTs back to back (A.port1 <-> B.port1,
#                pktgen on both plaintext sides; latency through both).
#   --mtu        port MTU (default 1600: IMIX's 1518-byte frames grow by 56-60
#                bytes of ESP; the peer ports need to accept such frames too)
# The SAs, keys, addresses and SPIs are the lab's (perf/lab/lab.py): the ESP
# pcaps made by perf/pktgen/make_pcaps.sh decrypt here. The key file is written
# 0600 under a private temporary directory.
set -eu
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$ROOT/build/dataplane/ipsecgw; W=1; L0=1; BITS=128; DRY=0; P0=; P1=; M0=; M1=; SITE=a; MTU=1600; CFGOUT=
while [ $# -gt 0 ]; do
  case $1 in
    --pci0) P0=$2; shift 2;; --pci1) P1=$2; shift 2;;
    --peer-mac0) M0=$2; shift 2;; --peer-mac1) M1=$2; shift 2;;
    --workers) W=$2; shift 2;; --first-lcore) L0=$2; shift 2;;
    --key-bits) BITS=$2; shift 2;; --ipsecgw) BIN=$2; shift 2;;
    --site) SITE=$2; shift 2;; --mtu) MTU=$2; shift 2;;
    --dry-run) DRY=1; shift;;
    --cfg-only) CFGOUT=$2; shift 2;;
    *) echo "dut.sh: unknown option $1" >&2; exit 2;;
  esac
done
[ -n "$P0" ] && [ -n "$P1" ] && [ -n "$M0" ] && [ -n "$M1" ] || { sed -n '2,17p' "$0"; exit 2; }
if [ "$BITS" = 256 ]; then
  KEY=603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4; ALGO=aes-256-gcm
else
  KEY=2b7e151628aed2a6abf7158809cf4f3c; ALGO=aes-128-gcm
fi
K=$(echo "${KEY}deadbeef" | sed 's/../&:/g; s/:$//')
D=$(mktemp -d /tmp/ipsecgw-dut.XXXXXX); chmod 700 "$D"
umask 077
if [ "$SITE" = a ]; then
cat > "$D/dut.cfg" <<CFG
sp ipv4 out esp protect 5 pri 1 dst 192.168.105.0/24 sport 0:65535 dport 0:65535
sp ipv4 in esp protect 105 pri 1 dst 192.168.115.0/24 sport 0:65535 dport 0:65535
sa out 5 aead_algo $ALGO aead_key $K mode ipv4-tunnel src 172.16.1.5 dst 172.16.2.5 type cpu-crypto
sa in 105 aead_algo $ALGO aead_key $K mode ipv4-tunnel src 172.16.2.5 dst 172.16.1.5 type cpu-crypto
rt ipv4 dst 172.16.2.5/32 port 1
rt ipv4 dst 192.168.115.0/24 port 0
neigh port 0 $M0
neigh port 1 $M1
CFG
else
cat > "$D/dut.cfg" <<CFG
sp ipv4 out esp protect 105 pri 1 dst 192.168.115.0/24 sport 0:65535 dport 0:65535
sp ipv4 in esp protect 5 pri 1 dst 192.168.105.0/24 sport 0:65535 dport 0:65535
sa out 105 aead_algo $ALGO aead_key $K mode ipv4-tunnel src 172.16.2.5 dst 172.16.1.5 type cpu-crypto
sa in 5 aead_algo $ALGO aead_key $K mode ipv4-tunnel src 172.16.1.5 dst 172.16.2.5 type cpu-crypto
rt ipv4 dst 172.16.1.5/32 port 1
rt ipv4 dst 192.168.105.0/24 port 0
neigh port 0 $M0
neigh port 1 $M1
CFG
fi
if [ -n "$CFGOUT" ]; then cp "$D/dut.cfg" "$CFGOUT"; rm -rf "$D"; exit 0; fi
LC=""; CONF=""
for ((i = 0; i < W; i++)); do
  l=$((L0 + i)); LC="$LC${LC:+,}$l"
  CONF="$CONF${CONF:+,}(0,$i,$l),(1,$i,$l)"
done
# Main lcore 0 does control work; workers on LC. -P: pktgen's ESP pcaps and
# plaintext may carry a destination MAC that is not the port's.
CMD=("$BIN" -l "0,$LC" -n 4 -a "$P0" -a "$P1" --file-prefix ipsecgw-dut -- -P -p 0x3 -u 0x2
     --config "$CONF" -f "$D/dut.cfg" --mtu "$MTU" -t 5)
echo "${CMD[*]}"
[ "$DRY" = 1 ] && { rm -rf "$D"; exit 0; }
trap 'rm -rf "$D"' EXIT
"${CMD[@]}"
