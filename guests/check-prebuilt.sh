#!/usr/bin/env bash
# Rebuilds every guest into a temporary folder and checks that the bytes match the committed binaries.
#
#   guests/check-prebuilt.sh [--strict]
#
# The build is reproducible (no build-id, no timestamps, no absolute paths), but the bytes depend on the compiler
# and binutils: TOOLCHAIN records the versions the committed binaries were built with. With other versions the
# comparison is skipped with a message (exit 0), or fails with --strict.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
strict=0
[ "${1:-}" = "--strict" ] && strict=1
CROSS="${CROSS:-aarch64-linux-gnu-}"
if ! command -v "${CROSS}gcc" >/dev/null 2>&1; then
  echo "check-prebuilt.sh: ${CROSS}gcc not installed; nothing checked" >&2
  [ "$strict" = 1 ] && exit 1 || exit 0
fi
toolchain() {
  "${CROSS}gcc" --version | head -1
  "${CROSS}as" --version | head -1
  "${CROSS}ld" --version | head -1
}
if ! diff <(toolchain) "$here/TOOLCHAIN" >/dev/null; then
  echo "check-prebuilt.sh: this toolchain differs from the one in guests/TOOLCHAIN:"
  diff <(toolchain) "$here/TOOLCHAIN" | sed 's/^/    /' || true
  if [ "$strict" = 1 ]; then
    exit 1
  fi
  echo "check-prebuilt.sh: SKIPPED (the committed binaries come from the toolchain in guests/TOOLCHAIN)"
  exit 0
fi
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
make -s -C "$here" O="$tmp/build" CROSS="$CROSS" -j"$(nproc 2>/dev/null || echo 2)" all >/dev/null
failed=0
count=0
for f in $(make -s -C "$here" prebuilt-list); do
  count=$((count + 1))
  if ! cmp -s "$tmp/build/$(basename "$f")" "$here/$f"; then
    echo "DIFFERS: guests/$f (rebuild with: make -C guests prebuilt)"
    failed=$((failed + 1))
  fi
done
if [ "$failed" -ne 0 ]; then
  echo "check-prebuilt.sh: $failed of $count prebuilt binaries differ from a rebuild"
  exit 1
fi
echo "check-prebuilt.sh: all $count prebuilt binaries match a rebuild"
