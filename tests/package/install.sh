#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# package-install: the .deb files from package-build installed with apt into a fresh Debian 12
# root made by mmdebstrap from Debian's packages, then, inside it (chroot, in private mount
# and PID namespaces so that nothing outlives the test), scenario.sh drives the generated
# /etc/pam.d/common-* stacks with pamtester against the installed biogated on libfprint's
# virtual reader, removes and purges. Usage: install.sh DEBS_DIR CACHE_DIR VDEVCTL
# The root's tarball is cached in CACHE_DIR (a speed-up only: keyed by what it includes).
set -eu
debs=$1
cache=$2
vdevctl=$3
here=$(cd "$(dirname "$0")" && pwd)

[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (chroot, namespaces)"; exit 77; }
for t in mmdebstrap unshare chroot dpkg-deb; do
	command -v "$t" >/dev/null || { echo "SKIP: $t is not installed (scripts/deps.sh)"; exit 77; }
done
ls "$debs"/biogate_*.deb "$debs"/libpam-biogate_*.deb >/dev/null ||
	{ echo "FAIL: no .deb files in $debs (package-build)"; exit 1; }

# The root holds the packages' dependencies and recommendations already (read from the
# .deb files, so the cache follows debian/control), and the test's own tools.
deps=$(for f in "$debs"/biogate_*.deb "$debs"/libpam-biogate_*.deb; do
	dpkg-deb -f "$f" Depends Recommends | sed 's/^[A-Za-z-]*: //'
done | tr ',' '\n' | sed 's/([^)]*)//; s/|.*//; s/ //g' | grep -v '^$' |
	grep -vx 'biogate\|libpam-biogate' | sort -u | tr '\n' ',')
include="${deps}pamtester,passwd,jq,apt,man-db"
key=$(echo "bookworm minbase $include" | sha256sum | cut -c1-16)
tarball=$cache/bookworm-$key.tar
mkdir -p "$cache"
if [ ! -s "$tarball" ]; then
	echo "making the Debian 12 root ($include)"
	rm -rf "$cache"/bookworm-*.tar "$cache"/partial-*.tar
	# (mmdebstrap picks the output format from the name's extension)
	mmdebstrap --quiet --variant=minbase --skip=cleanup/apt/lists --include="$include" \
		bookworm "$cache/partial-$key.tar" || { echo "FAIL: mmdebstrap"; exit 1; }
	mv "$cache/partial-$key.tar" "$tarball"
fi

T=$(mktemp -d /tmp/biogate-pkg.XXXXXX)
trap 'rm -rf --one-file-system "$T"' EXIT
mkdir "$T/root"
tar -xf "$tarball" -C "$T/root"
mkdir -p "$T/root/tmp/debs"
cp "$debs"/biogate_*.deb "$debs"/libpam-biogate_*.deb "$T/root/tmp/debs/"

unshare --mount --pid --fork --kill-child bash "$here/scenario.sh" "$T/root" "$vdevctl"
