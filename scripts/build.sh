#!/bin/bash
# Build ipsecgw. Installs missing Debian packages first (as root), configures
# the meson build directory once, then runs ninja.
#
# usage: scripts/build.sh [--asan] [--debug] [-- extra meson setup options]
#   default     optimised release build in build/ (-march=native; -Dcpu= to change)
#   --asan      ASan + UBSan build in build-asan/ (what CI runs the unit tests under)
#   --debug     debug build in build-debug/
# environment: BUILD_DIR overrides the directory, JOBS the ninja parallelism.
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
dir=${BUILD_DIR:-build}
opts=(--buildtype=release)
while [ $# -gt 0 ]; do
  case $1 in
    --asan) dir=${BUILD_DIR:-build-asan}; opts=(--buildtype=debugoptimized -Db_sanitize=address,undefined -Db_lundef=false); shift;;
    --debug) dir=${BUILD_DIR:-build-debug}; opts=(--buildtype=debug); shift;;
    --) shift; opts+=("$@"); break;;
    -h|--help) sed -n '2,10p' "$0"; exit 0;;
    *) echo "build.sh: unknown option $1 (see --help)" >&2; exit 2;;
  esac
done

"$ROOT/scripts/install-deps.sh" >/dev/null || { echo "build.sh: dependencies missing; run scripts/install-deps.sh as root" >&2; exit 1; }

if [ ! -f "$dir/build.ninja" ]; then
  meson setup "$dir" "${opts[@]}" >"$dir.setup.log" 2>&1 || { cat "$dir.setup.log" >&2; exit 1; }
  rm -f "$dir.setup.log"
fi
ninja -C "$dir" ${JOBS:+-j "$JOBS"} >"$dir/ninja.log" 2>&1 || { tail -40 "$dir/ninja.log" >&2; echo "build.sh: build failed (full log: $dir/ninja.log)" >&2; exit 1; }
grep -i "warning:" "$dir/ninja.log" | sort -u | head -20 >&2 || true
echo "$dir"
