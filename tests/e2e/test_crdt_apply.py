"""`walrus apply --mode crdt` end to end: three regions converge through Kafka.

Mirroring is simulated: region i's topic `r<i>` holds every origin's records (us, eu, ap) in
its own random interleaving that keeps each origin's order, and region i's applier (crdt mode)
applies `r<i>` to its own redis-server. Records carry `origin` and `hlc` (HLC text
pppppppppppp-llll) and hit a few hot keys of every family, so the regions see real conflicts in
different orders. Checked: `walrus verify` finds the three Redis identical, registers hold the
max-stamp write, counters the exact sum, and a record without `hlc` is refused (key absent).
"""

import json
import subprocess
import time

import harness
import kafka_io

ORIGINS = ("us", "eu", "ap")
PARTS = 4


def gen_origin(rng, origin, n, t0):
    recs, ms, logical = [], t0, 0
    for i in range(n):
        step = rng.randrange(0, 3)
        ms, logical = (ms + step, 0) if step else (ms, logical + 1)
        hlc = "%012x-%04x" % (ms, logical)
        f = rng.randrange(100)
        if f < 30:
            op = {"cmd": "SET", "key": "reg:%d" % rng.randrange(3), "args": ["%s-%d" % (origin, i)]}
        elif f < 55:
            op = {"cmd": "INCRBY", "key": "cnt:%d" % rng.randrange(3),
                  "args": [str(rng.randrange(-50, 50))]}
        elif f < 70:
            op = {"cmd": rng.choice(["SADD", "SREM"]), "key": "set:0",
                  "args": ["m%d" % rng.randrange(8)]}
        elif f < 80:
            op = {"cmd": "HSET", "key": "hash:0", "args": ["f%d" % rng.randrange(4), str(i)]}
        elif f < 88:
            op = {"cmd": "ZINCRBY", "key": "zset:0", "args": ["0.5", "m%d" % rng.randrange(4)]}
        else:
            op = {"cmd": "XADD", "key": "strm:0", "args": ["*", "by", "%s-%d" % (origin, i)]}
        op.update({"origin": origin, "hlc": hlc})
        recs.append(op)
    return recs


def interleave(rng, logs):
    idx, out = [0] * len(logs), []
    while any(idx[o] < len(logs[o]) for o in range(len(logs))):
        o = rng.choice([o for o in range(len(logs)) if idx[o] < len(logs[o])])
        for _ in range(rng.randrange(1, 30)):
            if idx[o] < len(logs[o]):
                out.append(logs[o][idx[o]])
                idx[o] += 1
    return out


def test_three_regions_converge(procs, walrus_bin, tmp_path, rng):
    topics = []
    for r in range(3):
        topics += ["r%d:%d" % (r, PARTS), "r%d.dlq:%d" % (r, PARTS)]
    kafka = harness.DevKafka(procs, walrus_bin, tmp_path, topics=topics)
    t0 = int(time.time() * 1000)
    logs = [gen_origin(rng, o, 1500, t0) for o in ORIGINS]
    bad = {"cmd": "SET", "key": "nohlc", "args": ["x"], "origin": "us"}

    servers, appliers = [], []
    for r in range(3):
        recs = interleave(rng, logs)
        recs.insert(rng.randrange(len(recs)), bad)
        kafka_io.produce(kafka.brokers, "r%d" % r,
                         [(op["key"].encode(), json.dumps(op).encode()) for op in recs], tmp_path)
        s = harness.RedisServer(procs, tmp_path / ("redis%d" % r))
        a = harness.Applier(procs, walrus_bin, kafka.brokers, s.url, "g%d" % r, topic="r%d" % r,
                            extra=["--mode", "crdt"], name="apply%d" % r)
        servers.append(s)
        appliers.append(a)
    for r in range(3):
        ends = kafka_io.end_offsets(kafka.brokers, "r%d" % r, PARTS)
        harness.wait_applied(servers[r].client(), ends, [appliers[r]], topic="r%d" % r)

    res = subprocess.run([walrus_bin, "verify", "-q"] + [s.url for s in servers],
                         capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "identical" in res.stdout

    c = servers[0].client()
    assert c.get("nohlc") is None
    stamp = lambda op: (op["hlc"], op["origin"])  # noqa: E731 (one op per record: index 0)
    all_ops = [op for log in logs for op in log]
    for k in ("reg:0", "reg:1", "reg:2"):
        sets = [op for op in all_ops if op["key"] == k]
        if sets:
            assert c.get(k).decode() == max(sets, key=stamp)["args"][0]
    for k in ("cnt:0", "cnt:1", "cnt:2"):
        incs = [int(op["args"][0]) for op in all_ops if op["key"] == k]
        if incs:
            assert int(c.get(k)) == sum(incs)
