"""Helpers of the mirror end-to-end tests: named devkafka clusters with an admin port, the
`walrus mirror` process, a DC->DR workload with exact counters, and key-by-key Redis comparison.

    dc = Cluster(procs, walrus_bin, tmp_path, "dc", ["redis-writes:12", "redis-writes.dlq:12"])
    m = Mirror(procs, walrus_bin, ["--source", dc.brokers, "--target", dr.brokers, ...])
                                       # signs walrus-src with the test's key (src_key_file)
    dr_app = Applier(..., extra=apply_src_args(procs, ["dc"]))   # trusts what that mirror signs
    m.wait_ready(); m.kill9(); m.restart()
    dc.broker("down"); dc.broker("up")
    assert_same_dataset(dc_redis.client(), dr_redis.client())
"""

import json
import os
import secrets
import urllib.request

from harness import Applier, RedisServer, free_port, http_get, wait_until, parse_metrics


def src_key_file(procs):
    """The source key of a test (one per Procs workdir, created on first use): shared by its
    mirrors (they sign walrus-src with it) and appliers (they trust only what it signed)."""
    path = os.path.join(procs.workdir, "src-key")
    if not os.path.exists(path):
        with open(path, "w") as f:
            f.write("# e2e source key\n%s\n" % secrets.token_hex(32))
        os.chmod(path, 0o600)
    return path


def apply_src_args(procs, trusted):
    """`walrus apply` flags trusting the walrus-src of mirrors from the `trusted` aliases."""
    return ["--src-key-file", src_key_file(procs), "--trusted-source", ",".join(trusted)]


class Cluster:
    """`walrus devkafka --cluster NAME --admin ...`: one named mock cluster in its own process."""

    def __init__(self, procs, walrus_bin, workdir, name, topics, brokers=1, timeout=30):
        self.name = name
        self.admin_port = free_port()
        self.bootstrap_file = os.path.join(str(workdir), "bootstrap-%s.txt" % name)
        argv = [walrus_bin, "devkafka", "--cluster", name, "--brokers", str(brokers),
                "--bootstrap-file", self.bootstrap_file, "--admin", "127.0.0.1:%d" % self.admin_port]
        for t in topics:
            argv += ["--topic", t]
        self.proc = procs.spawn("devkafka-" + name, argv)

        def ready():
            if not self.proc.alive():
                raise AssertionError("devkafka %s exited:\n%s" % (name, self.proc.log_tail()))
            try:
                with open(self.bootstrap_file) as f:
                    for line in f:
                        if line.startswith(name + "=") and line.strip() != name + "=":
                            return line.strip().split("=", 1)[1]
            except FileNotFoundError:
                pass
            return None

        self.brokers = wait_until(ready, timeout, "devkafka %s bootstrap file" % name)

    def broker(self, state, broker_id=1):
        """Set a broker down or up through devkafka's admin HTTP."""
        req = urllib.request.Request("http://127.0.0.1:%d/clusters/%s/brokers/%d/%s" % (
            self.admin_port, self.name, broker_id, state), method="POST", data=b"")
        with urllib.request.urlopen(req, timeout=5) as r:
            assert r.status == 200, r.read()


class Mirror:
    """`walrus mirror ARGS --admin 127.0.0.1:PORT`; restartable with the same arguments. Signs
    with the test's source key (src_key_file) unless ARGS name a key or --no-src-auth."""

    def __init__(self, procs, walrus_bin, args, name="mirror"):
        self.procs, self.name = procs, name
        self.admin_port = free_port()
        args = list(args)
        if "--src-key-file" not in args and "--no-src-auth" not in args:
            args += ["--src-key-file", src_key_file(procs)]
        self.argv = [walrus_bin, "mirror"] + args + ["--admin", "127.0.0.1:%d" % self.admin_port]
        self.proc = None
        self.start()

    def start(self):
        self.proc = self.procs.spawn(self.name, self.argv)

    def alive(self):
        return self.proc.alive()

    def check_alive(self):
        if not self.alive():
            raise AssertionError("%s exited rc=%s:\n%s" % (self.name, self.proc.popen.returncode,
                                                          self.proc.log_tail()))

    def wait_ready(self, timeout=60):
        def ready():
            self.check_alive()
            return http_get(self.admin_port, "/readyz")[0] == 200
        wait_until(ready, timeout, "%s /readyz" % self.name, interval=0.05,
                   on_timeout=lambda: self.proc.log_tail())

    def metrics(self):
        st, body, _ = http_get(self.admin_port, "/metrics")
        assert st == 200, body
        return parse_metrics(body)

    def positions(self, topic):
        """{partition: next offset committed} from walrus_mirror_position."""
        return {int(l["partition"]): int(v) for n, l, v in self.metrics()
                if n == "walrus_mirror_position" and l.get("topic") == topic}

    def kill9(self):
        self.proc.kill9()

    def restart(self):
        if self.alive():
            self.proc.kill9()
        self.start()


