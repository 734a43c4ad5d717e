#!/bin/bash
# Regenerates the strongSwan interop test data in tests/ike/data/: real IKEv2
# exchanges between two strongSwan charons (A initiates, B responds), with the
# secrets A's charon logs at "ike = 4" / "chd = 4", for interop_test.cpp.
#
# NOT run by the test suite (which reads the stored files and needs no
# namespaces). Needs root, the interop kit in /work/shared/interop/strongswan
# (or KIT=...), its packages (charon-systemd, swanctl, tcpdump) and python3.
#
# usage: tests/ike/capture_strongswan.sh [SUITE...]     (default: gcm cbc cert)
#   gcm  the kit's own configuration: IKE aes128gcm16-prfsha256-ecp256,
#        ESP aes128gcm16 without PFS   -> data/strongswan_psk_gcm128.txt
#   cbc  IKE aes256-sha256-prfsha384-curve25519 (AES-CBC + HMAC-SHA2-256-128),
#        ESP aes256-sha256-curve25519 (PFS on CHILD_SA rekey)
#                                       -> data/strongswan_psk_cbc256.txt
#   cert X.509 authentication (RFC 7427 signatures): A has an ECDSA P-256
#        certificate, B an RSA-2048 one, both issued by a throwaway ECDSA CA
#        made here with openssl; kit algorithms; only IKE_SA_INIT, IKE_AUTH
#        and the IKE SA delete    -> data/strongswan_cert_ecdsa_rsa.txt
#        (adds "ca HEX", the CA certificate, and "time MS", the capture time
#        in Unix milliseconds, at which the certificates are valid)
# OUT_DIR overrides the output directory.
#
# What is captured on B's veth, in order (UDP 500, then 4500 with the
# non-ESP marker removed):
#   IKE_SA_INIT, IKE_AUTH (first CHILD_SA), CREATE_CHILD_SA (CHILD_SA rekey),
#   INFORMATIONAL (delete of the old CHILD_SA), CREATE_CHILD_SA (IKE_SA
#   rekey), INFORMATIONAL (delete of the old IKE_SA), then on the new IKE_SA
#   B's MOBIKE address update and INFORMATIONAL deletes of the CHILD_SA and
#   of the IKE_SA.
# Secrets kept (test-only; the PSK is the kit's): the PSK, and per IKE_SA in
# log order the DH shared secret, SKEYSEED and SK_d/ai/ar/ei/er/pi/pr; per
# CHILD_SA the KEYMAT seed ([g^ir |] Ni | Nr) and the ESP keys. The DH private
# values are not logged by charon, so the tests start key derivation from the
# shared secret.
#
# Namespaces use the prefix "ikecap" (the kit's SWAN_NS) so that the kit's own
# default set-up can run beside it; everything is torn down on exit.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
KIT=${KIT:-/work/shared/interop/strongswan}
OUT_DIR=${OUT_DIR:-$HERE/data}
PY=/usr/bin/python3
export SWAN_NS=${SWAN_NS:-ikecap}

W= TP=
# Stops our tcpdump and the kit's charons, deletes the namespaces; the work
# directory (charon logs with keys, pcap) is removed unless KEEP_LOGS=1.
cleanup() {
  if [ -n "$TP" ]; then
    kill -INT "$TP" 2>/dev/null && { timeout 5 tail --pid="$TP" -f /dev/null || kill -KILL "$TP" 2>/dev/null; }
    TP=
  fi
  if [ -n "$W" ]; then
    [ -f "$W/swan.env" ] && "$KIT/teardown.sh" "$W" >/dev/null 2>&1
    if [ "${KEEP_LOGS:-0}" = 1 ]; then echo "logs kept in $W" >&2; else rm -rf "$W"; fi
    W=
  fi
  return 0
}
trap cleanup EXIT

