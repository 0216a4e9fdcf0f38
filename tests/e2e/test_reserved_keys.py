"""Ops may not write walrus's own keys (issue 12, item 1; docs/op-format.md "Reserved keys").

Every key beginning with `walrus:` is walrus's bookkeeping: positions `walrus:pos:*`, mirrored
source coordinates `walrus:src:*`, the leader epoch `walrus:epoch`, the applied HLC `walrus:hlc`,
crdt sidecars `walrus:m:*` / `walrus:c:*`. Before, an op could write them: `DEL walrus:pos:T:0`
replayed partition 0 (a counter incremented 6 times read 11), `SET walrus:pos:T:2 1000000` made
every later record of partition 2 a "duplicate", `SET walrus:epoch 99` then `SET walrus:epoch 1`
paused the applier for good.

Claims, with kcat as the producer and a running `walrus apply` (devkafka + redis-server):
- INCRBY counters on partitions 0, 2 and 5 interleaved with ops on reserved keys (DEL / tombstone
  / key_b64 of a position, SET of a position to 1000000, SET walrus:epoch 99 then 1, walrus:src,
  walrus:hlc and crdt sidecar writes, lower-case command names, a multi with one reserved member,
  RENAME / SMOVE with the reserved key in the second key position): each reserved op lands in the
  DLQ exactly once with category `refused` and a reason naming the key (or the refused command),
  the counters are exact, the stored positions equal the end offsets (nothing replayed, nothing
  skipped), the reserved keys are untouched, look-alike user keys (`Walrus:pos:...`, `walrusx`)
  are applied, /readyz stays 200 and records produced afterwards are applied exactly;
  walrus_apply_dlq_total{reason="refused"} counts them.
- `walrus produce` refuses them too: CMD KEY ARG... exits 1 naming the key, nothing produced;
  on stdin it names the line and produces the other lines.
- The key positions walrus checks are every key position Redis itself knows (COMMAND GETKEYS on
  a real redis-server): each allowed command of src/core/command_table.cc has exactly one key,
  the op's key.
"""

import base64
import json
import os
import re
import subprocess

import harness
import kafka_io

TOPIC = harness.TOPIC
DLQ = TOPIC + ".dlq"
POS = "walrus:pos:%s:%%d" % TOPIC
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def op(cmd, key, *args):
    return json.dumps({"cmd": cmd, "key": key, "args": list(args)}).encode()


def incr(key):
    return (key.encode(), op("INCRBY", key, "1"))


def reserved(key, value, why):
    """A record the applier must refuse; `why` is a fragment its DLQ reason must contain."""
    return (key if isinstance(key, bytes) else key.encode(), value, why)


def reserved_reason(key):
    return "key '%s' is reserved" % key


def batch(counter):
    """Per partition: the records of one interleaved batch (user counter increments around
    reserved-key ops), in produce order. Reserved records are 3-tuples."""
    p0 = POS % 0
    p2 = POS % 2
    b64 = base64.b64encode(p0.encode()).decode()
    return {
        0: [incr(counter[0]),
            reserved(p0, op("DEL", p0), reserved_reason(p0)),
            incr(counter[0]),
            reserved(p0, None, reserved_reason(p0)),  # tombstone of a position
            incr(counter[0]),
            reserved(p0, json.dumps({"cmd": "del", "key_b64": b64}).encode(), reserved_reason(p0)),
            incr(counter[0]),
            reserved(b"x", op("RENAME", "x", p0), "RENAME"),  # reserved as 2nd key: refused too
            incr(counter[0]),
            (b"Walrus:pos:" + TOPIC.encode() + b":0", op("SET", "Walrus:pos:%s:0" % TOPIC, "ok")),
            incr(counter[0])],
        2: [incr(counter[2]),
            reserved(p2, op("SET", p2, "1000000"), reserved_reason(p2)),
            incr(counter[2]),
            reserved(b"walrus:src:us/us.events/2",
                     op("SET", "walrus:src:us/us.events/2", "999999999999999999"),
                     reserved_reason("walrus:src:us/us.events/2")),
            incr(counter[2]),
            reserved(b"walrus:m:{c2}:c2", op("HSET", "walrus:m:{c2}:c2", "t", "x"),
                     reserved_reason("walrus:m:{c2}:c2")),
            incr(counter[2]),
            (b"walrusx", op("INCRBY", "walrusx", "1")),
            incr(counter[2])],
        5: [incr(counter[5]),
            reserved(b"walrus:epoch", op("SET", "walrus:epoch", "99"),
                     reserved_reason("walrus:epoch")),
            incr(counter[5]),
            reserved(b"walrus:epoch", op("set", "walrus:epoch", "1"),
                     reserved_reason("walrus:epoch")),
            incr(counter[5]),
            reserved(b"{m}", json.dumps({"multi": [
                {"cmd": "INCRBY", "key": "{m}:n", "args": ["1"]},
                {"cmd": "SET", "key": "walrus:hlc", "args": ["ffffffffffff-ffff"]}]}).encode(),
                "multi[1]: " + reserved_reason("walrus:hlc")),
            incr(counter[5]),
            reserved(b"{m}:s", op("SMOVE", "{m}:s", "walrus:epoch", "m"), "SMOVE"),
            incr(counter[5]),
            (b"{m}", json.dumps({"multi": [
                {"cmd": "INCRBY", "key": "{m}:n", "args": ["1"]},
                {"cmd": "INCRBY", "key": "{m}:o", "args": ["1"]}]}).encode()),
            incr(counter[5]),
            reserved(b"walrus:c:{c5}:c5", op("ZADD", "walrus:c:{c5}:c5", "1", "us"),
                     reserved_reason("walrus:c:{c5}:c5")),
            incr(counter[5])],
    }


