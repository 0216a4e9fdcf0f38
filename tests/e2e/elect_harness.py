"""Topologies for the `walrus elect` tests: a real etcd, redis-servers with one `walrus elect`
sidecar each (leader proxy + admin port), a scripted Kubernetes API server, write probes that
time-stamp when each Redis accepts or refuses writes, and a counter workload with an exact
expected state.

Every process goes through the test's Procs registry (harness.py): stopped by PID at teardown,
log tails in the failure report. Waits poll with deadlines.

    etcd = Etcd(procs, tmp_path)
    nodes = [ElectNode(procs, walrus_bin, tmp_path, i, backend_args=etcd.args()) for i in range(3)]
    leader = wait_leader(nodes)
"""

import json
import os
import socket
import ssl
import subprocess
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import redis as redislib

import harness

ETCD = "/usr/bin/etcd"
# Short timings so the whole file stays within its budget (docs/elect.md explains the knobs).
TTL_S = 2
RENEW_MS = 500
FENCE_MARGIN_MS = 500
PROBE_MS = 100
DOWN_AFTER_MS = 500
FENCE_PROBE_KEY = "walrus:fence-probe"  # walrus:* keys are outside the compared dataset


class Etcd:
    """One etcd member on free loopback ports."""

    def __init__(self, procs, workdir, timeout=30):
        self.port, peer = harness.free_port(), harness.free_port()
        self.url = "http://127.0.0.1:%d" % self.port
        peer_url = "http://127.0.0.1:%d" % peer
        self.proc = procs.spawn("etcd", [
            ETCD, "--data-dir", os.path.join(str(workdir), "etcd"), "--listen-client-urls",
            self.url, "--advertise-client-urls", self.url, "--listen-peer-urls", peer_url,
            "--initial-advertise-peer-urls", peer_url, "--initial-cluster",
            "default=" + peer_url, "--log-level", "warn"])

        def up():
            if not self.proc.alive():
                raise AssertionError("etcd exited:\n" + self.proc.log_tail())
            st, body, _ = harness.http_get(self.port, "/health")
            return st == 200 and "true" in body
        harness.wait_until(up, timeout, "etcd /health")

    def args(self):
        return ["--backend", "etcd", "--etcd", self.url]


class ElectRedis(harness.RedisServer):
    """redis-server that starts a full sync at once (no diskless-sync delay), as docs/elect.md
    recommends."""

    def argv(self):
        return super().argv() + ["--repl-diskless-sync-delay", "0"]

    def start_empty(self):
        """Starts the server with no data at all: a replica keeps the RDB of its last full sync
        in its dir (and would load it), so that file goes first."""
        if os.path.exists(self.rdb_path()):
            os.unlink(self.rdb_path())
        self.start()


class ElectNode:
    """One Redis node: redis-server + `walrus elect` with a leader proxy and an admin port."""

    def __init__(self, procs, walrus_bin, workdir, index, backend_args, extra=()):
        self.procs, self.walrus_bin, self.index = procs, walrus_bin, index
        self.redis = ElectRedis(procs, os.path.join(str(workdir), "redis-%d" % index))
        self.proxy_port, self.admin_port = harness.free_port(), harness.free_port()
        self.id = "node-%d" % index
        self.argv = [walrus_bin, "elect", "--redis", self.redis.url,
                     "--advertise", "127.0.0.1:%d" % self.redis.port, "--id", self.id,
                     "--ttl", str(TTL_S), "--renew-interval-ms", str(RENEW_MS),
                     "--fence-margin-ms", str(FENCE_MARGIN_MS),
                     "--probe-interval-ms", str(PROBE_MS), "--down-after-ms", str(DOWN_AFTER_MS),
                     "--proxy", "127.0.0.1:%d" % self.proxy_port, "--proxy-wait-ms", "4000",
                     "--admin", "127.0.0.1:%d" % self.admin_port] + list(backend_args) + list(extra)
        self.proc = procs.spawn("elect-%d" % index, self.argv)

    @property
    def port(self):
        return self.redis.port

    def status(self):
        st, body, _ = harness.http_get(self.admin_port, "/status", timeout=1.0)
        return json.loads(body) if st == 200 else None

    def readyz(self):
        return harness.http_get(self.admin_port, "/readyz", timeout=1.0)[0]

    def metrics(self):
        st, body, _ = harness.http_get(self.admin_port, "/metrics")
        assert st == 200, "elect-%d /metrics: %s %s" % (self.index, st, body[:200])
        return {(n, tuple(sorted(lab.items()))): v for n, lab, v in harness.parse_metrics(body)}

    def check_alive(self):
        if not self.proc.alive():
            raise AssertionError("elect-%d exited rc=%s:\n%s" % (
                self.index, self.proc.popen.returncode, self.proc.log_tail()))

    def role(self):
        """('master',) or ('slave', master_port, link_state) or ('down',)."""
        try:
            r = self.redis.client().execute_command("ROLE")
        except redislib.RedisError:
            return ("down",)
        if r[0] == b"master":
            return ("master",)
        return ("slave", int(r[2]), r[3].decode())

    def epoch(self):
        try:
            v = self.redis.client().get("walrus:epoch")
        except redislib.RedisError:
            return None
        return int(v) if v is not None else 0


