#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The kill -9 campaign (issue 15, item 5): ROUNDS times, CLIENTS clients inside an operator's
# biogate session call io.biogate.Authorize back to back (each reply sent only once its
# decision is durable) and biogated is killed with SIGKILL at a random moment. After each
# kill: the decisions the clients saw acknowledged against the decision records the trail
# holds for the round (lost = acknowledged but not recorded: must be 0), PRAGMA
# integrity_check of both databases, then a restart, which the start-up cross-checks must
# accept (no false alarm), timed to its first answer. At the end `audit verify`.
#
# usage: bench/crash.sh [ROUNDS] [CLIENTS] [SECONDS]   (default 20 8 2; root; builds ./build)
set -eu
ROUNDS=${1:-20}
N=${2:-8}
S=${3:-2}
PY=/usr/bin/python3
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
export BUILD_DIR
./scripts/build.sh >/dev/null
case $BUILD_DIR in /*) B=$BUILD_DIR ;; *) B=$(pwd)/$BUILD_DIR ;; esac
T=$(mktemp -d "${TMPDIR:-/var/tmp}/biogate-bench-crash.XXXXXX")
PID=
trap '[ -n "$PID" ] && kill $PID 2>/dev/null && wait $PID 2>/dev/null; rm -rf "$T"' EXIT
export FP_VIRTUAL_DEVICE=$T/vdev.sock FP_DRIVERS_WHITELIST=virtual_device
export BIOGATE_SOCKET=$T/run/io.biogate
CTL=$B/client/biogatectl
finger() { "$B/tests/integration/vdevctl" "$FP_VIRTUAL_DEVICE" "$@"; }
now() { date +%s.%N; }

start() { # start: the daemon, and the time to its first answer in $READY_MS
	local t0
	t0=$(now)
	"$B/daemon/biogated" --foreground --state-dir "$T/state" --runtime-dir "$T/run" \
		--config /dev/null --sensor "$B/daemon/sensor/biogated-sensor" \
		--policy "$(pwd)/policy/policy.conf" 2>>"$T/daemon.log" &
	PID=$!
	until "$CTL" status >/dev/null 2>&1; do
		kill -0 $PID 2>/dev/null || { echo "biogated refused to start:"; tail -5 "$T/daemon.log"; exit 1; }
		sleep 0.002
	done
	READY_MS=$(echo "($(now) - $t0) * 1000" | bc -l)
	for _ in $(seq 1 100); do
		[ "$("$CTL" --json status 2>/dev/null | jq -r .reader.present)" = true ] && return 0
		sleep 0.05
	done
}
decisions_after() { # decisions_after SEQ: decision records with seq > SEQ, and the max seq
	"$PY" - "$T/state" "$1" <<'EOF'
import sqlite3, sys
for name in ("biogate.db", "audit.db"):
	db = sqlite3.connect(f"{sys.argv[1]}/{name}")
	ok = db.execute("PRAGMA integrity_check").fetchone()[0]
	if ok != "ok":
		print(f"integrity_check {name}: {ok}", file=sys.stderr)
		sys.exit(1)
	if name == "audit.db":
		n = db.execute("SELECT count(*) FROM records WHERE seq > ? AND action LIKE 'authorize.%'",
		               (int(sys.argv[2]),)).fetchone()[0]
		m = db.execute("SELECT coalesce(max(seq), 0) FROM records").fetchone()[0]
		print(n, m)
	db.close()
EOF
}

start
"$CTL" staff add M001 --name bench --affiliation bench --nationality x --unix-user bench >/dev/null
"$CTL" staff edit M001 --pledge-date 2026-01-01 --training-date 2026-01-01 >/dev/null
finger "SCAN f" "SCAN f" "SCAN f" "SCAN f" "SCAN f"
"$CTL" enroll M001 --finger right-index >/dev/null 2>&1
"$CTL" operator grant M001 OP-1 --role counter >/dev/null
mkdir -p "$T/pam.d"
for type in auth account session; do
	echo "$type required $B/pam_module/pam_biogate.so socket=$BIOGATE_SOCKET"
done >"$T/pam.d/bench"

echo "command: bench/crash.sh $ROUNDS $N $S"
last=0 total_ack=0 total_rec=0 total_lost=0 readies=()
for round in $(seq 1 "$ROUNDS"); do
	finger "SCAN f"
	"$B/tests/pam/pamrun" --confdir "$T/pam.d" --service bench --user bench --open-session \
		--exec "$B/bench/authorize_bench" "$BIOGATE_SOCKET" "$N" "$S" >"$T/load" 2>&1 &
	LOAD=$!
	# Kill at a random moment inside the load (after the login, before its end).
	sleep "$(awk -v s="$S" 'BEGIN{srand(); printf "%.3f", 0.3 + rand() * (s - 0.4)}')"
	kill -9 $PID
	wait $PID 2>/dev/null || true
	PID=
	wait $LOAD 2>/dev/null || true
	ack=$(sed -nE 's/.* ([0-9]+) decisions .*/\1/p' "$T/load" | head -1)
	ack=${ack:-0}
	# Synchronously: SQLite folds the WAL in while the checker closes the file.
	decisions_after "$last" >"$T/count"
	read -r rec newlast <"$T/count"
	lost=$((ack > rec ? ack - rec : 0))
	total_ack=$((total_ack + ack)) total_rec=$((total_rec + rec)) total_lost=$((total_lost + lost))
	start
	readies+=("$READY_MS")
	printf 'round %3d: acknowledged %7d, recorded %7d, lost %d, restart to first answer %5.1f ms\n' \
		"$round" "$ack" "$rec" "$lost" "$READY_MS"
	last=$newlast
done
"$CTL" --json audit verify >"$T/verify.json" || true
printf 'rounds %d, clients %d: acknowledged %d, recorded %d, lost %d; audit verify: %s; restart median %.1f ms, max %.1f ms\n' \
	"$ROUNDS" "$N" "$total_ack" "$total_rec" "$total_lost" \
	"$(jq -r 'if .ok then "ok, \(.records) records" else "FAILED: \(.problem) at \(.first_bad_seq)" end' "$T/verify.json")" \
	"$(printf '%s\n' "${readies[@]}" | sort -n | awk '{a[NR]=$1} END{print a[int((NR+1)/2)]}')" \
	"$(printf '%s\n' "${readies[@]}" | sort -n | tail -1)"
[ "$total_lost" = 0 ]
