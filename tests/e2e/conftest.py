"""Fixtures of the walrus e2e tests: the binary, a seeded RNG, and processes that always stop.

Each test gets its own devkafka, redis-server and appliers (via `procs`); all are stopped by PID
in the finalizer, and their log tails are attached to the report of a failed test.
"""

import os
import random

import pytest

import harness



def _seed():
    return int(os.environ.get("WALRUS_E2E_SEED") or random.SystemRandom().randrange(1 << 32))


SEED = _seed()


def pytest_report_header(config):
    return "walrus e2e: WALRUS_BIN=%s seed=%d (export WALRUS_E2E_SEED=%d to replay)" % (
        harness.default_walrus_bin(), SEED, SEED)


@pytest.fixture(scope="session")
def walrus_bin():
    path = harness.default_walrus_bin()
    assert os.path.isfile(path) and os.access(path, os.X_OK), \
        "walrus binary not found at %s (set WALRUS_BIN)" % path
    return path


@pytest.fixture
def rng(request):
    print("seed=%d test=%s" % (SEED, request.node.name))
    return random.Random("%d/%s" % (SEED, request.node.name))


@pytest.fixture
def procs(request, tmp_path):
    p = harness.Procs(tmp_path)
    request.node._walrus_procs = p
    yield p
    p.stop_all()


@pytest.fixture
def devkafka(procs, walrus_bin, tmp_path):
    return harness.DevKafka(procs, walrus_bin, tmp_path, topics=[
        "%s:%d" % (harness.TOPIC, harness.PARTITIONS),
        "%s.dlq:%d" % (harness.TOPIC, harness.PARTITIONS)])


@pytest.fixture
def redis_server(procs, tmp_path):
    return harness.RedisServer(procs, tmp_path / "redis")


@pytest.fixture
def start_applier(procs, walrus_bin, devkafka):
    """start_applier(redis_url, group, extra=[...], name=...) -> harness.Applier (on devkafka)."""
    def start(redis_url, group, extra=(), name="apply"):
        return harness.Applier(procs, walrus_bin, devkafka.brokers, redis_url, group,
                               extra=extra, name=name)
    return start


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    procs = getattr(item, "_walrus_procs", None)
    if rep.failed and procs is not None and procs.all:
        rep.sections.append(("seed", "WALRUS_E2E_SEED=%d" % SEED))
        rep.sections.append(("walrus process logs (tails)", procs.report()))
