"""The oracle of the e2e tests: what Redis must contain after a stream of walrus JSON ops.

Model replays good records (in per-key log order, with the record timestamps read back from
Kafka) and keeps a plain-Python image of every key: type, value and absolute expiry (ms, -1 for
none). dump_redis() reads the same image from a real Redis, diff() compares both key by key.

    m = Model()
    for rec in placed:            # workload.Placed, generation order == per-key log order
        if not rec.bad:
            m.apply_record(rec.key, rec.value, rec.ts)
    problems = diff(m.snapshot(), dump_redis(client))
"""

import base64
import json

POS_PREFIX = b"walrus:"  # the applier's own keys (positions, metadata) are not data


class ModelError(Exception):
    """The model was asked to apply something the workload should never generate."""


class Model:
    """Image of a Redis keyspace: key(bytes) -> [type, value, expire_at_ms or -1]."""

    def __init__(self):
        self.keys = {}

    # --- record level -------------------------------------------------------------------------
    def apply_record(self, key, value, ts):
        """key: bytes record key; value: bytes JSON or None (tombstone = DEL key); ts: ms."""
        if value is None:
            self.keys.pop(key, None)
            return
        doc = json.loads(value)
        ops = doc["multi"] if "multi" in doc else [doc]
        for op in ops:
            self.apply_op(op, ts)

    # --- op level -----------------------------------------------------------------------------
    def apply_op(self, op, ts):
        cmd = op["cmd"].upper()
        key = op["key"].encode()
        if "args_b64" in op:
            args = [base64.b64decode(a, validate=True) for a in op["args_b64"]]
        else:
            args = [a.encode() for a in op.get("args", [])]
        handler = getattr(self, "_op_" + cmd.lower(), None)
        if handler is None:
            raise ModelError("model has no command %s" % cmd)
        handler(key, args, op, ts)

    def _get(self, key, typ):
        ent = self.keys.get(key)
        if ent is None:
            return None
        if ent[0] != typ:
            raise ModelError("WRONGTYPE in the good stream: %r is %s, not %s" % (key, ent[0], typ))
        return ent

    def _create(self, key, typ, value):
        ent = [typ, value, -1]
        self.keys[key] = ent
        return ent

    def _drop_if_empty(self, key, ent):
        if not ent[1]:
            del self.keys[key]

    def _op_set(self, key, args, op, ts):
        if len(args) != 1:
            raise ModelError("SET with options is not modelled")
        exp = -1
        if "ttl_ms" in op:
            exp = ts + int(op["ttl_ms"])
        elif "expire_at_ms" in op:
            exp = int(op["expire_at_ms"])
        self.keys[key] = ["string", args[0], exp]

    def _op_del(self, key, args, op, ts):
        self.keys.pop(key, None)

    def _incr(self, key, delta):
        ent = self._get(key, "string")
        if ent is None:
            ent = self._create(key, "string", b"0")
        ent[1] = str(int(ent[1]) + delta).encode()

    def _op_incrby(self, key, args, op, ts):
        self._incr(key, int(args[0]))

    def _op_decrby(self, key, args, op, ts):
        self._incr(key, -int(args[0]))

    def _op_incr(self, key, args, op, ts):
        self._incr(key, 1)

    def _op_decr(self, key, args, op, ts):
        self._incr(key, -1)

    def _op_hset(self, key, args, op, ts):
        ent = self._get(key, "hash") or self._create(key, "hash", {})
        for i in range(0, len(args), 2):
            ent[1][args[i]] = args[i + 1]

    def _op_hincrby(self, key, args, op, ts):
        ent = self._get(key, "hash") or self._create(key, "hash", {})
        ent[1][args[0]] = str(int(ent[1].get(args[0], b"0")) + int(args[1])).encode()

    def _op_hdel(self, key, args, op, ts):
        ent = self._get(key, "hash")
        if ent:
            for f in args:
                ent[1].pop(f, None)
            self._drop_if_empty(key, ent)

    def _op_sadd(self, key, args, op, ts):
        ent = self._get(key, "set") or self._create(key, "set", set())
        ent[1].update(args)

    def _op_srem(self, key, args, op, ts):
        ent = self._get(key, "set")
        if ent:
            ent[1].difference_update(args)
            self._drop_if_empty(key, ent)

    def _op_zadd(self, key, args, op, ts):
        ent = self._get(key, "zset") or self._create(key, "zset", {})
        for i in range(0, len(args), 2):
            ent[1][args[i + 1]] = float(args[i])

    def _op_zincrby(self, key, args, op, ts):
        ent = self._get(key, "zset") or self._create(key, "zset", {})
        ent[1][args[1]] = ent[1].get(args[1], 0.0) + float(args[0])

    def _op_zrem(self, key, args, op, ts):
        ent = self._get(key, "zset")
        if ent:
            for m in args:
                ent[1].pop(m, None)
            self._drop_if_empty(key, ent)

    def _op_rpush(self, key, args, op, ts):
        ent = self._get(key, "list") or self._create(key, "list", [])
        ent[1].extend(args)

    def _op_lpush(self, key, args, op, ts):
        ent = self._get(key, "list") or self._create(key, "list", [])
        for a in args:
            ent[1].insert(0, a)

    # --- views --------------------------------------------------------------------------------
    def type_of(self, key):
        ent = self.keys.get(key)
        return ent[0] if ent else None

    def snapshot(self):
        """Normalized image, same shape as dump_redis()."""
        out = {}
        for k, (typ, val, exp) in self.keys.items():
            out[k] = (typ, _norm(typ, val), exp)
        return out


