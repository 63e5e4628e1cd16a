#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs a command next to a private, empty PostgreSQL (see pg.sh), with PGHOST, PGUSER and
# PGDATABASE pointing at it (as the superuser postgres) and FLEET_PG_DIR set to its directory.
# Usage: with_pg.sh COMMAND [ARGS...]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d /tmp/biogate-fleet.XXXXXX)
cleanup() {
	"$here/pg.sh" stop "$T" immediate 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
rc=0
"$here/pg.sh" start "$T" || rc=$?
[ "$rc" = 0 ] || exit "$rc"
eval "$("$here/pg.sh" env "$T")"
FLEET_PG_DIR=$T
export PGHOST PGUSER PGDATABASE FLEET_PG_DIR
rc=0
"$@" || rc=$?
exit "$rc"
