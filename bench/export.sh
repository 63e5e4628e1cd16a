#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Export throughput (issue 15, item 8): a trail of N records (audit_bench fill: the audit
# library itself, a valid chain), biogated started on it, and `biogatectl audit export`
# timed to a file, while 2 other clients call org.varlink.service.GetInfo back to back; their
# latency percentiles show whether the daemon still answered others meanwhile.
#
# usage: bench/export.sh [N] [FORMAT]   (default 1000000 jsonl; root; builds ./build if needed)
# Target: 1,000,000 records <= 10 s, other clients answered throughout.
set -eu
N=${1:-1000000}
FORMAT=${2:-jsonl}
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
export BUILD_DIR
for t in audit_bench authorize_bench biogated biogated-sensor biogatectl; do
	./scripts/build.sh --target $t >/dev/null
done
case $BUILD_DIR in /*) B=$BUILD_DIR ;; *) B=$(pwd)/$BUILD_DIR ;; esac
T=$(mktemp -d "${TMPDIR:-/var/tmp}/biogate-bench-export.XXXXXX")
PID=
trap '[ -n "$PID" ] && kill $PID 2>/dev/null; rm -rf "$T"' EXIT
now() { date +%s.%N; }
export BIOGATE_SOCKET=$T/run/io.biogate

mkdir -p "$T/state" "$T/policy.conf.d"
chmod 0700 "$T/state"
"$B/bench/audit_bench" fill "$T/state" "$N"
# The bench is root alone at the terminal: no second person to confirm the export.
cp policy/policy.conf "$T/policy.conf"
printf '[two-person]\nactions = revoke nationality-read disposal-approve\n' \
	>"$T/policy.conf.d/50-bench.conf"
"$B/daemon/biogated" --foreground --state-dir "$T/state" --runtime-dir "$T/run" \
	--config /dev/null --sensor "$B/daemon/sensor/biogated-sensor" \
	--policy "$T/policy.conf" 2>"$T/log" &
PID=$!
until "$B/client/biogatectl" status >/dev/null 2>&1; do
	kill -0 $PID 2>/dev/null || { cat "$T/log"; exit 1; }
	sleep 0.01
done

"$B/bench/authorize_bench" "$BIOGATE_SOCKET" "${PROBE_CLIENTS:-2}" "${PROBE_SECONDS:-12}" \
	org.varlink.service.GetInfo >"$T/probe" 2>&1 &
PROBE=$!
sleep 0.5
cpu() { awk '{printf "%.2f", ($14 + $15) / 100}' "/proc/$1/stat"; }
c0=$(cpu $PID)
t0=$(now)
/usr/bin/time -f '%U %S' -o "$T/ctl.time" \
	"$B/client/biogatectl" audit export --format "$FORMAT" --output "$T/out.$FORMAT" 2>"$T/ctl"
t1=$(now)
c1=$(cpu $PID)
wait $PROBE || true
size=$(stat -c %s "$T/out.$FORMAT")
printf 'export %d records (%s, %.0f MB): %.2f s, %.1f MB/s   (bench/export.sh %s %s)\n' \
	"$N" "$FORMAT" "$(echo "$size / 1000000" | bc -l)" "$(echo "$t1 - $t0" | bc -l)" \
	"$(echo "$size / 1000000 / ($t1 - $t0)" | bc -l)" "$N" "$FORMAT"
echo "CPU: biogated $(echo "$c1 - $c0" | bc -l) s, biogatectl $(awk '{print $1 + $2}' "$T/ctl.time") s"
echo "meanwhile, 2 clients calling GetInfo ($(cat "$T/ctl")):"
sed 's/^/  /' "$T/probe"
