"""`walrus gateway` HTTP API end to end (docs/gateway-api.md), against the real binary on an
ephemeral port (it prints the URL it listens on), with three regions us/eu/ap: a devkafka cluster
each (us.events eu.events ap.events, 4 partitions), a redis-server each, a `walrus apply --mode
crdt` each (all three topics of its cluster) and a `walrus mirror` each (the other two regions'
topics), so ops arrive in every region and the regions converge. One system for the whole file
(module fixture); every test uses its own keys.

Claims:
- writes need the token: 401 JSON + WWW-Authenticate: Bearer without or with a wrong one; reads
  need none; bad JSON / bad op / crdt-refused op / origin given / an op on a reserved walrus:*
  key -> 400 naming the problem; unknown region -> 404; a body over 64 KiB -> 413 JSON; unknown
  route 404, wrong method 405 + Allow;
- produce -> 200 with topic/partition/offset/hlc once Kafka acknowledged it; kcat (an independent
  client) finds that very record at that offset, stamped; the value shows up in
  /api/regions/us/state after the applier applied it, then in eu and ap (mirror);
  GET key 200 / 404;
- SSE: op events carry increasing ids and arrive in the origin region then the others; a client
  that reconnects with Last-Event-ID gets exactly the messages it missed (consecutive ids, no gap,
  no repeat) including the ops produced while it was away; a stale id gets `event: reset` first;
- simulator: start changes /api/sim and produces ops (sent grows, shop keys appear in every region,
  sim ops in /metrics), stop freezes `sent`, and the regions converge: /api/convergence reports
  equal digests and `walrus verify` agrees;
- /healthz, /readyz, /metrics (requests by route and status), the dashboard at / with a
  Content-Security-Policy.
"""

import http.client
import json
import os
import re
import socket
import subprocess
import time

import pytest

import kafka_io
from harness import Procs, wait_until, http_get, parse_metrics
from mirror_harness import RegionMesh

REGIONS = ["us", "eu", "ap"]
PARTS = 4
TOKEN = "gw-test-token-%d" % os.getpid()
HLC_RE = re.compile(r"^[0-9a-f]{12}-[0-9a-f]{4}$")


class Gateway:
    def __init__(self, procs, argv, env=None):
        self.proc = procs.spawn("gateway", argv, env=env)

        def url():
            if not self.proc.alive():
                raise AssertionError("gateway exited:\n%s" % self.proc.log_tail())
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)/", self.proc.log_text())
            return m and int(m.group(1))
        self.port = wait_until(url, 30, "the gateway's listening line")

    def request(self, method, path, body=None, token=None, headers=None, timeout=15):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        h = dict(headers or {})
        if token:
            h["Authorization"] = "Bearer " + token
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
            h.setdefault("Content-Type", "application/json")
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, data, {k.lower(): v for k, v in r.getheaders()}

    def json(self, method, path, body=None, token=None, expect=200):
        st, data, hdrs = self.request(method, path, body, token)
        assert st == expect, "%s %s -> %d %s" % (method, path, st, data[:500])
        assert hdrs.get("content-type", "").startswith("application/json"), hdrs
        return json.loads(data)

    def produce(self, op, region="us"):
        return self.json("POST", "/api/produce", dict(op, region=region), token=TOKEN)


class SseClient:
    """A raw-socket EventSource: GET /api/events, chunked transfer decoding, frame parsing."""

    def __init__(self, port, last_event_id=None):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        req = "GET /api/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n"
        if last_event_id is not None:
            req += "Last-Event-ID: %s\r\n" % last_event_id
        self.sock.sendall((req + "\r\n").encode())
        self.raw = b""
        while b"\r\n\r\n" not in self.raw:
            self._recv()
        head, self.raw = self.raw.split(b"\r\n\r\n", 1)
        self.status = int(head.split(b" ")[1])
        self.headers = {l.split(b":", 1)[0].strip().lower().decode(): l.split(b":", 1)[1].strip().decode()
                        for l in head.split(b"\r\n")[1:]}
        self.text = b""

    def _recv(self):
        d = self.sock.recv(65536)
        if not d:
            raise EOFError("event stream closed")
        self.raw += d

    def _dechunk(self):
        while True:
            i = self.raw.find(b"\r\n")
            if i < 0:
                return
            size = int(self.raw[:i], 16)
            if len(self.raw) < i + 2 + size + 2:
                return
            self.text += self.raw[i + 2:i + 2 + size]
            self.raw = self.raw[i + 2 + size + 2:]

    def next(self, timeout):
        """The next message as dict(id, event, data) (comments skipped); None at the timeout."""
        deadline = time.monotonic() + timeout
        while True:
            self._dechunk()
            while b"\n\n" in self.text:
                frame, self.text = self.text.split(b"\n\n", 1)
                msg = {"id": None, "event": "message", "data": None}
                for line in frame.decode().split("\n"):
                    if line.startswith(":") or not line:
                        continue
                    k, _, v = line.partition(": ")
                    if k == "data":
                        msg["data"] = json.loads(v)
                    elif k in ("id", "event"):
                        msg[k] = v
                if msg["data"] is not None:
                    return msg
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                self._recv()
            except socket.timeout:
                return None

    def collect(self, until, timeout, what):
        """Messages until until(messages) is true; AssertionError at the timeout."""
        got, deadline = [], time.monotonic() + timeout
        while not until(got):
            left = deadline - time.monotonic()
            m = self.next(max(0.01, left)) if left > 0 else None
            if m is None and time.monotonic() >= deadline:
                raise AssertionError("timed out waiting for %s; got %d messages: %s" % (
                    what, len(got), [(x["id"], x["event"]) for x in got[-10:]]))
            if m is not None:
                got.append(m)
        return got

    def close(self):
        self.sock.close()


