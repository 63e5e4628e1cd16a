#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Login cost: N full logins (authenticate, acct_mgmt, open_session, close_session) through
# pamtester with pam_biogate.so against libfprint's virtual reader, next to the same N
# through a service made only of pam_permit.so (the floor). Runs are interleaved so that
# machine noise hits both alike. The finger is queued on the virtual reader before each
# timed biogate login (outside the timing), as a person already touching the reader.
#
# usage: bench/login.sh [N]      (root; builds into ./build if needed; writes two files
#                                 under /etc/pam.d for pamtester and removes them on exit)
set -eu
N=${1:-300}
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "bench/login.sh needs root (pamtester reads /etc/pam.d)"; exit 1; }
command -v pamtester >/dev/null || ./scripts/deps.sh >/dev/null
BUILD_DIR=${BUILD_DIR:-build} ./scripts/build.sh >/dev/null
B=$(pwd)/${BUILD_DIR:-build}

# BENCH_TMP=/dev/shm puts the state (and its flushes) in memory: the CPU cost alone.
T=$(mktemp -d "${BENCH_TMP:-/var/tmp}/biogate-bench.XXXXXX")
SVC=biogate-bench-$$
FLOOR=biogate-bench-floor-$$
DAEMON_PID=
cleanup() {
	rm -f "/etc/pam.d/$SVC" "/etc/pam.d/$FLOOR"
	[ -n "$DAEMON_PID" ] && kill "$DAEMON_PID" 2>/dev/null && wait "$DAEMON_PID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT

export FP_VIRTUAL_DEVICE=$T/vdev.sock FP_DRIVERS_WHITELIST=virtual_device
export BIOGATE_SOCKET=$T/run/io.biogate
CTL=$B/client/biogatectl
finger() { "$B/tests/integration/vdevctl" "$FP_VIRTUAL_DEVICE" "$@"; }

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
finger "SCAN bench-finger" "SCAN bench-finger" "SCAN bench-finger" "SCAN bench-finger" \
	"SCAN bench-finger"
"$CTL" enroll M001 --finger right-index >/dev/null
"$CTL" operator grant M001 OP-1 --role counter >/dev/null

M=$B/pam_module/pam_biogate.so
for type in auth account session; do
	echo "$type required $M socket=$BIOGATE_SOCKET"
done >"/etc/pam.d/$SVC"
for type in auth account session; do
	echo "$type required pam_permit.so"
done >"/etc/pam.d/$FLOOR"

OPS=${BENCH_OPS:-"authenticate acct_mgmt open_session close_session"}
# One timed login: prints microseconds, fails loudly if the login did not succeed.
timed() { # timed SERVICE
	local t0=$EPOCHREALTIME
	# shellcheck disable=SC2086
	pamtester "$1" bench $OPS >"$T/out" 2>&1 || { cat "$T/out"; echo "login failed"; exit 1; }
	local t1=$EPOCHREALTIME
	echo $(((${t1/./} - ${t0/./})))
}

# Warm-up (page cache, first connection).
finger "SCAN bench-finger"
timed "$SVC" >/dev/null
timed "$FLOOR" >/dev/null

: >"$T/floor" && : >"$T/biogate"
for _ in $(seq 1 "$N"); do
	timed "$FLOOR" >>"$T/floor"
	finger "SCAN bench-finger"
	timed "$SVC" >>"$T/biogate"
done

stats() { # stats FILE -> "median p90" in microseconds
	sort -n "$1" | awk '{ v[NR] = $1 } END {
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		p = v[int(NR * 0.9 + 0.999)]
		printf "%d %d\n", m, p }'
}
read -r fm fp < <(stats "$T/floor")
read -r bm bp < <(stats "$T/biogate")
ok=$(grep -c "Session .* opened" "$T/daemon.log" || true)

echo "command: bench/login.sh $N   (pamtester SERVICE bench $OPS)"
printf '%-34s %10s %10s\n' "" "median" "p90"
printf '%-34s %8.3f ms %7.3f ms\n' "floor (pam_permit only)" "$(echo "$fm/1000" | bc -l)" "$(echo "$fp/1000" | bc -l)"
printf '%-34s %8.3f ms %7.3f ms\n' "pam_biogate (virtual reader)" "$(echo "$bm/1000" | bc -l)" "$(echo "$bp/1000" | bc -l)"
printf '%-34s %8.3f ms %7.3f ms\n' "overhead above the floor" "$(echo "($bm-$fm)/1000" | bc -l)" "$(echo "($bp-$fp)/1000" | bc -l)"
printf 'ratio biogate/floor (median): %.2f\n' "$(echo "$bm/$fm" | bc -l)"
echo "sessions opened and registered by the daemon: $ok (of $((N + 1)))"
