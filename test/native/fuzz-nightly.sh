#!/usr/bin/env bash
# The long fuzzing run: every target for the given number of seconds (default 3600 each), with
# a corpus that persists between runs in build-fuzz/corpus-<name>/ (seeded from the checked-in
# one), then the source coverage those corpora reach (fuzz-coverage.sh). With --update-corpus,
# inputs that found new coverage are merged back into test/native/corpus/<name>/ (libFuzzer's
# -merge=1 keeps only inputs that add coverage) for you to review and commit.
#
#   test/native/fuzz-nightly.sh [seconds] [--update-corpus]
set -euo pipefail

seconds=3600
update=0
for arg in "$@"; do
  case "$arg" in
    --update-corpus) update=1 ;;
    *) seconds="$arg" ;;
  esac
done
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
build="$root/build-fuzz"
artifacts="$root/fuzz-out"
targets=(fuzz_decode fuzz_envelope fuzz_engine)
# See run-fuzz.sh: the engine's known incarnation overflow.
export FUZZ_ENGINE_ALLOW_INCARNATION_WRAP="${FUZZ_ENGINE_ALLOW_INCARNATION_WRAP:-0}"

CC=clang CXX=clang++ cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" --target "${targets[@]}" -j 2 >/dev/null
mkdir -p "$artifacts"

failed=0
for target in "${targets[@]}"; do
  name="${target#fuzz_}"
  corpus="$build/corpus-$name"
  mkdir -p "$corpus"
  cp -n "$here/corpus/$name/"* "$corpus/" 2>/dev/null || true
  log="$artifacts/$target-nightly.log"
  options=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536
    -print_final_stats=1 -artifact_prefix="$artifacts/$target-")
  [ -f "$here/$name.dict" ] && options+=(-dict="$here/$name.dict")
  status=0
  "$build/$target" "$corpus" "${options[@]}" >"$log" 2>&1 || status=$?
  echo "$target: $(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)"
  grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' "$log" || true
  if [ "$status" -ne 0 ]; then
    echo "$target FAILED (exit $status); log: $log" >&2
    grep -E 'ERROR|invariant|SUMMARY|Test unit written' "$log" >&2 || tail -n 40 "$log" >&2
    failed=1
  fi
  if [ "$update" -eq 1 ]; then
    "$build/$target" -merge=1 "$here/corpus/$name" "$corpus" >"$artifacts/$target-merge.log" 2>&1
    echo "$target: checked-in corpus now $(ls "$here/corpus/$name" | wc -l) inputs"
  fi
done

bash "$here/fuzz-coverage.sh" "$build" || failed=1
exit "$failed"
