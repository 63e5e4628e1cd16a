#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A private PostgreSQL 15 server for one test: initdb and pg_ctl in a temporary directory, run
# as an unprivileged user (nobody when the test runs as root; initdb refuses root), listening
# only on a Unix socket in that directory (no TCP). Trust authentication on that socket is a
# test convenience: the socket directory is the only way in, and the point of these tests is
# what each role may do once connected.
#
#   pg.sh start DIR    creates DIR/data (once) and starts; prints nothing; exit 77 if the
#                      PostgreSQL binaries are missing
#   pg.sh stop DIR [MODE]   pg_ctl stop -m MODE (default fast)
#   pg.sh env DIR      prints PGHOST=... PGUSER=... for eval
set -eu
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
cmd=$1
dir=$2
if [ ! -x "$PGBIN/initdb" ] || [ ! -x "$PGBIN/pg_ctl" ] || [ ! -x "$PGBIN/postgres" ]; then
	echo "SKIP: PostgreSQL 15 server binaries not found in $PGBIN (apt-get install postgresql)" >&2
	exit 77
fi

as_pg() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u nobody -- "$@"
	else
		"$@"
	fi
}

case "$cmd" in
start)
	if [ ! -d "$dir/data" ]; then
		mkdir -p "$dir/sock"
		chmod 0755 "$dir" "$dir/sock"
		[ "$(id -u)" = 0 ] && chown nobody "$dir/sock"
		mkdir -p "$dir/data"
		[ "$(id -u)" = 0 ] && chown nobody "$dir/data"
		chmod 0700 "$dir/data"
		as_pg "$PGBIN/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 \
			--locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
			{ cat "$dir/initdb.log" >&2; exit 1; }
	fi
	# fsync off: a test server dies with its test; -m immediate still exercises crash
	# recovery (WAL replay), which needs no fsync while the kernel lives.
	as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/sock/server.log" -w -t 60 \
		-o "-c listen_addresses='' -k $dir/sock -c fsync=off -c max_connections=200" \
		start >/dev/null
	;;
stop)
	as_pg "$PGBIN/pg_ctl" -D "$dir/data" -w -t 60 -m "${3:-fast}" stop >/dev/null
	;;
env)
	echo "PGHOST=$dir/sock PGUSER=postgres PGDATABASE=postgres"
	;;
*)
	echo "usage: pg.sh start|stop|env DIR" >&2
	exit 2
	;;
esac
