#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The fleet schema on a real PostgreSQL 15: it applies, re-applies without changing anything,
# and its roles hold against a stolen terminal credential (psql as the terminal's own role).
# Usage: roles.sh SQL_DIR
set -eu
here=$(cd "$(dirname "$0")" && pwd)
sqldir=$1
T=$(mktemp -d /tmp/biogate-fleet-roles.XXXXXX)
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
fails=0
n=0

# sql ROLE SQL: runs SQL as ROLE, prints the output (unaligned, tuples only).
sql() {
	"$PSQL" -X -q -A -t -v ON_ERROR_STOP=1 -U "$1" -c "$2" 2>&1
}
ok() {
	n=$((n + 1))
	if out=$(sql "$1" "$2"); then
		[ -z "${3:-}" ] || [ "$out" = "$3" ] || {
			echo "FAIL $n: as $1: $2: got '$out', want '$3'"
			fails=$((fails + 1))
		}
	else
		echo "FAIL $n: as $1: $2: $out"
		fails=$((fails + 1))
	fi
}
refused() {
	n=$((n + 1))
	if out=$(sql "$1" "$2"); then
		echo "FAIL $n: as $1 allowed: $2 -> $out"
		fails=$((fails + 1))
	elif ! printf '%s' "$out" | grep -q -- "$3"; then
		echo "FAIL $n: as $1: $2: refused for the wrong reason: $out"
		fails=$((fails + 1))
	fi
}

apply() {
	for f in "$sqldir"/[0-9][0-9][0-9]-*.sql; do
		"$PSQL" -X -q -v ON_ERROR_STOP=1 -f "$f" >/dev/null
	done
}

# Applies, and applies again: the second run must leave the schema byte for byte the same.
apply
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
# (\restrict lines carry a random key per dump, since 15.14)
"$PGBIN/pg_dump" -s -n biogate_fleet | grep -v '^\\\(un\)\?restrict ' >"$T/schema1.sql"
apply
"$PGBIN/pg_dump" -s -n biogate_fleet | grep -v '^\\\(un\)\?restrict ' >"$T/schema2.sql"
n=$((n + 1))
if ! cmp -s "$T/schema1.sql" "$T/schema2.sql"; then
	echo "FAIL $n: re-applying the migrations changed the schema:"
	diff "$T/schema1.sql" "$T/schema2.sql" | head -20
	fails=$((fails + 1))
fi
ok postgres "SELECT string_agg(version::text, ',') FROM biogate_fleet.schema_version" "1"

# The city's admin, two terminals, a stranger with a login and no role.
ok postgres "CREATE ROLE city LOGIN IN ROLE biogate_fleet_admin; CREATE ROLE stranger LOGIN"
ok city "SELECT biogate_fleet.add_terminal('t1')" "biogate_t_t1"
ok city "SELECT biogate_fleet.add_terminal('t2')" "biogate_t_t2"
ok city "SELECT biogate_fleet.add_terminal('t2')" "biogate_t_t2"
refused city "SELECT biogate_fleet.add_terminal('T2; DROP')" "invalid terminal name"
refused biogate_t_t1 "SELECT biogate_fleet.add_terminal('t9')" "permission denied"
refused stranger "SELECT biogate_fleet.add_terminal('t9')" "permission denied"
ok city "INSERT INTO biogate_fleet.staff (matching_id, unix_user, name, affiliation, nationality)
	VALUES ('M1', 'u1', 'Sato', 'Counter', 'JP'), ('M2', 'u2', 'Lee', 'Counter', 'KR');
	INSERT INTO biogate_fleet.operators (operator_id, matching_id, role)
	VALUES ('O1', 'M1', 'clerk'), ('O2', 'M2', 'clerk')"

# R7: a terminal reads the roster but never nationality.
ok biogate_t_t1 "SELECT name FROM biogate_fleet.staff WHERE matching_id = 'M1'" "Sato"
refused biogate_t_t1 "SELECT nationality FROM biogate_fleet.staff" "permission denied"
refused biogate_t_t1 "SELECT * FROM biogate_fleet.staff" "permission denied"
refused biogate_t_t1 "COPY biogate_fleet.staff TO STDOUT" "permission denied"
ok city "SELECT nationality FROM biogate_fleet.staff WHERE matching_id = 'M2'" "KR"

