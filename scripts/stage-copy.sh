#!/usr/bin/env bash
# Mirrors items of the checkout into a staging directory for a sanitizer build, touching only
# the files whose content differs: unchanged files keep their old modification times, so make
# recompiles just what changed, and a file changed in the stage (or in the checkout) is
# always replaced with a fresh time.
#
#   scripts/stage-copy.sh <root> <stage> <item>...
set -euo pipefail
root="$1"
stage="$2"
shift 2
for item in "$@"; do
  if [ -d "$root/$item" ]; then
    # Drop what the checkout no longer has, then copy what differs.
    if [ -d "$stage/$item" ]; then
      (cd "$stage/$item" && find . -type f) | while read -r f; do
        [ -e "$root/$item/$f" ] || rm -f "$stage/$item/$f"
      done
    fi
    (cd "$root/$item" && find . -type f) | while read -r f; do
      if ! cmp -s "$root/$item/$f" "$stage/$item/$f"; then
        mkdir -p "$(dirname "$stage/$item/$f")"
        cp "$root/$item/$f" "$stage/$item/$f"
      fi
    done
  elif ! cmp -s "$root/$item" "$stage/$item"; then
    cp "$root/$item" "$stage/$item"
  fi
done
