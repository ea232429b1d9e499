#!/usr/bin/env bash
# Builds the fuzz targets with clang (libFuzzer + ASan + UBSan) in build-fuzz/ and runs each for
# the given number of seconds (default 60), starting from its checked-in seed corpus:
#   fuzz_decode    the codec (corpus/decode)
#   fuzz_envelope  seal/open of the encryption envelope and cluster label (corpus/envelope)
#   fuzz_engine    packet, frame, tick and command sequences into a core::Engine (corpus/engine)
# Fails on a crash, a sanitizer report, a broken invariant, a hang (> 10 s on one input) or an
# input using more than 2 GB; the failing input is saved under fuzz-out/. Prints libFuzzer's
# final stats per target.
#
#   test/native/run-fuzz.sh [seconds] [target ...]      # default: all three targets
set -euo pipefail

seconds="${1:-60}"
shift || true
targets=("$@")
[ "${#targets[@]}" -eq 0 ] && targets=(fuzz_decode fuzz_envelope fuzz_engine)
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="$root/build-fuzz"
artifacts="$root/fuzz-out"

# The engine's incarnation overflow (docs/security.md, "Known engine weaknesses") would stop
# fuzz_engine within seconds; until the engine bounds incarnations the check is off here so
# the rest of the engine is still fuzzed. Set it to 0 to see the failure.
export FUZZ_ENGINE_ALLOW_INCARNATION_WRAP="${FUZZ_ENGINE_ALLOW_INCARNATION_WRAP:-0}"

CC=clang CXX=clang++ cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --target "${targets[@]}" -j 2 >/dev/null

mkdir -p "$artifacts"
failed=0
for target in "${targets[@]}"; do
  name="${target#fuzz_}"
  # Run on a copy so the inputs libFuzzer adds do not land in the checked-in corpus.
  work="$(mktemp -d)"
  cp "$here/corpus/$name/"* "$work/"
  log="$artifacts/$target.log"
  options=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1
    -artifact_prefix="$artifacts/$target-")
  [ -f "$here/$name.dict" ] && options+=(-dict="$here/$name.dict")
  case "$target" in
    fuzz_decode) options+=(-max_len=65536) ;;
    fuzz_envelope) options+=(-max_len=16384) ;;
    fuzz_engine) options+=(-max_len=16384) ;;
  esac
  status=0
  "$build/$target" "$work" "${options[@]}" >"$log" 2>&1 || status=$?
  rm -rf "$work"
  # The last status line carries the totals: "#<execs> DONE cov: <edges> ft: <features> ...".
  echo "$target: $(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)"
  grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$log" || true
  if [ "$status" -ne 0 ]; then
    echo "$target FAILED (exit $status); log: $log" >&2
    grep -E 'ERROR|invariant|SUMMARY|Test unit written' "$log" >&2 || tail -n 40 "$log" >&2
    failed=1
  else
    echo "$target: no crash in ${seconds}s"
  fi
done
exit "$failed"
