#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs the dependencies, then builds twice (normal, and ASan+UBSan) with -Werror and runs
# the whole suite in both. Nothing may be skipped: a skipped test fails this script.
set -eu
cd "$(dirname "$0")/.."
./scripts/deps.sh
./scripts/format-check.sh

run_suite() { # run_suite BUILD_DIR [cmake args...]
	dir=$1; shift
	BUILD_DIR=$dir ./scripts/build.sh -DBIOGATE_WERROR=ON "$@"
	log=$dir/ctest.log
	ctest --test-dir "$dir" --output-on-failure -j2 2>&1 | tee "$log"
	if grep -q "Not Run\|\*\*\*Skipped" "$log"; then
		echo "test.sh: tests were skipped in $dir; the suite must run everything" >&2
		exit 1
	fi
}

run_suite build-test
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	run_suite build-asan -DBIOGATE_SANITIZE=ON -DBIOGATE_FUZZ=ON -DCMAKE_C_COMPILER=clang
