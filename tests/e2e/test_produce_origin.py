"""`walrus produce --origin`: the active-active stamps of the command-line producer.

- `--origin us` stamps `origin` and `hlc` on every op (record value and the `walrus-origin`
  header), prints ` hlc=...` on each acknowledgement line, and kcat (an independent reader) sees
  exactly those stamps, keys and values.
- With `--hlc-floor-file` the stamps keep increasing strictly across invocations even when the
  wall clock alone would give lower or equal stamps (the floor file is set ahead of the clock).
- `--observe-redis URL` reads `walrus:hlc` (the highest stamp the local applier applied) from
  that Redis before sending: with it 5 s in the future the next stamp sorts after it; without
  the flag the same run stamps below it (so the check can fail). A missing key is fine.
"""

import json
import os
import re
import subprocess
import time

import harness
import kafka_io

TOPIC = "us.events"
PARTITIONS = 4
LINE_RE = re.compile(r"^line=(\d+) topic=(\S+) partition=(\d+) offset=(\d+)(?: hlc=(\S+))?$")


def hlc_text(ms, logical=0):
    return "%012x-%04x" % (ms, logical)


def hlc_ms(text):
    return int(text.split("-")[0], 16)


def produce(walrus_bin, brokers, args, stdin=None, env=None):
    """Runs `walrus produce`; returns the parsed acknowledgement lines (asserts exit 0)."""
    argv = [walrus_bin, "produce", "--brokers", brokers, "--topic", TOPIC] + args
    res = subprocess.run(argv, input=stdin, capture_output=True, timeout=30, env=env)
    out, err = res.stdout.decode(), res.stderr.decode()
    assert res.returncode == 0, "`%s` exited %d:\n%s\n%s" % (" ".join(argv), res.returncode,
                                                            out, err)
    acks = []
    for line in out.splitlines():
        m = LINE_RE.match(line.strip())
        assert m, "unexpected output line %r" % line
        acks.append({"line": int(m.group(1)), "topic": m.group(2), "partition": int(m.group(3)),
                     "offset": int(m.group(4)), "hlc": m.group(5)})
    return acks


def test_origin_stamps_floor_file_and_observe(procs, walrus_bin, tmp_path):
    t_start = time.monotonic()
    kafka = harness.DevKafka(procs, walrus_bin, tmp_path, topics=["%s:%d" % (TOPIC, PARTITIONS)])
    redis = harness.RedisServer(procs, tmp_path / "redis")
    floor = str(tmp_path / "hlc-us")
    stamped = []  # every (key, value, hlc, partition, offset) acknowledged, in order

    def run(key, value, extra=()):
        acks = produce(walrus_bin, kafka.brokers,
                       ["--origin", "us", "--hlc-floor-file", floor] + list(extra) +
                       ["SET", key, value])
        assert len(acks) == 1 and acks[0]["hlc"], acks
        a = acks[0]
        stamped.append((key, value, a["hlc"], a["partition"], a["offset"]))
        return a["hlc"]

    # Plain run (no --origin): no stamp on the line.
    plain = produce(walrus_bin, kafka.brokers, ["SET", "plain", "p"])
    assert len(plain) == 1 and plain[0]["hlc"] is None, plain

    # A few runs from a fresh floor file: stamps strictly increase, near the wall clock.
    first = [run("k%d" % i, "v%d" % i) for i in range(3)]
    assert first == sorted(set(first)), first
    assert abs(hlc_ms(first[0]) - time.time() * 1000) < 10000, first

    # Floor file set 20 s ahead of the wall clock (as a previous process with a clock that ran
    # ahead would leave it): every wall-clock stamp would now be lower, yet each run still stamps
    # above the floor and above the run before.
    ahead = int(time.time() * 1000) + 20000
    with open(floor, "w") as f:
        f.write("%d\n" % ahead)
    after = [run("f%d" % i, "w%d" % i) for i in range(3)]
    assert hlc_ms(after[0]) > ahead, (after, ahead)
    assert after == sorted(set(after)) and after[0] > first[-1], (first, after)

    # --observe-redis: the local applier has applied a stamp 5 s ahead of the last one issued.
    # Without the flag a run stamps below it; with it, above it.
    remote = hlc_text(hlc_ms(after[-1]) + 5000, 3)
    redis.client().set("walrus:hlc", remote)
    blind = run("o0", "x")
    assert blind < remote, (blind, remote)
    seen = run("o1", "y", ["--observe-redis", redis.url])
    assert seen > remote and seen > blind, (seen, remote)
    # The URL may come from the environment; a missing key is no error.
    redis.client().delete("walrus:hlc")
    env = dict(os.environ, WALRUS_PRODUCE_OBSERVE_REDIS=redis.url)
    acks = produce(walrus_bin, kafka.brokers, ["--origin", "us", "--hlc-floor-file", floor,
                                                "SET", "o2", "z"], env=env)
    assert acks[0]["hlc"] > seen, (acks, seen)
    stamped.append(("o2", "z", acks[0]["hlc"], acks[0]["partition"], acks[0]["offset"]))

    # stdin JSON lines: one run, several ops, each stamped; an op carrying its own hlc is refused
    # (the producer stamps), one naming another origin too, the others are still sent.
    lines = [{"cmd": "INCRBY", "key": "ctr", "args": ["2"]},
             {"cmd": "SET", "key": "bad", "args": ["b"], "hlc": hlc_text(1, 0)},
             {"cmd": "SET", "key": "bad", "args": ["b"], "origin": "eu"},
             {"cmd": "HSET", "key": "h", "args": ["f", "v"], "origin": "us"}]
    argv = [walrus_bin, "produce", "--brokers", kafka.brokers, "--topic", TOPIC, "--origin", "us",
            "--hlc-floor-file", floor]
    res = subprocess.run(argv, input="\n".join(json.dumps(x) for x in lines).encode(),
                         capture_output=True, timeout=30)
    out, err = res.stdout.decode(), res.stderr.decode()
    assert res.returncode == 1, (res.returncode, out, err)
    assert "line 2: error" in err and "hlc" in err and "line 3: error" in err, err
    got = sorted(LINE_RE.match(x).groups() for x in out.splitlines())
    assert [g[0] for g in got] == ["1", "4"], out
    assert min(g[4] for g in got) > acks[0]["hlc"], (got, acks)

    # kcat, an independent reader: values carry exactly the printed stamps, header and keys.
    log = kafka_io.read_topic(kafka.brokers, TOPIC)
    by_coord = {(r["partition"], r["offset"]): r for r in log}
    assert len(log) == 1 + len(stamped) + 2, [r["value"] for r in log]
    for key, value, hlc, partition, offset in stamped:
        r = by_coord[(partition, offset)]
        assert r["key"] == key.encode(), r
        assert json.loads(r["value"]) == {"cmd": "SET", "key": key, "args": [value],
                                          "origin": "us", "hlc": hlc}, r
        assert r["headers"].get("walrus-origin") == "us", r
    p = by_coord[(plain[0]["partition"], plain[0]["offset"])]
    assert json.loads(p["value"]) == {"cmd": "SET", "key": "plain", "args": ["p"]}, p
    assert "walrus-origin" not in p["headers"], p
    # Within each partition the log order is the stamp order.
    for part in range(PARTITIONS):
        stamps = [json.loads(r["value"]).get("hlc") for r in sorted(log, key=lambda r: r["offset"])
                  if r["partition"] == part and r["key"] != b"plain"]
        assert stamps == sorted(stamps), (part, stamps)
    assert time.monotonic() - t_start < 30, "test budget exceeded"