def _norm(typ, val):
    if typ == "set":
        return frozenset(val)
    if typ == "hash" or typ == "zset":
        return dict(val)
    if typ == "list":
        return list(val)
    return val


def dump_redis(client, batch=500):
    """Read every data key (not walrus:*) of a Redis: key -> (type, normalized value, pexpiretime)."""
    keys = [k for k in client.scan_iter(count=1000) if not k.startswith(POS_PREFIX)]
    out = {}
    for i in range(0, len(keys), batch):
        chunk = keys[i:i + batch]
        p = client.pipeline(transaction=False)
        for k in chunk:
            p.type(k)
            p.pexpiretime(k)
        meta = p.execute()
        p = client.pipeline(transaction=False)
        types = []
        for j, k in enumerate(chunk):
            typ = meta[2 * j].decode() if isinstance(meta[2 * j], bytes) else meta[2 * j]
            types.append(typ)
            if typ == "string":
                p.get(k)
            elif typ == "hash":
                p.hgetall(k)
            elif typ == "set":
                p.smembers(k)
            elif typ == "zset":
                p.zrange(k, 0, -1, withscores=True)
            elif typ == "list":
                p.lrange(k, 0, -1)
            else:
                p.type(k)  # stream or vanished key: keep positions aligned
        vals = p.execute()
        for j, k in enumerate(chunk):
            typ, val = types[j], vals[j]
            if typ == "none":
                continue  # expired or deleted between SCAN and TYPE
            if typ == "zset":
                val = {m: float(s) for m, s in val}
            elif typ == "set":
                val = frozenset(val)
            out[k] = (typ, val, int(meta[2 * j + 1]))
    return out


def _short(v, n=160):
    s = repr(v)
    return s if len(s) <= n else s[:n] + "...(%d chars)" % len(s)


def diff(expected, actual, limit=25):
    """Key-by-key differences (list of lines; empty when identical)."""
    lines = []
    missing = sorted(set(expected) - set(actual))
    extra = sorted(set(actual) - set(expected))
    changed = sorted(k for k in set(expected) & set(actual) if expected[k] != actual[k])
    if not (missing or extra or changed):
        return lines
    lines.append("state differs: %d keys missing in Redis, %d unexpected keys, %d keys differ "
                 "(model has %d keys, Redis %d)" % (len(missing), len(extra), len(changed),
                                                   len(expected), len(actual)))
    for k in missing[:limit]:
        lines.append("  missing %r: model=%s" % (k, _short(expected[k])))
    for k in extra[:limit]:
        lines.append("  unexpected %r: redis=%s" % (k, _short(actual[k])))
    for k in changed[:limit]:
        e, a = expected[k], actual[k]
        what = "type" if e[0] != a[0] else ("value" if e[1] != a[1] else "expiry")
        lines.append("  %s of %r differs: model=%s redis=%s" % (what, k, _short(e), _short(a)))
    by_prefix = {}
    for k in missing + extra + changed:
        pre = k.split(b":")[0].decode(errors="replace")
        by_prefix[pre] = by_prefix.get(pre, 0) + 1
    lines.append("  differing keys by prefix: %s" % by_prefix)
    return lines


def assert_matches(model, client, context=""):
    """Fail with a key-by-key report unless Redis holds exactly the model's keyspace."""
    problems = diff(model.snapshot(), dump_redis(client))
    assert not problems, "\n".join(([context] if context else []) + problems)


def counters_and_lists(expected, actual):
    """Focused exactly-once findings on two snapshots: counter totals and duplicated list items.

    Counters are string keys whose name starts with c or stock; list items are unique by
    construction, so any repeated item means a record was applied twice."""
    lines = []

    def total(snap):
        t = 0
        for k, (typ, val, _) in snap.items():
            if typ == "string" and (k.startswith(b"c") or k.startswith(b"stock")):
                try:
                    t += int(val)
                except ValueError:
                    pass
        return t

    te, ta = total(expected), total(actual)
    if te != ta:
        lines.append("counter total: model %d, redis %d (difference %+d)" % (te, ta, ta - te))
    dups = {}
    for k, (typ, val, _) in actual.items():
        if typ == "list" and len(set(val)) != len(val):
            dups[k] = len(val) - len(set(val))
    if dups:
        lines.append("lists with duplicated items (records applied twice): %d lists, %d extra "
                     "items, e.g. %s" % (len(dups), sum(dups.values()), list(dups.items())[:5]))
    le = sum(len(v) for t, v, _ in expected.values() if t == "list")
    la = sum(len(v) for t, v, _ in actual.values() if t == "list")
    if le != la:
        lines.append("list items in total: model %d, redis %d" % (le, la))
    return lines
