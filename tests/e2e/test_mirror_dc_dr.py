"""DC -> DR through `walrus mirror`: two devkafka clusters, a walrus apply and a redis-server on
each side. Claims: after >= 200k ops into DC with the mirror SIGKILLed and restarted >= 10 times
mid-stream, the DR Redis equals the DC Redis key by key (type, value, absolute expiry) and the
INCRBY counters are exact in both (a redelivered record is applied once, by its walrus-src
coordinates); with a broker of the target, then of the source, down and back mid-stream
(at-least-once mode), the same holds. `walrus status` reports zero mirror and applier lag.
"""

import random

import kafka_io
from harness import RedisServer, Applier, wait_applied, wait_until, scaled, TOPIC, PARTITIONS
from mirror_harness import (Cluster, Mirror, counter_ops, assert_same_dataset, status_json,
                            apply_src_args)
from workload import Workload

TOPICS = ["%s:%d" % (TOPIC, PARTITIONS), "%s.dlq:%d" % (TOPIC, PARTITIONS)]
APPLY_X = ["-X", "session.timeout.ms=6000", "-X", "heartbeat.interval.ms=500"]


def start_dc_dr(procs, walrus_bin, tmp_path):
    dc = Cluster(procs, walrus_bin, tmp_path, "dc", TOPICS)
    dr = Cluster(procs, walrus_bin, tmp_path, "dr", TOPICS)
    dc_redis = RedisServer(procs, tmp_path / "redis-dc")
    dr_redis = RedisServer(procs, tmp_path / "redis-dr")
    dc_app = Applier(procs, walrus_bin, dc.brokers, dc_redis.url, "dc", extra=APPLY_X, name="apply-dc")
    dr_app = Applier(procs, walrus_bin, dr.brokers, dr_redis.url, "dr",
                     extra=APPLY_X + apply_src_args(procs, ["dc"]), name="apply-dr")
    return dc, dr, dc_redis, dr_redis, dc_app, dr_app


