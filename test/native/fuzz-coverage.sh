#!/usr/bin/env bash
# Source-based line and branch coverage of native/wire and native/core reached by the fuzz
# corpora: builds the targets with -fprofile-instr-generate in build-fuzz-cov/, runs every
# input of each corpus once, and prints llvm-cov's per-file report and totals.
#
#   test/native/fuzz-coverage.sh [build-fuzz dir holding corpus-<name>/ from fuzz-nightly.sh]
# Without an argument (or without those directories) it measures the checked-in corpora.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
nightly="${1:-}"
build="$root/build-fuzz-cov"
profiles="$build/profiles"
targets=(fuzz_decode fuzz_envelope fuzz_engine)

CC=clang CXX=clang++ cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DFUZZ_COVERAGE=ON >/dev/null
cmake --build "$build" --target "${targets[@]}" -j 2 >/dev/null
rm -rf "$profiles"
mkdir -p "$profiles"

objects=()
for target in "${targets[@]}"; do
  name="${target#fuzz_}"
  dirs=("$here/corpus/$name")
  [ -n "$nightly" ] && [ -d "$nightly/corpus-$name" ] && dirs+=("$nightly/corpus-$name")
  # -runs=0 executes each corpus input once and exits; a crash here is reported by run-fuzz.sh.
  FUZZ_ENGINE_ALLOW_INCARNATION_WRAP=1 LLVM_PROFILE_FILE="$profiles/$name-%p.profraw" \
    "$build/$target" -runs=0 "${dirs[@]}" >/dev/null 2>&1 || true
  objects+=(-object "$build/$target")
done

llvm-profdata merge -sparse "$profiles"/*.profraw -o "$build/fuzz.profdata"
llvm-cov report "${objects[@]:1}" -instr-profile="$build/fuzz.profdata" \
  "$root/native/wire" "$root/native/core"
