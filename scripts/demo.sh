#!/usr/bin/env bash
# The run command: installs missing Debian packages, builds, and runs the three-region demo
# (`walrus demo`): in-memory Kafka clusters us/eu/ap, three redis-servers, three crdt appliers,
# the mirror mesh and the gateway with its dashboard. Prints the dashboard URL; Ctrl-C stops
# everything. Arguments go to `walrus demo` (e.g. --http 0.0.0.0:8080, --scenario partition).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
echo "== building"
WALRUS_TARGETS=walrus scripts/build.sh
exec build/src/cli/walrus demo "$@"