# conn_file SIDE IKE_PROPOSALS ESP_PROPOSALS: a swanctl.conf with connection
# gw / child net like the kit's, for other algorithms.
conn_file() {
  local me peer lts rts addr
  if [ "$1" = A ]; then me=gw-a.test peer=gw-b.test lts=192.168.10.0/24 rts=192.168.20.0/24 addr=10.99.0.2
  else me=gw-b.test peer=gw-a.test lts=192.168.20.0/24 rts=192.168.10.0/24 addr=10.99.0.1; fi
  cat <<CONF
connections {
  gw {
    version = 2
    remote_addrs = $addr
    proposals = $2
    local { auth = psk
      id = $me }
    remote { auth = psk
      id = $peer }
    children {
      net {
        mode = tunnel
        local_ts = $lts
        remote_ts = $rts
        esp_proposals = $3
        start_action = none
      }
    }
  }
}
CONF
}

# make_pki DIR: CA (ECDSA P-256), gw-a.test (ECDSA P-256), gw-b.test (RSA-2048),
# laid out as swanctl credential directories DIR/{A,B}/{x509ca,x509,ecdsa,rsa}.
make_pki() {
  local d=$1 o="openssl"
  mkdir -p "$d/pki" "$d/A/x509ca" "$d/A/x509" "$d/A/ecdsa" "$d/B/x509ca" "$d/B/x509" "$d/B/rsa"
  $o ecparam -name prime256v1 -genkey -noout -out "$d/pki/ca.key" 2>/dev/null
  $o req -x509 -new -key "$d/pki/ca.key" -subj "/O=ipsecgw interop/CN=Interop Test CA" -days 3650 \
     -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
     -out "$d/pki/ca.pem" 2>/dev/null
  $o ecparam -name prime256v1 -genkey -noout -out "$d/A/ecdsa/a.key" 2>/dev/null
  $o genrsa -traditional -out "$d/B/rsa/b.key" 2048 2>/dev/null
  local n key
  for n in a b; do
    key=$([ $n = a ] && echo "$d/A/ecdsa/a.key" || echo "$d/B/rsa/b.key")
    $o req -new -key "$key" -subj "/O=ipsecgw interop/CN=gw-$n.test" -out "$d/pki/$n.csr" 2>/dev/null
    printf 'subjectAltName=DNS:gw-%s.test\nbasicConstraints=CA:FALSE\n' $n > "$d/pki/$n.ext"
    $o x509 -req -in "$d/pki/$n.csr" -CA "$d/pki/ca.pem" -CAkey "$d/pki/ca.key" -CAcreateserial \
       -days 3650 -sha256 -extfile "$d/pki/$n.ext" -out "$d/$(echo $n | tr ab AB)/x509/$n.pem" 2>/dev/null
  done
  cp "$d/pki/ca.pem" "$d/A/x509ca/"; cp "$d/pki/ca.pem" "$d/B/x509ca/"
}

# cert_conn_file SIDE: connection gw / child net with certificate authentication.
cert_conn_file() {
  local me peer lts rts addr cert
  if [ "$1" = A ]; then me=gw-a.test peer=gw-b.test lts=192.168.10.0/24 rts=192.168.20.0/24 addr=10.99.0.2 cert=a.pem
  else me=gw-b.test peer=gw-a.test lts=192.168.20.0/24 rts=192.168.10.0/24 addr=10.99.0.1 cert=b.pem; fi
  cat <<CONF
connections {
  gw {
    version = 2
    remote_addrs = $addr
    proposals = aes128gcm16-prfsha256-ecp256
    send_certreq = yes
    send_cert = always
    local { auth = pubkey
      certs = $cert
      id = $me }
    remote { auth = pubkey
      cacerts = ca.pem
      id = $peer }
    children {
      net {
        mode = tunnel
        local_ts = $lts
        remote_ts = $rts
        esp_proposals = aes128gcm16
        start_action = none
      }
    }
  }
}
CONF
}

