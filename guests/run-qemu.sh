#!/usr/bin/env bash
# Runs a guest on QEMU's virt board the way jvmm's board will run it, and prints its console.
#
#   guests/run-qemu.sh NAME|DIR/CASE.case|KERNEL [options] [-- extra QEMU arguments]
#
#   NAME            guests/NAME/NAME.case if it exists (flags and input of the recorded test), else
#                   guests/NAME/NAME.elf with no flags
#   --built         use the freshly built binary from guests/build/ instead of the committed one
#   -smp N, -m SIZE, -append ARGS     as QEMU's (override the case)
#   -o FILE         also write the console output to FILE
#   --timeout S     end QEMU after S seconds (default: the case's, else 60); exit status 124 then
#   --legacy-virtio keep QEMU 7.2's default legacy virtio-mmio (Version 1); the default here is
#                   virtio-mmio.force-legacy=false (Version 2, what jvmm implements)
#   --net PORT      one virtio-net NIC on user networking with UDP port PORT forwarded from 127.0.0.1
#   anything else   passed to QEMU (e.g. -netdev ... -device virtio-net-device,netdev=...)
#
# A case file (DIR/NAME.case) holds key=value lines: kernel (relative to DIR), smp, memory, append, input (a file
# fed to the console input), nics (user-networking NICs without port forwarding), timeout, and compare (how jvmm's
# output relates to the expected one: exact, info or arch; README.md, "Test cases").
#
# The console is QEMU's stdio serial (-nographic); standard input comes from the case's input file, else
# /dev/null unless --stdin is given (then the terminal or pipe feeds the guest's UART).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
qemu="${QEMU:-qemu-system-aarch64}"

[ $# -ge 1 ] || { sed -n '2,22p' "$0"; exit 2; }
target="$1"; shift
built=0; smp=""; mem=""; append=""; append_set=0; out=""; tmo=""; legacy=0; stdin_mode=""; extra=()
case_file=""; kernel=""; input=""
while [ $# -gt 0 ]; do
  case "$1" in
    --built) built=1 ;;
    -smp) smp="$2"; shift ;;
    -m) mem="$2"; shift ;;
    -append) append="$2"; append_set=1; shift ;;
    -o) out="$2"; shift ;;
    --timeout) tmo="$2"; shift ;;
    --legacy-virtio) legacy=1 ;;
    --stdin) stdin_mode=tty ;;
    --net) extra+=(-netdev "user,id=n0,hostfwd=udp:127.0.0.1:$2-:$2" -device virtio-net-device,netdev=n0); shift ;;
    --) shift; extra+=("$@"); break ;;
    *) extra+=("$1") ;;
  esac
  shift
done

# Resolve the target: a case file, a guest name, or a kernel file.
if [[ "$target" == *.case ]]; then
  case_file="$target"
elif [ -f "$here/$target/$target.case" ]; then
  case_file="$here/$target/$target.case"
elif [ -d "$here/$target" ]; then
  kernel="$here/$target/$target.elf"
else
  kernel="$target"
fi
case_smp=1; case_mem=128M; case_append=""; case_timeout=60; case_nics=0
if [ -n "$case_file" ]; then
  dir="$(cd "$(dirname "$case_file")" && pwd)"
  while IFS= read -r line || [ -n "$line" ]; do
    [[ "$line" =~ ^[[:space:]]*(#|$) ]] && continue
    key="${line%%=*}"; val="${line#*=}"
    case "$key" in
      kernel) kernel="$dir/$val" ;;
      smp) case_smp="$val" ;;
      memory) case_mem="$val" ;;
      append) case_append="$val" ;;
      input) input="$dir/$val" ;;
      timeout) case_timeout="$val" ;;
      nics) case_nics="$val" ;;
      *) ;;
    esac
  done < "$case_file"
fi
if [ "$built" = 1 ]; then
  base="$(basename "$kernel")"
  kernel="$here/build/$base"
fi
[ -f "$kernel" ] || { echo "run-qemu.sh: no kernel $kernel (make -C guests?)" >&2; exit 2; }
[ -n "$smp" ] || smp="$case_smp"
[ -n "$mem" ] || mem="$case_mem"
[ "$append_set" = 1 ] || append="$case_append"
[ -n "$tmo" ] || tmo="$case_timeout"

args=(-M virt,gic-version=3 -cpu cortex-a57 -nographic -m "$mem" -smp "$smp" -kernel "$kernel")
[ -n "$append" ] && args+=(-append "$append")
[ "$legacy" = 1 ] || args+=(-global virtio-mmio.force-legacy=false)
# NICs given on the command line (--net, -netdev) replace the case's.
for a in "${extra[@]}"; do
  [ "$a" = "-netdev" ] && case_nics=0
done
for ((i = 0; i < case_nics; i++)); do
  args+=(-netdev "user,id=case$i" -device "virtio-net-device,netdev=case$i")
done
args+=("${extra[@]}")

run() {
  if [ -n "$input" ]; then
    timeout "$tmo" "$qemu" "${args[@]}" < "$input"
  elif [ "$stdin_mode" = tty ]; then
    timeout "$tmo" "$qemu" "${args[@]}"
  else
    timeout "$tmo" "$qemu" "${args[@]}" < /dev/null
  fi
}
if [ -n "$out" ]; then
  set +e
  run | tee "$out"
  status=${PIPESTATUS[0]}
  exit "$status"
else
  run
fi
