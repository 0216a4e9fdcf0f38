#!/usr/bin/env bash
# Configures and builds walrus into ./build (or $WALRUS_BUILD_DIR). Extra args go to cmake.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${WALRUS_BUILD_DIR:-build}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
# WALRUS_TARGETS="walrus" builds only those targets (default: everything, tests included).
ninja -C "$BUILD_DIR" -j"$(nproc)" ${WALRUS_TARGETS:-}