class RegionMesh:
    """Active-active regions on localhost, as the gateway and the demo see them: per region a
    devkafka cluster with every <region>.events (and .dlq) topic, a redis-server, a `walrus apply
    --mode crdt` on all three topics, and a `walrus mirror` pulling the other regions' topics.
    Started without waiting; wait_ready() waits for every applier and mirror."""

    APPLY_X = ["-X", "session.timeout.ms=6000", "-X", "heartbeat.interval.ms=500"]

    def __init__(self, procs, walrus_bin, workdir, regions=("us", "eu", "ap"), parts=4):
        self.regions = list(regions)
        topics = sum([["%s.events:%d" % (r, parts), "%s.events.dlq:%d" % (r, parts)]
                      for r in self.regions], [])
        self.clusters = {r: Cluster(procs, walrus_bin, workdir, r, topics) for r in self.regions}
        self.redises = {r: RedisServer(procs, os.path.join(str(workdir), "redis-" + r))
                        for r in self.regions}
        cargs = sum([["--cluster", "%s=%s" % (r, c.brokers)] for r, c in self.clusters.items()],
                    [])
        self.appliers, self.mirrors = {}, {}
        for r in self.regions:
            others = sum([["--topic", "%s.events" % o] for o in self.regions if o != r], [])
            auth = apply_src_args(procs, [o for o in self.regions if o != r])
            self.appliers[r] = Applier(procs, walrus_bin, self.clusters[r].brokers,
                                       self.redises[r].url, "g-" + r,
                                       extra=others + ["--mode", "crdt"] + self.APPLY_X + auth,
                                       name="apply-" + r, topic="%s.events" % r)
            flows = sum([["--flow", "%s:%s" % (s, r)] for s in self.regions if s != r], [])
            self.mirrors[r] = Mirror(procs, walrus_bin, cargs + flows, name="mirror-" + r)

    def gateway_args(self):
        """--region/--redis flags of `walrus gateway` for these regions."""
        return sum([["--region", "%s=%s" % (r, self.clusters[r].brokers),
                     "--redis", "%s=%s" % (r, self.redises[r].url)] for r in self.regions], [])

    def wait_ready(self):
        for p in list(self.appliers.values()) + list(self.mirrors.values()):
            p.wait_ready()


def status_json(walrus_bin, args):
    import subprocess
    res = subprocess.run([walrus_bin, "status", "--json"] + list(args), capture_output=True,
                         timeout=60)
    return res.returncode, json.loads(res.stdout.decode() or "{}"), res.stderr.decode()


def counter_ops(rng, n, counters=50):
    """n INCRBY records on keys mc:<j> (record key = Redis key) and the exact expected sums."""
    recs, expected = [], {}
    for _ in range(n):
        k = "mc:%d" % rng.randrange(counters)
        by = rng.randrange(1, 100)
        expected[k] = expected.get(k, 0) + by
        doc = {"cmd": "INCRBY", "key": k, "args": [str(by)]}
        recs.append((k.encode(), json.dumps(doc, separators=(",", ":")).encode()))
    return recs, expected


def dataset(client):
    """Every non-walrus key -> (type, value) read type-aware; TTLs as has-expiry flags."""
    out = {}
    for k in client.scan_iter(count=5000):
        if k.startswith(b"walrus:"):
            continue
        t = client.type(k)
        if t == b"string":
            v = client.get(k)
        elif t == b"hash":
            v = sorted(client.hgetall(k).items())
        elif t == b"set":
            v = sorted(client.smembers(k))
        elif t == b"zset":
            v = client.zrange(k, 0, -1, withscores=True)
        elif t == b"list":
            v = client.lrange(k, 0, -1)
        elif t == b"stream":
            v = client.xrange(k)
        else:
            v = None
        out[k] = (t, v, client.pexpiretime(k) if hasattr(client, "pexpiretime") else None)
    return out


def assert_same_dataset(a, b):
    da, db = dataset(a), dataset(b)
    missing = sorted(set(da) - set(db))[:10]
    extra = sorted(set(db) - set(da))[:10]
    diff = [k for k in da if k in db and da[k] != db[k]][:10]
    assert not missing and not extra and not diff, \
        "datasets differ: %d vs %d keys; missing in second %s; extra %s; different %s %s" % (
            len(da), len(db), missing, extra, diff,
            [(da[k], db[k]) for k in diff[:3]])
    return len(da)
