"""Redis HA topologies for the e2e tests: redis-server primary + replicas + redis-sentinel, the
applier started via Sentinel, the Kafka group's committed offsets, and TLS certificates.

Every process goes through the test's Procs registry (harness.py), so it is stopped by PID at
teardown. Waits poll with deadlines.

    topo = SentinelTopology(procs, tmp_path, replicas=2, sentinels=3)
    app = SentinelApplier(procs, walrus_bin, kafka.brokers, topo, group="g")
    old = topo.primary_port(); topo.server(old).kill9()
    new = topo.wait_new_primary(old)
"""

import os
import subprocess
import time

import redis as redislib

import harness

REDIS_SENTINEL = "/usr/bin/redis-sentinel"
MASTER = "mymaster"


class Sentinel:
    """One redis-sentinel process with a config file of its own (Sentinel rewrites it)."""

    def __init__(self, procs, workdir, master_port, quorum=2, down_after_ms=1000,
                 failover_timeout_ms=3000, extra_conf=""):
        self.dir = str(workdir)
        os.makedirs(self.dir, exist_ok=True)
        self.port = harness.free_port()
        self.conf = os.path.join(self.dir, "sentinel.conf")
        with open(self.conf, "w") as f:
            f.write("port %d\nbind 127.0.0.1\nprotected-mode no\ndir %s\n"
                    "sentinel monitor %s 127.0.0.1 %d %d\n"
                    "sentinel down-after-milliseconds %s %d\n"
                    "sentinel failover-timeout %s %d\n%s" % (
                        self.port, self.dir, MASTER, master_port, quorum, MASTER,
                        down_after_ms, MASTER, failover_timeout_ms, extra_conf))
        self.proc = procs.spawn("sentinel-%d" % self.port, [REDIS_SENTINEL, self.conf])
        harness.wait_until(self._up, 20, "redis-sentinel on port %d" % self.port)

    def client(self):
        return redislib.Redis(host="127.0.0.1", port=self.port, socket_timeout=5,
                              socket_connect_timeout=2)

    def _up(self):
        if not self.proc.alive():
            raise AssertionError("redis-sentinel exited:\n%s" % self.proc.log_tail())
        try:
            return self.client().ping()
        except redislib.RedisError:
            return False

    def master_port(self):
        try:
            addr = self.client().execute_command("SENTINEL", "get-master-addr-by-name", MASTER)
            return int(addr[1]) if addr else None
        except redislib.RedisError:
            return None


