#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The system test: biogate's .deb files installed on a real booted Debian 12 (systemd as
# PID 1, logind, udev, polkit, journald, login(1) on a getty, a hot-plugged USB stick), and
# the ten scenarios of tests/system/systest.py run against it. As root; one command.
#
# Environment:
#   BIOGATE_SYSTEST_DEBS=DIR    take the .deb files from DIR instead of building them
#   BIOGATE_SYSTEST_CACHE=DIR   cache of the base root (default /var/cache/biogate-systest);
#                               a speed-up only: without it the base is built from the mirror
#   BIOGATE_SYSTEST_WORK=DIR    work directory (default a new one under /var/tmp, removed
#                               when everything passed unless BIOGATE_SYSTEST_KEEP=1)
#   BIOGATE_SYSTEST_ACCEL=auto|kvm|tcg, BIOGATE_SYSTEST_ONLY=1,2,...  see systest.py
#   BIOGATE_SYSTEST_MIRROR=URL  the Debian mirror (default: mmdebstrap's own)
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
[ "$(id -u)" = 0 ] || { echo "SKIP: the system test needs root"; exit 77; }
for t in mmdebstrap qemu-system-x86_64 mkfs.ext4 dpkg-buildpackage; do
	command -v "$t" >/dev/null || { echo "SKIP: $t is not installed (scripts/deps.sh)"; exit 77; }
done

CACHE=${BIOGATE_SYSTEST_CACHE:-/var/cache/biogate-systest}
WORK=${BIOGATE_SYSTEST_WORK:-$(mktemp -d /var/tmp/biogate-systest.XXXXXX)}
mkdir -p "$WORK"
echo "system test: work directory $WORK"
now() { date +%s.%N; }
secs() { echo "$1 $2" | awk '{printf "%.1f", $2 - $1}'; }

# --- the packages -------------------------------------------------------------------------
t=$(now)
if [ -n "${BIOGATE_SYSTEST_DEBS:-}" ]; then
	DEBS=$BIOGATE_SYSTEST_DEBS
	echo "system test: packages from $DEBS"
else
	# A copy of the tree (tracked and new files, not build directories): dpkg-buildpackage
	# writes its results next to the source directory.
	rm -rf "$WORK/src"
	mkdir -p "$WORK/src/biogate"
	(cd "$SRC" && git ls-files -z --cached --others --exclude-standard |
		xargs -0 cp --parents -a -t "$WORK/src/biogate" 2>/dev/null) ||
		cp -a "$SRC/." "$WORK/src/biogate"
	[ -d "$WORK/src/biogate/debian" ] || { echo "FAIL: no debian/ directory to build"; exit 1; }
	echo "system test: dpkg-buildpackage -us -uc -b (log: $WORK/build.log)"
	if ! (cd "$WORK/src/biogate" && DEB_BUILD_OPTIONS="parallel=2 nocheck" \
		dpkg-buildpackage -us -uc -b) >"$WORK/build.log" 2>&1; then
		tail -n 40 "$WORK/build.log"
		echo "FAIL: dpkg-buildpackage"
		exit 1
	fi
	DEBS=$WORK/debs
	mkdir -p "$DEBS"
	mv "$WORK"/src/*.deb "$DEBS/"
	ls -l "$DEBS"
fi
ls "$DEBS"/*.deb >/dev/null
echo "TIME packages $(secs "$t" "$(now)") s"

# --- the image ----------------------------------------------------------------------------
t=$(now)
"$HERE/image.sh" "$DEBS" "$WORK" "$CACHE"
echo "TIME image build $(secs "$t" "$(now)") s"

# --- the scenarios ------------------------------------------------------------------------
rc=0
/usr/bin/python3 "$HERE/systest.py" "$WORK" || rc=$?
if [ $rc = 0 ] && [ -z "${BIOGATE_SYSTEST_WORK:-}" ] && [ "${BIOGATE_SYSTEST_KEEP:-0}" != 1 ]; then
	rm -rf "$WORK"
else
	echo "system test: logs kept in $WORK (serial.log, getty.log, shell.log, qemu.log)"
fi
exit $rc
