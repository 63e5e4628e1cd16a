#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Fails when a C file differs from what clang-format (the repo's .clang-format) makes of it.
set -eu
cd "$(dirname "$0")/.."
bad=0
for f in $(git ls-files '*.c' '*.h'); do
	if ! clang-format --style=file "$f" | cmp -s - "$f"; then
		echo "format: $f differs from clang-format" >&2
		bad=1
	fi
done
exit $bad
