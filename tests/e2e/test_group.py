"""Appliers of one group split the partitions; a killed member's partitions move; exactly once.

Ownership is observed from outside, independent of metric names: an applier is frozen with
SIGSTOP, one probe record (INCRBY on a probe key of that partition) goes to every partition, and
the partitions whose stored position still moves belong to the others; the rest must move once
it is resumed (SIGCONT), so they are the frozen applier's. Freezes are kept well under the
session timeout (6 s, set with -X) so the group does not rebalance during a probe.
The applier's own metric (any *assign* gauge) is printed beside it and, if present, must agree
on the count.

Phases: A+B (each owns some, together all 12, disjoint) -> C joins (three-way split) ->
B is SIGKILLed while records flow (A and C take all 12). Finally the keyspace equals the model,
so rebalances neither lost nor doubled an op.
"""

import signal
import time

import harness
import kafka_io
import model
import workload

X = ["-X", "session.timeout.ms=6000", "-X", "heartbeat.interval.ms=500"]
ALL = set(range(harness.PARTITIONS))


def probe_keys():
    keys = {}
    i = 0
    while len(keys) < harness.PARTITIONS:
        k = ("probe:%d" % i).encode()
        keys.setdefault(workload.partition_for(k, harness.PARTITIONS), k)
        i += 1
    return keys


PROBE_KEYS = probe_keys()


def probe_records():
    return [workload.Rec(k, b'{"cmd":"INCRBY","key":"%s","args":["1"]}' % k, None)
            for _, k in sorted(PROBE_KEYS.items())]


class Ctx:
    def __init__(self, devkafka, client, work):
        self.brokers, self.client, self.work = devkafka.brokers, client, work
        self.recs = []

    def produce(self, recs):
        kafka_io.produce(self.brokers, harness.TOPIC, recs, self.work)
        self.recs += recs

    def drain(self, appliers, timeout=120):
        ends = kafka_io.end_offsets(self.brokers, harness.TOPIC, harness.PARTITIONS)
        harness.wait_applied(self.client, ends, appliers, timeout=timeout)

    def owned_by(self, app, all_apps):
        """Partitions `app` owns, by freezing it (see module doc)."""
        before = harness.positions(self.client)
        app.proc.signal(signal.SIGSTOP)
        try:
            t0 = time.monotonic()
            self.produce(probe_records())
            moved, last_change = set(), time.monotonic()
            while True:
                pos = harness.positions(self.client)
                now_moved = {p for p in ALL if pos[p] > before[p]}
                if now_moved != moved:
                    moved, last_change = now_moved, time.monotonic()
                now = time.monotonic()
                if moved == ALL or (now - last_change > 1.2 and now - t0 > 2.0) or now - t0 > 4.0:
                    break
                time.sleep(0.05)
        finally:
            app.proc.signal(signal.SIGCONT)
        stalled = ALL - moved
        others = [a for a in all_apps if a is not app]
        harness.wait_until(
            lambda: all(q > b for q, b in zip(harness.positions(self.client), before)),
            30, "every partition to apply its probe after SIGCONT of %s" % app.name,
            on_timeout=lambda: "positions %s before %s" % (harness.positions(self.client), before))
        for a in [app] + others:
            a.check_alive()
        return stalled

    def split(self, apps):
        owned = {a.name: self.owned_by(a, apps) for a in apps}
        metric = {a.name: [(n, l, v) for n, l, v in harness.parse_metrics(a.metrics())
                           if "assign" in n] for a in apps}
        print("ownership by freeze probe: %s; applier *assign* metrics: %s" % (
            {k: sorted(v) for k, v in owned.items()}, metric))
        names = list(owned)
        for i, x in enumerate(names):
            assert owned[x], "%s owns no partition (split %s)" % (x, owned)
            for y in names[i + 1:]:
                assert not owned[x] & owned[y], "%s and %s both own %s" % (
                    x, y, sorted(owned[x] & owned[y]))
        union = set().union(*owned.values())
        assert union == ALL, "partitions %s owned by nobody (split %s)" % (sorted(ALL - union), owned)
        for a in apps:  # the applier's own view, when it exports one, must agree
            by_label = {int(l["partition"]) for n, l, v in metric[a.name]
                        if "partition" in l and v > 0}
            plain = [v for n, l, v in metric[a.name] if "partition" not in l]
            if any("partition" in l for _, l, _ in metric[a.name]):
                assert by_label == owned[a.name], "%s metrics say it owns %s, probe found %s" % (
                    a.name, sorted(by_label), sorted(owned[a.name]))
            elif len(plain) == 1:
                assert int(plain[0]) == len(owned[a.name]), \
                    "%s metric says %d partitions, probe found %s" % (a.name, plain[0],
                                                                     sorted(owned[a.name]))
        return owned


def test_group_split_and_failover(devkafka, redis_server, start_applier, rng, tmp_path):
    client = redis_server.client()
    ctx = Ctx(devkafka, client, str(tmp_path))
    wl = workload.Workload(rng)

    a = start_applier(redis_server.url, "e2e-group", extra=X, name="apply-a")
    b = start_applier(redis_server.url, "e2e-group", extra=X, name="apply-b")
    a.wait_ready()
    b.wait_ready()
    ctx.produce(wl.mixed(harness.scaled(15000)))
    ctx.drain([a, b])
    ctx.split([a, b])

    c = start_applier(redis_server.url, "e2e-group", extra=X, name="apply-c")
    c.wait_ready()
    ctx.produce(wl.mixed(harness.scaled(15000)))
    ctx.drain([a, b, c])
    ctx.split([a, b, c])

    ctx.produce(wl.mixed(harness.scaled(5000)))
    b.kill9()
    ctx.produce(wl.mixed(harness.scaled(10000)))
    ctx.drain([a, c], timeout=120)
    ctx.split([a, c])

    log = kafka_io.read_topic(devkafka.brokers, harness.TOPIC)
    placed = workload.place(ctx.recs, log, harness.PARTITIONS)
    expected = workload.replay(placed)
    exp_snap, act_snap = expected.snapshot(), model.dump_redis(client)
    problems = model.counters_and_lists(exp_snap, act_snap) + model.diff(exp_snap, act_snap)
    assert not problems, "after rebalances:\n%s" % "\n".join(problems)
    for x in (a, c):
        rc = x.terminate()
        assert rc == 0, "%s: SIGTERM exit code %s" % (x.name, rc)
