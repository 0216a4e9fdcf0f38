"""Seeded generators of walrus JSON v1 records, good and malformed, and their placement in the log.

A Rec is what we produce: record key, record value (bytes, None = tombstone) and `bad` (None for a
good record, else the category of malformed input). Records of one Redis key always share one
record key, so they land in one partition in generation order: replaying good records in
generation order (Model) equals replaying the log partition by partition.

    wl = Workload(random.Random(seed))
    recs = wl.mixed(100_000)                # good ops only
    recs += [wl.bad("wrongtype") for _ in range(10)]
    placed = place(recs, kafka_io.read_topic(...))   # adds partition, offset, timestamp
    model = replay(placed)
"""

import base64
import collections
import json
import zlib

from model import Model

Rec = collections.namedtuple("Rec", "key value bad")
Placed = collections.namedtuple("Placed", "key value bad partition offset ts")

HOUR_MS = 3600 * 1000
ONE_MIB = 1024 * 1024
BAD_CATEGORIES = ("json", "refused", "arity", "wrongtype", "redis_value", "oversize")


def partition_for(key, partitions):
    """librdkafka's default (consistent_random) partitioner for a non-empty key."""
    return zlib.crc32(key) % partitions


def _enc(doc):
    return json.dumps(doc, separators=(",", ":")).encode()


