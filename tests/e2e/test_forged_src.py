"""A forged `walrus-src` header must not disable deduplication of a mirrored stream (issue 12,
item 4). DC -> DR through `walrus mirror` (signing walrus-src with the test's source key) and a DR
`walrus apply --trusted-source dc` holding the same key. kcat, as the forger, produces straight
into the DR topic, on the partition the genuine stream uses:
  1. `walrus-src: dc/redis-writes/<p>/999999999999999999` with no MAC (the issue's reproduction),
  2. a genuine walrus-src + walrus-src-mac pair copied from a mirrored record onto another value,
  3. raised coordinates with a well-formed but wrong walrus-src-mac,
  4. a genuine MAC under an alias the applier does not trust.
Claims: all four land in the DR dead-letter topic with category `refused` and a reason naming
what failed; the source offset stored in Redis (walrus:src:dc/redis-writes/<p>) does not move;
the INCRBY counter is exactly the genuine sum, including genuine records mirrored after the
forgeries (today the first forgery raises the stored offset and every later genuine record is
dropped as a duplicate). Also: `walrus mirror` without a key and `walrus apply` with half the
configuration refuse to start, naming the flag.
"""

import json
import subprocess

import kafka_io
from harness import RedisServer, Applier, wait_applied, wait_until, parse_metrics
from mirror_harness import Cluster, Mirror, apply_src_args

TOPIC, PARTS = "redis-writes", 4
DLQ = TOPIC + ".dlq"
TOPICS = ["%s:%d" % (TOPIC, PARTS), "%s:%d" % (DLQ, PARTS)]
APPLY_X = ["-X", "session.timeout.ms=6000", "-X", "heartbeat.interval.ms=500"]
HUGE = 999999999999999999


def incr(by):
    return json.dumps({"cmd": "INCRBY", "key": "cnt", "args": [str(by)]},
                      separators=(",", ":")).encode()


def forge(brokers, partition, value, headers):
    """kcat -P straight into the DR topic with the given headers (name, value), in order."""
    argv = [kafka_io.KCAT, "-P", "-b", brokers, "-t", TOPIC, "-p", str(partition), "-K", "\t"]
    for n, v in headers:
        argv += ["-H", "%s=%s" % (n, v)]
    res = subprocess.run(argv, input=b"cnt\t" + value + b"\n", capture_output=True, timeout=60)
    assert res.returncode == 0, res.stderr


def refused_total(app):
    return sum(v for n, l, v in parse_metrics(app.metrics())
               if n == "walrus_apply_dlq_total" and l.get("reason") == "refused")


