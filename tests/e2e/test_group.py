"""Appliers of one group split the partitions; a killed member's partitions move; exactly once.

Ownership is observed from outside, independent of metric names: an applier is frozen with
SIGSTOP, one probe record (INCRBY on a probe key of that partition) goes to every partition, and
the partitions whose stored position still moves belong to the others; the rest must move once
it is resumed (SIGCONT), so they are the frozen applier's. Freezes are kept well under the
session timeout (6 s, set with -X), and probes run only on a settled group (the appliers'
*assign* metrics sum to 12 and stay unchanged for 3 s); a probe whose result is not a split of the
12 partitions (a rebalance slipped in) is retried, at most 3 times. The applier's own *assign*
metric must agree with the probe.

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

    def settle(self, apps, quiet=3.0, timeout=60):
        """Wait until the group is stable: the appliers' *assign* metrics cover all partitions and
        did not change for `quiet` seconds. Probing during a (cooperative, two-round) rebalance
        would attribute partitions in flight to the frozen applier. Without such a metric, wait
        one session timeout instead."""
        state = {"last": None, "since": time.monotonic()}

        def stable():
            counts = tuple(_assigned_count(a) for a in apps)
            if counts != state["last"]:
                state["last"], state["since"] = counts, time.monotonic()
            if None in counts:
                return time.monotonic() - state["since"] >= 6.0
            return sum(counts) == len(ALL) and time.monotonic() - state["since"] >= quiet
        harness.wait_until(stable, timeout, "a stable split of the group (assign metrics)",
                           interval=0.2, on_timeout=lambda: "last counts %s" % (state["last"],))
        return state["last"]

    def split(self, apps, attempts=3):
        """Ownership by freeze probes on a settled group; a probe result that is not a partition
        of ALL (a rebalance slipped into the probe) is retried, at most `attempts` times."""
        for attempt in range(1, attempts + 1):
            counts = self.settle(apps)
            t = time.strftime("%H:%M:%S", time.gmtime())
            owned = {a.name: self.owned_by(a, apps) for a in apps}
            metric = {a.name: [(n, l, v) for n, l, v in harness.parse_metrics(a.metrics())
                               if "assign" in n] for a in apps}
            print("attempt %d at %sZ (settled counts %s): ownership by freeze probe %s; applier "
                  "*assign* metrics %s" % (attempt, t, counts,
                                           {k: sorted(v) for k, v in owned.items()}, metric))
            problems = _split_problems(owned, metric)
            if not problems:
                return owned
        raise AssertionError("no consistent split after %d probes: %s" % (attempts, problems))


def _assigned_count(app):
    app.check_alive()
    ms = [(n, l, v) for n, l, v in harness.parse_metrics(app.metrics()) if "assign" in n]
    if any("partition" in l for _, l, _ in ms):
        return sum(1 for _, l, v in ms if "partition" in l and v > 0)
    plain = [v for _, l, v in ms if "partition" not in l]
    return int(plain[0]) if len(plain) == 1 else None


def _split_problems(owned, metric):
    problems = []
    names = list(owned)
    for i, x in enumerate(names):
        if not owned[x]:
            problems.append("%s owns no partition" % x)
        for y in names[i + 1:]:
            if owned[x] & owned[y]:
                problems.append("%s and %s both own %s" % (x, y, sorted(owned[x] & owned[y])))
    union = set().union(*owned.values())
    if union != ALL:
        problems.append("partitions %s owned by nobody" % sorted(ALL - union))
    for name, ms in metric.items():  # the applier's own view, when it exports one, must agree
        by_label = {int(l["partition"]) for _, l, v in ms if "partition" in l and v > 0}
        plain = [v for _, l, v in ms if "partition" not in l]
        if any("partition" in l for _, l, _ in ms):
            if by_label != owned[name]:
                problems.append("%s metrics say it owns %s, probe found %s" % (
                    name, sorted(by_label), sorted(owned[name])))
        elif len(plain) == 1 and int(plain[0]) != len(owned[name]):
            problems.append("%s metric says %d partitions, probe found %s" % (
                name, plain[0], sorted(owned[name])))
    return problems


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
