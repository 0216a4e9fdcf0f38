"""The oracle itself is right: Model == what real Redis does with the same records.

Produces a seeded mixed stream plus every kind of malformed record with kcat into
`walrus devkafka`, reads it back, and applies it with the Python reference applier
(reference.py) to a real redis-server. Proves: kcat keeps per-key order, the partitioner is the
one the workload assumes, Model (with timestamps read back) equals Redis key by key including
PEXPIRETIME, and every record the workload labels malformed is really refused/undecodable/
oversize or rejected by Redis with the error its category names. If this test fails, fix the
harness before believing any other e2e failure.
"""

import collections

import harness
import kafka_io
import model
import reference
import workload


def test_model_matches_real_redis(devkafka, redis_server, rng, tmp_path):
    wl = workload.Workload(rng)
    recs = wl.interleaved(20000, {"json": 60, "refused": 60, "arity": 60, "wrongtype": 80,
                                  "redis_value": 40, "oversize": 2})
    kafka_io.produce(devkafka.brokers, harness.TOPIC, recs, str(tmp_path))
    log = kafka_io.read_topic(devkafka.brokers, harness.TOPIC)
    placed = workload.place(recs, log, harness.PARTITIONS)
    ends = kafka_io.end_offsets(devkafka.brokers, harness.TOPIC, harness.PARTITIONS)
    assert ends == workload.end_offsets_of(placed, harness.PARTITIONS)
    assert all(r["tstype"] == "create" for r in log)

    client = redis_server.client()
    rejects = reference.reference_apply(log, client)
    expected = {(p.partition, p.offset): p.bad for p in placed if p.bad}
    wrong = {c: (expected.get(c), rejects.get(c)) for c in set(expected) | set(rejects)
             if expected.get(c) != rejects.get(c)}
    assert not wrong, "malformed-record categories disagree (expected, real): %s" % dict(
        list(wrong.items())[:20])
    print("rejects by category:", collections.Counter(rejects.values()))

    m = workload.replay(placed)
    model.assert_matches(m, client, "reference applier vs model")
    assert harness.positions(client) == ends
    types = collections.Counter(t for t, _, _ in m.snapshot().values())
    assert set(types) == {"string", "hash", "set", "zset", "list"}, types
    assert sum(1 for _, _, e in m.snapshot().values() if e > 0) > 100  # expiries are compared