def leader_of(nodes):
    """The node every live sidecar names as serving leader and whose Redis is a primary, else
    None."""
    names = set()
    for n in nodes:
        n.check_alive()
        s = n.status()
        if s is None:
            continue
        ld = s.get("leader")
        names.add(ld["id"] if ld and ld["serving"] else None)
    if len(names) != 1 or None in names:
        return None
    (name,) = names
    node = next((n for n in nodes if n.id == name), None)
    return node if node is not None and node.role() == ("master",) else None


def wait_leader(nodes, not_in=(), timeout=30):
    def found():
        ld = leader_of(nodes)
        return ld if ld is not None and ld not in not_in else None
    return harness.wait_until(found, timeout, "a serving leader (not %s)" % [
        n.id for n in not_in], interval=0.02, on_timeout=lambda: "; statuses: %s" % [
            n.status() for n in nodes])


def wait_followers(leader, followers, timeout=30):
    """Every follower's Redis replicates the leader with its link up and its sidecar ready."""
    def ok():
        return all(f.role() == ("slave", leader.port, "connected") and f.readyz() == 200
                   for f in followers)
    harness.wait_until(ok, timeout, "followers replicating %s" % leader.id, interval=0.05,
                       on_timeout=lambda: "; roles %s statuses %s" % (
                           [f.role() for f in followers], [f.status() for f in followers]))


class WriteProbe(threading.Thread):
    """Writes FENCE_PROBE_KEY to one Redis in a tight loop and records every transition between
    accepted ("ok") and refused ("readonly", "error") writes as (state, start, end, prev_start):
    the monotonic start and end of the first command in the new state and the start of the
    command before it. A state change of the server happened after prev_start and before end."""

    def __init__(self, node):
        super().__init__(daemon=True)
        self.node, self.events, self.stop = node, [], threading.Event()
        self.client = redislib.Redis(host="127.0.0.1", port=node.port, socket_timeout=2,
                                     socket_connect_timeout=1)

    def run(self):
        last, prev_start = None, None
        n = 0
        while not self.stop.is_set():
            n += 1
            t0 = time.monotonic()
            try:
                self.client.set(FENCE_PROBE_KEY, n)
                state = "ok"
            except redislib.ReadOnlyError:
                state = "readonly"
            except redislib.RedisError:
                state = "error"
            t1 = time.monotonic()
            if state != last:
                self.events.append((state, t0, t1, prev_start))
                last = state
            prev_start = t0
            time.sleep(0.0002)

    def transition(self, state, after):
        """The first transition into `state` that started after `after`, or None."""
        for ev in self.events:
            if ev[0] == state and ev[1] >= after:
                return ev
        return None


