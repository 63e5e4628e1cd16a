#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs a test program against a private PostgreSQL with the fleet schema, terminals t1..t3, the
# admin role city and two people on the roster (M1 with operator ID O1, M2 with O2).
# Usage: center.sh TEST_BINARY SQL_DIR   (the binary gets: PG_SH DIR)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=$1
sqldir=$2
T=$(mktemp -d /tmp/biogate-fleet-center.XXXXXX)
cleanup() {
	"$here/pg.sh" stop "$T" immediate 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT INT TERM
rc=0
"$here/pg.sh" start "$T" || rc=$?
[ "$rc" = 0 ] || exit "$rc"
eval "$("$here/pg.sh" env "$T")"
export PGHOST PGUSER PGDATABASE
PSQL=${PSQL:-/usr/lib/postgresql/15/bin/psql}
for f in "$sqldir"/[0-9][0-9][0-9]-*.sql; do
	"$PSQL" -X -q -v ON_ERROR_STOP=1 -f "$f" >/dev/null
done
"$PSQL" -X -q -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
CREATE ROLE city LOGIN IN ROLE biogate_fleet_admin;
SET ROLE city;
SELECT biogate_fleet.add_terminal('t1'), biogate_fleet.add_terminal('t2'),
	biogate_fleet.add_terminal('t3');
INSERT INTO biogate_fleet.staff (matching_id, unix_user, name, affiliation, nationality)
	VALUES ('M1', 'u1', 'Sato', 'Counter', 'JP'), ('M2', 'u2', 'Lee', 'Counter', 'KR');
INSERT INTO biogate_fleet.operators (operator_id, matching_id, role)
	VALUES ('O1', 'M1', 'clerk'), ('O2', 'M2', 'clerk');
SQL
"$bin" "$here/pg.sh" "$T"
