#!/usr/bin/env bash
# ThreadSanitizer check of the runtime and its JavaScript boundary: builds the addon with
# binding.gyp's `sanitize=thread` in build-tsan-cluster/ (build/ is never touched) and runs
# test/tsan/stress.mjs against it with `node --test` (TSan does not survive vitest's process
# pool). Any TSan report aborts the process and fails the run.
#
#   test/tsan/run-tsan.sh                 # STRESS_MS=4000 by default
#   STRESS_MS=20000 test/tsan/run-tsan.sh # longer
#
# Node is not instrumented, so gcc's libtsan is preloaded; its interceptors see the pthread
# and libuv locks Node-API uses, so happens-before across the thread-safe function is known.
# ASLR is turned off for the run (setarch -R): TSan's fixed shadow layout does not fit every
# randomised mapping of a large uninstrumented binary.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
stage="$root/build-tsan-cluster"

mkdir -p "$stage"
bash "$root/scripts/stage-copy.sh" "$root" "$stage" package.json binding.gyp tsconfig.json scripts native src test
ln -sfn "$root/node_modules" "$stage/node_modules"

if [ -f "$stage/build/Makefile" ] && grep -q fsanitize=thread "$stage/build/constellation.target.mk" 2>/dev/null; then
  echo "updating the TSan build in $stage ..." >&2
  build=(make -C "$stage/build" -j2 BUILDTYPE=Release)
else
  echo "building the addon with -fsanitize=thread in $stage (a few minutes) ..." >&2
  build=(npm run build:native --silent -- -- -Dsanitize=thread)
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
if ! nm -D "$stage/build/Release/constellation.node" | grep __tsan_init >/dev/null; then
  echo "the staged addon is not instrumented; see $stage/build.log" >&2
  exit 1
fi
(cd "$stage" && npm run build:ts --silent)

preload="$(gcc -print-file-name=libtsan.so)"
export LD_PRELOAD="$preload"
export TSAN_OPTIONS="halt_on_error=1:exitcode=66:second_deadlock_stack=1:report_signal_unsafe=0:suppressions=$here/suppressions.txt${TSAN_EXTRA:+:$TSAN_EXTRA}"
export CONSTELLATION_ROOT="$stage"
prefix=()
command -v setarch >/dev/null && prefix=(setarch "$(uname -m)" -R)

# The stress must load the instrumented addon, not another build.
"${prefix[@]}" node -e "
  require('$stage/dist/index.js').protocolVersion();
  const maps = require('node:fs').readFileSync('/proc/self/maps', 'utf8');
  if (!maps.includes('$stage/build/Release/constellation.node')) {
    console.error('the stress would not load the instrumented addon'); process.exit(1);
  }"
echo "running test/tsan/stress.mjs under TSan (STRESS_MS=${STRESS_MS:-4000}) ..." >&2
"${prefix[@]}" node --test "$stage/test/tsan/stress.mjs"
echo "TSan run clean" >&2
