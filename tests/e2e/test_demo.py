"""`walrus demo` end to end: every scenario converges (exit 0), the interactive mode starts,
serves, and stops on SIGINT leaving no process behind, a kill -9 of the demo leaves no orphan,
and a scenario whose heal step is skipped (--scenario-fault, a test hook) really fails (exit 1,
verify's differences printed).

Every run gets its own --data-dir under tmp_path and a free --http port. The pids come from
the table the demo prints (COMPONENT REGION PID ADDRESS LOG); "gone" means no process, or a
zombie not yet reaped by init. The gateway path (/api/produce, the simulator) is used when
`walrus gateway` is available in the binary, else --no-gateway; one replay run always takes the
--no-gateway path (`walrus produce --origin R` children).
"""

import os
import re
import signal
import subprocess
import time

import pytest

from harness import free_port, http_get, wait_until

ROW = re.compile(r"^  (devkafka|redis|apply|mirror|gateway)\s+(\S+)\s+(\d+)\s")
URL = re.compile(r"^Dashboard: (http://[0-9.]+:(\d+)/)#token=([0-9a-f]{32})$")
SCENARIO_TIMEOUT = 120


def gateway_available(walrus_bin):
    r = subprocess.run([walrus_bin, "gateway", "--help"], capture_output=True, timeout=30)
    return r.returncode == 0 and b"--region" in r.stdout


@pytest.fixture(scope="module")
def gateway_args(walrus_bin):
    return [] if gateway_available(walrus_bin) else ["--no-gateway"]


def demo_argv(walrus_bin, tmp_path, gateway_args, *extra):
    return [walrus_bin, "demo", "--data-dir", str(tmp_path / "demo"),
            "--http", "127.0.0.1:%d" % free_port()] + list(gateway_args) + list(extra)


def table_pids(text):
    return {(m.group(1), m.group(2)): int(m.group(3))
            for m in (ROW.match(l) for l in text.splitlines()) if m}


def gone(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (FileNotFoundError, ProcessLookupError):
        return True


def assert_all_gone(pids, timeout=10):
    assert len(pids) >= 12, pids   # 3 x (devkafka, redis, apply, mirror) at least
    wait_until(lambda: all(gone(p) for p in pids.values()), timeout,
               "every child to be gone: %s" % {k: p for k, p in pids.items() if not gone(p)})


def run_demo(argv, timeout=SCENARIO_TIMEOUT):
    t0 = time.monotonic()
    res = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         stdin=subprocess.DEVNULL, timeout=timeout, start_new_session=True)
    out = res.stdout.decode(errors="replace")
    print("---- %s (%.1f s, rc=%d)\n%s" % (" ".join(argv[1:]), time.monotonic() - t0,
                                           res.returncode, out))
    return res.returncode, out


@pytest.mark.parametrize("scenario", ["failover", "partition", "replay", "flash-sale"])
def test_scenario_converges(walrus_bin, tmp_path, gateway_args, scenario):
    rc, out = run_demo(demo_argv(walrus_bin, tmp_path, gateway_args, "--scenario", scenario))
    assert rc == 0, out
    assert "RESULT %s: CONVERGED" % scenario in out
    assert re.search(r"verify: 3 instances, \d+ keys compared .*: identical", out), out
    m = re.search(r"counter demo:increments: us=(\d+) eu=(\d+) ap=(\d+) \(expected (\d+)", out)
    assert m and len(set(m.groups())) == 1 and int(m.group(4)) > 0, out
    assert_all_gone(table_pids(out))


def test_scenario_without_gateway_uses_walrus_produce(walrus_bin, tmp_path):
    rc, out = run_demo(demo_argv(walrus_bin, tmp_path, ["--no-gateway"], "--scenario", "replay"))
    assert rc == 0, out
    assert "(walrus produce)" in out and "Dashboard:" not in out
    assert "RESULT replay: CONVERGED" in out
    assert ("gateway", "-") not in table_pids(out)
    assert_all_gone(table_pids(out))


def test_skipped_heal_is_reported_as_divergence(walrus_bin, tmp_path, gateway_args):
    rc, out = run_demo(demo_argv(walrus_bin, tmp_path, gateway_args, "--scenario", "partition",
                                 "--scenario-fault"))
    assert rc == 1, out
    assert "RESULT partition: NOT CONVERGED" in out
    # ap is cut off both ways: us and eu lack ap's fences, ap lacks theirs.
    assert re.search(r"us has not applied the fences of: .*ap's", out), out
    assert re.search(r"ap has not applied the fences of: .*eu's", out), out
    assert re.search(r"verify: 3 instances, \d+ keys compared .*: \d+ keys differ", out), out
    assert_all_gone(table_pids(out))
    assert os.path.isdir(tmp_path / "demo"), "data dir kept after a failed run"


def start_interactive(walrus_bin, tmp_path, gateway_args, log):
    argv = demo_argv(walrus_bin, tmp_path, gateway_args)
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL,
                            start_new_session=True)
    lines = []
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        line = proc.stdout.readline().decode(errors="replace")
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if line.startswith("Ready. Press Ctrl-C"):
            return proc, "\n".join(lines)
    proc.kill()
    raise AssertionError("demo did not get ready:\n" + "\n".join(lines))


def test_interactive_then_sigint_leaves_nothing(walrus_bin, tmp_path, gateway_args):
    with open(tmp_path / "demo-stderr.log", "wb") as log:
        proc, out = start_interactive(walrus_bin, tmp_path, gateway_args, log)
        pids = table_pids(out)
        if not gateway_args:
            url = [URL.match(l) for l in out.splitlines() if URL.match(l)]
            assert url, out
            st, body, _ = http_get(int(url[0].group(2)), "/healthz")
            assert st == 200, body
            assert ("gateway", "-") in pids
        for (comp, region), pid in pids.items():
            assert not gone(pid), (comp, region, pid)
        proc.send_signal(signal.SIGINT)
        rest = proc.stdout.read().decode(errors="replace")
        assert proc.wait(timeout=60) == 0, out + rest
    assert "all children stopped" in rest
    assert_all_gone(pids, timeout=5)


def test_kill9_of_the_demo_leaves_no_orphan(walrus_bin, tmp_path, gateway_args):
    with open(tmp_path / "demo-stderr.log", "wb") as log:
        proc, out = start_interactive(walrus_bin, tmp_path, gateway_args, log)
        pids = table_pids(out)
        proc.kill()
        proc.wait(timeout=10)
    assert_all_gone(pids, timeout=10)


def test_missing_redis_server_is_a_clear_setup_error(walrus_bin, tmp_path):
    env = dict(os.environ, PATH="/nonexistent")
    res = subprocess.run([walrus_bin, "demo", "--no-gateway", "--data-dir", str(tmp_path / "d"),
                          "--scenario", "replay"], capture_output=True, timeout=60, env=env)
    out = res.stdout.decode()
    assert res.returncode == 2, out
    assert "redis-server" in out and "not found on PATH" in out, out
