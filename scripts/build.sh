#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Configures and builds biogate into BUILD_DIR (default ./build). Extra args go to cmake,
# except --target NAME, which builds only that target.
set -eu
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
target=
args=
for a in "$@"; do
	case "$a" in
	--target) target=next ;;
	*) if [ "$target" = next ]; then target=$a; else args="$args $a"; fi ;;
	esac
done
# shellcheck disable=SC2086
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo $args >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)" ${target:+--target "$target"}
