#!/bin/bash
# Run every test: the release build's full suite (unit tests, scripted
# interoperability and end-to-end tests on virtual devices), then the unit
# suites again under AddressSanitizer + UndefinedBehaviorSanitizer, then a
# bounded libFuzzer run of the IKEv2 parser and engine (FUZZ_SECONDS each, 30).
# Installs dependencies and builds when needed. Exits non-zero on any failure.
#
# usage: scripts/test.sh [--quick]     --quick: release build only, no sanitizer pass
# environment: TEST_ARGS extra arguments for `meson test` (e.g. "--suite esp")
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
quick=0
[ "${1:-}" = "--quick" ] && quick=1

passed=0; failed=0
run_suite() { # LABEL BUILD_DIR [meson test args...]
  local label=$1 dir=$2; shift 2
  echo "=== $label ($dir)"
  meson test -C "$dir" --print-errorlogs --num-processes 2 "$@" ${TEST_ARGS:-} 2>&1 | tee "$dir/test-summary.log" \
    | grep -E "^ *[0-9]+/[0-9]+ |^(Ok|Fail|Timeout|Skipped|Expected Fail|Unexpected Pass):|FAIL|stdout|stderr" | grep -v "^Ok: *0$" || true
  local ok fail to up
  count() { awk -v k="$1" 'index($0, k) == 1 {print $NF}' "$dir/test-summary.log"; }
  ok=$(count "Ok:"); fail=$(count "Fail:"); to=$(count "Timeout:"); up=$(count "Unexpected Pass:")
  if [ -z "$ok" ]; then echo "test.sh: $label: meson test did not run" >&2; failed=$((failed + 1)); return; fi
  passed=$((passed + ok)); failed=$((failed + ${fail:-0} + ${to:-0} + ${up:-0}))
}

build=$("$ROOT/scripts/build.sh") || { echo "0 passed, 1 failed"; exit 1; }
run_suite "release build: all suites" "$build"

if [ $quick = 0 ]; then
  asan=$("$ROOT/scripts/build.sh" --asan) || { echo "$passed passed, $((failed + 1)) failed"; exit 1; }
  # Units only: DPDK's EAL is not run under the sanitizers here.
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    run_suite "ASan+UBSan build: unit suites" "$asan" --suite esp --suite ike --suite gateway
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    run_suite "ASan+UBSan build: IKE service units" "$asan" control_ike_service control_ike_packet
  echo "=== libFuzzer: IKEv2 parser and engine, ${FUZZ_SECONDS:-30} s each (build-fuzz)"
  if "$ROOT/tests/fuzz/run_fuzz.sh" "${FUZZ_SECONDS:-30}" "$ROOT/build-fuzz" > "$ROOT/build-fuzz.log" 2>&1; then
    grep -E "^Done [0-9]+ runs" "$ROOT/build-fuzz.log" || true
    passed=$((passed + 1))
  else
    tail -30 "$ROOT/build-fuzz.log"; echo "FAIL fuzz (log: build-fuzz.log)"
    failed=$((failed + 1))
  fi
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