class SentinelTopology:
    """1 primary + `replicas` replicas + `sentinels` sentinels, all on 127.0.0.1."""

    def __init__(self, procs, workdir, replicas=2, sentinels=3, down_after_ms=1000,
                 failover_timeout_ms=3000):
        self.procs, self.workdir = procs, str(workdir)
        self.down_after_ms = down_after_ms
        self.servers = {}
        primary = harness.RedisServer(procs, os.path.join(self.workdir, "redis-0"))
        self.servers[primary.port] = primary
        for i in range(replicas):
            r = harness.RedisServer(procs, os.path.join(self.workdir, "redis-%d" % (i + 1)))
            r.client().execute_command("REPLICAOF", "127.0.0.1", primary.port)
            self.servers[r.port] = r
        for port in self.servers:
            if port != primary.port:
                harness.wait_until(lambda p=port: self.link_up(p), 30,
                                   "replica %d in sync" % port)
        self.sentinels = [Sentinel(procs, os.path.join(self.workdir, "sentinel-%d" % i),
                                   primary.port, down_after_ms=down_after_ms,
                                   failover_timeout_ms=failover_timeout_ms)
                          for i in range(sentinels)]
        # Every sentinel knows both replicas and the other sentinels before anything fails.
        def known():
            for s in self.sentinels:
                try:
                    info = s.client().execute_command("SENTINEL", "MASTER", MASTER)
                except redislib.RedisError:
                    return False
                d = dict(zip(info[::2], info[1::2]))
                if int(d[b"num-slaves"]) < replicas or int(d[b"num-other-sentinels"]) < sentinels - 1:
                    return False
            return True
        harness.wait_until(known, 30, "sentinels to discover replicas and each other",
                           interval=0.2)

    def sentinel_list(self):
        return ",".join("127.0.0.1:%d" % s.port for s in self.sentinels)

    def server(self, port):
        return self.servers[port]

    def role(self, port):
        try:
            return self.servers[port].client().execute_command("ROLE")[0].decode()
        except redislib.RedisError:
            return "down"

    def link_up(self, port):
        try:
            info = self.servers[port].client().info("replication")
        except redislib.RedisError:
            return False
        return info.get("role") == "slave" and info.get("master_link_status") == "up"

    def primary_port(self):
        """The primary as the sentinels' majority sees it."""
        votes = [s.master_port() for s in self.sentinels]
        votes = [v for v in votes if v]
        return max(set(votes), key=votes.count) if votes else None

    def wait_new_primary(self, old_port, timeout=30):
        """Waits until the sentinels name a primary other than old_port and it is ROLE master."""
        def switched():
            p = self.primary_port()
            return p if p and p != old_port and self.role(p) == "master" else None
        return harness.wait_until(switched, timeout, "sentinel failover away from %d" % old_port,
                                  interval=0.05)

    def wait_settled_primary(self, timeout=30, stable_s=3.0):
        """The primary every reachable sentinel names, once that server is ROLE master and the
        answer has not changed for `stable_s` (after the frozen-replica failover of the Sentinel
        test, Sentinel sometimes fails over a second time a second later)."""
        seen = {"port": None, "since": 0.0}

        def settled():
            votes = {s.master_port() for s in self.sentinels} - {None}
            p = votes.pop() if len(votes) == 1 else None
            if p is None or self.role(p) != "master":
                seen["port"] = None
                return None
            if p != seen["port"]:
                seen["port"], seen["since"] = p, time.monotonic()
            return p if time.monotonic() - seen["since"] >= stable_s else None
        return harness.wait_until(settled, timeout,
                                  "sentinels to agree on a primary that is ROLE master",
                                  interval=0.1)

    def wait_replicas_in_sync(self, primary, timeout=120, nudge_after=20):
        """Waits until every other server is an in-sync replica of `primary`.

        Sentinel reconfigures replicas left pointing at a dead primary only lazily (after its
        failover-timeout state machine, sometimes much later on a loaded 2-core machine). That is
        Sentinel's business, not walrus's: after `nudge_after` seconds the harness points any
        straggler at the primary itself (REPLICAOF), as an operator would, and keeps waiting.
        """
        others = [p for p in self.servers if p != primary]
        deadline = time.monotonic() + nudge_after
        while time.monotonic() < deadline:
            if all(self.link_up(p) for p in others):
                return
            time.sleep(0.1)
        for p in others:
            # Never demote a master: choosing one is Sentinel's job (nudging one demoted the
            # sentinels' real primary when they had failed over again meanwhile).
            if not self.link_up(p) and self.role(p) != "master":
                try:
                    self.servers[p].client().replicaof("127.0.0.1", primary)
                except redislib.RedisError:
                    pass
        harness.wait_until(lambda: all(self.link_up(p) for p in others), timeout - nudge_after,
                           "every replica in sync with %d" % primary, interval=0.1)

    def restart_as_replica(self, port, timeout=60):
        """Restarts a killed server (empty: no persistence); Sentinel turns it into a replica
        (nudged by the harness if Sentinel is slow, see wait_replicas_in_sync)."""
        self.servers[port].start()
        self.wait_replicas_in_sync(self.wait_settled_primary(20), timeout=timeout)