capture() {
local suite=$1 out
W=$(mktemp -d "${TMPDIR:-/tmp}/swan.XXXXXX")
export SWAN_WORK=$W
TP=
timeout 60 "$KIT/setup.sh" >/dev/null 2>"$W/setup.log" || { cat "$W/setup.log" >&2; exit 1; }
. "$W/swan.env"
UA="--uri unix://$W/A/charon.vici"
case "$suite" in
  gcm) out=$OUT_DIR/strongswan_psk_gcm128.txt ;;
  cert) out=$OUT_DIR/strongswan_cert_ecdsa_rsa.txt
       make_pki "$W/creds"
       for n in A B; do
         cert_conn_file $n > "$W/creds/$n/swanctl.conf"
         # swanctl reads x509ca/, x509/, ecdsa/, rsa/ next to --file
         timeout 20 swanctl --load-all --uri "unix://$W/$n/charon.vici" --file "$W/creds/$n/swanctl.conf" \
           > "$W/creds/$n/load.log" 2>&1 || { cat "$W/creds/$n/load.log" >&2; exit 1; }
       done
       { echo "ca $(openssl x509 -in "$W/creds/pki/ca.pem" -outform DER | od -An -v -tx1 | tr -d ' \n')"
         echo "time $(date +%s%3N)"; } > "$W/extra.txt" ;;
  cbc) out=$OUT_DIR/strongswan_psk_cbc256.txt
       for n in A B; do
         conn_file $n aes256-sha256-prfsha384-curve25519 aes256-sha256-curve25519 > "$W/$n/conn-cbc.conf"
         timeout 20 swanctl --load-conns --uri "unix://$W/$n/charon.vici" --file "$W/$n/conn-cbc.conf" > /dev/null
       done ;;
  *) echo "unknown suite $suite" >&2; exit 2 ;;
esac

ip netns exec "$NS_B" timeout 120 tcpdump --immediate-mode -U -n -i vethB -w "$W/cap.pcap" udp \
  > "$W/tcpdump.log" 2>&1 < /dev/null &
TP=$!
for _ in $(seq 50); do grep -q listening "$W/tcpdump.log" && break; sleep 0.1; done

sw() { timeout 20 swanctl "$@" $UA > /dev/null; }
sw --initiate --child net
if [ "$suite" != cert ]; then
  sw --rekey --child net
  sleep 0.5
  sw --rekey --ike gw
  sleep 0.5
  sw --terminate --child net
fi
sw --terminate --ike gw
sleep 0.5
kill -INT "$TP"; timeout 5 tail --pid="$TP" -f /dev/null || true; TP=

touch "$W/extra.txt"
"$PY" - "$W/cap.pcap" "$W/A/charon.log" "$out" "$suite" "$W/extra.txt" <<'PY'
import re, struct, sys
pcap, log, out, suite, extra = sys.argv[1:]
lines = []
lines.append("# strongSwan 5.9.8 (charon-systemd, kernel-libipsec) A=10.99.0.1 initiator, B=10.99.0.2")
lines.append("# made by tests/ike/capture_strongswan.sh; TEST-ONLY secrets (kit PSK, throwaway keys)")
lines.append("# psk ASCII | msg SRC SPORT DST DPORT IKE-MESSAGE-HEX (non-ESP marker removed)")
lines.append("# suite: " + {'gcm': 'IKE aes128gcm16-prfsha256-ecp256, ESP aes128gcm16',
                          'cbc': 'IKE aes256-sha256-prfsha384-curve25519, ESP aes256-sha256-curve25519',
                          'cert': 'IKE aes128gcm16-prfsha256-ecp256, ESP aes128gcm16; A ECDSA P-256 and'
                                  ' B RSA-2048 certificates from one CA (ca: DER hex, time: Unix ms)'}[suite])
lines.append("# key NAME HEX, in A's log order: per IKE_SA g_ir skeyseed sk_d [sk_ai sk_ar] sk_ei sk_er sk_pi sk_pr;")
lines.append("#   per CHILD_SA child_seed ([g^ir |] Ni | Nr), child_encr_i child_encr_r [child_integ_i child_integ_r]")
lines.append("psk interop-test-psk-0123456789")
lines += [l for l in open(extra).read().splitlines() if l]
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
names = {'shared Diffie Hellman secret': 'g_ir', 'SKEYSEED': 'skeyseed', 'seed': 'child_seed',
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
cleanup
}

[ $# -gt 0 ] || set -- gcm cbc cert
for suite in "$@"; do capture "$suite"; done
