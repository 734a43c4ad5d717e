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
  # Non-zero exit if the fuzzer finds a crash; the reproducer is kept in $build.
  "$build/tests/fuzz/$target" -max_total_time="$seconds" -max_len=4096 \
    -artifact_prefix="$build/$target-" "$corpus"
done