class SentinelApplier(harness.Applier):
    """`walrus apply` locating the primary through the topology's sentinels."""

    def __init__(self, procs, walrus_bin, brokers, topo, group, extra=(), name="apply",
                 topic=harness.TOPIC, env=None):
        self.admin_port = harness.free_port()
        self.argv = [walrus_bin, "apply", "--brokers", brokers, "--topic", topic, "--group", group,
                     "--sentinel", topo.sentinel_list(), "--master-name", MASTER,
                     "--admin", "127.0.0.1:%d" % self.admin_port] + list(extra)
        self.proc = procs.spawn(name, self.argv, env=env)
        self.name = name


def committed_offsets(brokers, group, topic=harness.TOPIC, partitions=harness.PARTITIONS):
    """The consumer group's committed offsets per partition, as Kafka reports them (kafka-python,
    a client nobody here wrote); -1 where nothing is committed."""
    from kafka import KafkaAdminClient, TopicPartition
    admin = KafkaAdminClient(bootstrap_servers=brokers, request_timeout_ms=10000,
                             api_version_auto_timeout_ms=10000)
    try:
        # The mock cluster answers only an explicit partition list (topics=NULL gives NULL).
        got = admin.list_consumer_group_offsets(
            group, partitions=[TopicPartition(topic, p) for p in range(partitions)])
    finally:
        admin.close()
    out = [-1] * partitions
    for tp, meta in got.items():
        if tp.topic == topic and tp.partition < partitions:
            out[tp.partition] = meta.offset
    return out


def make_certs(workdir):
    """CA, server cert (IP 127.0.0.1 + localhost) signed by it, and an unrelated CA; returns a
    dict of paths."""
    d = os.path.join(str(workdir), "certs")
    os.makedirs(d, exist_ok=True)
    p = {n: os.path.join(d, n) for n in ("ca.crt", "ca.key", "other.crt", "other.key",
                                         "server.crt", "server.key", "server.csr", "ext")}

    def run(argv):
        subprocess.run(argv, check=True, capture_output=True, timeout=60)
    for ca in ("ca", "other"):
        run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", "/CN=walrus e2e %s" % ca, "-keyout", p[ca + ".key"], "-out", p[ca + ".crt"]])
    run(["openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=server",
         "-keyout", p["server.key"], "-out", p["server.csr"]])
    with open(p["ext"], "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    run(["openssl", "x509", "-req", "-in", p["server.csr"], "-CA", p["ca.crt"], "-CAkey",
         p["ca.key"], "-CAcreateserial", "-days", "2", "-extfile", p["ext"], "-out",
         p["server.crt"]])
    return p


def now():
    return time.monotonic()


class TlsRedisServer(harness.RedisServer):
    """redis-server with a plain port (for the test's own client) and a TLS port."""

    def __init__(self, procs, workdir, certs):
        self.certs, self.tls_port = certs, harness.free_port()
        super().__init__(procs, workdir)

    def argv(self):
        return super().argv() + [
            "--tls-port", str(self.tls_port), "--tls-cert-file", self.certs["server.crt"],
            "--tls-key-file", self.certs["server.key"], "--tls-ca-cert-file",
            self.certs["ca.crt"], "--tls-auth-clients", "no"]


class EnvApplier(harness.Applier):
    """harness.Applier with extra environment variables (secrets)."""

    def __init__(self, procs, walrus_bin, brokers, redis_url, group, env, extra=(), name="apply"):
        self.admin_port = harness.free_port()
        self.argv = [walrus_bin, "apply", "--brokers", brokers, "--topic", harness.TOPIC,
                     "--group", group, "--redis", redis_url,
                     "--admin", "127.0.0.1:%d" % self.admin_port] + list(extra)
        self.proc = procs.spawn(name, self.argv, env=dict(os.environ, **env))
        self.name = name


def wait_log(app, needle, timeout=30):
    """Waits until the applier's log contains `needle`; returns the matching line."""
    def found():
        for line in app.proc.log_text().splitlines():
            if needle in line:
                return line
        return None
    return harness.wait_until(found, timeout, "%r in %s's log" % (needle, app.name),
                              interval=0.1, on_timeout=lambda: "\n" + app.log_tail(20))
