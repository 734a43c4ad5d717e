#!/bin/bash
# Regenerates tests/ike/data/strongswan_psk_gcm128.txt: a real IKEv2 exchange
# between two strongSwan charons (A initiates, B responds), with the secrets
# A's charon logs at "ike = 4" / "chd = 4", for interop_test.cpp.
#
# NOT run by the test suite (which reads the stored file and needs no
# namespaces). Needs root, the interop kit in /work/shared/interop/strongswan
# (or KIT=...), its packages (charon-systemd, swanctl, tcpdump) and python3.
#
# usage: tests/ike/capture_strongswan.sh [OUTPUT]
#   OUTPUT defaults to tests/ike/data/strongswan_psk_gcm128.txt
#
# What is captured on B's veth, in order (UDP 500, then 4500 with the
# non-ESP marker removed):
#   IKE_SA_INIT, IKE_AUTH (first CHILD_SA), CREATE_CHILD_SA (CHILD_SA rekey),
#   INFORMATIONAL (delete of the old CHILD_SA), CREATE_CHILD_SA (IKE_SA
#   rekey), INFORMATIONAL (delete of the old IKE_SA), then on the new IKE_SA
#   INFORMATIONAL deletes of the CHILD_SA and of the IKE_SA.
# Secrets kept (test-only; the PSK is the kit's): the PSK, and per IKE_SA in
# log order the DH shared secret, SKEYSEED and SK_d/ei/er/pi/pr; per CHILD_SA
# the ESP keys (AES-GCM key + salt). The DH private values are not logged by
# charon, so the tests start key derivation from the shared secret.
#
# Namespaces use the prefix "ikecap" (swanctl's SWAN_NS) so that the kit's
# own default set-up can run beside it; everything is torn down on exit.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
KIT=${KIT:-/work/shared/interop/strongswan}
OUT=${1:-$HERE/data/strongswan_psk_gcm128.txt}
PY=/usr/bin/python3
export SWAN_NS=${SWAN_NS:-ikecap}

W=$(mktemp -d "${TMPDIR:-/tmp}/swan.XXXXXX")
export SWAN_WORK=$W
TP=
cleanup() {
  [ -n "$TP" ] && kill -INT "$TP" 2>/dev/null && { timeout 5 tail --pid="$TP" -f /dev/null || kill -KILL "$TP" 2>/dev/null; }
  [ -f "$W/swan.env" ] && "$KIT/teardown.sh" "$W" >/dev/null 2>&1
  echo "logs kept in $W (rm -rf it when done)" >&2
}
trap cleanup EXIT

timeout 60 "$KIT/setup.sh" >/dev/null 2>"$W/setup.log" || { cat "$W/setup.log" >&2; exit 1; }
. "$W/swan.env"
UA="--uri unix://$W/A/charon.vici"

ip netns exec "$NS_B" timeout 120 tcpdump --immediate-mode -U -n -i vethB -w "$W/cap.pcap" udp \
  > "$W/tcpdump.log" 2>&1 < /dev/null &
TP=$!
for _ in $(seq 50); do grep -q listening "$W/tcpdump.log" && break; sleep 0.1; done

sw() { timeout 20 swanctl "$@" $UA > /dev/null; }
sw --initiate --child net
sw --rekey --child net
sleep 0.5
sw --rekey --ike gw
sleep 0.5
sw --terminate --child net
sw --terminate --ike gw
sleep 0.5
kill -INT "$TP"; timeout 5 tail --pid="$TP" -f /dev/null || true; TP=

"$PY" - "$W/cap.pcap" "$W/A/charon.log" "$OUT" <<'PY'
import re, struct, sys
pcap, log, out = sys.argv[1:]
lines = []
lines.append("# strongSwan 5.9.8 (charon-systemd, kernel-libipsec) A=10.99.0.1 initiator, B=10.99.0.2")
lines.append("# made by tests/ike/capture_strongswan.sh; TEST-ONLY secrets (kit PSK, throwaway keys)")
lines.append("# psk ASCII | msg SRC SPORT DST DPORT IKE-MESSAGE-HEX (non-ESP marker removed)")
lines.append("# key NAME HEX, in A's log order: per IKE_SA g_ir skeyseed sk_d sk_ei sk_er sk_pi sk_pr;")
lines.append("#   per CHILD_SA child_encr_i child_encr_r (AES-GCM key || 4-byte salt)")
lines.append("psk interop-test-psk-0123456789")
d = open(pcap, 'rb').read()
magic = struct.unpack('<I', d[:4])[0]
e = '<' if magic in (0xa1b2c3d4, 0xa1b23c4d) else '>'
linktype = struct.unpack(e + 'I', d[20:24])[0]
off = 24
nmsg = 0
while off + 16 <= len(d):
    _, _, incl, _ = struct.unpack(e + 'IIII', d[off:off + 16]); off += 16
    pkt = d[off:off + incl]; off += incl
    if linktype == 1:
        if struct.unpack('>H', pkt[12:14])[0] != 0x0800: continue
        ip = pkt[14:]
    elif linktype == 113:
        ip = pkt[16:]
    else:
        sys.exit('unsupported link type %d' % linktype)
    if ip[0] >> 4 != 4 or ip[9] != 17: continue
    ihl = (ip[0] & 15) * 4
    src, dst = '.'.join(map(str, ip[12:16])), '.'.join(map(str, ip[16:20]))
    sport, dport, ulen = struct.unpack('>HHH', ip[ihl:ihl + 6])
    payload = ip[ihl + 8:ihl + ulen]
    if 4500 in (sport, dport):
        if payload[:4] != b'\0\0\0\0': continue  # ESP or keepalive
        payload = payload[4:]
    if sport not in (500, 4500) and dport not in (500, 4500): continue
    lines.append('msg %s %d %s %d %s' % (src, sport, dst, dport, payload.hex()))
    nmsg += 1
names = {'shared Diffie Hellman secret': 'g_ir', 'SKEYSEED': 'skeyseed',
         'encryption initiator key': 'child_encr_i', 'encryption responder key': 'child_encr_r',
         'integrity initiator key': 'child_integ_i', 'integrity responder key': 'child_integ_r'}
for k in ('d', 'ai', 'ar', 'ei', 'er', 'pi', 'pr'):
    names['Sk_%s secret' % k] = 'sk_' + k
L = open(log, errors='replace').read().splitlines()
nkey = 0
for i, line in enumerate(L):
    m = re.match(r'\S+ (\d+\[\w+\]) (.*) => (\d+) bytes @', line)
    if not m or m.group(2) not in names: continue
    th, n, h = m.group(1), int(m.group(3)), ''
    for l2 in L[i + 1:]:
        m2 = re.match(r'\S+ ' + re.escape(th) + r'\s+\d+: ((?:[0-9A-F]{2} ){1,16})', l2)
        if not m2: break
        h += m2.group(1).replace(' ', '')
    if len(h) != 2 * n: sys.exit('short dump for ' + m.group(2))
    lines.append('key %s %s' % (names[m.group(2)], h.lower()))
    nkey += 1
open(out, 'w').write('\n'.join(lines) + '\n')
print('%d messages, %d keys -> %s' % (nmsg, nkey, out), file=sys.stderr)
PY