def produce_batch(brokers, workdir, recs_by_partition, ends):
    """kcat-produces each partition's records in order; returns {(partition, offset): record}."""
    placed = {}
    for p, recs in recs_by_partition.items():
        kafka_io.produce(brokers, TOPIC, [(r[0], r[1]) for r in recs], workdir, partition=p)
        for i, r in enumerate(recs):
            placed[(p, ends[p] + i)] = r
    return placed


def dlq_records(brokers, n):
    out = []

    def enough():
        out[:] = kafka_io.read_topic(brokers, DLQ)
        return len(out) >= n
    harness.wait_until(enough, 60, "%d records in %s" % (n, DLQ), interval=0.3,
                       on_timeout=lambda: "(found %d: %s)" % (len(out), out[-3:]))
    return out


def check_dlq(dlq, placed):
    errors = []
    bad = {c: r for c, r in placed.items() if len(r) == 3}
    seen = {}
    for d in dlq:
        h = d["headers"]
        coord = (int(h.get("walrus-src-partition", -1)), int(h.get("walrus-src-offset", -1)))
        seen[coord] = seen.get(coord, 0) + 1
        src = bad.get(coord)
        if src is None:
            errors.append("DLQ holds %s, not a reserved-key record: %r" % (coord, d["value"]))
            continue
        reason = h.get("walrus-dlq-reason") or ""
        if h.get("walrus-dlq-category") != "refused":
            errors.append("%s: category %r, expected 'refused'" % (coord, h.get(
                "walrus-dlq-category")))
        if src[2] not in reason:
            errors.append("%s: reason %r does not contain %r" % (coord, reason, src[2]))
        if "is reserved" in src[2] and "'walrus:'" not in reason:
            errors.append("%s: reason %r does not name the namespace 'walrus:'" % (coord, reason))
        if h.get("walrus-src-topic") != TOPIC or d["key"] != src[0] or d["value"] != src[1]:
            errors.append("%s: DLQ record differs from the source: %r %r %r" % (
                coord, h.get("walrus-src-topic"), d["key"], d["value"]))
    for c in sorted(set(bad) - set(seen)):
        errors.append("reserved-key record %s missing from the DLQ: %r" % (c, bad[c][1]))
    errors += ["%s in the DLQ %d times" % (c, n) for c, n in seen.items() if n > 1]
    return errors


def refused_total(app):
    return sum(v for n, labels, v in harness.parse_metrics(app.metrics())
               if n == "walrus_apply_dlq_total" and labels.get("reason") == "refused")


def reserved_state(client):
    """Everything under walrus: except the positions: must not change through ops."""
    keys = sorted(k for k in client.scan_iter(match="walrus:*", count=1000)
                  if not k.startswith(b"walrus:pos:"))
    return {k: (client.type(k), client.dump(k)) for k in keys}


