#!/usr/bin/env bash
# Runs the Cluster suites (test/cluster: real sockets, child processes, worker threads, the
# netns partition) against the addon built with AddressSanitizer and UndefinedBehaviorSanitizer
# (binding.gyp's `sanitize=address`). build/ is never touched: the sources are copied to
# build-asan-cluster/ and built there, with dist/ compiled beside them so the child processes
# and workers the tests start load the instrumented addon too.
#
#   scripts/run-cluster-asan.sh [vitest file filters...]    # default: test/cluster
#
# Node itself is not instrumented, so the sanitizer runtimes are preloaded (children inherit
# LD_PRELOAD and the options). Leak checking is off: Node and V8 keep allocations alive at exit
# on purpose. Any ASan or UBSan report aborts that process, which fails its test.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
stage="$root/build-asan-cluster"
filters=("$@")
[ "${#filters[@]}" -eq 0 ] && filters=(test/cluster)

mkdir -p "$stage"
bash "$root/scripts/stage-copy.sh" "$root" "$stage" package.json binding.gyp tsconfig.json vitest.config.ts scripts native src test
ln -sfn "$root/node_modules" "$stage/node_modules"

if [ -f "$stage/build/Makefile" ] && grep -q fsanitize=address "$stage/build/constellation.target.mk" 2>/dev/null; then
  echo "updating the ASan + UBSan build in $stage ..." >&2
  build=(make -C "$stage/build" -j2 BUILDTYPE=Release)
else
  echo "building the addon with -fsanitize=address,undefined in $stage (a few minutes) ..." >&2
  build=(npm run build:native --silent -- -- -Dsanitize=address)
fi
# Sources that differ from what the last build compiled (even with an older time) are touched
# so make sees them; the list of what was compiled is written after each successful build.
manifest="$stage/build/sources.sha256"
if [ -f "$manifest" ]; then
  (cd "$stage" && sha256sum --quiet -c "$manifest" 2>/dev/null | sed -n 's/: FAILED.*$//p' | xargs -r touch)
fi
(cd "$stage" && "${build[@]}" >"$stage/build.log" 2>&1) || {
  tail -n 40 "$stage/build.log" >&2
  exit 1
}
(cd "$stage" && find binding.gyp native -type f -print0 | xargs -0 sha256sum >"$manifest")
if ! nm -D "$stage/build/Release/constellation.node" | grep __asan_init >/dev/null; then
  echo "the staged addon is not instrumented; see $stage/build.log" >&2
  exit 1
fi
(cd "$stage" && npm run build:ts --silent)

preload="$(gcc -print-file-name=libasan.so):$(gcc -print-file-name=libubsan.so)"
cd "$stage"
# The tests must load the instrumented addon, not another build.
LD_PRELOAD="$preload" ASAN_OPTIONS=detect_leaks=0 node -e "
  require('./dist/index.js').protocolVersion();
  const maps = require('node:fs').readFileSync('/proc/self/maps', 'utf8');
  if (!maps.includes('$stage/build/Release/constellation.node')) {
    console.error('the tests would not load the instrumented addon'); process.exit(1);
  }"
echo "running ${filters[*]} under ASan + UBSan ..." >&2
LD_PRELOAD="$preload" \
  ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:halt_on_error=1:detect_stack_use_after_return=0" \
  UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1" \
  npx vitest run "${filters[@]}"
echo "ASan + UBSan run clean" >&2
