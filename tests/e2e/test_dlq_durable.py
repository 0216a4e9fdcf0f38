"""Dead letters are as durable as the effects: kill -9 right after transactions that rejected
records, and every dead letter still reaches the DLQ exactly once.

kcat produces chunks of good ops (INCRBY counters, hashes, lists, multis, ...) interleaved with
records Redis rejects at EXEC time (WRONGTYPE: INCR on a hash, ...; "not an integer"; multis whose
2nd op hits the wrong type) and records refused before Redis (undecodable JSON, refused commands).

The applier is stopped at the two crash windows of a dead letter, deterministically, through its
compiled-in test hooks (docs/dead-letters.md), which _exit(86) like a kill -9:
  * WALRUS_TEST_CRASH_AFTER_COMMIT=N: right after the Nth committed transaction that has dead
    letters, before any of them is produced. Witness: the outbox in Redis holds entries that the
    DLQ (read with kcat) does not. Before the outbox these dead letters were lost: their
    offsets were stored and nothing else knew about them.
  * WALRUS_TEST_CRASH_AFTER_DLQ_ACK=N: after the DLQ acknowledged them, before the outbox entries
    are deleted. Witness: the outbox holds entries that ARE in the DLQ; the restarted applier
    must not produce them a second time.
then by plain kill -9 at random moments (0-300 ms after the new applier's first progress).

At the end one applier drains the log. Checked: the DLQ holds exactly the malformed records,
each exactly once (counted per walrus-src-topic/partition/offset), with the original key and
value and a reason; the outbox is empty; counters are exact and Redis equals the model of the
good records.
"""

import collections
import os
import time

import harness
import kafka_io
import model
import workload
from test_dlq import _check_dlq as check_dlq  # exactly once per coordinate, bodies, reasons

DLQ = harness.TOPIC + ".dlq"
GROUP = "e2e-dlq-durable"
# The dead member leaves the mock's group in seconds instead of 45 s.
GROUP_X = ["-X", "session.timeout.ms=3000", "-X", "heartbeat.interval.ms=300"]
CHUNK_GOOD = harness.scaled(3000)
CHUNK_BAD = {"wrongtype": 40, "redis_value": 15, "json": 15, "refused": 10}
HOOKS = [("WALRUS_TEST_CRASH_AFTER_COMMIT", 1), ("WALRUS_TEST_CRASH_AFTER_DLQ_ACK", 1),
         ("WALRUS_TEST_CRASH_AFTER_COMMIT", 2), ("WALRUS_TEST_CRASH_AFTER_DLQ_ACK", 2),
         ("WALRUS_TEST_CRASH_AFTER_COMMIT", 1)]
RANDOM_KILLS = 5
HOOK_RC = 86


class HookedApplier(harness.Applier):
    """harness.Applier with one test-hook variable in its environment."""

    def __init__(self, procs, walrus_bin, brokers, redis_url, hook, name, enable=True):
        self.admin_port = harness.free_port()
        self.argv = [walrus_bin, "apply", "--brokers", brokers, "--topic", harness.TOPIC,
                     "--group", GROUP, "--redis", redis_url,
                     "--admin", "127.0.0.1:%d" % self.admin_port,
                     # several transactions per chunk, each with dead letters, so that the
                     # Nth one exists
                     "--batch-max-ops", "500"] + GROUP_X
        if enable:
            self.argv.append("--enable-test-hooks")  # hidden; without it the variables are ignored
        env = dict(os.environ)
        env[hook[0]] = str(hook[1])
        self.proc = procs.spawn(name, self.argv, env=env)
        self.name = name


def outbox(client):
    """{(partition, offset): value} of every outbox hash of the topic."""
    out = {}
    for p in range(harness.PARTITIONS):
        for f, v in client.hgetall("walrus:outbox:%s:%d" % (harness.TOPIC, p)).items():
            out[(p, int(f))] = v.decode(errors="replace")
    return out


def dlq_coords(brokers):
    recs = kafka_io.read_topic(brokers, DLQ)
    coords = collections.Counter()
    for d in recs:
        h = d["headers"]
        if h.get("walrus-src-topic") == harness.TOPIC:
            coords[(int(h["walrus-src-partition"]), int(h["walrus-src-offset"]))] += 1
    return recs, coords


def wait_exit(app, timeout=120):
    harness.wait_until(lambda: not app.alive(), timeout, "%s to exit through its test hook" %
                       app.name, interval=0.1, on_timeout=lambda: app.log_tail())
    return app.proc.popen.wait()


