"""`walrus elect`: lease-based leader election replacing Sentinel, fenced, with a leader proxy.

Real topology on loopback: etcd, 3 redis-servers with one `walrus elect` sidecar each (TTL 2 s,
renew 500 ms, fence margin 500 ms), devkafka, and ONE `walrus apply` writing through a node's
leader proxy while a counter workload (INCRBY + RPUSH, exact expected state) streams in:

A. kill -9 of the leader's Redis: a new leader within TTL + renew interval, the other follower
   re-points, the proxy routes to the new leader, the applier continues.
B. the killed Redis restarts empty: it becomes a replica of the new leader, never a primary.
C. a follower's Redis is killed and restarted empty at the same time as the leader's Redis dies
   and the only other candidate is frozen: the empty one is the only live candidate and is still
   never elected (its Redis stays read-only); the frozen one, once back, leads.
D. SIGSTOP of the leader's sidecar past its lease: another node leads, and the old leader's Redis
   refused writes BEFORE the new leader's Redis accepted any (write probes with timestamps).
E. (walrus apply's epoch fence) the applier's route is switched to a writable Redis that holds
   the data of an older election (a replica detached after A): the applier refuses it — nothing
   written there — and continues on the leader once the route is back.
At the end the leader's Redis equals the expected state exactly (no loss, no doubling), the
applier is the process that started, and `walrus verify` finds all three Redis identical.

The Kubernetes backend runs against a scripted API server (TLS, bearer token, resourceVersion,
409 on a renewal): election, renewal, retry after 409, takeover, epoch = leaseTransitions; a
killed sidecar's Redis is fenced at once by its guard, and its restart releases the stale lease.
"""

import signal
import socket
import threading
import time

import elect_harness as eh
import ha_harness as ha
import harness
import kafka_io

GROUP = "e2e-elect"
GROUP_X = ["-X", "session.timeout.ms=6000", "-X", "heartbeat.interval.ms=500"]
RATE = 1500  # records per second fed
LEASE_BOUND = eh.TTL_S + eh.RENEW_MS / 1000.0  # "a new leader within the lease TTL + renew"


