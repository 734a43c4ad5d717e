#!/bin/bash
# Bounded-time libFuzzer runs of the IKEv2 parser and engine (CI: 60 s each).
# Usage: tests/fuzz/run_fuzz.sh [seconds-per-target] [build-dir]
set -eu
seconds=${1:-60}
build=${2:-build-fuzz}
root=$(cd "$(dirname "$0")/../.." && pwd)
if [ ! -f "$build/build.ninja" ]; then
  CC=clang CXX=clang++ meson setup "$build" "$root" -Dfuzz=true -Dbuildtype=debugoptimized -Db_lundef=false
fi
for target in ike_parser_fuzzer ike_engine_fuzzer; do
  ninja -C "$build" "tests/fuzz/$target"
  corpus="$build/$target-corpus"
  mkdir -p "$corpus"
  # Seeds: the real strongSwan messages kept as interop test data.
  for f in "$root"/tests/ike/data/strongswan_*.txt; do
    [ -f "$f" ] || continue
    n=0
    while read -r kind _ _ _ _ msg; do
      [ "$kind" = msg ] || continue
      n=$((n + 1))
      /usr/bin/python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.argv[1]))' "$msg" \
        > "$corpus/seed-$(basename "$f" .txt)-$n"
    done < "$f"
  done
  # Non-zero exit if the fuzzer finds a crash; the reproducer is kept in $build.
  "$build/tests/fuzz/$target" -max_total_time="$seconds" -max_len=4096 \
    -artifact_prefix="$build/$target-" "$corpus"
done
