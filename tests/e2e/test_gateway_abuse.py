"""`walrus gateway` under abuse by unauthenticated clients (issue 12 item 5), against the real
binary: one region (a `walrus devkafka` cluster with us.events:4, a redis-server), the simulator
producing 2000 ops/s so the event stream carries real traffic, default HTTP limits.

Abuse, all at once, from 127.0.0.1:
- 200 slow-header connections (slowloris): a request line, then one header line every 2 s and
  never the blank line;
- 500 event-stream clients (GET /api/events) that never read: a 4 KiB receive buffer, and their
  answers only peeked (MSG_PEEK), so nothing leaves their socket buffers.

Claims:
- /healthz answers every probe (a fresh connection every 50 ms for 12 s) within 100 ms, and
  /metrics stays answerable (each within 500 ms);
- exactly --max-sse-clients (16) event-stream clients get 200; the other 484 get 503 with a JSON
  body at once (each within 1 s of its request); none is left without an answer;
- the 16 non-reading streams are dropped once the bytes waiting for them pass --sse-buffer-bytes
  (walrus_gateway_http_stream_overflows_total, walrus_gateway_sse_dropped_total);
- every slow-header connection gets 408 and is closed within --header-timeout-ms (10 s) + 2 s;
- the gateway's RSS stays within 48 MiB of its idle RSS. The budget: 700 connections x (4 KiB
  read buffer + at most 16 KiB of request head + ~1 KiB of state) is ~14 MiB, 16 streams x
  256 KiB send bound is 4 MiB; the rest is slack for allocator fragmentation. The old
  thread-per-connection server needed a thread stack (8 MiB reserved) per connection instead;
- conflicting framing (two Content-Lengths; Content-Length with Transfer-Encoding: chunked)
  gets 400 during the abuse;
- after the abuse the gateway serves normally: /healthz, a produce, and a new event-stream
  client that receives op events.
"""

import json
import os
import re
import select
import socket
import threading
import time

import pytest

from harness import DevKafka, Procs, RedisServer, http_get, parse_metrics, wait_until

TOKEN = "abuse-token-%d" % os.getpid()
MAX_SSE = 16
SLOW_HEADERS = 200
SSE_CLIENTS = 500
HEADER_TIMEOUT_S = 10.0
ABUSE_S = 12.0


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS for pid %d" % pid)


def raw_request(port, data, timeout=5.0):
    """Sends `data` on a fresh connection; (status, whole answer) once the server closes or the
    head arrived."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
        got = b""
        deadline = time.monotonic() + timeout
        while b"\r\n\r\n" not in got and time.monotonic() < deadline:
            d = s.recv(65536)
            if not d:
                break
            got += d
        m = re.match(rb"HTTP/1\.1 (\d{3}) ", got)
        return (int(m.group(1)) if m else None), got
    finally:
        s.close()


def timed_get(port, path, timeout=2.0):
    """(seconds, status) of GET path on a fresh connection, Connection: close."""
    t0 = time.monotonic()
    st, _ = raw_request(port, ("GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n" %
                               path).encode(), timeout=timeout)
    return time.monotonic() - t0, st


class Slowloris(threading.Thread):
    """SLOW_HEADERS connections, each sending one more header line every 2 s; records when each
    got an answer (its status) or was closed."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.socks, self.started, self.outcome = [], {}, {}
        for i in range(SLOW_HEADERS):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.setblocking(False)
            s.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            self.started[s.fileno()] = time.monotonic()
            self.socks.append(s)
        self.stop = threading.Event()

    def run(self):
        n, next_line = 0, time.monotonic() + 2
        while not self.stop.is_set() and len(self.outcome) < len(self.socks):
            live = [s for s in self.socks if s.fileno() not in self.outcome]
            r, _, _ = select.select(live, [], [], 0.2)
            for s in r:
                try:
                    d = s.recv(4096)
                except OSError:
                    d = b""
                m = re.match(rb"HTTP/1\.1 (\d{3}) ", d)
                self.outcome[s.fileno()] = (time.monotonic(), int(m.group(1)) if m else "closed")
            if time.monotonic() >= next_line:
                n += 1
                next_line += 2
                for s in live:
                    if s.fileno() in self.outcome:
                        continue
                    try:
                        s.send(b"X-Slow-%d: %s\r\n" % (n, b"a" * 20))
                    except OSError:
                        self.outcome[s.fileno()] = (time.monotonic(), "closed")

    def close(self):
        self.stop.set()
        self.join(5)
        for s in self.socks:
            s.close()


