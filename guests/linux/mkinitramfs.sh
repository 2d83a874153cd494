#!/bin/sh
# Writes the boot test's initramfs: a newc ("070701") cpio archive, as Linux's initramfs unpacker reads it
# (Documentation/driver-api/early-userspace/buffer-format.rst), with
#
#   /dev            directory
#   /dev/console    character device 5:1, so the kernel opens it as init's standard input and output
#   /init           INIT (the static binary), mode 0755
#
# and the TRAILER!!! entry. Reproducible: every owner 0, every time 0, inode numbers 1, 2, 3. No cpio(1) needed.
#
#   guests/linux/mkinitramfs.sh INIT OUTPUT
set -eu
[ $# = 2 ] || { echo "usage: $0 INIT OUTPUT" >&2; exit 2; }
init=$1
out=$2
[ -f "$init" ] || { echo "mkinitramfs.sh: no such file: $init" >&2; exit 2; }

pad4() { # NUL bytes up to the next multiple of 4 after $1 bytes
    n=$(( (4 - $1 % 4) % 4 ))
    [ $n = 0 ] || head -c $n /dev/zero
}

# entry INODE MODE RDEVMAJOR RDEVMINOR NAME [FILE]
entry() {
    size=0
    [ $# -lt 6 ] || size=$(wc -c < "$6")
    namesize=$(( ${#5} + 1 ))
    # magic, ino, mode, uid, gid, nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor, namesize, check
    printf '070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X' \
        "$1" "$2" 0 0 1 0 "$size" 0 0 "$3" "$4" "$namesize" 0
    printf '%s\0' "$5"
    pad4 $(( 110 + namesize ))
    if [ $# -ge 6 ]; then
        cat "$6"
        pad4 "$size"
    fi
}

tmp="$out.part"
{
    entry 1 $(( 0040000 | 0755 )) 0 0 dev
    entry 2 $(( 0020000 | 0600 )) 5 1 dev/console
    entry 3 $(( 0100000 | 0755 )) 0 0 init "$init"
    entry 0 0 0 0 'TRAILER!!!'
} > "$tmp"
mv "$tmp" "$out"
