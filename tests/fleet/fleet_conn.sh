#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs test_fleet_conn against a private PostgreSQL with the fleet schema, terminal t1, the
# admin role city and one person on the roster.
# Usage: fleet_conn.sh TEST_BINARY SQL_DIR
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=$1
sqldir=$2
T=$(mktemp -d /tmp/biogate-fleet-conn.XXXXXX)
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
SELECT biogate_fleet.add_terminal('t1');
INSERT INTO biogate_fleet.staff (matching_id, unix_user, name, affiliation, nationality)
	VALUES ('M1', 'u1', 'Sato', 'Counter', 'JP');
SQL
"$bin" "$here/pg.sh" "$T"
