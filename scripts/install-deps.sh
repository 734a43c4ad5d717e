#!/bin/bash
# Install everything ipsecgw needs to build, test, demo and benchmark, from
# Debian 12 packages. Idempotent: packages already present are left alone and
# apt is not even called when nothing is missing. Run as root.
set -eu

PACKAGES=(
  # build
  g++ pkg-config meson ninja-build
  libdpdk-dev libipsec-mb-dev libssl-dev libboost-program-options-dev
  libgtest-dev googletest libpcap-dev
  # sanitizer and fuzzer runtimes (CI runs the units under ASan+UBSan)
  clang libclang-rt-14-dev
  # DPDK tools (dpdk-dev: testpmd, dpdk-telemetry.py, dumpcap) and the ipsec-secgw sources
  dpdk dpdk-dev dpdk-doc
  # test oracles and analysis (run with /usr/bin/python3)
  python3-scapy python3-cryptography python3-matplotlib tshark tcpdump
  # performance lab: cycle breakdown (perf) and the pktgen script self-test (lua)
  linux-perf lua5.4
  # network namespaces for end-to-end tests
  iproute2 nftables iputils-ping ethtool
  # strongSwan interop peer (IKEv2 tests)
  charon-systemd strongswan-swanctl libcharon-extra-plugins
  libstrongswan-standard-plugins libstrongswan-extra-plugins
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}; run this script as root" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer once, non-interactively.
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
# Debian may enable strongSwan's own service in the root namespace; the tests run
# their own charon instances in namespaces, so keep the system one out of the way.
if command -v systemctl >/dev/null 2>&1 && systemctl is-enabled strongswan >/dev/null 2>&1; then
  systemctl disable --now strongswan >/dev/null 2>&1 || true
fi
echo "install-deps: done"
