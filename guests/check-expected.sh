#!/usr/bin/env bash
# Runs recorded test cases on QEMU and compares each console with its expected output.
#
#   guests/check-expected.sh [--runs N] [--built] [--update] [CASE...]
#
#   CASE      a .case file or a guest name (all of its cases); default: every guests/*/*.case
#   --runs N  run each case N times (default 3): every run must match
#   --built   run guests/build/ binaries instead of the committed ones
#   --update  write DIR/CASE.expected from the first run (the other runs must still match it)
#
# Comparison: the console bytes with every carriage return removed (the guests print "\r\n").
# Cases with compare=arch expect what the architecture requires where QEMU 7.2 departs from it: DIR/CASE.arch.diff
# turns QEMU's console into that expected output. Here QEMU's console, patched with it, must equal CASE.expected
# (--update rewrites CASE.expected from the patched console; edit the .arch.diff when the architecture's side
# changes).
set -uo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
runs=3; built=(); update=0; cases=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift ;;
    --built) built=(--built) ;;
    --update) update=1 ;;
    *.case) cases+=("$1") ;;
    *) for c in "$here/$1"/*.case; do cases+=("$c"); done ;;
  esac
  shift
done
if [ ${#cases[@]} -eq 0 ]; then
  for c in "$here"/*/*.case; do cases+=("$c"); done
fi
command -v qemu-system-aarch64 >/dev/null || { echo "check-expected.sh: qemu-system-aarch64 not installed" >&2; exit 2; }

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
failed=0
for c in "${cases[@]}"; do
  name="$(basename "$c" .case)"
  expected="${c%.case}.expected"
  arch=""
  if grep -q '^compare=arch' "$c"; then
    arch="${c%.case}.arch.diff"
  fi
  ok=1
  for r in $(seq 1 "$runs"); do
    "$here/run-qemu.sh" "$c" "${built[@]}" > "$tmp/raw" 2> "$tmp/err"
    status=$?
    tr -d '\r' < "$tmp/raw" > "$tmp/out"
    if [ -n "$arch" ] && ! patch -s -o "$tmp/patched" "$tmp/out" < "$arch" > "$tmp/patch.log" 2>&1; then
      echo "FAIL $name run $r: $(basename "$arch") does not apply to QEMU's console"
      sed 's/^/    /' "$tmp/patch.log" | head -5
      ok=0
      break
    fi
    [ -n "$arch" ] && mv "$tmp/patched" "$tmp/out"
    if [ "$status" -ne 0 ]; then
      echo "FAIL $name run $r: QEMU exit status $status$( [ "$status" = 124 ] && echo ' (timeout)')"
      sed 's/^/    /' "$tmp/err" | head -5
      ok=0
      break
    fi
    if [ "$update" = 1 ] && [ "$r" = 1 ]; then
      cp "$tmp/out" "$expected"
    fi
    if ! diff -u "$expected" "$tmp/out" > "$tmp/diff" 2>&1; then
      echo "FAIL $name run $r: console differs from $(basename "$expected")"
      head -40 "$tmp/diff" | sed 's/^/    /'
      ok=0
      break
    fi
  done
  if [ "$ok" = 1 ]; then
    echo "ok   $name ($runs runs${arch:+, QEMU + $(basename "$arch")})"
  else
    failed=$((failed + 1))
  fi
done
[ "$failed" -eq 0 ] && echo "all ${#cases[@]} cases match" || echo "$failed of ${#cases[@]} cases failed"
[ "$failed" -eq 0 ]
