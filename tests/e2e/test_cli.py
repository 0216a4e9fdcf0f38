"""The operator-facing surface of `walrus apply`: flags, env, admin endpoints, signals.

- `--help` exits 0 and lists every contract flag.
- Bad configurations fail at start (non-zero within 15 s, before doing anything) with a message
  naming the problem: unknown flag, missing --group / --brokers / --topic, malformed --redis
  URL, malformed --admin address.
- On an empty topic /readyz turns 200 once the group assigned partitions; /healthz is 200;
  /metrics is valid Prometheus text; /readyz leaves 200 while Redis is down and comes back.
- All configuration can come from WALRUS_<FLAG> environment variables.
- SIGTERM ends the applier with exit code 0.
"""

import os
import subprocess
import time

import pytest

import harness

FLAGS = ["--brokers", "--topic", "--group", "--redis", "--sentinel", "--master-name", "--mode",
         "--dlq-topic", "--admin", "-X"]


def run(walrus_bin, args, env=None, timeout=15):
    try:
        res = subprocess.run([walrus_bin] + args, capture_output=True, timeout=timeout, env=env,
                             stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        pytest.fail("`walrus %s` did not exit within %ds (should fail at start)" % (
            " ".join(args), timeout))
    return res.returncode, (res.stdout + res.stderr).decode(errors="replace")


def test_help_lists_every_flag(walrus_bin):
    rc, out = run(walrus_bin, ["apply", "--help"])
    assert rc == 0, "walrus apply --help exited %d:\n%s" % (rc, out)
    missing = [f for f in FLAGS if f not in out]
    assert not missing, "--help does not mention %s:\n%s" % (missing, out)


def _base(admin_port):
    return ["apply", "--brokers", "127.0.0.1:1", "--topic", "redis-writes", "--group", "g",
            "--redis", "redis://127.0.0.1:1", "--admin", "127.0.0.1:%d" % admin_port]


def _replace(args, flag, value):
    i = args.index(flag)
    return args[:i] + ([flag, value] if value is not None else []) + args[i + 2:]


BAD = [
    ("unknown flag", lambda a: a + ["--no-such-flag", "1"], ["no-such-flag"]),
    ("missing --group", lambda a: _replace(a, "--group", None), ["group"]),
    ("missing --brokers", lambda a: _replace(a, "--brokers", None), ["brokers"]),
    ("missing --topic", lambda a: _replace(a, "--topic", None), ["topic"]),
    ("bad redis URL scheme", lambda a: _replace(a, "--redis", "http://127.0.0.1:6379"), ["redis"]),
    ("bad redis URL port", lambda a: _replace(a, "--redis", "redis://127.0.0.1:notaport"),
     ["redis"]),
    ("bad --admin address", lambda a: _replace(a, "--admin", "not-an-address"), ["admin"]),
    ("bad --admin port", lambda a: _replace(a, "--admin", "127.0.0.1:99999"), ["admin"]),
]


@pytest.mark.parametrize("case,mutate,words", BAD, ids=[b[0] for b in BAD])
def test_bad_flags_fail_at_start(walrus_bin, case, mutate, words):
    args = mutate(_base(harness.free_port()))
    rc, out = run(walrus_bin, args)
    assert rc != 0, "%s: `walrus %s` exited 0:\n%s" % (case, " ".join(args), out)
    low = out.lower()
    missing = [w for w in words if w not in low]
    assert not missing, "%s: exit %d but the message does not name %s:\n%s" % (
        case, rc, missing, out[-2000:])


def test_readyz_on_empty_topic_metrics_and_sigterm(devkafka, redis_server, start_applier):
    t0 = time.monotonic()
    app = start_applier(redis_server.url, "e2e-cli")
    seen = []

    def ready():
        app.check_alive()
        st = app.readyz()
        if not seen or seen[-1] != st:
            seen.append(st)
        return st == 200
    harness.wait_until(ready, 60, "/readyz == 200 on an empty topic", interval=0.1,
                       on_timeout=lambda: "statuses seen %s; log:\n%s" % (seen, app.log_tail()))
    print("/readyz statuses %s, ready after %.1fs" % (seen, time.monotonic() - t0))

    st, body, _ = harness.http_get(app.admin_port, "/healthz")
    assert st == 200, "/healthz: %s %s" % (st, body)
    st, body, headers = harness.http_get(app.admin_port, "/metrics")
    assert st == 200, "/metrics: %s" % st
    ctype = {k.lower(): v for k, v in headers.items()}.get("content-type", "")
    assert ctype.startswith("text/plain"), "/metrics Content-Type %r" % ctype
    samples = harness.parse_metrics(body)
    assert "# TYPE " in body and samples, "/metrics has no typed samples:\n%s" % body[:500]
    assert any(n.startswith("walrus_") for n, _, _ in samples), body[:500]

    redis_server.kill9()
    harness.wait_until(lambda: app.readyz() != 200, 20, "/readyz to leave 200 with Redis down",
                       interval=0.1)
    app.check_alive()
    redis_server.start()
    harness.wait_until(lambda: app.readyz() == 200, 30, "/readyz == 200 after Redis is back",
                       interval=0.1, on_timeout=lambda: app.log_tail())

    t1 = time.monotonic()
    rc = app.terminate(timeout=20)
    assert rc == 0, "SIGTERM: expected exit code 0, got %s; log:\n%s" % (rc, app.log_tail())
    print("SIGTERM -> exit 0 in %.2fs" % (time.monotonic() - t1))


def test_config_from_environment(procs, walrus_bin, devkafka, redis_server):
    port = harness.free_port()
    env = dict(os.environ, WALRUS_BROKERS=devkafka.brokers, WALRUS_TOPIC=harness.TOPIC,
               WALRUS_GROUP="e2e-env", WALRUS_REDIS=redis_server.url,
               WALRUS_ADMIN="127.0.0.1:%d" % port)
    proc = procs.spawn("apply-env", [walrus_bin, "apply"], env=env)

    def ready():
        if not proc.alive():
            raise AssertionError("apply from env exited rc=%s:\n%s" % (
                proc.popen.returncode, proc.log_tail()))
        return harness.http_get(port, "/readyz")[0] == 200
    harness.wait_until(ready, 60, "/readyz == 200 of an applier configured by env only",
                       interval=0.1, on_timeout=lambda: proc.log_tail())
    assert proc.terminate() == 0