def test_dlq_durable(devkafka, redis_server, start_applier, procs, walrus_bin, rng, tmp_path):
    brokers, work = devkafka.brokers, str(tmp_path)
    client = redis_server.client()
    wl = workload.Workload(rng)
    # A keyspace to aim the WRONGTYPE records at, before any of them.
    recs = wl.mixed(CHUNK_GOOD)
    kafka_io.produce(brokers, harness.TOPIC, recs, work)
    witnessed = []

    # Without --enable-test-hooks the variable is ignored (an env copied from a test must not make
    # a production applier exit): the applier commits a chunk with dead letters and runs on.
    chunk = wl.interleaved(CHUNK_GOOD, CHUNK_BAD, start=0.0)
    recs += chunk
    kafka_io.produce(brokers, harness.TOPIC, chunk, work)
    app = HookedApplier(procs, walrus_bin, brokers, redis_server.url,
                        ("WALRUS_TEST_CRASH_AFTER_COMMIT", 1), "apply-hook-ignored", enable=False)
    harness.wait_until(lambda: "test hooks need --enable-test-hooks" in app.proc.log_text(), 60,
                       "the applier to say it ignores the test hook", on_timeout=app.log_tail)
    harness.wait_until(lambda: not app.alive() or (dlq_coords(brokers)[1] and not outbox(client)),
                       120, "dead letters in the DLQ with an empty outbox", interval=0.5,
                       on_timeout=app.log_tail)
    app.check_alive()
    assert app.terminate() == 0, app.log_tail()
    witnessed.append("hook variable without --enable-test-hooks: ignored, the applier ran on")

    for i, hook in enumerate(HOOKS):
        chunk = wl.interleaved(CHUNK_GOOD, CHUNK_BAD, start=0.0)
        recs += chunk
        kafka_io.produce(brokers, harness.TOPIC, chunk, work)
        app = HookedApplier(procs, walrus_bin, brokers, redis_server.url, hook,
                            "apply-hook-%d" % i)
        rc = wait_exit(app)
        assert rc == HOOK_RC, "%s: exit code %s, expected the hook's %d; log:\n%s" % (
            app.name, rc, HOOK_RC, app.log_tail())
        entries = outbox(client)
        _, in_dlq = dlq_coords(brokers)
        assert entries, "%s=%d: the outbox is empty after the crash" % hook
        if hook[0] == "WALRUS_TEST_CRASH_AFTER_COMMIT":
            absent = [c for c in entries if c not in in_dlq]
            assert absent, "%s: every outbox entry already in the DLQ: the window was missed" % (
                hook,)
            witnessed.append("%s=%d: %d outbox entries, %d of them not in the DLQ" % (
                hook[0], hook[1], len(entries), len(absent)))
        else:
            acked = [c for c in entries if in_dlq.get(c)]
            assert acked, "%s: no outbox entry is in the DLQ yet: the window was missed" % (hook,)
            witnessed.append("%s=%d: %d outbox entries, %d of them already in the DLQ" % (
                hook[0], hook[1], len(entries), len(acked)))

    stream = kafka_io.Stream(brokers, harness.TOPIC, work)
    try:
        for i in range(RANDOM_KILLS):
            chunk = wl.interleaved(CHUNK_GOOD, CHUNK_BAD, start=0.0)
            recs += chunk
            stream.send(chunk)
            before = harness.positions(client)
            app = start_applier(redis_server.url, GROUP, extra=GROUP_X, name="apply-kill-%d" % i)
            harness.wait_progress(client, before, [app], timeout=90)
            delay = rng.uniform(0.0, 0.3)
            time.sleep(delay)  # the random moment itself, not a wait for a condition
            app.kill9()
            witnessed.append("kill -9 %.3fs after progress: %d outbox entries" % (
                delay, len(outbox(client))))
        stream.close()
    finally:
        stream.kill()
    for w in witnessed:
        print(w)

    final = start_applier(redis_server.url, GROUP, extra=GROUP_X, name="apply-final")
    log = kafka_io.read_topic(brokers, harness.TOPIC)
    placed = workload.place(recs, log, harness.PARTITIONS)
    ends = kafka_io.end_offsets(brokers, harness.TOPIC, harness.PARTITIONS)
    harness.wait_applied(client, ends, [final], timeout=180)
    n_bad = sum(1 for p in placed if p.bad)

    def settled():
        final.check_alive()
        return not outbox(client) and sum(dlq_coords(brokers)[1].values()) >= n_bad
    try:
        harness.wait_until(settled, 60, "an empty outbox and %d dead letters" % n_bad,
                           interval=0.5)
    except AssertionError as e:
        print(e)  # reported in detail below
    dlq, _ = dlq_coords(brokers)
    errors = check_dlq(dlq, placed)
    left = outbox(client)
    if left:
        errors.append("outbox not empty at the end: %s" % list(left.items())[:5])
    recovered = sum(1 for d in dlq if d["headers"].get("walrus-dlq-recovered") == "1")
    print("%d dead letters, %d of them produced from the outbox after a crash" % (
        len(dlq), recovered))
    if not recovered:
        errors.append("no dead letter was produced from the outbox: the crash windows were "
                      "not exercised")
    logs = "".join(p.log_text() for p in procs.all if p.name.startswith("apply"))
    if "already in the DLQ: not produced again" not in logs:
        errors.append("no restart found an acknowledged outbox entry in the DLQ")

    expected = workload.replay(placed)
    exp_snap, act_snap = expected.snapshot(), model.dump_redis(client)
    errors += model.counters_and_lists(exp_snap, act_snap) + model.diff(exp_snap, act_snap)
    assert not errors, "\n".join(errors)
    assert final.terminate() == 0