@pytest.fixture(scope="module")
def system(walrus_bin, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("gateway")
    procs = Procs(tmp)
    try:
        mesh = RegionMesh(procs, walrus_bin, tmp, REGIONS, PARTS)
        clusters, redises = mesh.clusters, mesh.redises
        token_file = tmp / "token"
        token_file.write_text(TOKEN + "\n")
        argv = [walrus_bin, "gateway", "--http", "127.0.0.1:0", "--token-file", str(token_file),
                "--hlc-dir", str(tmp / "hlc"), "--sim-rate", "100"]
        gw = Gateway(procs, argv + mesh.gateway_args())
        mesh.wait_ready()
        wait_until(lambda: http_get(gw.port, "/readyz")[0] == 200, 30, "gateway /readyz",
                   interval=0.1, on_timeout=lambda: http_get(gw.port, "/readyz")[1])
        yield {"gw": gw, "procs": procs, "clusters": clusters, "redises": redises}
    finally:
        procs.stop_all()


@pytest.fixture(autouse=True)
def _logs_on_failure(request, system):
    request.node._walrus_procs = system["procs"]  # conftest attaches their log tails


def test_errors_are_json_and_writes_need_the_token(system):
    gw = system["gw"]
    op = {"region": "us", "cmd": "SET", "key": "auth:k", "args": ["v"]}
    for token in (None, "wrong-" + TOKEN, TOKEN[:-1]):
        st, body, hdrs = gw.request("POST", "/api/produce", json.dumps(op), token=token)
        assert st == 401, (token, st, body)
        assert "error" in json.loads(body) and hdrs["www-authenticate"].startswith("Bearer")
    for path in ("/api/sim/start", "/api/sim/stop", "/api/sim/rate"):
        assert gw.request("POST", path, "{}")[0] == 401
    assert gw.request("POST", "/api/produce", json.dumps(op), token=TOKEN)[0] == 200
    assert gw.request("GET", "/api/regions/us/key/auth:k")[0] in (200, 404)  # reads: no token

    def error(method, path, body, status):
        st, data, hdrs = gw.request(method, path, body, token=TOKEN)
        assert st == status, (path, body[:80] if body else body, st, data)
        assert hdrs["content-type"].startswith("application/json")
        return json.loads(data)["error"]

    assert "JSON" in error("POST", "/api/produce", "{not json", 400)
    assert "region" in error("POST", "/api/produce", json.dumps({"cmd": "SET", "key": "k"}), 400)
    assert "xx" in error("POST", "/api/produce", json.dumps(dict(op, region="xx")), 404)
    assert "crdt" in error("POST", "/api/produce",
                           json.dumps({"region": "us", "cmd": "RPUSH", "key": "l", "args": ["a"]}), 400)
    assert "origin" in error("POST", "/api/produce", json.dumps(dict(op, origin="us")), 400)
    assert "ttl" in error("POST", "/api/produce", json.dumps(dict(op, ttl=5)), 400)
    # walrus's own keys (docs/op-format.md "Reserved keys"): 400 naming the key, nothing produced.
    for bad, key in (({"cmd": "DEL", "key": "walrus:pos:us.events:0"}, "walrus:pos:us.events:0"),
                     ({"cmd": "SET", "key": "walrus:epoch", "args": ["99"]}, "walrus:epoch"),
                     ({"multi": [{"cmd": "INCRBY", "key": "n:{t}", "args": ["1"]},
                                 {"cmd": "DEL", "key": "walrus:m:{t}:n:{t}"}]},
                      "walrus:m:{t}:n:{t}")):
        msg = error("POST", "/api/produce", json.dumps(dict(bad, region="us")), 400)
        assert "key '%s' is reserved" % key in msg and "'walrus:'" in msg, msg
    big = json.dumps(dict(op, args=["x" * (65 * 1024)]))
    assert "65536" in error("POST", "/api/produce", big, 413)
    assert "1..5000" in error("POST", "/api/sim/rate", json.dumps({"rate": 0}), 400)
    assert "xx" in error("GET", "/api/regions/xx/state", None, 404)
    assert error("GET", "/api/nope", None, 404)
    st, _, hdrs = gw.request("GET", "/api/produce")
    assert st == 405 and hdrs["allow"] == "POST"
    assert gw.json("GET", "/api/regions") == {
        "regions": [{"name": r, "topic": "%s.events" % r} for r in REGIONS]}


def test_produce_ack_then_visible_in_every_region(system):
    gw, clusters = system["gw"], system["clusters"]
    ack = gw.produce({"cmd": "SET", "key": "gw:greeting", "args": ["hello"]})
    assert ack["region"] == "us" and ack["origin"] == "us" and ack["topic"] == "us.events"
    assert 0 <= ack["partition"] < PARTS and ack["offset"] >= 0 and HLC_RE.match(ack["hlc"]), ack
    # kcat finds exactly that record at that offset, stamped as acknowledged.
    recs = [r for r in kafka_io.read_topic(clusters["us"].brokers, "us.events")
            if r["partition"] == ack["partition"] and r["offset"] == ack["offset"]]
    assert len(recs) == 1, recs
    doc = json.loads(recs[0]["value"])
    assert (doc["key"], doc["args"], doc["origin"], doc["hlc"]) == \
        ("gw:greeting", ["hello"], "us", ack["hlc"])
    ack2 = gw.produce({"multi": [{"cmd": "INCRBY", "key": "gw:{c}n", "args": ["5"]},
                                 {"cmd": "SADD", "key": "gw:{c}s", "args": ["a", "b"]}]},
                      region="eu")
    assert ack2["topic"] == "eu.events" and ack2["hlc"] > "0"

    def state(r):
        return gw.json("GET", "/api/regions/%s/state" % r)

    for r in REGIONS:  # applied in eu/ap only after the mirror brought it there
        wait_until(lambda: state(r)["data"].get("gw:greeting", {}).get("value") == "hello",
                   20, "gw:greeting in %s's state" % r, interval=0.1)
        wait_until(lambda: state(r)["data"].get("gw:{c}n", {}).get("value") == "5",
                   20, "the multi applied in %s" % r, interval=0.1)
    s = state("us")
    assert s["region"] == "us" and s["reachable"] and re.match(r"^[0-9a-f]{40}$", s["digest"])
    assert s["data"]["gw:{c}s"] == {"type": "set", "value": ["a", "b"], "ttl_ms": -1}
    assert not any(k.startswith("walrus:") for k in s["data"])
    k = gw.json("GET", "/api/regions/ap/key/gw:greeting")
    assert k == {"region": "ap", "key": "gw:greeting", "type": "string", "value": "hello",
                 "ttl_ms": -1}
    assert "gw:missing" in gw.json("GET", "/api/regions/ap/key/gw:missing", expect=404)["error"]


def test_events_stream_and_resume_by_last_event_id(system):
    gw = system["gw"]
    sse = SseClient(gw.port)
    assert sse.status == 200 and sse.headers["content-type"].startswith("text/event-stream")
    first = [gw.produce({"cmd": "INCRBY", "key": "gw:sse:%d" % i, "args": ["1"]}) for i in range(3)]
    want = {(a["origin"], a["hlc"]) for a in first}

    def seen(msgs, region, stamps):
        return stamps <= {(m["data"]["origin"], m["data"]["hlc"]) for m in msgs
                          if m["event"] == "op" and m["data"]["region"] == region}
    # Each op arrives in us (its origin) and, through the mirrors, in eu and ap.
    got = sse.collect(lambda ms: all(seen(ms, r, want) for r in REGIONS), 20, "3 ops in 3 regions")
    ids = [int(m["id"]) for m in got]
    assert ids == sorted(ids) and len(set(ids)) == len(ids), ids
    ops = [m for m in got if m["event"] == "op" and (m["data"]["origin"], m["data"]["hlc"]) in want]
    for m in ops:
        d = m["data"]
        assert d["cmd"] == "INCRBY" and d["args"] == ["1"] and d["topic"] == "us.events"
        assert d["key"].startswith("gw:sse:") and d["offset"] >= 0 and d["seen_ms"] >= d["ts_ms"] > 0
    order = {}
    for m in ops:
        order.setdefault(m["data"]["hlc"], []).append(m["data"]["region"])
    assert all(rs[0] == "us" for rs in order.values()), order  # first in the origin region
    last_id = got[-1]["id"]
    sse.close()

    # While disconnected: more ops (and flows/convergence/sim messages meanwhile).
    missed = [gw.produce({"cmd": "SADD", "key": "gw:sse:set", "args": ["m%d" % i]}) for i in range(4)]
    missed_stamps = {(a["origin"], a["hlc"]) for a in missed}
    again = SseClient(gw.port, last_event_id=last_id)
    got2 = again.collect(lambda ms: seen(ms, "us", missed_stamps), 20, "the missed ops")
    ids2 = [int(m["id"]) for m in got2]
    assert ids2 == list(range(int(last_id) + 1, int(last_id) + 1 + len(ids2))), \
        "resume must continue right after %s without gap or repeat: %s" % (last_id, ids2[:20])
    again.close()

    stale = SseClient(gw.port, last_event_id="1")
    m = stale.next(10)
    assert m is not None and m["event"] == "reset" and m["id"] is None, m
    stale.close()


def test_simulator_runs_stops_and_regions_converge(system, walrus_bin):
    gw, redises = system["gw"], system["redises"]
    s = gw.json("POST", "/api/sim/start", {"rate": 300}, token=TOKEN)
    assert s["running"] is True and s["rate"] == 300
    wait_until(lambda: gw.json("GET", "/api/sim")["sent"] >= 300, 20, "300 simulated ops acked",
               interval=0.1)
    assert gw.json("POST", "/api/sim/rate", {"rate": 50}, token=TOKEN)["rate"] == 50
    s = gw.json("POST", "/api/sim/stop", token=TOKEN)
    assert s["running"] is False
    wait_until(lambda: gw.json("GET", "/api/sim")["in_flight"] == 0, 10, "sim ops acked")
    sent = gw.json("GET", "/api/sim")
    assert sent["errors"] == 0 and sum(sent["mix"].values()) == sent["sent"], sent
    assert sent["mix"]["purchase"] > 0 and sent["mix"]["inventory_race"] > 0, sent
    time.sleep(0.3)  # a stopped simulator must not send: the count stays put
    assert gw.json("GET", "/api/sim")["sent"] == sent["sent"]

    def converged():
        c = gw.json("GET", "/api/convergence")
        return c["converged"] and len(set(c["digests"].values())) == 1 and c
    c = wait_until(converged, 30, "regions converged after the simulator stopped", interval=0.2,
                   on_timeout=lambda: gw.json("GET", "/api/convergence"))
    assert set(c["digests"]) == set(REGIONS) and c["since_ms"] > 0
    res = subprocess.run([walrus_bin, "verify", "-q"] + [redises[r].url for r in REGIONS],
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 0, res.stdout + res.stderr
    for r in REGIONS:
        data = gw.json("GET", "/api/regions/%s/state" % r)["data"]
        assert any(k.startswith("stock:{sku") for k in data), sorted(data)[:20]
        assert any(k.startswith("cart:") for k in data), sorted(data)[:20]
    samples = parse_metrics(gw.request("GET", "/metrics")[1].decode())
    sim_ops = sum(v for n, l, v in samples if n == "walrus_gateway_sim_ops_total")
    assert sim_ops == sent["sent"], (sim_ops, sent)
    assert any(n == "walrus_gateway_converged" and v == 1 for n, l, v in samples)


def test_ops_endpoints_and_dashboard(system):
    gw = system["gw"]
    assert gw.json("GET", "/healthz")["status"] == "ok"
    ready = gw.json("GET", "/readyz")
    assert ready["status"] == "ok" and all(r in ready["detail"] for r in REGIONS), ready
    st, body, hdrs = gw.request("GET", "/metrics")
    assert st == 200 and hdrs["content-type"].startswith("text/plain")
    samples = parse_metrics(body.decode())
    req = {(l["route"], l["status"]): v for n, l, v in samples
           if n == "walrus_gateway_requests_total"}
    assert req.get(("/api/produce", "200"), 0) >= 1 and req.get(("/api/produce", "401"), 0) >= 1
    assert req.get(("/api/regions/:region/state", "200"), 0) >= 1, sorted(req)
    assert any(n == "walrus_gateway_produce_seconds_count" and v >= 1 for n, l, v in samples)
    assert any(n == "walrus_gateway_events_total" and l.get("region") == "ap" and v >= 1
               for n, l, v in samples)
    st, body, hdrs = gw.request("GET", "/")
    assert st == 200 and hdrs["content-type"].startswith("text/html"), (st, hdrs)
    assert "script-src 'self'" in hdrs["content-security-policy"]
    assert hdrs["x-content-type-options"] == "nosniff" and hdrs["cache-control"] == "no-cache"
    flows = gw.json("GET", "/api/flows")["flows"]
    assert len(flows) == 6 and all(f["lag_records"] is not None for f in flows), flows
