#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs what building, walking through and testing biogate need on Debian 12 (as root);
# dpkg-dev, debhelper and pandoc build the .deb files, lintian and mmdebstrap test them;
# qemu-system-x86 boots the system test's guest (tests/system).
set -eu
PKGS="build-essential cmake pkg-config gettext
      libfprint-2-dev libglib2.0-dev libpam0g-dev libsystemd-dev libsqlite3-dev libssl-dev
      libjson-c-dev libinih-dev libseccomp-dev libpq-dev
      clang libclang-rt-14-dev clang-format jq procps sqlite3 pamtester python3 bc git
      dbus python3-dbusmock chromium fonts-ipafont-gothic
      dpkg-dev debhelper pandoc lintian mmdebstrap qemu-system-x86 e2fsprogs
      postgresql"
missing=
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing
fi
