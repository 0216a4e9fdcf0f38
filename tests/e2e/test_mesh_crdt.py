"""Three active regions end to end: us, eu, ap, each a devkafka cluster (us.events, eu.events,
ap.events), a redis-server, a `walrus apply --mode crdt` consuming all three topics of its local
cluster, and a `walrus mirror` pulling the other two regions' <src>.events (6 flows in all).

Every region writes only its own <region>.events (kcat, records stamped with origin + HLC here in
Python), concurrently, to shared hot keys of every family the crdt applier merges: counters
(INCRBY/DECRBY), registers (SET/DEL), sets (SADD/SREM), hashes (HSET/HINCRBY) and sorted sets
(ZADD/ZINCRBY). Claims:

1. After concurrent writes in all regions: `walrus verify` finds the three Redis identical, and
   their values equal a model of the crdt rules (counters = exact sums, registers = max stamp,
   per-member/field LWW, per-field counters).
2. Partition: ap is cut off (its mirror is SIGKILLed; us's and eu's mirrors are restarted without
   the flows from ap) while all three regions keep writing. us and eu converge with each other,
   ap diverges from them: `walrus verify us eu ap` exits 1 (the check can fail), `verify us eu`
   exits 0, and each side equals the model of what it received.
3. Heal (the full mirrors again, writes still going, one mirror SIGKILLed mid-stream and
   restarted): identical again and equal to the model of every write; counters exact.
"""

import json
import os
import subprocess
import threading
import time

import kafka_io
from harness import RedisServer, Applier, wait_until, scaled, positions
from mirror_harness import Cluster, Mirror, apply_src_args

REGIONS = ["us", "eu", "ap"]
PARTS = 4
# GC off: a sweep writes its horizon into every sidecar, so regions sweeping at different moments
# hold different (equally valid) sidecars; this test compares sidecars too.
APPLY_X = ["-X", "session.timeout.ms=6000", "-X", "heartbeat.interval.ms=500", "--gc-horizon", "0"]
HOT = 4  # hot keys per family


class Hlc:
    """The region's hybrid logical clock: pppppppppppp-llll (wall ms, logical), monotonic."""

    def __init__(self):
        self.ms, self.logical = 0, 0

    def tick(self):
        now = int(time.time() * 1000)
        if now > self.ms:
            self.ms, self.logical = now, 0
        else:
            self.logical += 1
        return "%012x-%04x" % (self.ms, self.logical)


def gen_ops(rng, origin, clock, n, tag):
    """n ops of `origin` on the shared hot keys, stamped; every op's key is its record key."""
    ops = []
    for i in range(n):
        f, k = rng.randrange(10), rng.randrange(HOT)
        if f < 3:
            by = rng.randrange(1, 50)
            op = {"cmd": "INCRBY", "key": "cnt:%d" % k, "args": [str(by)]} if f < 2 else \
                {"cmd": "DECRBY", "key": "cnt:%d" % k, "args": [str(by)]}
        elif f < 5:
            op = {"cmd": "SET", "key": "reg:%d" % k, "args": ["%s-%s-%d" % (origin, tag, i)]} \
                if rng.randrange(8) else {"cmd": "DEL", "key": "reg:%d" % k, "args": []}
        elif f < 7:
            op = {"cmd": rng.choice(["SADD", "SREM"]), "key": "set:%d" % k,
                  "args": ["m%d" % rng.randrange(6)]}
        elif f < 8:
            field = "f%d" % rng.randrange(4)
            op = {"cmd": "HSET", "key": "hash:%d" % k, "args": [field, str(rng.randrange(100))]} \
                if rng.randrange(3) == 0 else \
                {"cmd": "HINCRBY", "key": "hash:%d" % k, "args": [field, str(rng.randrange(-9, 10))]}
        else:
            m = "z%d" % rng.randrange(4)
            op = {"cmd": "ZADD", "key": "zset:%d" % k, "args": [str(rng.randrange(100) / 2), m]} \
                if rng.randrange(3) == 0 else \
                {"cmd": "ZINCRBY", "key": "zset:%d" % k, "args": [str(rng.randrange(-8, 9) / 4), m]}
        op.update({"origin": origin, "hlc": clock.tick()})
        ops.append(op)
    return ops


def stamp(op):
    return "%s.0000-%s" % (op["hlc"], op["origin"])  # one op per record: index 0


