"""Exactly-once across applier crashes: SIGKILL at random moments, 12 times, then the model.

A kcat stream runs the whole time: a steady trickle (own key space) plus a backlog chunk before
each restart, so most kills land mid-batch. 9 kills come a random 0-300 ms after the new
applier's first stored progress; 3 come a random 0.1-3 s after spawn (during group join, seek
or the first batch). Afterwards one applier drains the log; counters must be exact, no list
item may appear twice, and the whole keyspace must equal the model.

The appliers run with -X session.timeout.ms=3000 -X heartbeat.interval.ms=300 so the dead
member leaves the mock's group in seconds instead of 45 s (it does not change what is tested).
"""

import threading
import time

import harness
import kafka_io
import model
import workload

KILLS = 12
EARLY = {2, 6, 10}  # cycles whose kill comes at a random moment after spawn
CHUNK = harness.scaled(4000)
TRICKLE = harness.scaled(30000)
GROUP_X = ["-X", "session.timeout.ms=3000", "-X", "heartbeat.interval.ms=300"]


class Trickle(threading.Thread):
    """Feeds records into a Stream at ~400/s until exhausted or stopped."""

    def __init__(self, stream, recs):
        super().__init__(daemon=True)
        self.stream, self.recs, self.done = stream, recs, 0
        self.stop = threading.Event()

    def run(self):
        while self.done < len(self.recs) and not self.stop.wait(0.05):
            self.stream.send(self.recs[self.done:self.done + 20])
            self.done = min(len(self.recs), self.done + 20)

    def finish(self):
        self.stop.set()
        self.join()
        self.stream.send(self.recs[self.done:])


def test_apply_kill9(devkafka, redis_server, start_applier, rng, tmp_path):
    brokers, work = devkafka.brokers, str(tmp_path)
    chunks_wl = workload.Workload(rng)
    chunks = [chunks_wl.mixed(CHUNK) for _ in range(KILLS + 1)]
    trickle_recs = workload.Workload(rng, tag="-t").mixed(TRICKLE)
    client = redis_server.client()

    stream = kafka_io.Stream(brokers, harness.TOPIC, work)
    trickle = Trickle(stream, trickle_recs)
    trickle.start()
    events = []
    try:
        for cycle in range(KILLS):
            stream.send(chunks[cycle])
            before = harness.positions(client)
            app = start_applier(redis_server.url, "e2e-kill9", extra=GROUP_X,
                                name="apply-%d" % cycle)
            if cycle in EARLY:
                delay = rng.uniform(0.1, 3.0)
                time.sleep(delay)  # the random moment itself, not a wait for a condition
                app.check_alive()
                kind = "%.2fs after spawn" % delay
            else:
                harness.wait_progress(client, before, [app], timeout=90)
                delay = rng.uniform(0.0, 0.3)
                time.sleep(delay)
                kind = "%.3fs after first progress" % delay
            app.kill9()
            events.append((cycle, kind, harness.positions(client)))
        trickle.finish()
        stream.send(chunks[KILLS])
        stream.close()
    finally:
        trickle.stop.set()
        stream.kill()
    for e in events:
        print("kill %d: %s, positions then %s" % e)

    final = start_applier(redis_server.url, "e2e-kill9", extra=GROUP_X, name="apply-final")
    recs = [r for c in chunks for r in c] + trickle_recs
    log = kafka_io.read_topic(brokers, harness.TOPIC)
    placed = workload.place(recs, log, harness.PARTITIONS)
    ends = kafka_io.end_offsets(brokers, harness.TOPIC, harness.PARTITIONS)
    expected = workload.replay(placed)
    harness.wait_applied(client, ends, [final], timeout=180)

    exp_snap, act_snap = expected.snapshot(), model.dump_redis(client)
    problems = model.counters_and_lists(exp_snap, act_snap) + model.diff(exp_snap, act_snap)
    assert not problems, "after %d SIGKILLs:\n%s" % (KILLS, "\n".join(problems))
    rc = final.terminate()
    assert rc == 0, "SIGTERM: expected exit code 0, got %s" % rc
