"""walrus apply applies 100k mixed JSON ops exactly: Redis ends equal to the model, key by key.

Half of the stream is a backlog produced (kcat, keyed) before the applier starts, half arrives
while it runs. The stream mixes SET (half with ttl_ms, some binary via args_b64, some lower-case
cmd), DEL, INCR/INCRBY, HSET/HDEL, SADD/SREM, ZADD/ZREM, RPUSH, multi (DECRBY + RPUSH [+ HINCRBY])
and tombstones. Expected expiries are record timestamp (read back with kcat) + ttl_ms and are
compared exactly with PEXPIRETIME. The applier's stored positions must reach the end offsets
exactly, and SIGTERM must end it with exit code 0.
"""

import collections
import time

import harness
import kafka_io
import model
import workload

N_OPS = harness.scaled(100_000)


def test_apply_mixed(devkafka, redis_server, start_applier, rng, tmp_path):
    brokers, work = devkafka.brokers, str(tmp_path)
    wl = workload.Workload(rng)
    recs = wl.mixed(N_OPS)
    half = N_OPS // 2
    kafka_io.produce(brokers, harness.TOPIC, recs[:half], work)

    t0 = time.monotonic()
    app = start_applier(redis_server.url, "e2e-mixed")
    app.wait_ready(timeout=60)
    with kafka_io.Stream(brokers, harness.TOPIC, work) as stream:
        for i in range(half, N_OPS, 2000):
            stream.send(recs[i:i + 2000])
            app.check_alive()

    log = kafka_io.read_topic(brokers, harness.TOPIC)
    placed = workload.place(recs, log, harness.PARTITIONS)
    ends = kafka_io.end_offsets(brokers, harness.TOPIC, harness.PARTITIONS)
    assert ends == workload.end_offsets_of(placed, harness.PARTITIONS)
    expected = workload.replay(placed)
    kinds = collections.Counter("tombstone" if r.value is None else "op" for r in recs)
    print("records=%d %s keys=%d ends=%s" % (len(recs), dict(kinds), len(expected.keys), ends))

    client = redis_server.client()
    harness.wait_applied(client, ends, [app], timeout=240)
    print("applied in %.1fs since start" % (time.monotonic() - t0))
    model.assert_matches(expected, client, "after %d mixed ops" % N_OPS)

    rc = app.terminate(timeout=20)
    assert rc == 0, "SIGTERM: expected exit code 0, got %s; log:\n%s" % (rc, app.log_tail())