class Feeder(threading.Thread):
    """Streams counter records at RATE/s until stopped; `sent` = logical records fed."""

    def __init__(self, stream):
        super().__init__(daemon=True)
        self.stream, self.sent, self.stop = stream, 0, threading.Event()

    def run(self):
        chunk = max(1, RATE // 50)
        while not self.stop.wait(0.02):
            self.stream.send(eh.counter_records(self.sent, chunk))
            self.sent += chunk


def progress_on(node, since, app, timeout=40):
    return harness.wait_progress(node.redis.client(), since, [app], timeout=timeout)


def positions_of(node):
    return harness.positions(node.redis.client())


def test_cli_flags(walrus_bin):
    out = eh.run_walrus(walrus_bin, ["elect", "--help"])
    assert out.returncode == 0
    for flag in ("--redis", "--advertise", "--backend", "--lease-name", "--ttl",
                 "--renew-interval-ms", "--fence-margin-ms", "--proxy", "--etcd", "--k8s-api",
                 "--admin", "--fence-replicaof"):
        assert flag in out.stdout.decode(), flag
    bad = [
        (["elect", "--redis", "redis://127.0.0.1:1"], "--advertise"),
        (["elect", "--advertise", "127.0.0.1:1"], "--redis"),
        (["elect", "--redis", "redis://127.0.0.1:1", "--advertise", "127.0.0.1:1", "--ttl", "2",
          "--renew-interval-ms", "1000", "--fence-margin-ms", "1000"], "--fence-margin-ms"),
        (["elect", "--redis", "redis://127.0.0.1:1", "--advertise", "127.0.0.1:1",
          "--etcd", "127.0.0.1:2379"], "--etcd"),
        (["elect", "--redis", "redis://127.0.0.1:1", "--advertise", "127.0.0.1:1",
          "--backend", "kubernetes"], "--k8s-api"),
    ]
    for args, needle in bad:
        r = eh.run_walrus(walrus_bin, args)
        assert r.returncode == 2 and needle in r.stderr.decode(), (args, r.stderr.decode())


def test_etcd_failover_fencing_and_exact_counters(procs, walrus_bin, devkafka, tmp_path):
    etcd = eh.Etcd(procs, tmp_path)
    nodes = [eh.ElectNode(procs, walrus_bin, tmp_path, i, etcd.args()) for i in range(3)]
    l0 = eh.wait_leader(nodes, timeout=30)
    eh.wait_followers(l0, [n for n in nodes if n is not l0])
    assert l0.epoch() > 0 and all(n.epoch() == l0.epoch() for n in nodes)
    report = ["bootstrap: leader %s epoch %d" % (l0.id, l0.epoch())]

    # The applier writes through one node's proxy. If that sidecar is the one frozen in D, the
    # applier simply waits for it: a frozen proxy looks like a slow server to its clients.
    entry = next(n for n in nodes if n is not l0)
    relay = eh.Relay(entry.proxy_port)  # the applier's route; switched in E only
    app = harness.Applier(procs, walrus_bin, devkafka.brokers,
                          "redis://127.0.0.1:%d" % relay.port, GROUP, extra=GROUP_X)
    app.wait_ready()
    app_pid = app.pid
    stream = kafka_io.Stream(devkafka.brokers, harness.TOPIC, str(tmp_path))
    feeder = Feeder(stream)
    feeder.start()
    try:
        progress_on(l0, [0] * harness.PARTITIONS, app)

        # ---- A: kill -9 the leader's Redis ------------------------------------------------
        before = positions_of(l0)
        progress_on(l0, before, app)
        t0 = time.monotonic()
        l0.redis.kill9()
        l1 = eh.wait_leader(nodes, not_in=[l0], timeout=15)
        t_leader = time.monotonic() - t0
        other = next(n for n in nodes if n not in (l0, l1))
        eh.wait_followers(l1, [other])
        at = positions_of(l1)
        progress_on(l1, at, app)
        t_write = time.monotonic() - t0
        report.append("A: killed %s's Redis; %s leads (epoch %d) after %.2f s, first write "
                      "through the proxy applied after %.2f s" % (
                          l0.id, l1.id, l1.epoch(), t_leader, t_write))
        assert t_leader <= LEASE_BOUND, "\n".join(report)
        # A replica of this epoch's leader, detached later: a Redis of an older election (E).
        stale = eh.ElectRedis(procs, tmp_path / "stale")
        stale.client().replicaof("127.0.0.1", l1.port)

        # ---- B: the killed Redis comes back empty: a replica, never a primary -------------
        l0.redis.start_empty()
        t_back = time.monotonic()
        roles = []
        while time.monotonic() - t_back < 3:
            roles.append((time.monotonic() - t_back, l0.role()))
            assert eh.leader_of(nodes) in (l1, None), "the leader changed"
            time.sleep(0.02)
        master_for = max([t for t, r in roles if r == ("master",)], default=0.0)
        report.append("B: %s restarted empty: a primary (unreachable through any proxy) for "
                      "%.2f s, then a replica of %s" % (l0.id, master_for, l1.id))
        assert master_for < 1.0, "the restarted empty Redis stayed a primary: %s" % roles[:20]
        eh.wait_followers(l1, [l0, other])
        assert l0.epoch() == l1.epoch()
        harness.wait_until(
            lambda: stale.client().info("replication")["master_link_status"] == "up"
            and stale.client().get("walrus:epoch") == str(l1.epoch()).encode(),
            20, "the stale-to-be replica in sync")
        stale.client().replicaof("NO", "ONE")  # a writable primary of epoch l1.epoch()
        stale_epoch = l1.epoch()

        # ---- C: an empty Redis is the only live candidate: still never elected ------------
        frozen = other                 # has the data, but its Redis is frozen
        empty = l0                     # restarted empty below
        frozen.redis.proc.signal(signal.SIGSTOP)
        empty.redis.kill9()
        l1.redis.kill9()
        empty.redis.start_empty()
        t_c = time.monotonic()
        while time.monotonic() - t_c < LEASE_BOUND + 1.5:
            s = empty.status()
            assert s and s["role"] == "follower", s
            assert empty.role()[0] != "master" or time.monotonic() - t_c < 1.0, empty.role()
            assert eh.leader_of([n for n in nodes if n is not frozen]) is None
            time.sleep(0.05)
        detail = empty.status()["detail"]
        report.append("C: only an empty Redis live for %.1f s: no election (%s)" % (
            time.monotonic() - t_c, detail))
        assert "must sync" in detail, detail
        frozen.redis.proc.signal(signal.SIGCONT)
        l2 = eh.wait_leader(nodes, not_in=[l1, empty], timeout=15)
        assert l2 is frozen
        l1.redis.start_empty()
        eh.wait_followers(l2, [l1, empty])
        at = positions_of(l2)
        progress_on(l2, at, app)
        report.append("C: %s leads (epoch %d) once its Redis is back; the empty one synced" % (
            l2.id, l2.epoch()))

        # ---- D: SIGSTOP the leader's sidecar past its lease: fencing order ----------------
        probes = {n.id: eh.WriteProbe(n) for n in nodes}
        for p in probes.values():
            p.start()
        # A raw client connection through another node's proxy, now forwarded to l2's Redis.
        watcher = next(n for n in nodes if n is not l2)
        raw = socket.create_connection(("127.0.0.1", watcher.proxy_port), timeout=5)
        raw.sendall(b"PING\r\n")
        assert raw.recv(64) == b"+PONG\r\n"
        time.sleep(0.3)
        t_stop = time.monotonic()
        l2.proc.signal(signal.SIGSTOP)
        try:
            l3 = eh.wait_leader([n for n in nodes if n is not l2], timeout=15)
            time.sleep(0.3)
        finally:
            for p in probes.values():
                p.stop.set()
            for p in probes.values():
                p.join()
        old, new = probes[l2.id], probes[l3.id]
        refused = old.transition("readonly", t_stop)
        accepted = new.transition("ok", t_stop)
        assert refused and accepted, (old.events, new.events)
        # The old primary was fenced before `refused` ended; the new one was promoted after the
        # start of its last refused write (`accepted[3]`).
        report.append(
            "D: sidecar of %s stopped at t=0: its Redis refused writes from t=%.3f s at the latest; "
            "%s's Redis accepted its first write after t=%.3f s (fenced %.3f s earlier)" % (
                l2.id, refused[2] - t_stop, l3.id, accepted[3] - t_stop,
                accepted[3] - refused[2]))
        assert refused[2] < accepted[3], "\n".join(report)
        # Fenced by the guard at lease start + TTL - margin, not later than the TTL.
        assert refused[2] - t_stop < eh.TTL_S, "\n".join(report)
        assert not any(s == "ok" for s, t0, _, _ in old.events if t0 > refused[2])
        # The proxy closed the connection to the deposed leader.
        raw.settimeout(5)
        assert raw.recv(64) == b"", "a proxied connection to the deposed leader stayed open"
        raw.close()
        l2.proc.signal(signal.SIGCONT)
        eh.wait_followers(l3, [n for n in nodes if n is not l3])
        at = positions_of(l3)
        progress_on(l3, at, app)

        # ---- E: the applier is pointed at a Redis of an older election ------------------
        am = {n: v for n, lab, v in harness.parse_metrics(app.metrics()) if not lab}
        if "walrus_apply_epoch" not in am:
            report.append("E: skipped (this walrus apply has no epoch fence)")
        else:
            assert am["walrus_apply_epoch"] == l3.epoch() > stale_epoch, am
            refusals = am.get("walrus_apply_epoch_refusals_total", 0)
            stale_pos = harness.positions(stale.client())
            relay.switch(stale.port)
            harness.wait_until(lambda: {n: v for n, lab, v in harness.parse_metrics(
                app.metrics()) if not lab}.get("walrus_apply_epoch_refusals_total", 0) > refusals,
                15, "the applier to refuse the stale Redis")
            time.sleep(1.0)
            assert harness.positions(stale.client()) == stale_pos, "written to an older epoch"
            relay.switch(entry.proxy_port)
            progress_on(l3, positions_of(l3), app)
            report.append("E: route switched to a writable Redis of epoch %d (newest seen %d): "
                          "refused, nothing written; resumed on %s" % (
                              stale_epoch, l3.epoch(), l3.id))

        feeder.stop.set()
        feeder.join()
        stream.close()
    finally:
        feeder.stop.set()
        stream.kill()
    print("\n".join(report))

    leader = eh.wait_leader(nodes)
    ends = kafka_io.end_offsets(devkafka.brokers, harness.TOPIC, harness.PARTITIONS)
    assert sum(ends) == len(eh.counter_records(0, feeder.sent)), "kcat lost records"
    harness.wait_applied(leader.redis.client(), ends, [app], timeout=60)
    problems = eh.check_state(leader.redis.client(), feeder.sent)
    assert not problems, "%d records, 4 failovers:\n%s\n%s" % (
        feeder.sent, "\n".join(report), "\n".join(problems[:20]))
    assert app.alive() and app.pid == app_pid, "the applier restarted"

    eh.wait_followers(leader, [n for n in nodes if n is not leader])
    harness.wait_until(lambda: len({n.redis.client().info("replication")["master_repl_offset"]
                                    if n is leader else
                                    n.redis.client().info("replication")["slave_repl_offset"]
                                    for n in nodes}) == 1, 20, "replicas caught up")
    v = eh.run_walrus(walrus_bin, ["verify", "-q"] + [n.redis.url for n in nodes], timeout=60)
    assert v.returncode == 0, v.stdout.decode() + v.stderr.decode()

    m = {n.id: n.metrics() for n in nodes}
    total = lambda name: sum(v for mm in m.values() for (nm, lab), v in mm.items() if nm == name)
    assert total("walrus_elect_elections_total") >= 4  # bootstrap, A, C, D
    stepdowns = {(n, dict(lab).get("reason")): v for n, mm in m.items()
                 for (nm, lab), v in mm.items() if nm == "walrus_elect_stepdowns_total"}
    assert stepdowns.get((l0.id, "redis_down"), 0) >= 1, stepdowns
    assert stepdowns.get((l2.id, "redis_demoted"), 0) + stepdowns.get(
        (l2.id, "renew_timeout"), 0) + stepdowns.get((l2.id, "lease_lost"), 0) >= 1, stepdowns
    assert m[watcher.id][("walrus_elect_proxy_dropped_total", ())] >= 1
    assert m[leader.id][("walrus_elect_is_leader", ())] == 1
    assert m[leader.id][("walrus_elect_epoch", ())] == leader.epoch()
    assert sum(mm[("walrus_elect_lease_renew_seconds_count", ())] for mm in m.values()) > 10
    for n in nodes:
        assert n.proc.terminate() == 0, "elect-%d: SIGTERM exit code" % n.index
    relay.close()


def test_kubernetes_backend_against_scripted_api_server(procs, walrus_bin, tmp_path):
    certs = ha.make_certs(tmp_path)
    api = eh.LeaseApi(tmp_path, certs)
    try:
        nodes = [eh.ElectNode(procs, walrus_bin, tmp_path, i, api.args()) for i in range(3)]
        l0 = eh.wait_leader(nodes, timeout=30)
        eh.wait_followers(l0, [n for n in nodes if n is not l0])
        lease = api.lease()
        assert lease["spec"]["holderIdentity"] == l0.id
        assert lease["spec"]["leaseDurationSeconds"] == eh.TTL_S
        assert lease["metadata"]["annotations"]["walrus.io/advertise"] == "127.0.0.1:%d" % l0.port
        assert lease["metadata"]["annotations"]["walrus.io/serving"] == "true"
        epoch0 = lease["spec"]["leaseTransitions"]
        assert l0.epoch() == epoch0 >= 1

        # Renewal: renewTime moves, the holder and epoch stay.
        r0 = lease["spec"]["renewTime"]
        harness.wait_until(lambda: api.lease()["spec"]["renewTime"] != r0, 3, "a renewal")

        # A 409 on the leader's renewal (someone else touched the object): re-read, retry, keep.
        t_inject = time.monotonic()
        api.conflict_next_put_by = l0.id
        harness.wait_until(lambda: api.conflict_next_put_by is None, 5, "the injected 409")

        def retried():
            after = [e for e in list(api.log) if e[0] >= t_inject]
            i = next((k for k, e in enumerate(after) if e[1] == "PUT" and e[2] == 409), None)
            return i is not None and any(e[1] == "PUT" and e[2] == 200 and e[3] == l0.id
                                         for e in after[i + 1:])
        harness.wait_until(retried, 5, "the renewal retried after 409")
        time.sleep(1.0)
        assert eh.leader_of(nodes) is l0, "a 409 on renewal must not cost the leadership"
        assert api.lease()["spec"]["leaseTransitions"] == epoch0
        assert api.lease()["metadata"]["labels"]["touched"], "the other writer's change is kept"

        # Takeover: the leader's sidecar freezes; another node leads with epoch + 1, and the old
        # Redis was fenced (read-only) by then.
        t_stop = time.monotonic()
        l0.proc.signal(signal.SIGSTOP)
        l1 = eh.wait_leader([n for n in nodes if n is not l0], timeout=15)
        took = time.monotonic() - t_stop
        assert l0.role()[0] == "slave", "the frozen leader's Redis was not fenced"
        lease = api.lease()
        assert lease["spec"]["holderIdentity"] == l1.id
        assert lease["spec"]["leaseTransitions"] == epoch0 + 1 == l1.epoch()
        l0.proc.signal(signal.SIGCONT)
        eh.wait_followers(l1, [n for n in nodes if n is not l1])
        races = [e for e in api.log if e[0] >= t_stop and e[2] == 409]

        # The leader's sidecar is killed: its guard demotes the Redis at once (no lease wait),
        # and the restarted sidecar releases the lease its earlier run left behind.
        t_kill = time.monotonic()
        l1.proc.kill9()
        harness.wait_until(lambda: l1.role()[0] == "slave", 2, "the guard to fence at once")
        fenced_after = time.monotonic() - t_kill
        l1.proc = procs.spawn("elect-%d" % l1.index, l1.argv)
        harness.wait_until(lambda: any(e[0] >= t_kill and e[1] == "PUT" and e[2] == 200 and
                                       e[3] == "" for e in list(api.log)), 10,
                           "the restarted sidecar to release its stale lease")
        l2 = eh.wait_leader(nodes, timeout=10)
        assert api.lease()["spec"]["leaseTransitions"] == epoch0 + 2 == l2.epoch()
        eh.wait_followers(l2, [n for n in nodes if n is not l2])
        print("kubernetes: %s -> %s in %.2f s after SIGSTOP (409s during the takeover: %d); "
              "%s's sidecar killed: its Redis fenced after %.2f s, %s leads after %.2f s" % (
                  l0.id, l1.id, took, len(races), l1.id, fenced_after, l2.id,
                  time.monotonic() - t_kill))
        assert all(e[2] != 401 for e in api.log), "a request without the token"
        for n in nodes:
            assert n.proc.terminate() == 0
    finally:
        api.close()