def test_reserved_keys_are_refused_into_the_dlq(devkafka, redis_server, start_applier, walrus_bin,
                                                tmp_path):
    brokers, work, client = devkafka.brokers, str(tmp_path), redis_server.client()
    counter = {0: "c0", 2: "c2", 5: "c5"}
    app = start_applier(redis_server.url, "e2e-reserved")
    app.wait_ready()

    # Warm-up: positions exist before the reserved ops come (the DEL must have something to hit).
    ends = kafka_io.end_offsets(brokers, TOPIC, harness.PARTITIONS)
    produce_batch(brokers, work, {p: [incr(k), incr(k)] for p, k in counter.items()}, ends)
    ends = kafka_io.end_offsets(brokers, TOPIC, harness.PARTITIONS)
    harness.wait_applied(client, ends, [app], timeout=60)
    before = reserved_state(client)

    recs = batch(counter)
    placed = produce_batch(brokers, work, recs, ends)
    ends = kafka_io.end_offsets(brokers, TOPIC, harness.PARTITIONS)
    harness.wait_applied(client, ends, [app], timeout=60)  # positions == ends: none skipped
    n_reserved = sum(1 for r in placed.values() if len(r) == 3)
    errors = check_dlq(dlq_records(brokers, n_reserved), placed)

    incrs = {p: 2 + sum(1 for r in recs[p] if r[0] == counter[p].encode()) for p in counter}
    got = {p: client.get(k) for p, k in counter.items()}
    if got != {p: str(n).encode() for p, n in incrs.items()}:
        errors.append("counters %s, expected exactly %s" % (got, incrs))
    if client.get("{m}:n") != b"1" or client.get("{m}:o") != b"1":
        errors.append("the refused multi changed {m}:n or the good one did not apply: n=%r o=%r"
                      % (client.get("{m}:n"), client.get("{m}:o")))
    if client.get("Walrus:pos:%s:0" % TOPIC) != b"ok" or client.get("walrusx") != b"1":
        errors.append("look-alike user keys were not applied")
    if client.exists("{m}:s", "x"):
        errors.append("RENAME/SMOVE touched their source keys")
    after = reserved_state(client)
    if after != before:
        errors.append("walrus's own keys changed: before %s after %s" % (before, after))
    if app.readyz() != 200:
        errors.append("/readyz %s after the reserved ops" % app.readyz())
    try:  # counted once each (wait: the count may trail the DLQ records by a moment)
        harness.wait_until(lambda: refused_total(app) >= n_reserved, 10, "the refused count")
    except AssertionError:
        pass
    if refused_total(app) != n_reserved:
        errors.append("walrus_apply_dlq_total{reason=\"refused\"} = %s, expected %d" % (
            refused_total(app), n_reserved))
    assert not errors, "\n".join(errors) + "\napplier log:\n" + app.log_tail(30)

    # The applier keeps applying, every partition, exactly.
    produce_batch(brokers, work, {p: [incr(k)] * 3 for p, k in counter.items()}, ends)
    ends = kafka_io.end_offsets(brokers, TOPIC, harness.PARTITIONS)
    harness.wait_applied(client, ends, [app], timeout=60)
    assert {p: client.get(k) for p, k in counter.items()} == {
        p: str(n + 3).encode() for p, n in incrs.items()}
    assert app.readyz() == 200
    assert reserved_state(client) == before

    # walrus produce refuses them too, before anything reaches Kafka.
    argv = [walrus_bin, "produce", "--brokers", brokers, "--topic", TOPIC]
    res = subprocess.run(argv + ["DEL", POS % 0], capture_output=True, timeout=60)
    err = res.stderr.decode()
    assert res.returncode == 1, (res.returncode, err)
    assert ("walrus produce: error: " + reserved_reason(POS % 0)) in err, err
    assert "'walrus:'" in err, err
    assert kafka_io.end_offsets(brokers, TOPIC, harness.PARTITIONS) == ends, "produced anyway"
    lines = b"\n".join([op("INCRBY", "p9", "1"), op("SET", "walrus:epoch", "99"),
                        json.dumps({"multi": [{"cmd": "DEL", "key": "walrus:hlc"}]}).encode(),
                        op("INCRBY", "p9", "1")]) + b"\n"
    res = subprocess.run(argv + ["-q"], input=lines, capture_output=True, timeout=60)
    err = res.stderr.decode()
    assert res.returncode == 1, (res.returncode, err)
    assert ("line 2: error: " + reserved_reason("walrus:epoch")) in err, err
    assert ("line 3: error: multi[0]: " + reserved_reason("walrus:hlc")) in err, err
    assert "line 1:" not in err and "line 4:" not in err, err
    ends = kafka_io.end_offsets(brokers, TOPIC, harness.PARTITIONS)
    harness.wait_applied(client, ends, [app], timeout=60)
    assert client.get("p9") == b"2"
    assert reserved_state(client) == before
    assert len(kafka_io.read_topic(brokers, DLQ)) == n_reserved  # nothing more was produced
    assert app.terminate() == 0


