"""Positions in Redis are authoritative: Redis crashes and rollbacks never lose or double ops.

test_redis_sigkill_mid_stream: Redis (AOF, appendfsync everysec) is SIGKILLed while the applier
  is busy, stays down ~1.5 s while records keep arriving, and restarts on the same port and dir.
  A batch whose EXEC reply was lost must not be applied twice, and nothing may be skipped.
test_redis_restored_from_older_rdb: SAVE early and keep dump.rdb, let a whole chunk more apply,
  SIGKILL Redis, put the old dump.rdb back and restart. The applier must notice, re-read the
  (older) positions from Redis and re-apply from there: counters and lists end exact.
Both end with the whole keyspace equal to the model and the applier still running (exit 0 on
SIGTERM).
"""

import os
import shutil
import time

import harness
import kafka_io
import model
import workload


def _finish(devkafka, client, recs, app, what):
    log = kafka_io.read_topic(devkafka.brokers, harness.TOPIC)
    placed = workload.place(recs, log, harness.PARTITIONS)
    ends = kafka_io.end_offsets(devkafka.brokers, harness.TOPIC, harness.PARTITIONS)
    expected = workload.replay(placed)
    harness.wait_applied(client, ends, [app], timeout=180)
    exp_snap, act_snap = expected.snapshot(), model.dump_redis(client)
    problems = model.counters_and_lists(exp_snap, act_snap) + model.diff(exp_snap, act_snap)
    assert not problems, "%s:\n%s" % (what, "\n".join(problems))
    rc = app.terminate()
    assert rc == 0, "SIGTERM: expected exit code 0, got %s" % rc


def test_redis_sigkill_mid_stream(procs, devkafka, start_applier, rng, tmp_path):
    brokers, work = devkafka.brokers, str(tmp_path)
    redis = harness.RedisServer(procs, tmp_path / "redis-aof", persistence="aof")
    client = redis.client()
    wl = workload.Workload(rng)
    chunks = [wl.mixed(harness.scaled(15000)) for _ in range(4)]

    kafka_io.produce(brokers, harness.TOPIC, chunks[0], work)
    app = start_applier(redis.url, "e2e-redis-kill")
    app.wait_ready()
    with kafka_io.Stream(brokers, harness.TOPIC, work) as stream:
        before = harness.wait_progress(client, [0] * harness.PARTITIONS, [app])
        stream.send(chunks[1])
        harness.wait_progress(client, before, [app])
        redis.kill9()
        at_kill = time.monotonic()
        stream.send(chunks[2])
        while time.monotonic() - at_kill < 1.5:  # Redis stays down: the applier must wait
            app.check_alive()
            time.sleep(0.1)
        redis.start()
        print("redis restarted; positions after AOF load: %s" % harness.try_positions(client))
        stream.send(chunks[3])
    _finish(devkafka, client, [r for c in chunks for r in c], app,
            "after Redis SIGKILL + restart (AOF)")


def test_redis_restored_from_older_rdb(procs, devkafka, start_applier, rng, tmp_path):
    brokers, work = devkafka.brokers, str(tmp_path)
    redis = harness.RedisServer(procs, tmp_path / "redis-rdb", persistence="none")
    client = redis.client()
    wl = workload.Workload(rng)
    chunks = [wl.mixed(harness.scaled(n)) for n in (20000, 20000, 10000)]
    old_rdb = os.path.join(work, "old-dump.rdb")

    kafka_io.produce(brokers, harness.TOPIC, chunks[0], work)
    app = start_applier(redis.url, "e2e-redis-rdb")
    app.wait_ready()
    ends0 = kafka_io.end_offsets(brokers, harness.TOPIC, harness.PARTITIONS)
    harness.wait_applied(client, ends0, [app])
    redis.save_copy(old_rdb)

    kafka_io.produce(brokers, harness.TOPIC, chunks[1], work)
    ends1 = kafka_io.end_offsets(brokers, harness.TOPIC, harness.PARTITIONS)
    harness.wait_applied(client, ends1, [app])
    redis.kill9()
    shutil.copyfile(old_rdb, redis.rdb_path())
    redis.start()
    restored = harness.try_positions(client)
    print("restored positions %s (saved at %s, were %s)" % (restored, ends0, ends1))
    app.check_alive()

    kafka_io.produce(brokers, harness.TOPIC, chunks[2], work)
    _finish(devkafka, client, [r for c in chunks for r in c], app,
            "after Redis was restored from an older RDB")
