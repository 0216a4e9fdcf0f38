"""A deliberately simple reference applier in Python, used only to validate the test oracle.

It applies a log read back from Kafka (partition by partition, one MULTI/EXEC per record with the
position) to a real Redis and classifies the records it cannot apply. test_harness_model.py uses
it to prove that Model equals what real Redis does with the same records, and that every record
the workload calls malformed is indeed refused, undecodable, oversize or rejected by Redis.
It is not the system under test.

    rejects = reference_apply(log, client)   # {(partition, offset): category}
"""

import base64
import binascii
import json

import redis

from harness import pos_key

ALLOWED = {"SET", "DEL", "EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT", "PERSIST", "INCR",
           "INCRBY", "DECR", "DECRBY", "HSET", "HDEL", "HINCRBY", "SADD", "SREM", "ZADD", "ZREM",
           "ZINCRBY", "LPUSH", "RPUSH", "LREM", "LTRIM", "XADD"}
FAMILY = {"INCR": "string", "INCRBY": "string", "DECR": "string", "DECRBY": "string",
          "SET": None, "DEL": None, "HSET": "hash", "HDEL": "hash", "HINCRBY": "hash",
          "SADD": "set", "SREM": "set", "ZADD": "zset", "ZREM": "zset", "ZINCRBY": "zset",
          "LPUSH": "list", "RPUSH": "list", "LREM": "list", "LTRIM": "list"}
MAX_VALUE = 1024 * 1024


class Reject(Exception):
    def __init__(self, category, reason):
        super().__init__(reason)
        self.category = category


def _decode(value):
    if len(value) > MAX_VALUE:
        raise Reject("oversize", "value of %d bytes" % len(value))
    try:
        doc = json.loads(value)
    except ValueError as e:
        raise Reject("json", str(e))
    if not isinstance(doc, dict):
        raise Reject("json", "not an object")
    if "multi" in doc:
        if not isinstance(doc["multi"], list) or not doc["multi"]:
            raise Reject("json", "multi is not a list of ops")
        ops = doc["multi"]
    else:
        ops = [doc]
    out = []
    for op in ops:
        if not isinstance(op, dict) or not isinstance(op.get("cmd"), str) \
                or not isinstance(op.get("key"), str):
            raise Reject("json", "op without string cmd/key")
        try:
            if "args_b64" in op:
                args = [base64.b64decode(a, validate=True) for a in op["args_b64"]]
            else:
                args = op.get("args", [])
                if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
                    raise Reject("json", "args is not a list of strings")
                args = [a.encode() for a in args]
        except (binascii.Error, TypeError) as e:
            raise Reject("json", "bad args_b64: %s" % e)
        cmd = op["cmd"].upper()
        if cmd not in ALLOWED:
            raise Reject("refused", "command %s is not allowed" % cmd)
        out.append((cmd, op["key"].encode(), args, op))
    return out


def _classify(err):
    s = str(err)
    if "WRONGTYPE" in s:
        return "wrongtype"
    if "wrong number of arguments" in s or "syntax error" in s:
        return "arity"
    if "not an integer" in s or "not a valid float" in s or "out of range" in s:
        return "redis_value"
    return "redis_other:" + s


def _apply_one(client, rec, topic):
    key, value, ts = rec["key"], rec["value"], rec["ts"]
    p = client.pipeline(transaction=True)
    nxt = rec["offset"] + 1
    if value is None:
        p.delete(key)
        p.set(pos_key(topic, rec["partition"]), nxt)
        p.execute()
        return None
    try:
        ops = _decode(value)
        if len(ops) > 1:  # atomic multi: refuse up front what EXEC would half-apply
            for cmd, k, _args, _op in ops:
                want, have = FAMILY.get(cmd), client.type(k).decode()
                if want and have not in ("none", want):
                    raise Reject("wrongtype", "WRONGTYPE %s on %s" % (cmd, have))
    except Reject as r:
        client.set(pos_key(topic, rec["partition"]), nxt)
        return r.category
    for cmd, k, args, op in ops:
        if cmd == "SET" and ("ttl_ms" in op or "expire_at_ms" in op):
            at = ts + int(op["ttl_ms"]) if "ttl_ms" in op else int(op["expire_at_ms"])
            p.execute_command("SET", k, *args, "PXAT", at)
        else:
            p.execute_command(cmd, k, *args)
    p.set(pos_key(topic, rec["partition"]), nxt)
    try:
        res = p.execute(raise_on_error=False)
    except redis.ResponseError as e:  # rejected while queueing (arity): EXECABORT, nothing ran
        client.set(pos_key(topic, rec["partition"]), nxt)
        return _classify(e)
    errs = [r for r in res if isinstance(r, Exception)]
    return _classify(errs[0]) if errs else None


def reference_apply(log, client, topic="redis-writes"):
    """Apply `log` (kafka_io.read_topic records) partition by partition; return the rejects."""
    rejects = {}
    for rec in sorted(log, key=lambda r: (r["partition"], r["offset"])):
        cat = _apply_one(client, rec, topic)
        if cat:
            rejects[(rec["partition"], rec["offset"])] = cat
    return rejects
