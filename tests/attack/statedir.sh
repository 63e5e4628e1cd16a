#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Finding 6 of issue 14: a careless state directory is not trusted. biogated refuses to
# start, naming the path, when its state directory or anything in it is owned by another
# user or writable by others; a directory it made itself is accepted again after a restart.
#
# usage: statedir.sh BIOGATED SENSOR BIOGATECTL PAM_MODULE PAMRUN VDEVCTL
set -u
BIOGATED=$1 SENSOR=$2 CTL=$3 MODULE=$4 PAMRUN=$5 VDEVCTL=$6

. "$(dirname "$0")/../integration/lib.sh"
it_init statedir
id nobody >/dev/null 2>&1 || { echo "SKIP: no user nobody"; exit 77; }

refused() { # refused DIR PATH-NAMED: the daemon exits at once, naming PATH-NAMED
	local out=$T/refused.log
	: >"$out"
	timeout 20 "$BIOGATED" --foreground --state-dir "$1" --runtime-dir "$T/run" \
		--config /dev/null --sensor "$SENSOR" --policy "$POLICY" 2>"$out"
	local rc=$?
	cat "$out" >>"$T/daemon.log"
	[ "$rc" != 0 ] && [ "$rc" != 124 ] && grep -q "Refusing to start: $2 " "$out"
}

# A 0777 directory where another user pre-created biogate.db (the attack as reported).
D=$T/open
mkdir -m 0777 "$D" && chmod 0777 "$D"
su nobody -s /bin/sh -c "touch '$D/biogate.db'" 2>/dev/null ||
	{ touch "$D/biogate.db"; chown nobody "$D/biogate.db"; }
check "0777 state dir with another user's biogate.db: refused, naming the directory" \
	refused "$D" "$D"
check "the planted biogate.db was left alone (still nobody's, still empty)" \
	sh -c "[ \"\$(stat -c %U:%s '$D/biogate.db')\" = nobody:0 ]"
check "no audit.db was made in it" [ ! -e "$D/audit.db" ]

# The directory is fine, but another user's biogate.db is in it.
D=$T/foreign
mkdir -m 0700 "$D"
touch "$D/biogate.db"
chown nobody "$D/biogate.db"
check "another user's biogate.db: refused, naming the file" refused "$D" "$D/biogate.db"

# Our own file, but writable by everyone.
D=$T/writable
mkdir -m 0700 "$D"
touch "$D/audit.db"
chmod 0666 "$D/audit.db"
check "a world-writable audit.db: refused, naming the file" refused "$D" "$D/audit.db"

# Group-writable directory owned by us.
D=$T/groupw
mkdir -m 0770 "$D"
chmod 0770 "$D"
check "a group-writable state dir: refused" refused "$D" "$D"

# A symlink in place of the directory.
mkdir -m 0700 "$T/real"
ln -s "$T/real" "$T/link"
check "a symlinked state dir: refused" refused "$T/link" "$T/link"

# A file hard-linked from elsewhere.
D=$T/linked
mkdir -m 0700 "$D"
touch "$T/elsewhere"
ln "$T/elsewhere" "$D/biogate.db"
check "a hard-linked biogate.db: refused" refused "$D" "$D/biogate.db"

# The directory the daemon makes itself is accepted, and again after a restart with all
# its files (databases, WAL, keys) in it.
STATE=$T/state
start_daemon
check "a fresh state dir: the daemon starts" [ -S "$T/run/io.biogate" ]
check "status answers" "$CTL" status
stop_daemon
start_daemon
check "the daemon's own state dir: accepted after a restart" "$CTL" status
stop_daemon

it_done
