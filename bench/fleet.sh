#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The fleet on one machine: a private PostgreSQL 15 (tests/fleet/pg.sh, Unix socket only) and
# N biogated terminals (default 20), each with its own state and runtime directory and
# libfprint virtual reader, joined with biogatectl fleet init / add-terminal.
#
#  1. Revocation propagation (R4): REVOKES people revoked one after another on terminal 1
#     (biogatectl revoke); for each, on every other terminal, the time of its staff.revoke
#     record (written once the templates are erased, the IDs disabled and the sessions ended)
#     minus the moment the revoke's reply reached the client. p50 / p99 / max over all.
#     Target: p99 <= 1 s.
#  2. Login overhead: LOGINS full PAM logins (pamrun: auth, account, open and close session)
#     on terminal 1 (its OpenSession registers at the center) next to the same on a standalone
#     terminal (no [fleet]), interleaved; medians. Target: <= +1 ms median.
#  3. Upload after a cut: the center stopped (pg_ctl stop -m immediate) for CUT seconds
#     (default 600) while every terminal records decisions (biogatectl authorize, RATE a
#     second per terminal, default 10: far above a counter's real rate, far below what would
#     starve the other terminals of CPU on a small machine); then started: the time until
#     every terminal's records are all at the center, and the upload rate the center saw
#     (rows / span of their received_at).
#
# usage: bench/fleet.sh [TERMINALS] [REVOKES] [LOGINS] [CUT_SECONDS]
#        (root; builds into ./build (or $BUILD_DIR) if needed)
set -eu
N=${1:-20}
REVOKES=${2:-20}
LOGINS=${3:-100}
CUT=${4:-600}
RATE=${RATE:-10}
cd "$(dirname "$0")/.."
SRC=$(pwd)
[ "$(id -u)" = 0 ] || { echo "bench/fleet.sh needs root"; exit 1; }
BUILD_DIR=${BUILD_DIR:-build} ./scripts/build.sh >/dev/null
B=$SRC/${BUILD_DIR:-build}
PGBIN=/usr/lib/postgresql/15/bin
CTL=$B/client/biogatectl
T=$(mktemp -d "${BENCH_TMP:-/var/tmp}/biogate-fleet-bench.XXXXXX")
chmod 0755 "$T"
declare -A PID
cleanup() {
	for t in "${!PID[@]}"; do kill "${PID[$t]}" 2>/dev/null || true; done
	wait 2>/dev/null || true
	"$SRC/tests/fleet/pg.sh" stop "$T/pg" immediate 2>/dev/null || true
	[ -n "${KEEP:-}" ] && echo "kept $T" || rm -rf "$T"
}
trap cleanup EXIT
echo "# bench/fleet.sh $N $REVOKES $LOGINS $CUT   ($(date -u +%FT%TZ), $(nproc) CPUs)"

mkdir -p "$T/pg"
"$SRC/tests/fleet/pg.sh" start "$T/pg"
PGH=$T/pg/sock
psql_as() { "$PGBIN/psql" -X -q -A -t -v ON_ERROR_STOP=1 -h "$PGH" -U "$1" -d postgres -c "$2"; }
"$CTL" fleet init --conninfo "host=$PGH user=postgres dbname=postgres" --sql-dir "$SRC/fleet/sql" >/dev/null
psql_as postgres "CREATE ROLE city LOGIN IN ROLE biogate_fleet_admin" >/dev/null
ADMIN="host=$PGH user=city dbname=postgres"
terms=()
for i in $(seq 1 "$N"); do
	terms+=("$(printf "t%02d" "$i")")
	"$CTL" fleet add-terminal "${terms[-1]}" --conninfo "$ADMIN" >/dev/null
done
# People to revoke, and the one who logs in.
{
	echo "INSERT INTO biogate_fleet.staff (matching_id, unix_user, name, affiliation, nationality, pledge_date, training_date) VALUES"
	for i in $(seq 1 "$REVOKES"); do echo "('R$i', 'r$i', 'r', 'a', 'x', '2026-01-01', '2026-01-01'),"; done
	echo "('B1', 'bench', 'b', 'a', 'x', '2026-01-01', '2026-01-01');"
	echo "INSERT INTO biogate_fleet.operators (operator_id, matching_id, role) VALUES"
	for i in $(seq 1 "$REVOKES"); do echo "('OR$i', 'R$i', 'counter'),"; done
	echo "('OB1', 'B1', 'counter');"
} >"$T/roster.sql"
"$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PGH" -U city -d postgres -f "$T/roster.sql" >/dev/null

cp "$SRC/policy/policy.conf" "$T/policy.conf"
mkdir -p "$T/policy.conf.d"
printf '[two-person]\nactions = nationality-read\n' >"$T/policy.conf.d/50-bench.conf"
head -c 32 /dev/urandom >"$T/template.key"

