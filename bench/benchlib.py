"""What the benches share: the e2e harness's helpers plus the bench-only measurements.

Every bench imports this instead of defining its own free_port/wait/readiness/metric helpers:

    import benchlib
    from benchlib import harness            # tests/e2e/harness.py: free_port, wait_until, ...
    walrus = benchlib.walrus_bin()          # $WALRUS_BIN, else this checkout's build
    ref = benchlib.redis_benchmark(port, ["-t", "set", "-d", "64"], 1_000_000)
"""

import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
import harness  # noqa: E402

CHECKOUT = harness.CHECKOUT
free_port = harness.free_port
http_get = harness.http_get


def walrus_bin():
    return harness.default_walrus_bin()


def wait(pred, timeout, what, interval=0.05):
    """harness.wait_until for a script: prints the reason and exits instead of an AssertionError."""
    try:
        return harness.wait_until(pred, timeout, what, interval=interval)
    except AssertionError as e:
        raise SystemExit(str(e))


def ready(port):
    """The admin server on `port` answers /readyz with 200."""
    return harness.http_get(port, "/readyz", timeout=2)[0] == 200


def ping(client):
    try:
        return client.ping()
    except Exception:
        return False


def metric(port, name):
    """Sum of the samples of metric `name` on the admin server on `port` (0 when absent)."""
    status, body, _ = harness.http_get(port, "/metrics", timeout=5)
    if status != 200:
        raise SystemExit("GET /metrics on port %d: %s %s" % (port, status, body[:200]))
    return sum(v for n, _, v in harness.parse_metrics(body) if n == name)


def redis_benchmark(port, argv, n):
    """Requests/s of `redis-benchmark -P 64` (the same-run reference every ratio divides by)."""
    out = subprocess.run(["redis-benchmark", "-h", "127.0.0.1", "-p", str(port), "-P", "64",
                          "-n", str(n), "-r", "1000000", "-q", *argv],
                         capture_output=True, text=True, check=True).stdout
    return float(re.findall(r"([\d.]+) requests per second", out)[-1])


def rss_peak_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid):
    """User+system CPU seconds of a process, and per thread kind (main, rdkafka, other)."""
    tick = os.sysconf("SC_CLK_TCK")
    per = {}
    total = 0.0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                data = f.read()
        except OSError:
            continue
        comm = data[data.index("(") + 1:data.rindex(")")]
        fields = data[data.rindex(")") + 2:].split()
        secs = (int(fields[11]) + int(fields[12])) / tick
        kind = "main" if tid == str(pid) else ("rdkafka" if comm.startswith("rdk:") else "other")
        per[kind] = per.get(kind, 0.0) + secs
        total += secs
    return total, per


class CounterFeed:
    """`INCRBY ctr:<i % 997> 1` records sent through a kafka_io.Stream, numbered from 1."""

    def __init__(self, stream):
        self.stream = stream
        self.sent = 0

    def __call__(self, n):
        recs = []
        for _ in range(n):
            self.sent += 1
            k = ("ctr:%d" % (self.sent % 997)).encode()
            recs.append((k, b'{"cmd":"INCRBY","key":"%s","args":["1"]}' % k))
        self.stream.send(recs)