def test_forged_walrus_src_is_refused_and_genuine_records_still_apply(procs, walrus_bin,
                                                                      tmp_path):
    dc = Cluster(procs, walrus_bin, tmp_path, "dc", TOPICS)
    dr = Cluster(procs, walrus_bin, tmp_path, "dr", TOPICS)
    dr_redis = RedisServer(procs, tmp_path / "redis-dr")
    app = Applier(procs, walrus_bin, dr.brokers, dr_redis.url, "dr",
                  extra=APPLY_X + apply_src_args(procs, ["dc"]), name="apply-dr")
    mirror = Mirror(procs, walrus_bin, ["--source", dc.brokers, "--target", dr.brokers,
                                        "--source-alias", "dc", "--target-alias", "dr",
                                        "--topics", TOPIC])
    app.wait_ready()
    mirror.wait_ready()
    r = dr_redis.client()

    def mirrored_and_applied(n_dc):
        wait_until(lambda: mirror.check_alive() or
                   sum(kafka_io.end_offsets(dr.brokers, TOPIC, PARTS)) >= n_dc, 60,
                   "%d records mirrored into dr" % n_dc, interval=0.1)
        wait_applied(r, kafka_io.end_offsets(dr.brokers, TOPIC, PARTS), [app], topic=TOPIC)

    first = list(range(1, 21))
    kafka_io.produce(dc.brokers, TOPIC, [(b"cnt", incr(b)) for b in first], str(tmp_path))
    mirrored_and_applied(len(first))
    assert int(r.get("cnt")) == sum(first)
    copies = kafka_io.read_topic(dr.brokers, TOPIC)
    p = copies[0]["partition"]
    genuine = copies[-1]["headers"]
    src_key = "walrus:src:dc/%s/%d" % (TOPIC, p)
    stored = int(r.get(src_key))
    assert genuine["walrus-src"] == "dc/%s/%d/%d" % (TOPIC, p, stored)
    assert genuine["walrus-src-mac"].startswith("v1:")
    key_id = genuine["walrus-src-mac"].split(":")[1]

    forged = [
        ("1 no MAC", incr(1000),
         [("walrus-src", "dc/%s/%d/%d" % (TOPIC, p, HUGE))],
         "no walrus-src-mac header follows it"),
        ("2 genuine pair on another value", incr(1000000),
         [("walrus-src", genuine["walrus-src"]), ("walrus-src-mac", genuine["walrus-src-mac"])],
         "walrus-src-mac does not match the record"),
        ("3 wrong MAC", incr(7),
         [("walrus-src", "dc/%s/%d/%d" % (TOPIC, p, HUGE)),
          ("walrus-src-mac", "v1:%s:%s" % (key_id, "0" * 64))],
         "walrus-src-mac does not match the record"),
        ("4 untrusted alias", incr(9),
         [("walrus-src", "us/%s/%d/%d" % (TOPIC, p, HUGE)),
          ("walrus-src-mac", genuine["walrus-src-mac"])],
         "source alias 'us' is not trusted"),
    ]
    for _, value, headers, _ in forged:
        forge(dr.brokers, p, value, headers)

    def dead_letters():
        return [d for d in kafka_io.read_topic(dr.brokers, DLQ)
                if d["headers"].get("walrus-dlq-category") == "refused"]
    dlq = wait_until(lambda: app.check_alive() or
                     (len(dead_letters()) >= len(forged) and dead_letters()), 60,
                     "the forged records in %s" % DLQ, interval=0.2,
                     on_timeout=lambda: app.log_tail())
    assert len(dlq) == len(forged), [d["headers"] for d in dlq]
    by_value = {d["value"]: d for d in dlq}
    for label, value, _, why in forged:
        d = by_value.get(value)
        assert d is not None, "forgery %s not dead-lettered: %s" % (label, dlq)
        reason = d["headers"]["walrus-dlq-reason"]
        assert why in reason, "forgery %s: reason %r lacks %r" % (label, reason, why)
        assert int(d["headers"]["walrus-src-partition"]) == p
    wait_applied(r, kafka_io.end_offsets(dr.brokers, TOPIC, PARTS), [app], topic=TOPIC)
    assert int(r.get(src_key)) == stored, "a forged walrus-src moved the stored source offset"
    assert int(r.get("cnt")) == sum(first), "a forged record was applied"
    assert refused_total(app) == len(forged)

    # Genuine records mirrored after the forgeries still apply, exactly.
    later = list(range(100, 130))
    kafka_io.produce(dc.brokers, TOPIC, [(b"cnt", incr(b)) for b in later], str(tmp_path))
    mirrored_and_applied(len(first) + len(later) + len(forged))
    assert int(r.get("cnt")) == sum(first) + sum(later), \
        "genuine records after a forgery were lost: cnt=%s" % r.get("cnt")
    assert int(r.get(src_key)) == stored + len(later)
    assert len(dead_letters()) == len(forged)
    app.check_alive()
    mirror.check_alive()


def test_half_configured_authentication_refuses_to_start(procs, walrus_bin, tmp_path):
    def run(args, env=None):
        res = subprocess.run([walrus_bin] + args, capture_output=True, timeout=30, env=env)
        return res.returncode, res.stderr.decode()

    rc, err = run(["mirror", "--source", "127.0.0.1:1", "--target", "127.0.0.1:2",
                   "--source-alias", "dc", "--target-alias", "dr", "--topics", TOPIC])
    assert rc == 2 and "--src-key-file" in err and "--no-src-auth" in err, (rc, err)
    base = ["apply", "--brokers", "127.0.0.1:1", "--topic", TOPIC, "--group", "g",
            "--redis", "redis://127.0.0.1:1"]
    rc, err = run(base + ["--trusted-source", "dc"])
    assert rc == 2 and "--trusted-source needs" in err, (rc, err)
    key = apply_src_args(procs, ["dc"])[1]
    rc, err = run(base + ["--src-key-file", key])
    assert rc == 2 and "needs --trusted-source" in err, (rc, err)
    with open(tmp_path / "weak-key", "w") as f:
        f.write("too-short\n")
    rc, err = run(base + ["--src-key-file", str(tmp_path / "weak-key"), "--trusted-source", "dc"])
    assert rc == 2 and "32 to 1024 characters" in err and "too-short" not in err, (rc, err)
