#!/usr/bin/env bash
# Builds test/native/fuzz_decode with clang (libFuzzer + ASan + UBSan) in build-fuzz/ and runs it
# for the given number of seconds (default 60), starting from the checked-in seed corpus.
# Fails on a crash, a sanitizer report, a broken round-trip invariant or a hang (> 10 s on one
# input); the failing input is saved under fuzz-out/. Prints libFuzzer's final stats.
#
#   test/native/run-fuzz.sh [seconds]
set -euo pipefail

seconds="${1:-60}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="$root/build-fuzz"
artifacts="$root/fuzz-out"

CC=clang CXX=clang++ cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --target fuzz_decode -j 2 >/dev/null

# Run on a copy so the inputs libFuzzer adds do not land in the checked-in corpus.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$here/corpus/decode/"* "$work/"
mkdir -p "$artifacts"
log="$artifacts/fuzz_decode.log"

status=0
"$build/fuzz_decode" "$work" \
  -dict="$here/decode.dict" \
  -max_len=65536 \
  -max_total_time="$seconds" \
  -timeout=10 \
  -rss_limit_mb=2048 \
  -print_final_stats=1 \
  -artifact_prefix="$artifacts/" >"$log" 2>&1 || status=$?

# The last status line carries the totals: "#<execs> DONE cov: <edges> ft: <features> corp: ...".
grep -E '^#[0-9]+' "$log" | tail -n 1 || true
grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$log" || true
if [ "$status" -ne 0 ]; then
  echo "fuzz_decode FAILED (exit $status); log: $log" >&2
  grep -E 'ERROR|invariant|SUMMARY|Test unit written' "$log" >&2 || tail -n 40 "$log" >&2
  exit "$status"
fi
echo "fuzz_decode: no crash in ${seconds}s"