def model(ops):
    """Expected Redis content after merging `ops` (any order) with the crdt rules."""
    ops = sorted(ops, key=stamp)  # stamp order: "last" below means highest stamp
    out, base, contrib = {}, {}, {}
    for op in ops:
        key, cmd, a = op["key"], op["cmd"], op["args"]
        if cmd in ("INCRBY", "DECRBY"):
            out[key] = out.get(key, 0) + (int(a[0]) if cmd == "INCRBY" else -int(a[0]))
        elif cmd == "SET":
            out[key] = a[0].encode()
        elif cmd == "DEL":
            out.pop(key, None)
        elif cmd in ("SADD", "SREM"):
            s = out.setdefault(key, set())
            (s.add if cmd == "SADD" else s.discard)(a[0].encode())
        elif cmd in ("HSET", "ZADD"):  # new base; older contributions no longer count
            elem = a[0] if cmd == "HSET" else a[1]
            base[(key, elem)] = int(a[1]) if cmd == "HSET" else float(a[0])
            contrib[(key, elem)] = []
        else:  # HINCRBY / ZINCRBY: a contribution newer than the base so far
            elem, by = (a[0], int(a[1])) if cmd == "HINCRBY" else (a[1], float(a[0]))
            contrib.setdefault((key, elem), []).append(by)
    for (key, elem), adds in contrib.items():
        v = base.get((key, elem), 0)
        for by in adds:  # in stamp order (float sums are order dependent)
            v += by
        out.setdefault(key, {})[elem.encode()] = v
    return {k: v for k, v in out.items() if v != set()}


def read(client, keys):
    got = {}
    for k in keys:
        t = client.type(k)
        if t == b"string":
            v = client.get(k)
            got[k] = int(v) if k.startswith("cnt:") else v
        elif t == b"set":
            got[k] = client.smembers(k)
        elif t == b"hash":
            got[k] = {f: int(v) for f, v in client.hgetall(k).items()}
        elif t == b"zset":
            got[k] = dict(client.zrange(k, 0, -1, withscores=True))
    return got


def all_keys():
    return ["%s:%d" % (f, k) for f in ("cnt", "reg", "set", "hash", "zset") for k in range(HOT)]


def assert_model(client, ops, where):
    want, got = model(ops), read(client, all_keys())
    bad = [(k, got.get(k), want.get(k)) for k in all_keys() if got.get(k) != want.get(k)]
    assert not bad, "%s differs from the model of %d ops: %s" % (where, len(ops), bad[:6])


def verify(walrus_bin, redises):
    res = subprocess.run([walrus_bin, "verify", "-q"] + [r.url for r in redises],
                         capture_output=True, text=True, timeout=60)
    print("verify %d:" % res.returncode, res.stdout.strip()[:300])
    return res.returncode, res.stdout + res.stderr


class Writers:
    """One kcat stream per region writing that region's ops in chunks, all regions at once."""

    def __init__(self, rng, clusters, clocks, workdir):
        self.rng, self.clusters, self.clocks, self.workdir = rng, clusters, clocks, workdir
        self.ops = {r: [] for r in REGIONS}  # everything written, per origin

    def start(self, regions, n, tag, chunk=100, pause=0.02):
        """Starts writing n ops in each of `regions` concurrently; join() the returned threads."""
        def one(r, plan):
            d = os.path.join(self.workdir, "writer-" + r)  # kcat's error log is per directory
            os.makedirs(d, exist_ok=True)
            s = kafka_io.Stream(self.clusters[r].brokers, "%s.events" % r, d)
            for c in plan:
                s.send([(op["key"].encode(), json.dumps(op).encode()) for op in c])
                time.sleep(pause)
            s.close()
        plans = {}
        for r in regions:  # generated here (one rng, one thread), stamped when generated
            ops = gen_ops(self.rng, r, self.clocks[r], n, tag)
            self.ops[r] += ops
            plans[r] = [ops[i:i + chunk] for i in range(0, n, chunk)]
        threads = [threading.Thread(target=one, args=(r, plans[r])) for r in regions]
        for t in threads:
            t.start()
        return threads

    def run(self, regions, n, tag):
        """Writes n ops in each of `regions` concurrently; returns once all are delivered."""
        for t in self.start(regions, n, tag):
            t.join()


def mirror_for(procs, walrus_bin, cargs, dst, sources, tag=""):
    flows = sum([["--flow", "%s:%s" % (s, dst)] for s in sources], [])
    return Mirror(procs, walrus_bin, cargs + flows, name="mirror-%s%s" % (dst, tag))


def wait_converged(clusters, redises, appliers, mirrors, regions, timeout=60):
    """Each region of `regions` holds, and has applied, every record of every origin in `regions`."""
    for dst in regions:
        for src in regions:
            topic = "%s.events" % src
            if src != dst:
                ends = kafka_io.end_offsets(clusters[src].brokers, topic, PARTS)
                m = mirrors[dst]
                # A partition without records has no position yet: 0.
                wait_until(lambda: m.check_alive() or all(
                    m.positions(topic).get(p, 0) == e for p, e in enumerate(ends)),
                           timeout, "%s copied into %s (source ends %s)" % (topic, dst, ends),
                           interval=0.1, on_timeout=lambda: "%s\n%s" % (m.positions(topic),
                                                                       m.proc.log_tail()))
            ends = kafka_io.end_offsets(clusters[dst].brokers, topic, PARTS)
            c, a = redises[dst].client(), appliers[dst]
            wait_until(lambda: a.check_alive() or positions(c, topic, PARTS) == ends, timeout,
                       "%s applied in %s (ends %s)" % (topic, dst, ends), interval=0.1,
                       on_timeout=lambda: "%s\n%s" % (positions(c, topic, PARTS), a.log_tail()))


