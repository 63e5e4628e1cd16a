#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Start-up time against the size of the audit trail (issue 15, item 6): a trail of N records
# written by audit_bench fill (the audit library itself, so the chain is valid), then
# biogated started on it, timed from exec to its first answer (biogatectl status), twice
# (the second with the file in the page cache). Start-up must read from the trail only what
# it needs (the head, the room log of the last days by its index), never all of it.
#
# usage: bench/startup.sh [N...]   (default 1000000 10000000; builds ./build if needed)
# Target: ready <= 50 ms at 10,000,000 records.
set -eu
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
export BUILD_DIR
for t in audit_bench biogated biogated-sensor biogatectl; do ./scripts/build.sh --target $t >/dev/null; done
case $BUILD_DIR in /*) B=$BUILD_DIR ;; *) B=$(pwd)/$BUILD_DIR ;; esac
T=$(mktemp -d "${TMPDIR:-/var/tmp}/biogate-bench-startup.XXXXXX")
PID=
trap '[ -n "$PID" ] && kill $PID 2>/dev/null; rm -rf "$T"' EXIT
now() { date +%s.%N; }
[ $# -gt 0 ] || set -- 1000000 10000000

for n in "$@"; do
	rm -rf "$T/state" "$T/run"
	mkdir -p "$T/state"
	chmod 0700 "$T/state"
	"$B/bench/audit_bench" fill "$T/state" "$n"
	for round in cold warm; do
		[ $round = cold ] && sync && { echo 3 >/proc/sys/vm/drop_caches 2>/dev/null || true; }
		t0=$(now)
		"$B/daemon/biogated" --foreground --state-dir "$T/state" --runtime-dir "$T/run" \
			--config /dev/null --sensor "$B/daemon/sensor/biogated-sensor" \
			--policy policy/policy.conf 2>>"$T/log" &
		PID=$!
		until "$B/client/biogatectl" --socket "$T/run/io.biogate" status >/dev/null 2>&1; do
			kill -0 $PID 2>/dev/null || { cat "$T/log"; exit 1; }
			sleep 0.002
		done
		t1=$(now)
		kill $PID; wait $PID 2>/dev/null || true
		PID=
		printf 'start-up, %9d records (%s): ready in %6.1f ms   (bench/startup.sh %s)\n' \
			"$n" $round "$(echo "($t1 - $t0) * 1000" | bc -l)" "$n"
	done
done