class Workload:
    """Generates records; tracks the resulting keyspace (ts-agnostic) to aim malformed ops."""

    SIZES = {"s": 3000, "c": 1000, "h": 800, "set": 400, "z": 400, "l": 400, "stock": 300}

    def __init__(self, rng, tag=""):
        self.rng = rng
        self.tag = tag  # keeps keys of several workloads in one Redis apart
        self.live = Model()
        self.seq = 0
        self.weights = [("set", 18), ("del", 3), ("incrby", 17), ("incr", 2), ("hset", 11),
                        ("hdel", 2), ("sadd", 7), ("srem", 5), ("zadd", 7), ("zrem", 2),
                        ("rpush", 10), ("multi", 10), ("tombstone", 2)]
        self._total = sum(w for _, w in self.weights)

    # --- helpers ------------------------------------------------------------------------------
    def key(self, prefix, n=None):
        if n is None:
            n = self.rng.randrange(self.SIZES[prefix])
        if prefix == "stock":
            return "stock%s:{s%d}" % (self.tag, n)
        return "%s%s:%d" % (prefix, self.tag, n)

    def _next(self):
        self.seq += 1
        return self.seq

    def _cmd(self, name):
        return name.lower() if self.rng.random() < 0.1 else name  # cmd is case-insensitive

    def _good(self, rkey, doc):
        rec = Rec(rkey.encode(), _enc(doc), None)
        self.live.apply_record(rec.key, rec.value, 0)
        return rec

    def _pick_existing(self, prefix, typ, tries=200):
        for _ in range(tries):
            k = self.key(prefix)
            if self.live.type_of(k.encode()) == typ:
                return k
        return None

    # --- good ops -----------------------------------------------------------------------------
    def good(self):
        r = self.rng.randrange(self._total)
        for kind, w in self.weights:
            if r < w:
                return getattr(self, "_g_" + kind)()
            r -= w
        raise AssertionError("unreachable")

    def mixed(self, n):
        return [self.good() for _ in range(n)]

    def interleaved(self, n_good, bad_counts, start=0.25):
        """n_good good records with malformed ones ({category: count}) spread over the part after
        the first `start` fraction; each bad record is aimed at the keyspace as it is where it
        lands in the stream."""
        slots = collections.Counter()
        lo = int(n_good * start)
        for cat, cnt in bad_counts.items():
            for _ in range(cnt):
                slots[(self.rng.randrange(lo, n_good), cat)] += 1
        at = collections.defaultdict(list)
        for (i, cat), cnt in slots.items():
            at[i] += [cat] * cnt
        out = []
        for i in range(n_good):
            out.append(self.good())
            for cat in at.get(i, ()):
                out.append(self.bad(cat))
        return out

    def _g_set(self):
        k = self.key("s")
        op = {"cmd": self._cmd("SET"), "key": k}
        x = self.rng.random()
        if x < 0.05:  # binary-safe value
            raw = bytes(self.rng.randrange(256) for _ in range(self.rng.randrange(1, 24)))
            op["args_b64"] = [base64.b64encode(raw).decode()]
        else:
            op["args"] = ["v%d-%s" % (self._next(), "x" * self.rng.randrange(0, 40))]
        y = self.rng.random()
        if y < 0.5:
            op["ttl_ms"] = self.rng.randrange(HOUR_MS, 2 * HOUR_MS)
        return self._good(k, op)

    def _g_del(self):
        k = self.key("s" if self.rng.random() < 0.6 else "c")
        return self._good(k, {"cmd": self._cmd("DEL"), "key": k})

    def _g_incrby(self):
        k = self.key("c")
        return self._good(k, {"cmd": self._cmd("INCRBY"), "key": k,
                              "args": [str(self.rng.randint(-50, 100))]})

    def _g_incr(self):
        k = self.key("c")
        return self._good(k, {"cmd": "INCR", "key": k})

    def _g_hset(self):
        k = self.key("h")
        args = []
        for _ in range(self.rng.randint(1, 3)):
            args += ["f%d" % self.rng.randrange(20), "hv%d" % self._next()]
        return self._good(k, {"cmd": self._cmd("HSET"), "key": k, "args": args})

    def _g_hdel(self):
        k = self.key("h")
        return self._good(k, {"cmd": "HDEL", "key": k, "args": ["f%d" % self.rng.randrange(20)]})

    def _g_sadd(self):
        k = self.key("set")
        ms = ["m%d" % self.rng.randrange(50) for _ in range(self.rng.randint(1, 3))]
        return self._good(k, {"cmd": self._cmd("SADD"), "key": k, "args": ms})

    def _g_srem(self):
        k = self.key("set")
        ms = ["m%d" % self.rng.randrange(50) for _ in range(self.rng.randint(1, 2))]
        return self._good(k, {"cmd": "SREM", "key": k, "args": ms})

    def _g_zadd(self):
        k = self.key("z")
        args = []
        for _ in range(self.rng.randint(1, 2)):
            args += [repr(self.rng.randint(-4000, 4000) / 4), "zm%d" % self.rng.randrange(40)]
        return self._good(k, {"cmd": self._cmd("ZADD"), "key": k, "args": args})

    def _g_zrem(self):
        k = self.key("z")
        return self._good(k, {"cmd": "ZREM", "key": k, "args": ["zm%d" % self.rng.randrange(40)]})

    def _g_rpush(self):
        k = self.key("l")
        vals = ["e%d" % self._next() for _ in range(self.rng.randint(1, 2))]
        return self._good(k, {"cmd": self._cmd("RPUSH"), "key": k, "args": vals})

    def _g_multi(self):
        n = self.rng.randrange(self.SIZES["stock"])
        stock = self.key("stock", n)
        ops = [{"cmd": "DECRBY", "key": stock, "args": [str(self.rng.randint(1, 3))]},
               {"cmd": "RPUSH", "key": "orders%s:{s%d}" % (self.tag, n),
                "args": ["o-%d" % self._next()]}]
        if self.rng.random() < 0.3:
            ops.append({"cmd": "HINCRBY", "key": "stats%s:{s%d}" % (self.tag, n),
                        "args": ["sold", str(self.rng.randint(1, 5))]})
        return self._good(stock, {"multi": ops})

    def _g_tombstone(self):
        k = self.key("s" if self.rng.random() < 0.7 else "c").encode()
        rec = Rec(k, None, None)
        self.live.apply_record(k, None, 0)
        return rec

    # --- malformed ops ------------------------------------------------------------------------
    def bad(self, category):
        """One malformed record of a category in BAD_CATEGORIES (model: no effect at all)."""
        return getattr(self, "_b_" + category)()

    def _bad(self, rkey, value, category):
        if isinstance(value, dict):
            value = _enc(value)
        assert b"\n" not in value and b"\t" not in value and len(value) > 0
        return Rec(rkey.encode(), value, category)

    def _b_json(self):
        n = self._next()
        k = "bad%s:%d" % (self.tag, n)
        good = _enc({"cmd": "SET", "key": k, "args": ["v"]})
        choices = [
            good[:self.rng.randrange(5, len(good) - 1)],       # truncated object
            b"not json at all %d" % n,
            b'{"cmd":"SET","key":"' + k.encode() + b'" "args":["v"]}',  # missing comma
            b"[1,2,3]",
            b"{}",                                             # no cmd
            b"null",
            b'"just a string"',
            _enc({"cmd": "SET", "key": k, "args": "v"}),       # args not a list
            _enc({"cmd": 42, "key": k, "args": ["v"]}),        # cmd not a string
            _enc({"cmd": "SET", "key": k, "args_b64": ["%%%not-base64%%%"]}),
            _enc({"multi": "nope"}),
        ]
        return self._bad(k, self.rng.choice(choices), "json")

    def _b_refused(self):
        n = self._next()
        k = "bad%s:%d" % (self.tag, n)
        if self.rng.random() < 0.1:  # a multi with one refused op: nothing of it may land
            mk = "mref%s:{%d}" % (self.tag, n)
            return self._bad(mk, {"multi": [{"cmd": "SET", "key": mk, "args": ["partial"]},
                                            {"cmd": "FLUSHALL", "key": mk}]}, "refused")
        existing_set = self._pick_existing("set", "set")
        options = [
            ("FLUSHALL", k, []), ("FLUSHDB", k, []), ("SWAPDB", k, ["0", "1"]),
            ("EVAL", k, ["redis.call('SET','evil%s:%d','1')" % (self.tag, n), "0"]),
            ("EVALSHA", k, ["0" * 40, "0"]), ("DEBUG", k, ["SLEEP", "0"]),
            ("SCRIPT", k, ["FLUSH"]), ("CONFIG", k, ["GET", "maxmemory"]),
            ("RANDOMKEY", k, []), ("NOSUCHCMD", k, ["x"]),
        ]
        if existing_set:
            options += [("SPOP", existing_set, []), ("SRANDMEMBER", existing_set, [])]
        cmd, key, args = self.rng.choice(options)
        return self._bad(key, {"cmd": cmd, "key": key, "args": args}, "refused")

    def _b_arity(self):
        options = [("SET", "s", "string", []), ("INCRBY", "c", "string", []),
                   ("INCR", "c", "string", ["5"]), ("HSET", "h", "hash", ["f1"]),
                   ("SADD", "set", "set", []), ("ZADD", "z", "zset", ["1.5"]),
                   ("RPUSH", "l", "list", []), ("HINCRBY", "h", "hash", ["f1"])]
        cmd, prefix, typ, args = self.rng.choice(options)
        k = self._pick_existing(prefix, typ) or self.key(prefix)
        return self._bad(k, {"cmd": cmd, "key": k, "args": args}, "arity")

    def _b_wrongtype(self):
        if self.rng.random() < 0.1:  # multi whose 2nd op hits a hash: the DECRBY must not land
            for _ in range(200):
                n = self.rng.randrange(self.SIZES["stock"])
                stats = "stats%s:{s%d}" % (self.tag, n)
                if self.live.type_of(stats.encode()) == "hash":
                    stock = self.key("stock", n)
                    return self._bad(stock, {"multi": [
                        {"cmd": "DECRBY", "key": stock, "args": ["1"]},
                        {"cmd": "RPUSH", "key": stats, "args": ["x"]}]}, "wrongtype")
        options = [("INCRBY", "h", "hash", ["1"]), ("INCR", "h", "hash", []),
                   ("HSET", "s", "string", ["f", "v"]), ("SADD", "l", "list", ["x"]),
                   ("RPUSH", "h", "hash", ["x"]), ("ZADD", "set", "set", ["1", "m"]),
                   ("LPUSH", "z", "zset", ["x"]), ("HINCRBY", "c", "string", ["f", "1"])]
        for _ in range(100):
            cmd, prefix, typ, args = self.rng.choice(options)
            k = self._pick_existing(prefix, typ)
            if k:
                return self._bad(k, {"cmd": cmd, "key": k, "args": args}, "wrongtype")
        raise AssertionError("workload too small to aim WRONGTYPE ops")

    def _b_redis_value(self):
        options = [("INCRBY", "c", ["notanumber"]), ("INCRBY", "c", ["1.5"]),
                   ("ZADD", "z", ["notafloat", "zm1"]), ("HINCRBY", "h", ["f1", "x"]),
                   ("DECRBY", "c", ["99999999999999999999999"])]
        cmd, prefix, args = self.rng.choice(options)
        typ = {"c": "string", "z": "zset", "h": "hash"}[prefix]
        k = self._pick_existing(prefix, typ) or self.key(prefix)
        return self._bad(k, {"cmd": cmd, "key": k, "args": args}, "redis_value")

    def _b_oversize(self):
        n = self._next()
        k = "big%s:%d" % (self.tag, n)
        return self._bad(k, {"cmd": "SET", "key": k, "args": ["x" * (ONE_MIB + 64 * 1024)]},
                         "oversize")