def chunks(rng, n_mixed, n_counters, parts):
    """`parts` lists of records mixing workload ops and exact counters; expected counter sums."""
    mixed = Workload(rng).mixed(n_mixed)
    counters, expected = counter_ops(rng, n_counters)
    out = []
    for i in range(parts):
        a = mixed[i * len(mixed) // parts:(i + 1) * len(mixed) // parts]
        b = counters[i * len(counters) // parts:(i + 1) * len(counters) // parts]
        out.append(list(a) + list(b))
    return out, expected


def converge(walrus_bin, dc, dr, dc_redis, dr_redis, dc_app, dr_app, mirror, expected):
    # The mirror may have been restarted an instant ago: its admin port answers once it is ready.
    mirror.wait_ready()
    dc_ends = kafka_io.end_offsets(dc.brokers, TOPIC, PARTITIONS)
    wait_until(lambda: mirror.check_alive() or
               mirror.positions(TOPIC) == dict(enumerate(dc_ends)), 180,
               "mirror positions to reach the DC end offsets %s" % dc_ends, interval=0.2,
               on_timeout=lambda: "positions %s\n%s" % (mirror.positions(TOPIC),
                                                         mirror.proc.log_tail()))
    dr_ends = kafka_io.end_offsets(dr.brokers, TOPIC, PARTITIONS)
    wait_applied(dc_redis.client(), dc_ends, [dc_app])
    wait_applied(dr_redis.client(), dr_ends, [dr_app])
    n = assert_same_dataset(dc_redis.client(), dr_redis.client())
    for c in (dc_redis.client(), dr_redis.client()):
        got = {k: int(c.get(k) or 0) for k in expected}
        assert got == expected, "counters not exact: %s" % (
            [(k, got[k], expected[k]) for k in expected if got[k] != expected[k]][:10])
    rc, st, err = status_json(walrus_bin, ["--cluster", "dc=" + dc.brokers,
                                           "--cluster", "dr=" + dr.brokers,
                                           "--redis", "dc=" + dc_redis.url,
                                           "--redis", "dr=" + dr_redis.url, "--topics", TOPIC])
    assert rc == 0, err
    rows = [r for r in st["partitions"] if r["cluster"] == "dr"]
    assert len(rows) == PARTITIONS and all(r["mirror_source"] == "dc" and r["mirror_lag"] == 0
                                           and r["redis_lag"] == 0 for r in rows), rows
    assert any(h["flow"] == "dc:dr" for h in st["heartbeats"]), st["heartbeats"]
    return n, sum(dc_ends), sum(dr_ends)


def test_kill9_mirror_mid_stream(procs, walrus_bin, tmp_path, rng):
    dc, dr, dc_redis, dr_redis, dc_app, dr_app = start_dc_dr(procs, walrus_bin, tmp_path)
    parts, expected = chunks(rng, scaled(170_000), scaled(30_000), 12)
    mirror = Mirror(procs, walrus_bin, ["--source", dc.brokers, "--target", dr.brokers,
                                        "--source-alias", "dc", "--target-alias", "dr",
                                        "--topics", TOPIC])
    mirror.wait_ready()
    kills = 0
    with kafka_io.Stream(dc.brokers, TOPIC, str(tmp_path)) as s:
        for part in parts:
            s.send(part)
            before = sum(kafka_io.end_offsets(dr.brokers, TOPIC, PARTITIONS))
            # Kill it once it is copying again (mid-stream), then restart at once.
            wait_until(lambda: mirror.check_alive() or
                       sum(kafka_io.end_offsets(dr.brokers, TOPIC, PARTITIONS)) > before, 60,
                       "the mirror to copy records", interval=0.02)
            mirror.kill9()
            kills += 1
            mirror.start()
    assert kills >= 10
    n, dc_total, dr_total = converge(walrus_bin, dc, dr, dc_redis, dr_redis, dc_app, dr_app,
                                     mirror, expected)
    print("kills=%d keys=%d dc records=%d dr records=%d (redelivered %d)" % (
        kills, n, dc_total, dr_total, dr_total - dc_total))
    assert dc_total >= scaled(200_000)


def test_broker_outages_at_least_once(procs, walrus_bin, tmp_path, rng):
    dc, dr, dc_redis, dr_redis, dc_app, dr_app = start_dc_dr(procs, walrus_bin, tmp_path)
    parts, expected = chunks(rng, scaled(40_000), scaled(10_000), 5)
    mirror = Mirror(procs, walrus_bin, ["--source", dc.brokers, "--target", dr.brokers,
                                        "--source-alias", "dc", "--target-alias", "dr",
                                        "--topics", TOPIC, "--no-transactions",
                                        "-X", "reconnect.backoff.max.ms=500"])
    mirror.wait_ready()
    kafka_io.produce(dc.brokers, TOPIC, parts[0], str(tmp_path))
    # Target broker down while records keep coming, then back.
    dr.broker("down")
    kafka_io.produce(dc.brokers, TOPIC, parts[1], str(tmp_path))
    stalled = sum(kafka_io.end_offsets(dc.brokers, TOPIC, PARTITIONS))
    dr.broker("up")
    kafka_io.produce(dc.brokers, TOPIC, parts[2], str(tmp_path))
    # Source broker down with a backlog to copy (mirror frozen while it is produced), then back.
    import signal
    mirror.proc.signal(signal.SIGSTOP)
    kafka_io.produce(dc.brokers, TOPIC, parts[3], str(tmp_path))
    seen = len(mirror.proc.log_text())
    dc.broker("down")
    mirror.proc.signal(signal.SIGCONT)
    wait_until(lambda: "refused" in mirror.proc.log_text()[seen:], 30,
               "the mirror to notice the source outage")
    behind = mirror.positions(TOPIC)
    dc.broker("up")
    kafka_io.produce(dc.brokers, TOPIC, parts[4], str(tmp_path))
    assert stalled > 0
    assert sum(behind.values()) < sum(kafka_io.end_offsets(dc.brokers, TOPIC, PARTITIONS))
    n, dc_total, dr_total = converge(walrus_bin, dc, dr, dc_redis, dr_redis, dc_app, dr_app,
                                     mirror, expected)
    print("keys=%d dc records=%d dr records=%d" % (n, dc_total, dr_total))