class Relay:
    """A TCP relay on a free port whose target port can be switched; switching closes every
    relayed connection. The test's stand-in for "something pointed the applier elsewhere" (a
    locator that is wrong for a moment)."""

    def __init__(self, target_port):
        self.target, self.lock, self.conns = target_port, threading.Lock(), []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                port = self.target
            try:
                u = socket.create_connection(("127.0.0.1", port), timeout=5)
                u.settimeout(None)
            except (OSError, TypeError):
                c.close()
                continue
            with self.lock:
                self.conns.append((c, u))
            for a, b in ((c, u), (u, c)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(a, b):
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                b.sendall(d)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def switch(self, port):
        with self.lock:
            self.target, conns, self.conns = port, self.conns, []
        for pair in conns:
            for s in pair:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def close(self):
        self.sock.close()
        self.switch(None)


def counter_records(start, n, keys=97):
    """Records (key, value) of INCRBY ops on ctr:<i % keys> by (i % 5) + 1 and, every 10th, an
    RPUSH of the record number to list:<i % 4>; returns them and their exact expected effect."""
    recs = []
    for i in range(start, start + n):
        k = "ctr:%d" % (i % keys)
        recs.append((k.encode(), json.dumps(
            {"cmd": "INCRBY", "key": k, "args": [str(i % 5 + 1)]}).encode()))
        if i % 10 == 0:
            lk = "list:%d" % (i % 4)
            recs.append((lk.encode(), json.dumps(
                {"cmd": "RPUSH", "key": lk, "args": [str(i)]}).encode()))
    return recs


def expected_state(total):
    ctr, lists = {}, {}
    for i in range(total):
        k = "ctr:%d" % (i % 97)
        ctr[k] = ctr.get(k, 0) + i % 5 + 1
        if i % 10 == 0:
            lists.setdefault("list:%d" % (i % 4), []).append(str(i))
    return ctr, lists


def check_state(client, total):
    """Problems (strings) between the Redis and the expected effect of records [0, total)."""
    ctr, lists = expected_state(total)
    problems = []
    for k, v in ctr.items():
        got = client.get(k)
        if got is None or int(got) != v:
            problems.append("%s = %s, expected %d (%s)" % (
                k, got, v, "lost ops" if got is None or int(got) < v else "doubled ops"))
    for k, items in lists.items():
        got = [x.decode() for x in client.lrange(k, 0, -1)]
        if got != items:
            dup = len(got) - len(set(got))
            problems.append("%s: %d items, expected %d (%d duplicates)" % (
                k, len(got), len(items), dup))
    return problems


# ---- Kubernetes: a scripted API server ---------------------------------------------------------

class LeaseApi:
    """A scripted coordination.k8s.io/v1 API server for one namespace, over TLS with a bearer
    token: GET/POST/PUT of Lease objects, resourceVersion concurrency (409 Conflict / 409
    AlreadyExists), 404 for missing objects, 401 for a wrong token. `conflict_next_put_by` makes
    the next PUT from that holder fail with 409 after another writer 'touched' the object."""

    def __init__(self, workdir, certs, namespace="db", token="e2e-token"):
        self.namespace, self.token = namespace, token
        self.leases, self.rv, self.log = {}, 1000, []
        self.lock = threading.Lock()
        self.conflict_next_put_by = None
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as the real API server

            def log_message(self, *a):
                pass

            def _send(self, code, obj):
                body = json.dumps(obj).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _status(self, code, reason):
                self._send(code, {"kind": "Status", "apiVersion": "v1", "status": "Failure",
                                  "reason": reason, "message": reason, "code": code})

            def _route(self):
                base = "/apis/coordination.k8s.io/v1/namespaces/%s/leases" % api.namespace
                if self.headers.get("Authorization") != "Bearer " + api.token:
                    api.record(self.command, None, 401)
                    self._status(401, "Unauthorized")
                    return None
                if self.path == base:
                    return ""
                if self.path.startswith(base + "/"):
                    return self.path[len(base) + 1:]
                self._status(404, "NotFound")
                return None

            def _body(self):
                return json.loads(self.rfile.read(int(self.headers["Content-Length"])))

            def do_GET(self):
                name = self._route()
                if name is None:
                    return
                with api.lock:
                    obj = api.leases.get(name)
                    api.record("GET", obj, 200 if obj else 404)
                if obj is None:
                    return self._status(404, "NotFound")
                self._send(200, obj)

            def do_POST(self):
                if self._route() != "":
                    return
                obj = self._body()
                name = obj["metadata"]["name"]
                with api.lock:
                    if name in api.leases:
                        api.record("POST", obj, 409)
                        return self._status(409, "AlreadyExists")
                    api.rv += 1
                    obj["metadata"]["resourceVersion"] = str(api.rv)
                    api.leases[name] = obj
                    api.record("POST", obj, 201)
                self._send(201, obj)

            def do_PUT(self):
                name = self._route()
                if not name:
                    return
                obj = self._body()
                with api.lock:
                    cur = api.leases.get(name)
                    if cur is None:
                        return self._status(404, "NotFound")
                    holder = obj["spec"].get("holderIdentity")
                    if api.conflict_next_put_by and holder == api.conflict_next_put_by:
                        api.conflict_next_put_by = None
                        api.rv += 1  # another writer touched it (e.g. a label), not the holder
                        cur["metadata"].setdefault("labels", {})["touched"] = str(api.rv)
                        cur["metadata"]["resourceVersion"] = str(api.rv)
                    if obj["metadata"].get("resourceVersion") != cur["metadata"]["resourceVersion"]:
                        api.record("PUT", obj, 409)
                        return self._status(409, "Conflict")
                    api.rv += 1
                    obj["metadata"]["resourceVersion"] = str(api.rv)
                    api.leases[name] = obj
                    api.record("PUT", obj, 200)
                self._send(200, obj)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(certs["server.crt"], certs["server.key"])
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.token_file = os.path.join(str(workdir), "k8s-token")
        with open(self.token_file, "w") as f:
            f.write(token + "\n")
        self.ca_file = certs["ca.crt"]

    def record(self, method, obj, code):
        spec = (obj or {}).get("spec", {})
        self.log.append((time.monotonic(), method, code, spec.get("holderIdentity"),
                         spec.get("leaseTransitions")))

    def args(self):
        return ["--backend", "kubernetes", "--k8s-api", "https://127.0.0.1:%d" % self.port,
                "--k8s-namespace", self.namespace, "--k8s-token-file", self.token_file,
                "--k8s-ca-file", self.ca_file]

    def lease(self, name="redis"):
        with self.lock:
            return json.loads(json.dumps(self.leases.get(name)))

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def run_walrus(walrus_bin, args, timeout=30):
    return subprocess.run([walrus_bin] + list(args), capture_output=True, timeout=timeout)