# Only the admin changes the roster.
refused biogate_t_t1 "INSERT INTO biogate_fleet.staff (matching_id, unix_user, name, affiliation,
	nationality) VALUES ('M9', 'u9', 'X', 'Y', 'Z')" "permission denied"
refused biogate_t_t1 "UPDATE biogate_fleet.staff SET name = 'X'" "permission denied"
refused biogate_t_t1 "DELETE FROM biogate_fleet.staff" "permission denied"
refused biogate_t_t1 "INSERT INTO biogate_fleet.operators (operator_id, matching_id, role)
	VALUES ('O9', 'M1', 'admin')" "permission denied"
refused biogate_t_t1 "UPDATE biogate_fleet.operators SET role = 'admin'" "permission denied"
refused biogate_t_t1 "INSERT INTO biogate_fleet.shifts (matching_id, start_at, end_at)
	VALUES ('M1', now(), now() + interval '1h')" "permission denied"
refused biogate_t_t1 "UPDATE biogate_fleet.terminals SET name = 'tx'" "permission denied"
refused stranger "SELECT name FROM biogate_fleet.staff" "permission denied"

# Audit records: its own only, in order, once; never updated or deleted, by anyone.
rec() { # terminal seq
	echo "INSERT INTO biogate_fleet.audit_records (terminal, seq, time, action, outcome, mac)
	VALUES ('$1', $2, 1, 'login', 'allow', decode(repeat('00', 32), 'hex'))
	ON CONFLICT (terminal, seq) DO NOTHING"
}
ok biogate_t_t1 "$(rec t1 1)"
ok biogate_t_t1 "$(rec t1 2)"
ok biogate_t_t1 "$(rec t1 2)"
ok biogate_t_t1 "SELECT count(*) FROM biogate_fleet.audit_records" "2"
refused biogate_t_t1 "$(rec t1 4)" "out of order"
refused biogate_t_t1 "$(rec t2 1)" "row-level security"
ok biogate_t_t2 "$(rec t2 7)"
ok biogate_t_t1 "SELECT count(*) FROM biogate_fleet.audit_records WHERE terminal = 't2'" "0"
refused biogate_t_t1 "UPDATE biogate_fleet.audit_records SET outcome = 'deny'" "permission denied"
refused biogate_t_t1 "DELETE FROM biogate_fleet.audit_records" "permission denied"
refused biogate_t_t1 "TRUNCATE biogate_fleet.audit_records" "permission denied"
refused city "UPDATE biogate_fleet.audit_records SET outcome = 'deny'" "permission denied"
refused city "DELETE FROM biogate_fleet.audit_records" "permission denied"
refused postgres "UPDATE biogate_fleet.audit_records SET outcome = 'deny'" "append-only"
refused postgres "DELETE FROM biogate_fleet.audit_records WHERE seq = 2" "append-only"
refused postgres "TRUNCATE biogate_fleet.audit_records" "append-only"
ok city "SELECT count(*) FROM biogate_fleet.audit_records" "3"

# Sessions: its own only; R12 across terminals through open_session, with the holder named.
refused biogate_t_t1 "INSERT INTO biogate_fleet.sessions (terminal, local_id, matching_id,
	operator_id, lease_until) VALUES ('t2', 1, 'M1', 'O1', now() + interval '1 min')" \
	"row-level security"
ok biogate_t_t1 "SELECT id IS NOT NULL, holder IS NULL FROM biogate_fleet.open_session(1, 'M1', 'O1', 60)" "t|t"
ok biogate_t_t2 "SELECT id IS NULL, holder FROM biogate_fleet.open_session(1, 'M1', 'O1', 60)" "t|t1"
refused biogate_t_t2 "INSERT INTO biogate_fleet.sessions (terminal, local_id, matching_id,
	operator_id, lease_until) VALUES ('t2', 2, 'M1', 'O1', now() + interval '1 min')" \
	"sessions_one_open"
