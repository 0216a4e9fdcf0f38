#!/usr/bin/env bash
# The test command: installs missing Debian packages, builds, and runs every test
# (unit, component, end-to-end and fault tests; all servers are started by the tests themselves
# on 127.0.0.1 and free ports). Then builds the ASan+UBSan variant and runs the unit tests in it.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

scripts/install-deps.sh
echo "== build"
# No debug info and test binaries at -O1: the build is about half as long (walrus itself keeps -O2).
scripts/build.sh -DWALRUS_QUICK_BUILD=ON

echo "== tests"
cd "$ROOT/build"
# Unit and component tests two at a time (each uses its own free ports), then the end-to-end
# and fault tests one at a time (they are timing-sensitive on a 2-core machine).
ctest --output-on-failure --timeout 900 -j2 -LE 'e2e|fault' "$@"
ctest --output-on-failure --timeout 900 -j1 -L 'e2e|fault' "$@"

if [[ "${WALRUS_SKIP_SANITIZE:-0}" != "1" ]]; then
  echo "== ASan+UBSan unit tests (decoders, planner, RESP parser, clients)"
  cd "$ROOT"
  WALRUS_BUILD_DIR=build-asan scripts/build.sh -DWALRUS_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug \
    -DWALRUS_MODULES="core;redis;testing"
  cd "$ROOT/build-asan"
  ctest --output-on-failure -L unit -j2
fi
