#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs the build tree into a scratch DESTDIR and checks that every part landed.
# usage: install.sh CMAKE BUILD_DIR PREFIX PAM_DIR LIBEXECDIR DATADIR UDEV_DIR UNIT_DIR
set -eu
cmake=$1 build=$2 prefix=$3 pamdir=$4 libexec=$5 datadir=$6 udev=$7 units=$8
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
DESTDIR=$d "$cmake" --install "$build" >/dev/null
under() { case $1 in /*) echo "$d$1" ;; *) echo "$d$prefix/$1" ;; esac; }
fail=0 pass=0
for f in "$(under bin)/biogatectl" "$(under bin)/biogate-audit-verify" "$(under sbin)/biogated" \
	"$(under "$libexec")/biogate/biogated-sensor" "$(under "$pamdir")/pam_biogate.so" \
	"$(under "$libexec")/biogate/biogate-usb-authorize" "$(under "$units")/biogate-usb-authorize@.service" \
	"$(under "$libexec")/biogate/biogate-notify" "$(under "$units")/biogate-notify.socket" "$(under "$units")/biogate-notify@.service" \
	"$(under "$libexec")/biogate/biogate-tell" "$(under "$units")/biogate-tell.socket" "$(under "$units")/biogate-tell@.service" \
	"$(under "$datadir")/biogate/policy.conf" "$(under "$datadir")/locale/ja/LC_MESSAGES/biogate.mo" \
	"$(under "$udev")/70-biogate-readers.rules" "$(under "$udev")/71-biogate-usb-storage.rules" \
	"$(under "$units")/biogated.service" "$(under "$units")/biogated.socket" \
	"$(under lib)/sysusers.d/biogate.conf" "$(under lib)/tmpfiles.d/biogate.conf" \
	"$(under lib)/systemd/catalog/biogate.catalog" \
	"$(under "$datadir")/polkit-1/rules.d/50-biogate.rules" \
	"$(under "$datadir")/pam-configs/biogate" "$(under "$datadir")/pam-configs/biogate-session" \
	"$(under "$datadir")/doc/biogate/examples/biogate.conf" \
	$(if [ -d "$build/docs/man" ]; then for m in man1/biogatectl.1 man1/biogate-audit-verify.1 man8/biogated.8 \
		man8/biogated-sensor.8 man8/pam_biogate.8 man5/biogate.conf.5 man5/biogate-policy.5; do
		echo "$(under "$datadir")/man/$m"; done; fi); do
	if [ -e "$f" ]; then echo "ok: ${f#"$d"}"; pass=$((pass + 1)); else echo "FAIL: missing ${f#"$d"}"; fail=$((fail + 1)); fi
done
# The service runs the installed daemon.
grep -q "^ExecStart=$prefix/sbin/biogated" "$(under "$units")/biogated.service" ||
	grep -q "^ExecStart=.*/sbin/biogated" "$(under "$units")/biogated.service" ||
	{ echo "FAIL: ExecStart"; fail=$((fail + 1)); }
[ "$fail" != 0 ] || pass=$((pass + 1))
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