start() { # start NAME [fleet]
	local t=$1 d=$T/$1
	mkdir -p "$d/state" "$d/run" "$d/pam.d"
	chmod 0700 "$d/state"
	install -m 0600 "$T/template.key" "$d/state/template.key"
	printf '[daemon]\nverify-timeout-sec = 10\n' >"$d/biogate.conf"
	[ "${2:-}" = fleet ] &&
		printf '[fleet]\nconninfo = host=%s user=biogate_t_%s dbname=postgres\nterminal = %s\n' \
			"$PGH" "$t" "$t" >>"$d/biogate.conf"
	for type in auth account session; do
		echo "$type required $B/pam_module/pam_biogate.so socket=$d/run/io.biogate"
	done >"$d/pam.d/bench"
	FP_VIRTUAL_DEVICE=$d/vdev.sock FP_DRIVERS_WHITELIST=virtual_device \
		"$B/daemon/biogated" --foreground --state-dir "$d/state" --runtime-dir "$d/run" \
		--config "$d/biogate.conf" --sensor "$B/daemon/sensor/biogated-sensor" \
		--policy "$T/policy.conf" 2>>"$d/daemon.log" &
	PID[$t]=$!
}
ctl() { local t=$1; shift; BIOGATE_SOCKET=$T/$t/run/io.biogate "$CTL" "$@"; }
waitfor() {
	local n=$(($1 * 10))
	shift
	for _ in $(seq 1 "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done
	echo "timed out: $*" >&2
	return 1
}
ready() { ctl "$1" --json status | jq -e '.reader.present and (.fleet == null or .fleet.up)'; }
finger() { local t=$1; shift; "$B/tests/integration/vdevctl" "$T/$t/vdev.sock" "$@"; }
knows() { ctl "$1" --json staff show "$2"; }

t0=$EPOCHREALTIME
for t in "${terms[@]}"; do start "$t" fleet; done
start solo
for t in "${terms[@]}" solo; do waitfor 60 ready "$t"; done
echo "started $N fleet terminals + 1 standalone in $(echo "$EPOCHREALTIME - $t0" | bc) s"
for t in "${terms[@]}"; do waitfor 30 knows "$t" "R$REVOKES"; done

# --- 1. revocation propagation -------------------------------------------------------
: >"$T/prop"
for i in $(seq 1 "$REVOKES"); do
	ctl t01 revoke "R$i" --reason departed >/dev/null
	reply=${EPOCHREALTIME/./}
	echo "$i $reply" >>"$T/replies"
done
sleep 2
for i in $(seq 1 "$REVOKES"); do
	reply=$(awk -v i="$i" '$1 == i { print $2 }' "$T/replies")
	for t in "${terms[@]:1}"; do
		at=$(ctl "$t" --json audit list --action staff.revoke --matching-id "R$i" | jq '.[0].time // empty')
		if [ -z "$at" ]; then echo "R$i never revoked on $t"; continue; fi
		echo $((at - reply)) >>"$T/prop"
	done
done
pct() { # pct FILE P: the P-th percentile (nearest rank) of the numbers in FILE
	sort -n "$1" | awk -v p="$2" '{ v[NR] = $1 } END { i = int((p / 100) * NR + 0.999999); if (i < 1) i = 1; print v[i] }'
}
echo "== 1. revocation propagation, $REVOKES revokes on t01 x $((N - 1)) other terminals ($(wc -l <"$T/prop") samples)"
echo "   from the revoke's reply to the terminal's staff.revoke record (ms; negative: before the reply)"
printf '   p50 %.1f ms   p99 %.1f ms   max %.1f ms   (target p99 <= 1000 ms)\n' \
	"$(echo "$(pct "$T/prop" 50) / 1000" | bc -l)" "$(echo "$(pct "$T/prop" 99) / 1000" | bc -l)" \
	"$(echo "$(pct "$T/prop" 100) / 1000" | bc -l)"

# --- 2. login overhead --------------------------------------------------------------
enroll() { # enroll TERMINAL
	finger "$1" "SCAN bench-finger" "SCAN bench-finger" "SCAN bench-finger" \
		"SCAN bench-finger" "SCAN bench-finger"
	ctl "$1" enroll B1 --finger right-index >/dev/null
}
enroll t01
ctl solo staff add B1 --name b --affiliation a --nationality x --unix-user bench >/dev/null
ctl solo staff edit B1 --pledge-date 2026-01-01 --training-date 2026-01-01 >/dev/null
ctl solo operator grant B1 OB1 --role counter >/dev/null
enroll solo
timed() { # timed TERMINAL: microseconds of one full login
	finger "$1" "SCAN bench-finger"
	local a=$EPOCHREALTIME
	"$B/tests/pam/pamrun" --confdir "$T/$1/pam.d" --service bench --user bench --tty tty7 \
		--acct --open-session --close-session >"$T/out" 2>&1
	local b=$EPOCHREALTIME
	grep -q "^close=PAM_SUCCESS" "$T/out" || { cat "$T/out"; echo "login on $1 failed"; exit 1; }
	echo $((${b/./} - ${a/./}))
}
timed t01 >/dev/null
timed solo >/dev/null
: >"$T/lat.fleet" && : >"$T/lat.solo"
for _ in $(seq 1 "$LOGINS"); do
	timed solo >>"$T/lat.solo"
	timed t01 >>"$T/lat.fleet"
done
f50=$(pct "$T/lat.fleet" 50) s50=$(pct "$T/lat.solo" 50)
echo "== 2. full PAM login (auth, account, open and close session), $LOGINS each, interleaved"
printf '   standalone median %.2f ms   fleet median %.2f ms   overhead %+.2f ms   (target <= +1 ms)\n' \
	"$(echo "$s50 / 1000" | bc -l)" "$(echo "$f50 / 1000" | bc -l)" "$(echo "($f50 - $s50) / 1000" | bc -l)"
printf '   p90: standalone %.2f ms, fleet %.2f ms\n' "$(echo "$(pct "$T/lat.solo" 90) / 1000" | bc -l)" \
	"$(echo "$(pct "$T/lat.fleet" 90) / 1000" | bc -l)"

# --- 3. upload after a cut ----------------------------------------------------------
for t in "${terms[@]}"; do
	ctl "$t" --json status | jq -e '.fleet.center_seq == .fleet.local_seq' >/dev/null ||
		waitfor 30 sh -c "BIOGATE_SOCKET=$T/$t/run/io.biogate '$CTL' --json status | jq -e '.fleet.center_seq == .fleet.local_seq'"
done
before=$(psql_as city "SELECT count(*) FROM biogate_fleet.audit_records")
"$SRC/tests/fleet/pg.sh" stop "$T/pg" immediate
echo "== 3. center stopped for $CUT s; every terminal records $RATE decisions/s meanwhile"
# Terminal 1 has B1 enrolled; the others record what their roster, revocations and an
# authorize loop outside any session produce (each a durable deny record).
for t in "${terms[@]}"; do
	(end=$((SECONDS + CUT)); while [ $SECONDS -lt $end ]; do
		BIOGATE_SOCKET=$T/$t/run/io.biogate "$CTL" authorize search >/dev/null 2>&1 || true
		sleep "$(echo "1 / $RATE" | bc -l)"
	done) &
done
sleep "$CUT"
sleep 1
queued=0
for t in "${terms[@]}"; do
	q=$(ctl "$t" --json status | jq '.fleet.local_seq - (if .fleet.center_seq < 0 then 0 else .fleet.center_seq end)')
	[ "$q" -gt 0 ] 2>/dev/null || q=0
	queued=$((queued + q))
done
"$SRC/tests/fleet/pg.sh" start "$T/pg"
t0=$EPOCHREALTIME
restart_ts=$(psql_as city "SELECT now()")
for t in "${terms[@]}"; do
	waitfor 600 sh -c "BIOGATE_SOCKET=$T/$t/run/io.biogate '$CTL' --json status | jq -e '.fleet.up and .fleet.center_seq == .fleet.local_seq'"
done
dt=$(echo "$EPOCHREALTIME - $t0" | bc -l)
after=$(psql_as city "SELECT count(*) FROM biogate_fleet.audit_records")
dups=$(psql_as city "SELECT count(*) - count(DISTINCT (terminal, seq)) FROM biogate_fleet.audit_records")
printf '   %d records queued on %d terminals; all at the center %.2f s after pg_ctl start: %.0f records/s (%d new rows, %d doubled)\n' \
	"$queued" "$N" "$dt" "$(echo "$queued / $dt" | bc -l)" "$((after - before))" "$dups"
echo "   (includes each terminal's reconnect backoff: up to 5 s after the center comes back)"
# The upload itself, without the reconnect delay: per terminal, its new rows over the span
# of their received_at; and all of them over the span from the first to the last.
psql_as city "SELECT round(percentile_cont(0.5) WITHIN GROUP (ORDER BY n / span)), count(*)
	FROM (SELECT count(*) AS n, extract(epoch FROM max(received_at) - min(received_at)) AS span
	FROM biogate_fleet.audit_records WHERE received_at >= '$restart_ts' GROUP BY terminal) x
	WHERE span > 0" |
	awk -F'|' '{ printf "   per terminal, as the center received them: median %d records/s (%d terminals with more than one batch)\n", $1, $2 }'
psql_as city "SELECT count(*), extract(epoch FROM max(received_at) - min(received_at))
	FROM biogate_fleet.audit_records WHERE received_at >= '$restart_ts'" |
	awk -F'|' '{ printf "   all terminals together: %d records over %.2f s: %.0f records/s\n", $1, $2, $1 / ($2 + 0.000001) }'