def test_mesh_crdt_partition_and_heal(procs, walrus_bin, tmp_path, rng):
    topics = sum([["%s.events:%d" % (r, PARTS), "%s.events.dlq:%d" % (r, PARTS)]
                  for r in REGIONS], [])
    clusters = {r: Cluster(procs, walrus_bin, tmp_path, r, topics) for r in REGIONS}
    redises = {r: RedisServer(procs, tmp_path / ("redis-" + r)) for r in REGIONS}
    appliers = {}
    for r in REGIONS:
        extra = ["--topic", "%s.events" % REGIONS[(REGIONS.index(r) + 1) % 3],
                 "--topic", "%s.events" % REGIONS[(REGIONS.index(r) + 2) % 3],
                 "--mode", "crdt"] + APPLY_X + apply_src_args(procs, [o for o in REGIONS if o != r])
        appliers[r] = Applier(procs, walrus_bin, clusters[r].brokers, redises[r].url, "g-" + r,
                              extra=extra, name="apply-" + r, topic="%s.events" % r)
    cargs = sum([["--cluster", "%s=%s" % (r, c.brokers)] for r, c in clusters.items()], [])
    mirrors = {d: mirror_for(procs, walrus_bin, cargs, d, [s for s in REGIONS if s != d])
               for d in REGIONS}
    for r in REGIONS:
        appliers[r].wait_ready()
        mirrors[r].wait_ready()
    w = Writers(rng, clusters, {r: Hlc() for r in REGIONS}, str(tmp_path))
    every = lambda: sum(w.ops.values(), [])  # noqa: E731
    clients = {r: redises[r].client() for r in REGIONS}
    all_redis = [redises[r] for r in REGIONS]

    # 1. Concurrent writes everywhere, mirrors and appliers live.
    w.run(REGIONS, scaled(1500), "a")
    wait_converged(clusters, redises, appliers, mirrors, REGIONS)
    rc, out = verify(walrus_bin, all_redis)
    assert rc == 0 and "identical" in out, out
    for r in REGIONS:
        assert_model(clients[r], every(), "region %s" % r)

    # 2. Partition ap: its mirror dies, us and eu stop pulling from it; everyone keeps writing.
    mirrors["ap"].kill9()
    for d, peer in (("us", "eu"), ("eu", "us")):
        assert mirrors[d].proc.terminate() == 0, mirrors[d].proc.log_tail()
        mirrors[d] = mirror_for(procs, walrus_bin, cargs, d, [peer], tag="-partitioned")
    for d in ("us", "eu"):
        mirrors[d].wait_ready()
    seen_by_ap = len(w.ops["us"]), len(w.ops["eu"])
    seen_by_us_eu = len(w.ops["ap"])
    w.run(REGIONS, scaled(1000), "b")
    wait_converged(clusters, redises, appliers, mirrors, ["us", "eu"])
    wait_converged(clusters, redises, appliers, mirrors, ["ap"])
    rc, out = verify(walrus_bin, all_redis)
    assert rc == 1, "verify should report the partition's divergence:\n" + out
    rc, out = verify(walrus_bin, [redises["us"], redises["eu"]])
    assert rc == 0, "us and eu still exchange writes; they must agree:\n" + out
    majority = w.ops["us"] + w.ops["eu"] + w.ops["ap"][:seen_by_us_eu]
    minority = w.ops["ap"] + w.ops["us"][:seen_by_ap[0]] + w.ops["eu"][:seen_by_ap[1]]
    assert model(majority) != model(minority)  # the writes really conflict across the cut
    for r in ("us", "eu"):
        assert_model(clients[r], majority, "region %s (partitioned)" % r)
    assert_model(clients["ap"], minority, "region ap (partitioned)")

    # 3. Heal, writes still going on every side; us's mirror is SIGKILLed once mid-stream (its
    #    transaction's records stay in the mock without their positions: redelivered, applied once).
    for d in ("us", "eu"):
        assert mirrors[d].proc.terminate() == 0, mirrors[d].proc.log_tail()
    mirrors = {d: mirror_for(procs, walrus_bin, cargs, d, [s for s in REGIONS if s != d],
                             tag="-healed") for d in REGIONS}
    for r in REGIONS:
        mirrors[r].wait_ready()
    writers = w.start(REGIONS, scaled(1000), "c", chunk=50, pause=0.05)
    wait_until(lambda: any(v > 0 for v in mirrors["us"].positions("eu.events").values()), 30,
               "mirror-us copying again")
    mirrors["us"].restart()
    for t in writers:
        t.join()
    mirrors["us"].wait_ready()
    wait_converged(clusters, redises, appliers, mirrors, REGIONS)
    rc, out = verify(walrus_bin, all_redis)
    assert rc == 0 and "identical" in out, out
    for r in REGIONS:
        assert_model(clients[r], every(), "region %s (healed)" % r)
        appliers[r].check_alive()