ok biogate_t_t2 "UPDATE biogate_fleet.sessions SET closed_at = now(), close_reason = 'x'
	WHERE matching_id = 'M1' RETURNING id" ""
ok biogate_t_t2 "SELECT count(*) FROM biogate_fleet.sessions" "0"
refused biogate_t_t1 "UPDATE biogate_fleet.sessions SET lease_until = now() + interval '1 year'" \
	"permission denied"
refused city "SELECT * FROM biogate_fleet.open_session(1, 'M2', 'O2', 60)" "permission denied"
refused postgres "SELECT * FROM biogate_fleet.open_session(1, 'M2', 'O2', 60)" "not a biogate terminal"
# A terminal that died: its lease runs out and the person can log in elsewhere.
ok biogate_t_t1 "SELECT biogate_fleet.heartbeat(60, 0, 2)" "1"
ok city "UPDATE biogate_fleet.sessions SET lease_until = now() - interval '1 s'
	WHERE terminal = 't1'"
ok biogate_t_t2 "SELECT id IS NOT NULL, holder IS NULL FROM biogate_fleet.open_session(5, 'M1', 'O1', 60)" "t|t"
ok city "SELECT close_reason FROM biogate_fleet.sessions WHERE terminal = 't1'" "lease-expired"

# Enroll once: a sealed template from any terminal, under its own name, for an active person.
tpl() { # terminal-claimed matching_id
	echo "INSERT INTO biogate_fleet.templates (matching_id, finger, sealed, enrolled_on)
	VALUES ('$2', 'right-index', decode(repeat('ab', 64), 'hex'), '$1')
	ON CONFLICT (matching_id, finger) DO UPDATE SET sealed = EXCLUDED.sealed,
		enrolled_on = EXCLUDED.enrolled_on"
}
ok biogate_t_t1 "$(tpl t1 M1)"
ok biogate_t_t2 "$(tpl t2 M1)"
refused biogate_t_t1 "$(tpl t2 M2)" "row-level security"
refused biogate_t_t1 "DELETE FROM biogate_fleet.templates" "permission denied"

# Revocation from any terminal (R4): applied at the center at once, under the revoker's name.
refused biogate_t_t1 "INSERT INTO biogate_fleet.revocations (matching_id, reason, revoked_on)
	VALUES ('M1', 'departed', 't2')" "row-level security"
ok biogate_t_t1 "INSERT INTO biogate_fleet.revocations (matching_id, reason, revoked_on)
	VALUES ('M1', 'departed', 't1')"
ok city "SELECT s.state, (SELECT string_agg(state, ',') FROM biogate_fleet.operators
	WHERE matching_id = 'M1'), (SELECT count(*) FROM biogate_fleet.templates
	WHERE matching_id = 'M1'), (SELECT count(*) FROM biogate_fleet.sessions
	WHERE matching_id = 'M1' AND closed_at IS NULL)
	FROM biogate_fleet.staff s WHERE matching_id = 'M1'" "revoked|revoked|0|0"
ok biogate_t_t2 "SELECT revoked_on || ' ' || actor FROM biogate_fleet.revocations" "t1 biogate_t_t1"
refused biogate_t_t2 "SELECT * FROM biogate_fleet.open_session(6, 'M1', 'O1', 60)" "revoked or unknown"
refused biogate_t_t2 "$(tpl t2 M1)" "row-level security"
refused biogate_t_t1 "UPDATE biogate_fleet.revocations SET reason = 'other'" "permission denied"
refused biogate_t_t1 "DELETE FROM biogate_fleet.revocations" "permission denied"

# Fleet status for the admin, not for terminals.
ok city "SELECT name, local_seq, center_seq, lag FROM biogate_fleet.fleet_status ORDER BY name" \
	"$(printf 't1|2|2|0\nt2|0|7|0')"
refused biogate_t_t1 "SELECT * FROM biogate_fleet.fleet_status" "permission denied"

echo "roles: $n checks, $fails failed"
[ "$fails" = 0 ]
