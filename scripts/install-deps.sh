#!/usr/bin/env bash
# Installs the Debian 12 packages walrus needs to build, test and run (idempotent; root or sudo).
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config clang lld libclang-rt-14-dev
  librdkafka-dev libhiredis-dev libssl-dev libspdlog-dev libfmt-dev libcli11-dev
  nlohmann-json3-dev libsimdjson-dev libcpp-httplib-dev prometheus-cpp-dev libjemalloc-dev
  libboost1.81-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  redis-server redis-sentinel redis-tools kcat openssl
  python3 python3-pytest python3-redis python3-kafka curl procps
  etcd-server etcd-client chromium chromium-driver python3-selenium
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "install-deps: installing ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