def open_sse_clients(port):
    """SSE_CLIENTS connections that send GET /api/events and never read. Returns the sockets and
    the time each request was sent."""
    socks = []
    for _ in range(SSE_CLIENTS):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        s.settimeout(5)
        s.connect(("127.0.0.1", port))
        s.sendall(b"GET /api/events HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
        socks.append((s, time.monotonic()))
    return socks


def peek_statuses(socks, timeout):
    """Status of each SSE client's answer, seen with MSG_PEEK (nothing is consumed), and the
    delay from its request to the first bytes of the answer."""
    out = [None] * len(socks)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(o is None for o in out):
        pending = [i for i, o in enumerate(out) if o is None]
        r, _, _ = select.select([socks[i][0] for i in pending], [], [], 0.1)
        ready = set(x.fileno() for x in r)
        for i in pending:
            s, sent = socks[i]
            if s.fileno() not in ready:
                continue
            d = s.recv(16, socket.MSG_PEEK)
            m = re.match(rb"HTTP/1\.1 (\d{3})", d)
            if m:
                out[i] = (int(m.group(1)), time.monotonic() - sent)
            elif not d:
                out[i] = ("closed", time.monotonic() - sent)
    return out


def metric(port, name):
    st, body, _ = http_get(port, "/metrics")
    assert st == 200, body
    return sum(v for n, _, v in parse_metrics(body) if n == name)


@pytest.fixture(scope="module")
def system(walrus_bin, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("gateway_abuse")
    procs = Procs(tmp)
    try:
        kafka = DevKafka(procs, walrus_bin, tmp, topics=["us.events:4"])
        redis = RedisServer(procs, tmp / "redis")
        argv = [walrus_bin, "gateway", "--http", "127.0.0.1:0", "--region", "us=" + kafka.brokers,
                "--redis", "us=" + redis.url, "--log-level", "warn"]
        gw = procs.spawn("gateway", argv, env=dict(os.environ, WALRUS_GATEWAY_TOKEN=TOKEN))

        def port():
            if not gw.alive():
                raise AssertionError("gateway exited:\n%s" % gw.log_tail())
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)/", gw.log_text())
            return m and int(m.group(1))
        p = wait_until(port, 30, "the gateway's listening line")
        wait_until(lambda: http_get(p, "/readyz")[0] == 200, 60, "gateway /readyz", interval=0.1,
                   on_timeout=lambda: http_get(p, "/readyz")[1])
        yield {"port": p, "proc": gw, "procs": procs}
    finally:
        procs.stop_all()


@pytest.fixture(autouse=True)
def _logs_on_failure(request, system):
    request.node._walrus_procs = system["procs"]


def post(port, path, body):
    data = json.dumps(body).encode()
    st, got = raw_request(port, b"POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                                b"Content-Type: application/json\r\nContent-Length: %d\r\n"
                                b"Connection: close\r\n\r\n%s" % (path.encode(), TOKEN.encode(),
                                                                  len(data), data))
    return st, got


def test_abuse_leaves_health_answerable_and_memory_bounded(system):
    port, pid = system["port"], system["proc"].pid
    assert post(port, "/api/sim/start", {"rate": 2000})[0] == 200
    wait_until(lambda: metric(port, "walrus_gateway_events_total") > 100, 30,
               "simulated ops in the event stream")
    idle_rss = rss_kib(pid)

    slow = Slowloris(port)
    slow.start()
    sse = open_sse_clients(port)
    abuse_start = time.monotonic()
    statuses = peek_statuses(sse, timeout=5)
    try:
        missing = [i for i, s in enumerate(statuses) if s is None]
        assert not missing, "%d event-stream clients got no answer" % len(missing)
        ok = [s for s in statuses if s[0] == 200]
        refused = [s for s in statuses if s[0] == 503]
        assert len(ok) == MAX_SSE and len(refused) == SSE_CLIENTS - MAX_SSE, statuses
        assert max(d for _, d in refused) < 1.0, "a 503 took %.3f s" % max(d for _, d in refused)
        # The 503 is JSON (peek the whole small answer of one of them).
        s503 = next(sse[i][0] for i, s in enumerate(statuses) if s[0] == 503)
        wait_until(lambda: b"}" in s503.recv(4096, socket.MSG_PEEK), 5, "the 503 body")
        assert b'"error":"too many event-stream clients' in s503.recv(4096, socket.MSG_PEEK)

        worst, probes, peak_rss, metrics_worst, framing = 0.0, 0, idle_rss, 0.0, []
        while time.monotonic() - abuse_start < ABUSE_S:
            took, st = timed_get(port, "/healthz", timeout=2)
            assert st == 200, "/healthz -> %s after %.3f s" % (st, took)
            worst, probes = max(worst, took), probes + 1
            peak_rss = max(peak_rss, rss_kib(pid))
            if probes % 20 == 0:
                took, st = timed_get(port, "/metrics", timeout=2)
                assert st == 200
                metrics_worst = max(metrics_worst, took)
            if probes == 30:
                h = b"POST /api/produce HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n" % (
                    TOKEN.encode())
                framing.append(raw_request(port, h + b"Content-Length: 2\r\nContent-Length: 3"
                                                      b"\r\n\r\n{}x")[0])
                framing.append(raw_request(port, h + b"Content-Length: 5\r\nTransfer-Encoding: "
                                                      b"chunked\r\n\r\n0\r\n\r\n")[0])
            time.sleep(0.05)
        print("healthz: %d probes, worst %.1f ms; metrics worst %.1f ms; rss idle %d KiB peak "
              "%d KiB" % (probes, worst * 1000, metrics_worst * 1000, idle_rss, peak_rss))
        assert probes >= 100
        assert worst < 0.100, "a /healthz probe took %.1f ms" % (worst * 1000)
        assert metrics_worst < 0.500, "a /metrics probe took %.1f ms" % (metrics_worst * 1000)
        assert framing == [400, 400], framing
        assert peak_rss - idle_rss < 48 * 1024, "RSS grew from %d to %d KiB" % (idle_rss, peak_rss)

        # The non-reading streams were dropped at the send-buffer bound.
        wait_until(lambda: metric(port, "walrus_gateway_http_stream_overflows_total") >= MAX_SSE,
                   20, "every non-reading stream dropped")
        assert metric(port, "walrus_gateway_sse_dropped_total") >= MAX_SSE
        wait_until(lambda: metric(port, "walrus_gateway_sse_clients") == 0, 10, "no SSE clients")

        # Every slow-header connection got 408 and was closed within the header deadline.
        wait_until(lambda: len(slow.outcome) == SLOW_HEADERS, HEADER_TIMEOUT_S + 5,
                   "every slow-header connection answered",
                   on_timeout=lambda: "%d of %d" % (len(slow.outcome), SLOW_HEADERS))
        late = [fd for fd, (t, _) in slow.outcome.items()
                if t - slow.started[fd] > HEADER_TIMEOUT_S + 2]
        assert not late, "%d slow-header connections outlived the deadline" % len(late)
        assert set(st for _, st in slow.outcome.values()) == {408}, slow.outcome
        assert metric(port, "walrus_gateway_http_timeouts_total") >= SLOW_HEADERS
    finally:
        slow.close()
        for s, _ in sse:
            s.close()
        post(port, "/api/sim/stop", {})

    # After the abuse: normal service.
    assert timed_get(port, "/healthz")[1] == 200
    c = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        c.sendall(b"GET /api/events HTTP/1.1\r\nHost: x\r\n\r\n")
        got = [b""]

        def head():
            got[0] += c.recv(65536)
            return b": connected" in got[0]
        wait_until(head, 10, "a new event stream")
        assert got[0].startswith(b"HTTP/1.1 200 "), got[0][:200]
        st, body = post(port, "/api/produce", {"region": "us", "cmd": "SET", "key": "after:abuse",
                                               "args": ["ok"]})
        assert st == 200, body

        def op_event():
            got[0] += c.recv(65536)
            return b"after:abuse" in got[0]
        wait_until(op_event, 15, "the produced op on the new stream")
    finally:
        c.close()
    wait_until(lambda: metric(port, "walrus_gateway_http_connections") <= 2, 10,
               "connections released")
