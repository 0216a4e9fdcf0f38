"""Processes under test and their witnesses: walrus devkafka, walrus apply, redis-server.

Every process is started through a Procs registry (one per test, see conftest.py) which stops it
by PID at teardown, also when the test failed, and whose logs are attached to failure reports.
Waits poll with deadlines; nothing sleeps and hopes.

    procs = Procs(tmp_path)
    kafka = DevKafka(procs, walrus_bin, tmp_path, topics=["redis-writes:12"])
    redis = RedisServer(procs, tmp_path / "redis")
    app = Applier(procs, walrus_bin, kafka.brokers, redis.url, group="g1")
    app.wait_ready()
    wait_applied(redis.client(), "redis-writes", ends, [app])
    procs.stop_all()
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

import redis as redislib

TOPIC = "redis-writes"
PARTITIONS = 12
REDIS_SERVER = "/usr/bin/redis-server"
# The checkout this file belongs to (tests/e2e/ -> ../..), for finding the build without a path.
CHECKOUT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# Only to debug the harness quickly: shrinks every workload (the suite's claims need 1.0).
SCALE = float(os.environ.get("WALRUS_E2E_SCALE", "1"))


def scaled(n):
    return max(1, int(n * SCALE))


def default_walrus_bin():
    """$WALRUS_BIN, else the binary of this checkout's build/ (scripts/build.sh puts it there)."""
    return os.environ.get("WALRUS_BIN") or os.path.join(CHECKOUT, "build", "src", "cli", "walrus")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(cond, timeout, what, interval=0.05, on_timeout=None):
    """Poll cond() until truthy; raise AssertionError naming `what` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            extra = on_timeout() if on_timeout else ""
            raise AssertionError("timed out after %.1fs waiting for %s %s" % (timeout, what, extra))
        time.sleep(interval)


class Proc:
    """One child process, output in a log file; stopped only by its own PID."""

    def __init__(self, name, argv, log_path, env=None):
        self.name, self.argv, self.log_path = name, list(argv), str(log_path)
        self.log = open(self.log_path, "ab")
        self.popen = subprocess.Popen(self.argv, stdout=self.log, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, env=env, start_new_session=True)
        self.pid = self.popen.pid
        self.rc = None

    def alive(self):
        return self.popen.poll() is None

    def signal(self, sig):
        if self.alive():
            os.kill(self.pid, sig)

    def kill9(self):
        self.signal(signal.SIGKILL)
        self.rc = self.popen.wait()

    def terminate(self, timeout=20):
        """SIGTERM, wait; SIGKILL after the timeout. Returns the exit code (None if killed)."""
        if self.alive():
            os.kill(self.pid, signal.SIGTERM)
            try:
                self.rc = self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.kill(self.pid, signal.SIGKILL)
                self.popen.wait()
                self.rc = None
                return None
        else:
            self.rc = self.popen.returncode
        return self.rc

    def log_text(self):
        self.log.flush()
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def log_tail(self, lines=60):
        return "\n".join(self.log_text().splitlines()[-lines:])


class Procs:
    """Registry of everything a test started; stop_all() runs as a fixture finalizer."""

    def __init__(self, workdir):
        self.workdir = str(workdir)
        self.all = []

    def spawn(self, name, argv, env=None):
        log = os.path.join(self.workdir, "%s.%d.log" % (name, len(self.all)))
        p = Proc(name, argv, log, env=env)
        self.all.append(p)
        return p

    def stop_all(self):
        for p in reversed(self.all):
            if p.alive():
                p.signal(signal.SIGCONT)
                p.terminate(timeout=5)
            p.log.close()

    def report(self, lines=80):
        out = []
        for p in self.all:
            rc = p.popen.poll()
            out.append("==== %s pid=%d rc=%s log=%s\n$ %s\n%s" % (
                p.name, p.pid, rc, p.log_path, " ".join(p.argv), p.log_tail(lines)))
        return "\n".join(out)


class DevKafka:
    """`walrus devkafka` with one cluster named local; brokers = its bootstrap list."""

    def __init__(self, procs, walrus_bin, workdir, topics=("%s:%d" % (TOPIC, PARTITIONS),),
                 brokers=1, timeout=30):
        self.bootstrap_file = os.path.join(str(workdir), "bootstrap-%d.txt" % len(procs.all))
        argv = [walrus_bin, "devkafka", "--cluster", "local", "--brokers", str(brokers),
                "--bootstrap-file", self.bootstrap_file]
        for t in topics:
            argv += ["--topic", t]
        self.proc = procs.spawn("devkafka", argv)

        def ready():
            if not self.proc.alive():
                raise AssertionError("devkafka exited rc=%s:\n%s" % (
                    self.proc.popen.returncode, self.proc.log_tail()))
            try:
                with open(self.bootstrap_file) as f:
                    for line in f:
                        if line.startswith("local=") and line.strip() != "local=":
                            return line.strip().split("=", 1)[1]
            except FileNotFoundError:
                pass
            return None

        self.brokers = wait_until(ready, timeout, "devkafka bootstrap file")


class RedisServer:
    """A real redis-server on 127.0.0.1 with its own dir; restartable on the same port and dir."""

    def __init__(self, procs, workdir, port=None, persistence="none"):
        self.procs, self.dir = procs, str(workdir)
        os.makedirs(self.dir, exist_ok=True)
        self.port = port or free_port()
        self.persistence = persistence
        self.url = "redis://127.0.0.1:%d" % self.port
        self.proc = None
        self.start()

    def argv(self):
        a = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
             "--dbfilename", "dump.rdb", "--protected-mode", "no", "--daemonize", "no",
             "--save", ""]
        if self.persistence == "aof":
            a += ["--appendonly", "yes", "--appendfsync", "everysec"]
        else:
            a += ["--appendonly", "no"]
        return a

    def start(self, timeout=30):
        self.proc = self.procs.spawn("redis-%d" % self.port, self.argv())
        c = self.client()

        def up():
            if not self.proc.alive():
                raise AssertionError("redis-server exited:\n%s" % self.proc.log_tail())
            try:
                return c.ping()
            except (redislib.ConnectionError, redislib.TimeoutError, redislib.ResponseError):
                return False  # not listening yet, or LOADING (BusyLoadingError)

        wait_until(up, timeout, "redis-server on port %d" % self.port)

    def client(self):
        return redislib.Redis(host="127.0.0.1", port=self.port, socket_timeout=10,
                              socket_connect_timeout=2)

    def kill9(self):
        self.proc.kill9()

    def restart(self):
        if self.proc.alive():
            self.proc.kill9()
        self.start()

    def rdb_path(self):
        return os.path.join(self.dir, "dump.rdb")

    def save_copy(self, dest):
        self.client().save()
        shutil.copyfile(self.rdb_path(), dest)


def http_get(port, path, timeout=2.0):
    """(status, body) of GET http://127.0.0.1:port/path; (None, error) if no HTTP answer."""
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=timeout) as r:
            return r.status, r.read().decode(errors="replace"), dict(r.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace"), dict(e.headers)
    except (urllib.error.URLError, ConnectionError, socket.timeout, OSError) as e:
        return None, str(e), {}


def metric_sum(samples, name, **labels):
    """Sum of the parse_metrics() samples named `name` whose labels include `labels`; None if none."""
    vals = [v for n, lab, v in samples
            if n == name and all(lab.get(k) == str(want) for k, want in labels.items())]
    return sum(vals) if vals else None


def readyz(service):
    """(status, body) of the /readyz of anything with an admin_port (Applier, Mirror, ...)."""
    st, body, _ = http_get(service.admin_port, "/readyz")
    return st, body


def wait_held(service, needles, timeout=60):
    """Wait until the service's /readyz answers 503 naming every needle; returns the body."""
    def held():
        service.check_alive()
        st, body = readyz(service)
        return st == 503 and all(n in body for n in needles) and body
    return wait_until(held, timeout, "/readyz 503 naming %s" % (needles,), interval=0.1,
                      on_timeout=lambda: "; last: %s\n%s" % (readyz(service),
                                                             service.proc.log_tail()))


class Applier:
    """`walrus apply` on one topic with its admin server on a free port."""

    def __init__(self, procs, walrus_bin, brokers, redis_url, group, extra=(), name="apply",
                 topic=TOPIC):
        self.admin_port = free_port()
        self.argv = [walrus_bin, "apply", "--brokers", brokers, "--topic", topic, "--group", group,
                     "--redis", redis_url, "--admin", "127.0.0.1:%d" % self.admin_port] + list(extra)
        self.proc = procs.spawn(name, self.argv)
        self.name = name

    @property
    def pid(self):
        return self.proc.pid

    def alive(self):
        return self.proc.alive()

    def readyz(self):
        return http_get(self.admin_port, "/readyz")[0]

    def metrics(self):
        st, body, _ = http_get(self.admin_port, "/metrics")
        assert st == 200, "%s /metrics answered %s: %s" % (self.name, st, body[:300])
        return body

    def check_alive(self):
        if not self.alive():
            raise AssertionError("%s (pid %d) exited rc=%s; log tail:\n%s" % (
                self.name, self.pid, self.proc.popen.returncode, self.proc.log_tail()))

    def wait_ready(self, timeout=60):
        def ready():
            self.check_alive()
            return self.readyz() == 200
        wait_until(ready, timeout, "%s /readyz == 200" % self.name, interval=0.1,
                   on_timeout=lambda: "; last /readyz: %s; log tail:\n%s" % (
                       http_get(self.admin_port, "/readyz")[:2], self.proc.log_tail()))

    def kill9(self):
        self.proc.kill9()

    def terminate(self, timeout=20):
        return self.proc.terminate(timeout)

    def log_tail(self, lines=60):
        return self.proc.log_tail(lines)


def pos_key(topic, partition):
    return "walrus:pos:%s:%d" % (topic, partition)


def positions(client, topic=TOPIC, partitions=PARTITIONS):
    """Next offset per partition as stored by the applier in Redis (missing key -> 0)."""
    vals = client.mget([pos_key(topic, p) for p in range(partitions)])
    return [int(v) if v is not None else 0 for v in vals]


def try_positions(client, topic=TOPIC, partitions=PARTITIONS):
    try:
        return positions(client, topic, partitions)
    except (redislib.ConnectionError, redislib.TimeoutError, redislib.BusyLoadingError):
        return None
    except redislib.ResponseError as e:
        if "LOADING" in str(e):
            return None
        raise


def wait_applied(client, ends, appliers, timeout=180, topic=TOPIC):
    """Wait until the stored positions reach the end offsets; fail fast if all appliers died."""
    last = {"pos": None}

    def done():
        if appliers and not any(a.alive() for a in appliers):
            raise AssertionError("every applier exited; last one's log:\n%s" %
                                 appliers[-1].log_tail())
        pos = try_positions(client, topic, len(ends))
        if pos is None:
            return False
        last["pos"] = pos
        return all(p >= e for p, e in zip(pos, ends))

    wait_until(done, timeout, "stored positions to reach the topic end offsets", interval=0.1,
               on_timeout=lambda: "\n  positions=%s\n  end offs =%s\n  applier log tail:\n%s" % (
                   last["pos"], ends, appliers[-1].log_tail() if appliers else ""))
    pos = positions(client, topic, len(ends))
    assert pos == list(ends), "positions went past the end offsets: %s vs %s" % (pos, ends)
    return pos


def wait_progress(client, since, appliers, timeout=60, topic=TOPIC):
    """Wait until some stored position moved beyond `since` (a positions() list)."""
    def moved():
        for a in appliers:
            a.check_alive()
        pos = try_positions(client, topic, len(since))
        return pos is not None and any(p > s for p, s in zip(pos, since)) and pos
    return wait_until(moved, timeout, "applier progress beyond %s" % (since,), interval=0.02,
                      on_timeout=lambda: "; log tail:\n%s" % appliers[-1].log_tail())


_SAMPLE_RE = re.compile(
    r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})?'
    r' ([-+]?(?:[0-9.eE+-]+|Inf|NaN))( -?[0-9]+)?$')
_LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_metrics(text):
    """Prometheus text format -> list of (name, labels dict, float). Raises on malformed lines."""
    samples = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            if line.startswith("# ") and not re.match(r"^# (HELP|TYPE) \S+", line):
                raise AssertionError("malformed metrics comment line: %r" % line)
            continue
        m = _SAMPLE_RE.match(line)
        if not m:
            raise AssertionError("malformed metrics sample line: %r" % line)
        labels = dict(_LABEL_RE.findall(m.group(2) or ""))
        samples.append((m.group(1), labels, float(m.group(3))))
    return samples


def assigned_from_metrics(text):
    """Partitions a metric named *assign* reports with value > 0 (None if no such metric)."""
    found, parts = False, set()
    for name, labels, v in parse_metrics(text):
        if "assign" in name and "partition" in labels:
            found = True
            if v > 0:
                parts.add(int(labels["partition"]))
    return parts if found else None
