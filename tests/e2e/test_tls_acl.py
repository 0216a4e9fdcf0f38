"""Redis TLS and ACL for `walrus apply`.

TLS: redis-server with a tls-port and certificates the test makes with openssl. The applier
connects over rediss:// verifying the CA (--redis-tls-ca) and applies a workload exactly; with an
unrelated CA it never becomes ready and says "certificate verify failed" naming the flag to check.

ACL: a user limited to what the applier needs (write, read, transaction and scripting commands
for the ops, their Lua scripts and the positions, ROLE; nothing @dangerous: no FLUSHALL, KEYS,
CONFIG) applies the workload exactly with its password
from WALRUS_REDIS_PASSWORD; the same user with a wrong password never becomes ready and the log
says the AUTH failed for that user.
"""

import ha_harness as ha
import harness
import kafka_io
import model
import workload

N = harness.scaled(5000)
GROUP_X = ["-X", "session.timeout.ms=6000", "-X", "heartbeat.interval.ms=500"]
ACL_RULES = ["on", ">app-secret", "~*", "resetchannels", "-@all", "+@write", "+@read",
             "+@transaction", "+@scripting", "-@dangerous", "+role", "+ping",
             "+client|setname", "+select"]


def apply_and_check(app, client, brokers, recs, tmp_path):
    kafka_io.produce(brokers, harness.TOPIC, recs, str(tmp_path))
    log = kafka_io.read_topic(brokers, harness.TOPIC)
    placed = workload.place(recs, log, harness.PARTITIONS)
    ends = kafka_io.end_offsets(brokers, harness.TOPIC, harness.PARTITIONS)
    harness.wait_applied(client, ends, [app], timeout=90)
    exp, act = workload.replay(placed).snapshot(), model.dump_redis(client)
    problems = model.diff(exp, act)
    assert not problems, "\n".join(problems)


def test_tls_verified_and_wrong_ca(procs, walrus_bin, devkafka, rng, tmp_path):
    certs = ha.make_certs(tmp_path)
    srv = ha.TlsRedisServer(procs, tmp_path / "redis-tls", certs)
    url = "rediss://127.0.0.1:%d" % srv.tls_port

    bad = harness.Applier(procs, walrus_bin, devkafka.brokers, url, "e2e-tls-bad",
                          extra=GROUP_X + ["--redis-tls-ca", certs["other.crt"]], name="apply-bad-ca")
    line = ha.wait_log(bad, "certificate verify failed")
    assert "--redis-tls-ca" in line, line
    assert bad.readyz() != 200
    bad.terminate()

    app = harness.Applier(procs, walrus_bin, devkafka.brokers, url, "e2e-tls",
                          extra=GROUP_X + ["--redis-tls-ca", certs["ca.crt"]], name="apply-tls")
    app.wait_ready()
    apply_and_check(app, srv.client(), devkafka.brokers, workload.Workload(rng).mixed(N), tmp_path)
    # The applier's connection really is the TLS one: its client name shows on the TLS port.
    clients = srv.client().client_list()
    assert any(c.get("name") == "walrus" for c in clients), clients
    assert app.terminate() == 0


def test_acl_user(procs, walrus_bin, devkafka, redis_server, rng, tmp_path):
    admin = redis_server.client()
    admin.execute_command("ACL", "SETUSER", "walrus-app", *ACL_RULES)
    # The user is really limited.
    import redis as redislib
    limited = redislib.Redis(host="127.0.0.1", port=redis_server.port, username="walrus-app",
                             password="app-secret")
    for cmd in (("FLUSHALL",), ("KEYS", "*"), ("CONFIG", "GET", "save")):
        try:
            limited.execute_command(*cmd)
            raise AssertionError("%s allowed for the applier's user" % (cmd,))
        except redislib.exceptions.NoPermissionError:
            pass

    bad = ha.EnvApplier(procs, walrus_bin, devkafka.brokers, redis_server.url, "e2e-acl-bad",
                        {"WALRUS_REDIS_PASSWORD": "wrong"},
                        extra=GROUP_X + ["--redis-user", "walrus-app"], name="apply-bad-pw")
    line = ha.wait_log(bad, "AUTH as user 'walrus-app'")
    assert "WRONGPASS" in line or "invalid username-password" in line, line
    assert "wrong" not in line.replace("WRONGPASS", ""), "the password leaked into the log: " + line
    assert bad.readyz() != 200
    bad.terminate()

    app = ha.EnvApplier(procs, walrus_bin, devkafka.brokers, redis_server.url, "e2e-acl",
                        {"WALRUS_REDIS_PASSWORD": "app-secret"},
                        extra=GROUP_X + ["--redis-user", "walrus-app"], name="apply-acl")
    app.wait_ready()
    apply_and_check(app, admin, devkafka.brokers, workload.Workload(rng).mixed(N), tmp_path)
    assert app.terminate() == 0