# Arguments valid for each allowed command (as in src/core/keyspace_test.cc).
SAMPLE_ARGS = {
    "APPEND": ["x"], "DECR": [], "DECRBY": ["1"], "DEL": [], "EXPIRE": ["10"],
    "EXPIREAT": ["2000000000"], "GETDEL": [], "GETEX": [], "GETSET": ["v"], "HDEL": ["f"],
    "HINCRBY": ["f", "1"], "HINCRBYFLOAT": ["f", "1.5"], "HMSET": ["f", "v"], "HSET": ["f", "v"],
    "HSETNX": ["f", "v"], "INCR": [], "INCRBY": ["5"], "INCRBYFLOAT": ["1.5"],
    "LINSERT": ["BEFORE", "p", "v"], "LPOP": [], "LPUSH": ["a"], "LPUSHX": ["a"],
    "LREM": ["0", "a"], "LSET": ["0", "a"], "LTRIM": ["0", "-1"], "PERSIST": [],
    "PEXPIRE": ["1000"], "PEXPIREAT": ["2000000000000"], "PFADD": ["a"], "PSETEX": ["1000", "v"],
    "RPOP": [], "RPUSH": ["a"], "RPUSHX": ["a"], "SADD": ["m"], "SET": ["v"],
    "SETBIT": ["7", "1"], "SETEX": ["10", "v"], "SETNX": ["v"], "SETRANGE": ["0", "v"],
    "SREM": ["m"], "UNLINK": [], "XADD": ["*", "f", "v"], "XDEL": ["1-1"],
    "XTRIM": ["MAXLEN", "10"], "ZADD": ["1", "m"], "ZINCRBY": ["1", "m"], "ZPOPMAX": [],
    "ZPOPMIN": [], "ZREM": ["m"], "ZREMRANGEBYLEX": ["[a", "[z"],
    "ZREMRANGEBYRANK": ["0", "-1"], "ZREMRANGEBYSCORE": ["0", "10"],
}


def allowed_commands():
    with open(os.path.join(ROOT, "src", "core", "command_table.cc")) as f:
        return re.findall(r'CommandSpec\{"([A-Z]+)"', f.read())


def test_every_allowed_command_has_only_the_op_key(redis_server):
    """CheckOpKeys (src/core/keyspace.cc) checks the op's key only; Redis agrees that it is the
    only key of every allowed command, so no argument can smuggle a reserved key in."""
    allowed = allowed_commands()
    assert len(allowed) > 40 and sorted(allowed) == sorted(SAMPLE_ARGS), (
        sorted(set(allowed) ^ set(SAMPLE_ARGS)))
    c = redis_server.client()
    wrong = {}
    for cmd in allowed:
        keys = c.execute_command("COMMAND GETKEYS", cmd, "k", *SAMPLE_ARGS[cmd])
        if keys != ["k"]:
            wrong[cmd] = keys
    assert not wrong, "commands whose arguments hold keys: %s" % wrong
    # The refused multi-key commands really are multi-key (the reason walrus refuses them).
    for argv in (["SMOVE", "a", "b", "m"], ["RENAME", "a", "b"], ["LMOVE", "a", "b", "LEFT", "LEFT"],
                 ["ZUNIONSTORE", "d", "2", "a", "b"]):
        assert argv[0] not in allowed
        assert len(c.execute_command("COMMAND GETKEYS", *argv)) >= 2, argv
