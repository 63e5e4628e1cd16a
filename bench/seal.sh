#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The offline verifier (issue 13): the time biogate-audit-verify takes over a sealed export
# of one month of N records (default 1,000,000, spread over 30 days, sealed as the daemon
# seals: a checkpoint every 10,000 records and at each day's end), with nothing but the
# public key list; next to sha256sum over the same file, and `audit verify` on the terminal
# (HMAC chain, keyless chain and checkpoints) over the same trail. Best of 3 each, because the
# machine is shared and noisy.
#
# usage: bench/seal.sh [N]   (builds ./build if needed; works in a temporary directory on
#                             disk, removed on exit)
set -eu
N=${1:-1000000}
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
export BUILD_DIR
./scripts/build.sh --target audit_bench >/dev/null
./scripts/build.sh --target biogate-audit-verify >/dev/null
case $BUILD_DIR in /*) B=$BUILD_DIR ;; *) B=$(pwd)/$BUILD_DIR ;; esac
BENCH=$B/bench/audit_bench VERIFY=$B/tools/audit-verify/biogate-audit-verify
T=$(mktemp -d "${TMPDIR:-/var/tmp}/biogate-bench-seal.XXXXXX")
trap 'rm -rf "$T"' EXIT
now() { date +%s.%N; }

echo "== a sealed month of $N records"
"$BENCH" seal-fill "$T" "$N"
echo "   command: audit_bench seal-fill DIR $N"
"$BENCH" seal-export "$T" "$T/month.sealed"
echo "   command: audit_bench seal-export DIR FILE"
"$VERIFY" "$T/month.sealed" --keys "$T/keys.txt"
best_v=999 best_s=999 best_a=999
for _ in 1 2 3; do
	t0=$(now); "$VERIFY" "$T/month.sealed" --keys "$T/keys.txt" >/dev/null; t1=$(now)
	best_v=$(echo "if ($t1 - $t0 < $best_v) $t1 - $t0 else $best_v" | bc -l)
	t0=$(now); sha256sum "$T/month.sealed" >/dev/null; t1=$(now)
	best_s=$(echo "if ($t1 - $t0 < $best_s) $t1 - $t0 else $best_s" | bc -l)
	t0=$(now); "$BENCH" verify "$T" >/dev/null; t1=$(now)
	best_a=$(echo "if ($t1 - $t0 < $best_a) $t1 - $t0 else $best_a" | bc -l)
done
mb=$(stat -c %s "$T/month.sealed" | awk '{printf "%.1f", $1/1e6}')
printf 'offline verify (whole process, best of 3)  %6.3f s   (biogate-audit-verify FILE --keys KEYS)\n' "$best_v"
printf 'sha256sum of the export (%s MB)        %6.3f s   ratio %.2fx\n' "$mb" "$best_s" \
	"$(echo "$best_v / $best_s" | bc -l)"
printf 'audit verify on the terminal (best of 3) %6.3f s   (audit_bench verify DIR)\n' "$best_a"
