"""Kafka through kcat, a client nobody on this project wrote: produce, stream, read back, offsets.

kcat has no option to set a record's timestamp, so records carry the producer's create time and
the tests read timestamps back with the consumer (read_topic) to compute expected expiries.

    produce(brokers, "redis-writes", recs)                 # blocks until all are delivered
    log = read_topic(brokers, "redis-writes")              # [{partition, offset, ts, key, ...}]
    ends = end_offsets(brokers, "redis-writes", 12)        # high watermarks per partition
    starts = start_offsets(brokers, "redis-writes", 12)    # low watermarks (log start)
    with Stream(brokers, "redis-writes", tmpdir) as s:     # a kcat fed over time from Python
        s.send(recs[:1000]); s.send(recs[1000:])
"""

import json
import os
import re
import subprocess
import threading

KCAT = "/usr/bin/kcat"
_PRODUCER_OPTS = ["-K", "\t", "-Z", "-X", "message.max.bytes=8000000",
                  "-X", "enable.idempotence=true", "-X", "linger.ms=5"]


def _lines(recs):
    out = bytearray()
    for rec in recs:
        key, value = rec[0], rec[1]
        assert b"\t" not in key and b"\n" not in key and key
        if value is not None:
            assert b"\n" not in value and value, "value not producible by kcat -l: %r" % value[:80]
        out += key + b"\t" + (value or b"") + b"\n"
    return bytes(out)


def produce(brokers, topic, recs, workdir, partition=None, timeout=120):
    """Produce records (key, value|None, ...) with kcat, keyed, in order; raise on any failure."""
    path = os.path.join(workdir, "produce-%d.txt" % threading.get_ident())
    with open(path, "wb") as f:
        f.write(_lines(recs))
    argv = [KCAT, "-P", "-b", brokers, "-t", topic, "-l"] + _PRODUCER_OPTS
    if partition is not None:
        argv += ["-p", str(partition)]
    res = subprocess.run(argv + [path], capture_output=True, timeout=timeout)
    os.unlink(path)
    err = res.stderr.decode(errors="replace")
    if res.returncode != 0 or "ERROR" in err or "failed" in err.lower():
        raise RuntimeError("kcat produce failed rc=%d: %s" % (res.returncode, err[-2000:]))


class Stream:
    """One kcat producer fed from Python over time (stdin pipe); close() waits for delivery."""

    def __init__(self, brokers, topic, workdir):
        self.errlog = open(os.path.join(workdir, "kcat-stream.err"), "wb")
        self.proc = subprocess.Popen([KCAT, "-P", "-b", brokers, "-t", topic] + _PRODUCER_OPTS,
                                     stdin=subprocess.PIPE, stderr=self.errlog,
                                     stdout=subprocess.DEVNULL)
        self.sent = 0
        self.lock = threading.Lock()  # send() may be called from several threads

    def send(self, recs):
        data = _lines(recs)
        with self.lock:
            self.proc.stdin.write(data)
            self.proc.stdin.flush()
            self.sent += len(recs)

    def close(self, timeout=120):
        with self.lock:
            if self.proc.stdin and not self.proc.stdin.closed:
                self.proc.stdin.close()
        rc = self.proc.wait(timeout=timeout)
        self.errlog.close()
        with open(self.errlog.name, "rb") as f:
            err = f.read().decode(errors="replace")
        if rc != 0 or "ERROR" in err:
            raise RuntimeError("kcat stream failed rc=%d: %s" % (rc, err[-2000:]))

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:
            self.kill()


def _b(s):
    return None if s is None else s.encode("utf-8")


def read_topic(brokers, topic, timeout=120):
    """Every record of a topic from the beginning (kcat -C -J -e): list of dicts with
    topic, partition, offset, ts, key (bytes|None), value (bytes|None), headers (dict str->str)."""
    argv = [KCAT, "-C", "-J", "-e", "-q", "-b", brokers, "-t", topic, "-o", "beginning",
            "-X", "fetch.max.bytes=52428800", "-X", "receive.message.max.bytes=100000000"]
    res = subprocess.run(argv, capture_output=True, timeout=timeout)
    if res.returncode != 0:
        raise RuntimeError("kcat read of %s failed: %s" % (topic, res.stderr[-2000:]))
    out = []
    for line in res.stdout.splitlines():
        if not line.strip():
            continue
        j = json.loads(line)
        h = j.get("headers") or []
        headers = {}
        for i in range(0, len(h) - 1, 2):
            headers.setdefault(h[i], h[i + 1])
        out.append({"topic": j["topic"], "partition": j["partition"], "offset": j["offset"],
                    "ts": j["ts"], "tstype": j.get("tstype"), "key": _b(j.get("key")),
                    "value": _b(j.get("payload")), "headers": headers, "raw_headers": h})
    return out


_Q_RE = re.compile(r"^(\S+) \[(\d+)\] offset (-?\d+)")


def end_offsets(brokers, topic, partitions, timeout=60):
    """High watermark of every partition (kcat -Q with timestamp -1 = latest)."""
    return _query_offsets(brokers, topic, partitions, -1, timeout)


def start_offsets(brokers, topic, partitions, timeout=60):
    """Low watermark (log start) of every partition (kcat -Q with timestamp -2 = beginning)."""
    return _query_offsets(brokers, topic, partitions, -2, timeout)


def _query_offsets(brokers, topic, partitions, which, timeout):
    argv = [KCAT, "-Q", "-b", brokers]
    for p in range(partitions):
        argv += ["-t", "%s:%d:%d" % (topic, p, which)]
    res = subprocess.run(argv, capture_output=True, timeout=timeout)
    ends = [None] * partitions
    for line in res.stdout.decode().splitlines():
        m = _Q_RE.match(line.strip())
        if m and m.group(1) == topic:
            ends[int(m.group(2))] = int(m.group(3))
    if res.returncode != 0 or None in ends:
        raise RuntimeError("kcat -Q failed rc=%d: %s %s" % (res.returncode, res.stdout[-500:],
                                                          res.stderr[-1000:]))
    return ends
