#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Configures and builds biogate into BUILD_DIR (default ./build). Extra args go to cmake.
set -eu
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)"