def place(recs, log, partitions=None):
    """Match generated records to the records read back from Kafka.

    Checks that every record arrived exactly once, per key in generation order, all records of a
    key in one partition (and, if `partitions` is given, in the partition the default partitioner
    picks). Returns Placed records in generation order.
    """
    per_key_log = collections.defaultdict(list)
    for r in sorted(log, key=lambda r: (r["partition"], r["offset"])):
        per_key_log[r["key"]].append(r)
    per_key_gen = collections.defaultdict(list)
    for i, rec in enumerate(recs):
        per_key_gen[rec.key].append(i)
    assert len(log) == len(recs), \
        "log has %d records, %d were produced (mock Kafka dropped data?)" % (len(log), len(recs))
    out = [None] * len(recs)
    for key, idxs in per_key_gen.items():
        got = per_key_log.get(key, [])
        assert len(got) == len(idxs), "key %r: produced %d records, log has %d" % (
            key, len(idxs), len(got))
        parts = {r["partition"] for r in got}
        assert len(parts) == 1, "key %r spread over partitions %s" % (key, parts)
        if partitions:
            want = partition_for(key, partitions)
            assert parts == {want}, "key %r in partition %s, partitioner says %d" % (
                key, parts, want)
        for i, r in zip(idxs, got):
            rec = recs[i]
            assert r["value"] == rec.value, "key %r: log order differs from produce order" % key
            out[i] = Placed(rec.key, rec.value, rec.bad, r["partition"], r["offset"], r["ts"])
    return out


def replay(placed, model=None):
    """The expected keyspace: good records applied in generation order with their timestamps."""
    m = model or Model()
    for p in placed:
        if p.bad is None:
            m.apply_record(p.key, p.value, p.ts)
    return m


def end_offsets_of(placed, partitions):
    ends = [0] * partitions
    for p in placed:
        ends[p.partition] = max(ends[p.partition], p.offset + 1)
    return ends
