#!/bin/sh
# Fetches Debian bookworm's arm64 kernel (the generic flavour, unsigned package) from deb.debian.org and puts its
# vmlinuz in a cache folder, for `vmm boot --kernel` and LinuxBootTest. Nothing of it goes into git.
#
#   guests/linux/fetch-kernel.sh            # the pinned kernel (below), checked against its SHA-256
#   guests/linux/fetch-kernel.sh --latest   # the newest linux-image-*-arm64-unsigned of bookworm, bookworm-updates
#                                           # and bookworm-security, checked against the SHA-256 of its Packages index
#
# The cache is $JVMM_LINUX_CACHE, else ${XDG_CACHE_HOME:-~/.cache}/jvmm/linux. It ends up holding
# vmlinuz-ABI, vmlinuz-ABI.sha256 and a symbolic link vmlinuz to the kernel fetched last. A second run with the kernel
# already in the cache (and matching its recorded SHA-256) downloads nothing. Prints the path of vmlinuz last.
set -eu

MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org}
# The pinned kernel: bookworm's (Debian 12) point-release kernel. Packages of a point release leave the mirror after
# the next one or two: then the newest kernel of the indexes is taken instead, as with --latest, and said so.
PIN_PACKAGE=linux-image-6.1.0-50-arm64-unsigned
PIN_VERSION=6.1.176-1
PIN_POOL=debian/pool/main/l/linux
PIN_DEB_SHA256=31ba9c41615c6e3a2c5397671ecd169af9822871cf19a6ac711d56b39833bd08
PIN_VMLINUZ_SHA256=da023e41eb0d54659075cf9e007e14b8188fa13341ac8af7204676122c02a068

die() { echo "fetch-kernel.sh: $*" >&2; exit 1; }

latest=0
case "${1:-}" in
    "") ;;
    --latest) latest=1 ;;
    *) echo "usage: $0 [--latest]" >&2; exit 2 ;;
esac

cache=${JVMM_LINUX_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/jvmm/linux}
mkdir -p "$cache" || die "cannot create the cache folder $cache"
for tool in curl dpkg-deb sha256sum xz; do
    command -v $tool >/dev/null 2>&1 || die "needs $tool (Debian: apt-get install curl dpkg xz-utils coreutils)"
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT INT TERM

# Prints "package version filename sha256" of the newest arm64-unsigned generic kernel in one suite's Packages index.
newest_in() {
    curl -fsS "$MIRROR/$1/binary-arm64/Packages.xz" | xz -d | awk -v base="${1%%/*}" '
        /^Package: / { pkg = $2; ver = ""; file = ""; sum = "" }
        /^Version: / { ver = $2 }
        /^Filename: / { file = $2 }
        /^SHA256: / { sum = $2 }
        /^$/ { if (pkg ~ /^linux-image-[0-9][^-]*(-[0-9]+)?(\+deb[0-9]+)?-arm64-unsigned$/ && file != "")
                   print pkg, ver, base "/" file, sum
               pkg = "" }'
}

# Sets package, version, url, deb_sha256 to the newest kernel of bookworm's three indexes (vmlinuz_sha256 empty:
# the package's SHA-256 from the index vouches for it).
choose_latest() {
    { newest_in debian/dists/bookworm/main
      newest_in debian/dists/bookworm-updates/main
      newest_in debian-security/dists/bookworm-security/main; } > "$work/candidates" \
        || die "cannot read the Packages indexes of $MIRROR"
    line=$(sort -V -k2,2 "$work/candidates" | tail -n 1)
    [ -n "$line" ] || die "no linux-image-*-arm64-unsigned package in bookworm's indexes at $MIRROR"
    set -- $line
    package=$1 version=$2 url="$MIRROR/$3" deb_sha256=$4 vmlinuz_sha256=
}

if [ $latest = 1 ]; then
    choose_latest
else
    package=$PIN_PACKAGE version=$PIN_VERSION deb_sha256=$PIN_DEB_SHA256 vmlinuz_sha256=$PIN_VMLINUZ_SHA256
    url="$MIRROR/$PIN_POOL/${package}_${version}_arm64.deb"
fi

# Prints the cached kernel's path and exits when vmlinuz-ABI is there with its recorded SHA-256.
use_cached() {
    abi=${package#linux-image-}
    abi=${abi%-unsigned}
    kernel="$cache/vmlinuz-$abi"
    if [ -f "$kernel" ] && [ -f "$kernel.sha256" ] \
            && [ "$(sha256sum "$kernel" | cut -d' ' -f1)" = "$(cat "$kernel.sha256")" ] \
            && { [ -z "$vmlinuz_sha256" ] || [ "$vmlinuz_sha256" = "$(cat "$kernel.sha256")" ]; }; then
        ln -sfn "vmlinuz-$abi" "$cache/vmlinuz"
        echo "$cache/vmlinuz"
        exit 0
    fi
}
use_cached

deb="$work/kernel.deb"
echo "fetch-kernel.sh: downloading $package $version" >&2
if ! curl -fsSL -o "$deb" "$url"; then
    [ $latest = 0 ] || die "cannot download $url"
    echo "fetch-kernel.sh: $package $version is no longer on $MIRROR; taking the newest bookworm kernel" >&2
    choose_latest
    use_cached
    echo "fetch-kernel.sh: downloading $package $version" >&2
    curl -fsSL -o "$deb" "$url" || die "cannot download $url"
fi
got=$(sha256sum "$deb" | cut -d' ' -f1)
[ "$got" = "$deb_sha256" ] || die "$package $version: SHA-256 $got, expected $deb_sha256"

dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$work" "./boot/vmlinuz-$abi" \
    || die "$package has no /boot/vmlinuz-$abi"
got=$(sha256sum "$work/boot/vmlinuz-$abi" | cut -d' ' -f1)
[ -z "$vmlinuz_sha256" ] || [ "$got" = "$vmlinuz_sha256" ] \
    || die "vmlinuz-$abi: SHA-256 $got, expected $vmlinuz_sha256"
mv "$work/boot/vmlinuz-$abi" "$kernel.part"
echo "$got" > "$kernel.sha256"
mv "$kernel.part" "$kernel"
ln -sfn "vmlinuz-$abi" "$cache/vmlinuz"
echo "$cache/vmlinuz"
