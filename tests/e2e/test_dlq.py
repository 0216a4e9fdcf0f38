"""Bad input never stalls a partition and lands, intact and explained, in the dead-letter topic.

1,000 malformed records are interleaved with 9,000 good ones (each aimed at the keyspace as it
is at its place in the stream): undecodable JSON (truncated, not an object, no cmd/key, args not
strings, bad args_b64), refused commands (FLUSHALL, SPOP, EVAL, ..., and multis containing one),
wrong arity, WRONGTYPE (INCR on a hash, ..., and multis whose 2nd op hits the wrong type: the
1st op must not land either), values Redis rejects (not an integer/float) and 3 values > 1 MiB.

Checked: positions reach the end (no stall); the DLQ (`redis-writes.dlq`, read with kcat) holds
exactly the malformed records, each once, with the original key and value, the headers
walrus-dlq-reason (non-empty; names WRONGTYPE for type errors), walrus-src-topic,
walrus-src-partition and walrus-src-offset matching the source record; a *dlq*/*dead* counter in
/metrics totals 1,000; and Redis equals the model of the good records only.
"""

import collections

import harness
import kafka_io
import model
import workload

BAD = {"json": 250, "refused": 250, "arity": 150, "wrongtype": 200, "redis_value": 147,
       "oversize": 3}
DLQ = harness.TOPIC + ".dlq"


def _check_dlq(dlq, placed):
    bad = {(p.partition, p.offset): p for p in placed if p.bad}
    errors, seen = [], collections.Counter()
    reasons = collections.defaultdict(collections.Counter)
    for d in dlq:
        h = d["headers"]
        try:
            coord = (int(h.get("walrus-src-partition")), int(h.get("walrus-src-offset")))
        except (TypeError, ValueError):
            errors.append("DLQ record %d/%d without usable src headers: %s" % (
                d["partition"], d["offset"], d["raw_headers"]))
            continue
        seen[coord] += 1
        src = bad.get(coord)
        if src is None:
            errors.append("DLQ holds a record that is not malformed: src %s key=%r value=%r" % (
                coord, d["key"], (d["value"] or b"")[:200]))
            continue
        if h.get("walrus-src-topic") != harness.TOPIC:
            errors.append("%s: walrus-src-topic=%r" % (coord, h.get("walrus-src-topic")))
        if d["key"] != src.key or d["value"] != src.value:
            errors.append("%s (%s): DLQ key/value differ from the source: key %r vs %r, value "
                          "%d bytes %r vs %d bytes %r" % (
                              coord, src.bad, d["key"], src.key, len(d["value"] or b""),
                              (d["value"] or b"")[:60], len(src.value), src.value[:60]))
        reason = h.get("walrus-dlq-reason") or ""
        reasons[src.bad][reason[:60]] += 1
        if not reason.strip():
            errors.append("%s (%s): empty walrus-dlq-reason" % (coord, src.bad))
        elif src.bad == "wrongtype" and "WRONGTYPE" not in reason.upper():
            errors.append("%s (wrongtype): reason %r does not carry Redis' WRONGTYPE error" % (
                coord, reason))
    missing = sorted(set(bad) - set(seen))
    dups = {c: n for c, n in seen.items() if n > 1}
    if missing:
        by_cat = collections.Counter(bad[c].bad for c in missing)
        errors.append("%d malformed records missing from the DLQ (by category %s), e.g. %s" % (
            len(missing), dict(by_cat), [(c, bad[c].value[:100]) for c in missing[:5]]))
    if dups:
        errors.append("%d malformed records in the DLQ more than once, e.g. %s" % (
            len(dups), list(dups.items())[:5]))
    for cat, cnt in reasons.items():
        print("DLQ reasons for %s: %s" % (cat, dict(cnt.most_common(4))))
    return errors


def test_dead_letters(devkafka, redis_server, start_applier, rng, tmp_path):
    brokers, work = devkafka.brokers, str(tmp_path)
    wl = workload.Workload(rng)
    recs = wl.interleaved(9000, BAD)
    n_bad = sum(BAD.values())
    assert sum(1 for r in recs if r.bad) == n_bad
    half = len(recs) // 2
    kafka_io.produce(brokers, harness.TOPIC, recs[:half], work)
    app = start_applier(redis_server.url, "e2e-dlq")
    app.wait_ready()
    kafka_io.produce(brokers, harness.TOPIC, recs[half:], work)

    log = kafka_io.read_topic(brokers, harness.TOPIC)
    placed = workload.place(recs, log, harness.PARTITIONS)
    ends = kafka_io.end_offsets(brokers, harness.TOPIC, harness.PARTITIONS)
    client = redis_server.client()
    harness.wait_applied(client, ends, [app], timeout=120)

    dlq = []

    def dlq_complete():
        dlq[:] = kafka_io.read_topic(brokers, DLQ)
        return len(dlq) >= n_bad
    try:
        harness.wait_until(dlq_complete, 30, "%d records in %s" % (n_bad, DLQ), interval=0.5)
    except AssertionError as e:
        print(e)  # reported in detail below
    errors = _check_dlq(dlq, placed)

    samples = [(n, l, v) for n, l, v in harness.parse_metrics(app.metrics())
               if ("dlq" in n or "dead" in n) and n.endswith("_total")
               and "fail" not in n and "error" not in n]
    total = sum(v for _, _, v in samples)
    if total != n_bad:
        errors.append("/metrics: expected a *dlq*/*dead* *_total counter summing to %d, found %s"
                      % (n_bad, samples or "none"))

    expected = workload.replay(placed)
    errors += model.diff(expected.snapshot(), model.dump_redis(client))
    assert not errors, "\n".join(errors)
    assert app.terminate() == 0
