#!/usr/bin/env bash
# The run command (single-region quickstart): installs missing packages, builds, then starts an
# in-memory Kafka (`walrus devkafka`), a redis-server and `walrus apply` on free local ports,
# produces a few ops with `walrus produce`, and reads them back from Redis. Everything it starts
# is stopped on exit. Set KEEP_RUNNING=1 to keep the stack up until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

scripts/install-deps.sh
echo "== building"
WALRUS_TARGETS=walrus scripts/build.sh
WALRUS="$ROOT/build/src/cli/walrus"

WORK=$(mktemp -d /tmp/walrus-quickstart.XXXXXX)
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() {  # wait_for SECONDS DESCRIPTION COMMAND...
  local deadline=$((SECONDS + $1)) what=$2; shift 2
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS > deadline)); then echo "timed out waiting for $what" >&2; exit 1; fi
    sleep 0.2
  done
}

REDIS_PORT=$(free_port)
ADMIN_PORT=$(free_port)

echo "== starting walrus devkafka (in-memory Kafka, topic redis-writes with 12 partitions)"
"$WALRUS" devkafka --cluster local --brokers 1 --topic redis-writes:12 \
  --bootstrap-file "$WORK/bootstrap" >"$WORK/devkafka.log" 2>&1 &
PIDS+=($!)
wait_for 20 "devkafka" test -s "$WORK/bootstrap"
BROKERS=$(sed -n 's/^local=//p' "$WORK/bootstrap")
echo "   brokers: $BROKERS"

echo "== starting redis-server on 127.0.0.1:$REDIS_PORT"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
  --dir "$WORK" >"$WORK/redis.log" 2>&1 &
PIDS+=($!)
wait_for 10 "redis" redis-cli -p "$REDIS_PORT" ping

echo "== starting walrus apply (admin on 127.0.0.1:$ADMIN_PORT)"
"$WALRUS" apply --brokers "$BROKERS" --topic redis-writes --group quickstart \
  --redis "redis://127.0.0.1:$REDIS_PORT" --admin "127.0.0.1:$ADMIN_PORT" >"$WORK/apply.log" 2>&1 &
PIDS+=($!)
wait_for 30 "applier readiness" curl -sf "http://127.0.0.1:$ADMIN_PORT/readyz"
echo "   /readyz: $(curl -s "http://127.0.0.1:$ADMIN_PORT/readyz")"

echo "== producing ops with walrus produce"
"$WALRUS" produce --brokers "$BROKERS" --topic redis-writes SET greeting "hello from the log"
"$WALRUS" produce --brokers "$BROKERS" --topic redis-writes INCRBY sales:total 5
"$WALRUS" produce --brokers "$BROKERS" --topic redis-writes --ttl-ms 60000 SET session:1 alice
printf '%s\n' \
  '{"cmd":"HSET","key":"user:1","args":["name","alice","tier","vip"]}' \
  '{"cmd":"INCRBY","key":"sales:total","args":["37"]}' \
  '{"multi":[{"cmd":"DECRBY","key":"stock:{sku1}","args":["1"]},{"cmd":"RPUSH","key":"orders:{sku1}","args":["o-77"]}]}' \
  '{"cmd":"FLUSHALL","key":"x"}' |
  "$WALRUS" produce --brokers "$BROKERS" --topic redis-writes || echo "   (the FLUSHALL line was refused, as it should be)"

echo "== waiting for the applier to catch up"
wait_for 20 "sales:total" sh -c "[ \"\$(redis-cli -p $REDIS_PORT get sales:total)\" = 42 ]"
echo "   greeting       = $(redis-cli -p "$REDIS_PORT" get greeting)"
echo "   sales:total    = $(redis-cli -p "$REDIS_PORT" get sales:total)"
echo "   session:1 ttl  = $(redis-cli -p "$REDIS_PORT" pttl session:1) ms"
echo "   user:1         = $(redis-cli -p "$REDIS_PORT" hgetall user:1 | paste -sd' ')"
echo "   stock:{sku1}   = $(redis-cli -p "$REDIS_PORT" get 'stock:{sku1}')"
echo "   orders:{sku1}  = $(redis-cli -p "$REDIS_PORT" lrange 'orders:{sku1}' 0 -1 | paste -sd' ')"
echo "   positions      = $(redis-cli -p "$REDIS_PORT" --scan --pattern 'walrus:pos:*' | wc -l) partitions tracked in Redis"
echo "== applier metrics (excerpt)"
curl -s "http://127.0.0.1:$ADMIN_PORT/metrics" | grep -E '^walrus_apply_(records_total|transactions_total)' || true

if [[ "${KEEP_RUNNING:-0}" == "1" ]]; then
  echo "== running; brokers=$BROKERS redis=127.0.0.1:$REDIS_PORT admin=127.0.0.1:$ADMIN_PORT. Ctrl-C stops."
  wait
fi
echo "== done; stopping everything"
