#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Authorization throughput: 32 concurrent clients inside one operator's biogate session call
# io.biogate.Authorize back to back; every decision is durably recorded (audit group commit)
# before its reply. Prints decisions/s and latency percentiles, next to the daemon's
# cheapest round trip (GetInfo) with the same clients as the baseline.
#
# usage: bench/authorize.sh [CLIENTS] [SECONDS]     (root; builds ./build if needed)
set -eu
N=${1:-32}
S=${2:-5}
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build} ./scripts/build.sh >/dev/null
B=$(pwd)/${BUILD_DIR:-build}

T=$(mktemp -d /tmp/biogate-bench.XXXXXX)
DAEMON_PID=
cleanup() {
	[ -n "$DAEMON_PID" ] && kill "$DAEMON_PID" 2>/dev/null && wait "$DAEMON_PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
export FP_VIRTUAL_DEVICE=$T/vdev.sock FP_DRIVERS_WHITELIST=virtual_device
export BIOGATE_SOCKET=$T/run/io.biogate
CTL=$B/client/biogatectl
finger() { "$B/tests/integration/vdevctl" "$FP_VIRTUAL_DEVICE" "$@"; }

# The audit trail goes where the state goes: $T is on the same disk as the repository.
"$B/daemon/biogated" --foreground --state-dir "$T/state" --runtime-dir "$T/run" \
	--config /dev/null --sensor "$B/daemon/sensor/biogated-sensor" \
	--policy "$(pwd)/policy/policy.conf" 2>"$T/daemon.log" &
DAEMON_PID=$!
for _ in $(seq 1 100); do
	[ "$("$CTL" --json status 2>/dev/null | jq -r .reader.present)" = true ] && break
	sleep 0.1
done
"$CTL" staff add M001 --name bench --affiliation bench --nationality x --unix-user bench >/dev/null
"$CTL" staff edit M001 --pledge-date 2026-01-01 --training-date 2026-01-01 >/dev/null
finger "SCAN f" "SCAN f" "SCAN f" "SCAN f" "SCAN f"
"$CTL" enroll M001 --finger right-index >/dev/null 2>&1
"$CTL" operator grant M001 OP-1 --role counter >/dev/null
mkdir -p "$T/pam.d"
for type in auth account session; do
	echo "$type required $B/pam_module/pam_biogate.so socket=$BIOGATE_SOCKET"
done >"$T/pam.d/bench"

finger "SCAN f"
echo "command: bench/authorize.sh $N $S"
echo "== baseline: org.varlink.service.GetInfo (the cheapest round trip: no decision, no record), same clients"
"$B/bench/authorize_bench" "$BIOGATE_SOCKET" "$N" "$S" org.varlink.service.GetInfo
echo "== io.biogate.Authorize inside an operator's session, each decision durable before its reply"
[ -n "${BENCH_PERF:-}" ] && { perf record -g -p $DAEMON_PID -o "$BENCH_PERF" -- sleep $((S + 1)) >/dev/null 2>&1 & }
"$B/tests/pam/pamrun" --confdir "$T/pam.d" --service bench --user bench --open-session \
	--close-session --exec "$B/bench/authorize_bench" "$BIOGATE_SOCKET" "$N" "$S" |
	grep -v "^BIOGATE_\|=PAM_SUCCESS\|^INFO\|^exec=\|^close_start="
