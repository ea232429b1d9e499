#!/usr/bin/env bash
# Runs the codec's vitest suites (test/wire) against the addon built with AddressSanitizer and
# UndefinedBehaviorSanitizer (binding.gyp's `sanitize=address`), without touching build/: the
# sources are copied to build-asan/ and built there, so the normal addon stays in place.
#
#   test/native/run-asan.sh [vitest file filters...]    # default: test/wire
#
# Node itself is not instrumented, so the sanitizer runtimes are preloaded. Leak checking is
# off (Node and V8 keep allocations alive at exit on purpose); any ASan or UBSan report aborts
# the test process and fails the run.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
stage="$root/build-asan"
filters=("$@")
[ "${#filters[@]}" -eq 0 ] && filters=(test/wire)

mkdir -p "$stage"
# A mirror of what the build and the tests read; node_modules is shared through a link.
for item in package.json binding.gyp tsconfig.json vitest.config.ts scripts native test; do
  rm -rf "${stage:?}/$item"
  cp -R "$root/$item" "$stage/$item"
done
ln -sfn "$root/node_modules" "$stage/node_modules"

echo "building the addon with -fsanitize=address,undefined in build-asan/ ..." >&2
(cd "$stage" && npm run build:native --silent -- -- -Dsanitize=address >"$stage/build.log" 2>&1) || {
  tail -n 40 "$stage/build.log" >&2
  exit 1
}
if ! nm -D "$stage/build/Release/constellation.node" | grep -q __asan_init; then
  echo "the staged addon is not instrumented; see $stage/build.log" >&2
  exit 1
fi

preload="$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so)"
echo "running ${filters[*]} under ASan + UBSan ..." >&2
cd "$stage"
LD_PRELOAD="$preload" \
  ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1" \
  UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
  npx vitest run "${filters[@]}"
echo "ASan + UBSan run clean" >&2
