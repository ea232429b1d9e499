#!/usr/bin/env bash
# Proves the package works from its prebuilt binary alone:
#  1. the addon loads from prebuilds/ with build/ out of the way (PREBUILDS_ONLY=1, as
#     classic-level's test-prebuild does) and the addon tests pass against it;
#  2. `npm pack` gives a tarball that installs into an empty folder and loads with no compiler
#     (CC, CXX and make point at `false`, and no build/ folder appears).
# Expects `npm run build` (prebuilds/ and dist/) to have run.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

prebuild=$(ls prebuilds/linux-x64/*.node 2>/dev/null | head -1 || true)
if [[ -z "$prebuild" ]]; then
  echo "check-prebuild: no prebuilds/linux-x64/*.node; run npm run build (or npm run prebuild) first" >&2
  exit 1
fi
echo "check-prebuild: using $prebuild"

work=$(mktemp -d)
restore() {
  if [[ -d "$work/build" ]]; then rm -rf "$root/build"; mv "$work/build" "$root/build"; fi
  rm -rf "$work"
}
trap restore EXIT
if [[ -d build ]]; then mv build "$work/build"; fi

PREBUILDS_ONLY=1 node -e "
  const addon = require('node-gyp-build')('.');
  if (typeof addon.protocolVersion !== 'number') throw new Error('addon surface missing');
  console.log('check-prebuild: loaded the prebuild alone, protocol', addon.protocolVersion);
"
PREBUILDS_ONLY=1 npx vitest run test/addon $(ls -d test/wire 2>/dev/null || true)

tarball=$(npm pack --silent --pack-destination "$work" | tail -1)
echo "check-prebuild: packed $tarball"
mkdir "$work/app"
cd "$work/app"
npm init -y >/dev/null
nocc=$(mktemp -d)
for tool in cc c++ gcc g++ make; do printf '#!/bin/sh\necho "no compiler here: $0" >&2\nexit 1\n' >"$nocc/$tool"; chmod +x "$nocc/$tool"; done
PATH="$nocc:$PATH" CC=false CXX=false npm install --no-audit --no-fund "$work/$tarball"
# npm 11 skips a dependency's install script until it is approved: approve ours and run it, so
# the check covers the install step too (node-gyp-build finds the prebuild and compiles nothing).
npm install-scripts approve @rads/constellation >/dev/null
PATH="$nocc:$PATH" CC=false CXX=false npm rebuild --foreground-scripts @rads/constellation
if [[ -d node_modules/@rads/constellation/build ]]; then
  echo "check-prebuild: the install compiled from source instead of using the prebuild" >&2
  exit 1
fi
node -e "
  const c = require('@rads/constellation');
  console.log('check-prebuild: installed tarball loads, protocol', c.protocolVersion());
"
echo "check-prebuild: ok"
