#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The fleet end to end: a private PostgreSQL 15 (pg.sh) as the center and three biogated
# terminals on one machine, each with its own state directory, runtime directory and
# libfprint virtual reader, sharing one template key (as the systemd credential would give
# it), PAM logins through pamrun.
#   - the roster comes down from the center; enroll on t1, log in on t2;
#   - R12 across terminals: t3 is refused while t2 has the person, naming t2;
#   - revoke on t3: the session on t2 ends, every terminal erased the fingers;
#   - the center stopped (pg_ctl stop -m immediate): known people log in offline (recorded as
#     such), records queue; the center back: every record arrives exactly once;
#   - a terminal killed with SIGKILL while its queued records upload loses nothing;
#   - a terminal's own database role cannot rewrite the trail or read nationality.
#
# usage: e2e.sh BIOGATED SENSOR BIOGATECTL PAM_MODULE PAMRUN VDEVCTL SQL_DIR
set -u
BIOGATED=$1 SENSOR=$2 CTL=$3 MODULE=$4 PAMRUN=$5 VDEVCTL=$6 SQLDIR=$7
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
PGBIN=/usr/lib/postgresql/15/bin

command -v jq >/dev/null || { echo "SKIP: jq is not installed"; exit 77; }
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (the client trusts only root's socket)"; exit 77; }
[ -x "$PGBIN/postgres" ] || { echo "SKIP: PostgreSQL 15 is not installed"; exit 77; }

T=$(mktemp -d /tmp/biogate-fleet-e2e.XXXXXX)
chmod 0755 "$T"
declare -A PID
cleanup() {
	for t in "${!PID[@]}"; do kill "${PID[$t]}" 2>/dev/null; done
	wait 2>/dev/null
	"$HERE/pg.sh" stop "$T/pg" immediate 2>/dev/null
	[ -n "${KEEP:-}" ] && echo "kept $T" || rm -rf "$T"
}
trap cleanup EXIT
pass=0 fail=0
ok() { echo "ok: $1"; pass=$((pass + 1)); }
bad() { echo "FAIL: $1"; fail=$((fail + 1)); }
check() {
	local d=$1
	shift
	if "$@" >/dev/null 2>&1; then ok "$d"; else bad "$d"; fi
}
# waitfor SECONDS COMMAND...: polls every 0.1 s
waitfor() {
	local n=$(($1 * 10))
	shift
	for _ in $(seq 1 "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
	return 1
}

mkdir -p "$T/pg"
"$HERE/pg.sh" start "$T/pg" || exit $?
PGH=$T/pg/sock
psql_as() { # psql_as ROLE SQL
	"$PGBIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$PGH" -U "$1" -d postgres -c "$2"
}
# biogatectl fleet init applies the shipped migrations (twice: the second does nothing).
check "fleet init" "$CTL" fleet init --conninfo "host=$PGH user=postgres dbname=postgres" \
	--sql-dir "$SQLDIR"
check "fleet init again: nothing to do" sh -c "'$CTL' --json fleet init --conninfo 'host=$PGH user=postgres dbname=postgres' --sql-dir '$SQLDIR' | jq -e '.from == .to and .ok'"
psql_as postgres "CREATE ROLE city LOGIN IN ROLE biogate_fleet_admin" >/dev/null
ADMIN="host=$PGH user=city dbname=postgres"
for t in t1 t2 t3; do
	check "fleet add-terminal $t" "$CTL" fleet add-terminal "$t" --conninfo "$ADMIN"
done
psql_as city "INSERT INTO biogate_fleet.staff (matching_id, unix_user, name, affiliation,
	nationality, pledge_date, training_date) VALUES
	('M001', 'bgtest1', '山田 太郎', '委託事業者A', '日本', '2026-11-01', '2026-11-02'),
	('M002', 'bgtest2', '佐藤 花子', '委託事業者A', '日本', '2026-11-01', '2026-11-02');
	INSERT INTO biogate_fleet.operators (operator_id, matching_id, role) VALUES
	('OP-001', 'M001', 'counter'), ('OP-002', 'M002', 'counter')" >/dev/null

# The policy: revocation without a second finger here (custody.sh tests that rule).
cp "$SRC/policy/policy.conf" "$T/policy.conf"
mkdir -p "$T/policy.conf.d"
cat >"$T/policy.conf.d/50-test.conf" <<EOF
[two-person]
actions = nationality-read

[fleet]
lease-sec = 30
wait-ms = 1000
EOF
# The fleet's template key, the same on every terminal (a systemd credential in production).
head -c 32 /dev/urandom >"$T/template.key"

start() { # start tN
	local t=$1 d=$T/$1
	mkdir -p "$d/state" "$d/run"
	chmod 0700 "$d/state"
	[ -f "$d/state/template.key" ] || install -m 0600 "$T/template.key" "$d/state/template.key"
	cat >"$d/biogate.conf" <<EOF
[daemon]
verify-timeout-sec = 10

[fleet]
conninfo = host=$PGH user=biogate_t_$t dbname=postgres connect_timeout=2
terminal = $t
EOF
	FP_VIRTUAL_DEVICE=$d/vdev.sock FP_DRIVERS_WHITELIST=virtual_device \
		"$BIOGATED" --foreground --state-dir "$d/state" --runtime-dir "$d/run" \
		--config "$d/biogate.conf" --sensor "$SENSOR" --policy "$T/policy.conf" \
		2>>"$d/daemon.log" &
	PID[$t]=$!
}
ctl() { # ctl tN ARGS...
	local t=$1
	shift
	BIOGATE_SOCKET=$T/$t/run/io.biogate "$CTL" "$@"
}
status() { ctl "$1" --json status; }
fleet_up() { [ "$(status "$1" | jq -r '.fleet.up')" = true ]; }
caught_up() { # the center holds every record of tN
	status "$1" | jq -e '.fleet.up and .fleet.center_seq == .fleet.local_seq' >/dev/null
}
reader() { [ "$(status "$1" | jq -r '.reader.present')" = true ]; }
finger() { local t=$1; shift; "$VDEVCTL" "$T/$t/vdev.sock" "$@"; }
pam_for() { # pam_for tN: a PAM service file for that terminal's socket
	mkdir -p "$T/pam.d"
	cat >"$T/pam.d/biogate-$1" <<EOF
auth     required $MODULE socket=$T/$1/run/io.biogate
account  required $MODULE socket=$T/$1/run/io.biogate
session  required $MODULE socket=$T/$1/run/io.biogate
EOF
}
login() { # login tN USER [pamrun args...]: output in $T/out.tN
	local t=$1 user=$2
	shift 2
	"$PAMRUN" --confdir "$T/pam.d" --service "biogate-$t" --user "$user" --tty tty7 "$@" \
		>"$T/out.$t" 2>&1
}
result() { grep -m1 "^$2=" "$T/out.$1" | cut -d= -f2; }
has_finger() { ctl "$1" --json staff show "$2" | jq -e '.fingers | index("right-index")'; }
no_finger() { ctl "$1" --json staff show "$2" | jq -e '.fingers == []'; }
sessions_of() { ctl "$1" --json sessions | jq -r ".sessions | map(select(.matching_id == \"$2\")) | length"; }

# A password in biogate.conf is refused (it belongs in a credential), as is half a [fleet].
mkdir -p "$T/bad"
printf '[fleet]\nconninfo = host=%s user=x password=secret\nterminal = t9\n' "$PGH" >"$T/bad/1.conf"
printf '[fleet]\nterminal = t9\n' >"$T/bad/2.conf"
for c in 1 2; do
	timeout 10 "$BIOGATED" --foreground --state-dir "$T/bad/state$c" --runtime-dir "$T/bad/run$c" \
		--config "$T/bad/$c.conf" --sensor "$SENSOR" --policy "$T/policy.conf" 2>"$T/bad/$c.log"
	check "bad [fleet] config $c: the daemon does not start" test $? = 1
done
check "the refusal names the credential" grep -q "biogate-fleet-pgpass" "$T/bad/1.log"

for t in t1 t2 t3; do start "$t"; pam_for "$t"; done
for t in t1 t2 t3; do
	waitfor 20 reader "$t" || { echo "$t did not come up"; cat "$T/$t/daemon.log"; exit 1; }
	check "$t reaches the center" waitfor 20 fleet_up "$t"
done

# --- enroll once, log in anywhere ----------------------------------------------------
check "the roster came down to t2 (without nationality)" waitfor 10 sh -c \
	"BIOGATE_SOCKET=$T/t2/run/io.biogate '$CTL' --json staff show M001 | jq -e '.operators[0].operator_id == \"OP-001\"'"
finger t1 "SCAN finger-yamada" "SCAN finger-yamada" "SCAN finger-yamada" \
	"SCAN finger-yamada" "SCAN finger-yamada"
check "enroll M001 on t1" ctl t1 enroll M001 --finger right-index
check "the sealed template is at the center" \
	test "$(psql_as city "SELECT count(*) FROM biogate_fleet.templates WHERE matching_id = 'M001'")" = 1
check "t2 and t3 have the finger" waitfor 10 sh -c \
	"BIOGATE_SOCKET=$T/t2/run/io.biogate '$CTL' --json staff show M001 | jq -e '.fingers | index(\"right-index\")' &&
	 BIOGATE_SOCKET=$T/t3/run/io.biogate '$CTL' --json staff show M001 | jq -e '.fingers | index(\"right-index\")'"

finger t2 "SCAN finger-yamada"
login t2 bgtest1 --acct --open-session --exec sleep 30 &
LOGIN2=$!
check "log in on t2 with the finger enrolled on t1" waitfor 10 sh -c \
	"[ \$(BIOGATE_SOCKET=$T/t2/run/io.biogate '$CTL' --json sessions | jq '.sessions | length') = 1 ]"
check "the center registered the session at t2" \
	test "$(psql_as city "SELECT terminal FROM biogate_fleet.sessions WHERE matching_id = 'M001' AND closed_at IS NULL")" = t2

# --- R12 across terminals ------------------------------------------------------------
finger t3 "SCAN finger-yamada"
login t3 bgtest1 --open-session
check "t3: fingerprint fine, session refused" \
	test "$(result t3 auth)/$(result t3 open)" = PAM_SUCCESS/PAM_SESSION_ERR
check "t3 recorded already-in-session naming t2" sh -c \
	"BIOGATE_SOCKET=$T/t3/run/io.biogate '$CTL' --json audit list --action session.open --outcome deny | jq -e 'any(.[]; .reason == \"already-in-session\" and (.detail | contains(\"t2\")))'"

# --- revoke on t3 ends the session on t2 ---------------------------------------------
check "revoke M001 on t3" ctl t3 revoke M001 --reason departed
no_session() { test "$(sessions_of "$1" "$2")" = 0; }
check "the session on t2 ended" waitfor 5 no_session t2 M001
wait "$LOGIN2" 2>/dev/null
check "t1 and t2 erased the finger" waitfor 5 sh -c \
	"BIOGATE_SOCKET=$T/t1/run/io.biogate '$CTL' --json staff show M001 | jq -e '.state == \"revoked\" and .fingers == []' &&
	 BIOGATE_SOCKET=$T/t2/run/io.biogate '$CTL' --json staff show M001 | jq -e '.state == \"revoked\" and .fingers == []'"
check "t2 recorded the fleet's revocation" sh -c \
	"BIOGATE_SOCKET=$T/t2/run/io.biogate '$CTL' --json audit list --action staff.revoke | jq -e 'any(.[]; .matching_id == \"M001\" and (.detail | contains(\"fleet:t3\")))'"
check "the center: revoked, no template" \
	test "$(psql_as city "SELECT state || count(t.finger) FROM biogate_fleet.staff s LEFT JOIN biogate_fleet.templates t USING (matching_id) WHERE s.matching_id = 'M001' GROUP BY state")" = revoked0

# --- offline -------------------------------------------------------------------------
finger t1 "SCAN finger-sato" "SCAN finger-sato" "SCAN finger-sato" "SCAN finger-sato" \
	"SCAN finger-sato"
check "enroll M002 on t1" ctl t1 enroll M002 --finger right-index
check "t2 has M002's finger" waitfor 10 has_finger t2 M002
"$HERE/pg.sh" stop "$T/pg" immediate
check "t2 notices the center is gone" waitfor 10 sh -c \
	"[ \$(BIOGATE_SOCKET=$T/t2/run/io.biogate '$CTL' --json status | jq -r .fleet.up) = false ]"
finger t2 "SCAN finger-sato"
login t2 bgtest2 --open-session --close-session
check "offline: a known person logs in on t2" \
	test "$(result t2 auth)/$(result t2 open)" = PAM_SUCCESS/PAM_SUCCESS
check "offline: the login is recorded as such" sh -c \
	"BIOGATE_SOCKET=$T/t2/run/io.biogate '$CTL' --json audit list --action session.open | jq -e 'any(.[]; .reason == \"fleet-offline\")'"
finger t1 "SCAN finger-yamada"
login t1 bgtest1
check "offline: revoked before the cut stays revoked on t1" test "$(result t1 auth)" != PAM_SUCCESS
for i in $(seq 1 300); do ctl t3 authorize search >/dev/null 2>&1; done
check "t3 queued its records" sh -c \
	"BIOGATE_SOCKET=$T/t3/run/io.biogate '$CTL' --json status | jq -e '.fleet.local_seq > .fleet.center_seq'"
"$HERE/pg.sh" start "$T/pg"
# t3 is killed as soon as the center is back: its upload is in flight or about to be.
waitfor 10 fleet_up t3
kill -9 "${PID[t3]}"
wait "${PID[t3]}" 2>/dev/null
start t3
waitfor 20 reader t3
for t in t1 t2 t3; do
	check "$t: every record at the center after the cut" waitfor 30 caught_up "$t"
	local_seq=$(status "$t" | jq .fleet.local_seq)
	check "$t: exactly once ($local_seq records)" test \
		"$(psql_as city "SELECT count(*) || '/' || count(DISTINCT seq) || '/' || max(seq) FROM biogate_fleet.audit_records WHERE terminal = '$t'")" = \
		"$local_seq/$local_seq/$local_seq"
done
# An auditor verifies each terminal's chain at the center with that terminal's audit key.
for t in t1 t2 t3; do
	check "$t's chain verifies at the center" sh -c \
		"'$CTL' --json fleet verify $t --audit-key '$T/$t/state/audit.key' --conninfo '$ADMIN' | jq -e '.ok and .first_seq == 1 and .records == .last_seq'"
done
"$CTL" fleet verify t1 --audit-key "$T/t2/state/audit.key" --conninfo "$ADMIN" >/dev/null
check "t1's chain with t2's key: broken (exit 1)" test $? = 1
check "the center's copy of t2's trail has the offline login" \
	test "$(psql_as city "SELECT count(*) FROM biogate_fleet.audit_records WHERE terminal = 't2' AND action = 'session.open' AND reason = 'fleet-offline'")" -ge 1

# --- a revocation during t2's cut (t2 alone cut off: its role may not log in) -------------
psql_as postgres "ALTER ROLE biogate_t_t2 NOLOGIN; SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = 'biogate_t_t2'" >/dev/null
check "t2 is cut off" waitfor 10 sh -c \
	"[ \$(BIOGATE_SOCKET=$T/t2/run/io.biogate '$CTL' --json status | jq -r .fleet.up) = false ]"
check "revoke M002 on t1 during t2's cut" ctl t1 revoke M002 --reason transferred
finger t2 "SCAN finger-sato"
login t2 bgtest2 --open-session --exec sleep 30 &
LOGIN2=$!
check "t2, not knowing, lets M002 in offline" waitfor 10 sh -c \
	"[ \$(BIOGATE_SOCKET=$T/t2/run/io.biogate '$CTL' --json sessions | jq '.sessions | length') = 1 ]"
psql_as postgres "ALTER ROLE biogate_t_t2 LOGIN" >/dev/null
check "back online, t2 ends M002's session" waitfor 15 no_session t2 M002
wait "$LOGIN2" 2>/dev/null
check "t2 raised a fleet-conflict incident: login after revocation" sh -c \
	"BIOGATE_SOCKET=$T/t2/run/io.biogate '$CTL' --json audit list --action fleet.conflict | jq -e 'any(.[]; .matching_id == \"M002\" and .reason == \"login-after-revocation\")'"
check "t2 caught up again" waitfor 30 caught_up t2

check "fleet status: every terminal seen, nothing queued" sh -c \
	"'$CTL' --json fleet status --conninfo '$ADMIN' | jq -e '(.terminals | length == 3) and all(.terminals[]; .last_seen != null and .lag == 0)'"
"$CTL" fleet status --conninfo "$ADMIN"

# --- a stolen terminal credential ------------------------------------------------------
check "t1's role cannot delete t1's audit rows" \
	sh -c "! '$PGBIN/psql' -X -q -v ON_ERROR_STOP=1 -h '$PGH' -U biogate_t_t1 -d postgres -c 'DELETE FROM biogate_fleet.audit_records' 2>/dev/null"
check "t1's role cannot update audit rows" \
	sh -c "! '$PGBIN/psql' -X -q -v ON_ERROR_STOP=1 -h '$PGH' -U biogate_t_t1 -d postgres -c \"UPDATE biogate_fleet.audit_records SET outcome = 'ok'\" 2>/dev/null"
check "t1's role cannot read nationality" \
	sh -c "! '$PGBIN/psql' -X -q -v ON_ERROR_STOP=1 -h '$PGH' -U biogate_t_t1 -d postgres -c 'SELECT nationality FROM biogate_fleet.staff' 2>/dev/null"
check "t1 holds no nationality in its cache" sh -c "! grep -q '日本' '$T/t1/state/'biogate.db*"

for t in t1 t2 t3; do
	echo "--- $t daemon log (last lines)"
	tail -5 "$T/$t/daemon.log" | sed 's/^/  /'
done
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
