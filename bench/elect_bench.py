#!/usr/bin/python3
"""Failover benchmark of `walrus elect`: time from `kill -9` of the leader's Redis to the first
write accepted through a leader proxy, next to Sentinel's (bench/failover_bench.py).

Starts (all real, on free loopback ports) etcd, redis-server x3 with one `walrus elect` sidecar
each (leader proxy + admin port), `walrus devkafka`, one `walrus apply` writing through node 0's
proxy, a steady kcat stream of INCRBY ops, and a plain client (python3-redis) doing INCR in a loop
through node 1's proxy. Then --failovers times:
  1. waits until a leader serves, the followers are in sync and the applier progresses,
  2. SIGKILLs the leader's Redis (t0),
  3. records (after 0.2 s for the replicas to drain their sockets, as failover_bench.py does):
     the new leader serving (all sidecars agree), the plain client's first INCR accepted
     through the proxy, and the first op the applier commits on the new leader (its stored
     positions move) — the last one is what failover_bench.py measures for Sentinel,
  4. restarts the killed Redis empty (it rejoins as a replica).
Prints each run and mean/median/max, then runs failover_bench.py with the same number of
failovers (Sentinel down-after 1000 ms) unless --no-sentinel, and prints both side by side.

Usage: bench/elect_bench.py [--failovers 5] [--down-after-ms 1000] [--ttl 2] [--renew-ms 500]
                            [--walrus build/src/cli/walrus] [--no-sentinel]
"""
import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))
import elect_harness as eh  # noqa: E402
import harness  # noqa: E402
import benchlib  # noqa: E402
import kafka_io  # noqa: E402
import redis as redislib  # noqa: E402


class ProxyClient(threading.Thread):
    """INCR in a loop through a proxy; remembers (start, end) of each command that succeeded."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port, self.ok_at, self.stop = port, [], threading.Event()

    def run(self):
        c = redislib.Redis(host="127.0.0.1", port=self.port, socket_timeout=10,
                           socket_connect_timeout=2)
        while not self.stop.is_set():
            start = time.monotonic()
            try:
                c.incr("bench:proxy-client")
                self.ok_at.append((start, time.monotonic()))
            except redislib.RedisError:
                pass  # connection closed by the proxy / READONLY: retry at once
            time.sleep(0.001)

    def first_after(self, t):
        """End of the first successful command sent after t."""
        return next((end for start, end in self.ok_at if start > t), None)


def summary(name, xs):
    return "%-46s mean %.2f s  median %.2f s  max %.2f s" % (
        name, statistics.mean(xs), statistics.median(xs), max(xs))


def run_elect(args, walrus, work):
    procs = harness.Procs(work)
    stream = None
    client = None
    eh.TTL_S, eh.RENEW_MS, eh.FENCE_MARGIN_MS = args.ttl, args.renew_ms, args.fence_margin_ms
    eh.DOWN_AFTER_MS = args.down_after_ms
    try:
        etcd = eh.Etcd(procs, work)
        nodes = [eh.ElectNode(procs, walrus, work, i, etcd.args()) for i in range(3)]
        kafka = harness.DevKafka(procs, walrus, work)
        app = harness.Applier(procs, walrus, kafka.brokers,
                              "redis://127.0.0.1:%d" % nodes[0].proxy_port, "elect-bench",
                              extra=["-X", "session.timeout.ms=6000",
                                     "-X", "heartbeat.interval.ms=500"])
        app.wait_ready()
        client = ProxyClient(nodes[1].proxy_port)
        client.start()
        stream = kafka_io.Stream(kafka.brokers, harness.TOPIC, work)
        feed = benchlib.CounterFeed(stream)

        results = []
        for i in range(args.failovers):
            leader = eh.wait_leader(nodes)
            eh.wait_followers(leader, [n for n in nodes if n is not leader], timeout=60)
            before = sum(harness.positions(leader.redis.client()))
            end = time.monotonic() + 1.0
            while time.monotonic() < end:
                feed(args.rate // 50)
                time.sleep(0.02)
            harness.wait_until(lambda: sum(harness.positions(leader.redis.client())) > before,
                               30, "applier progress")
            survivors = [n for n in nodes if n is not leader]
            t0 = time.monotonic()
            leader.redis.kill9()
            # The replicas drain what their sockets held; nothing new reaches them until a new
            # leader is promoted (>= down-after later).
            time.sleep(0.2)
            base = {n.id: sum(harness.positions(n.redis.client())) for n in survivors}
            t_leader = t_apply = None
            next_feed = t0
            while t_leader is None or t_apply is None:
                now = time.monotonic()
                if now - t0 > 60:
                    raise SystemExit("no failover within 60 s:\n" + procs.report(20))
                if now >= next_feed:
                    feed(args.rate // 50)
                    next_feed = now + 0.02
                if t_leader is None and eh.leader_of(nodes) not in (None, leader):
                    t_leader = time.monotonic()
                if t_apply is None:
                    for n in survivors:
                        try:
                            if sum(harness.positions(n.redis.client())) > base[n.id]:
                                t_apply = time.monotonic()
                        except redislib.RedisError:
                            pass
                time.sleep(0.005)
            harness.wait_until(lambda: client.first_after(t0), 30, "the proxy client's write")
            t_client = client.first_after(t0)
            new = eh.leader_of(nodes)
            results.append((t_leader - t0, t_client - t0, t_apply - t0))
            print("failover %d: killed %s's Redis -> %s serving after %.2f s; first INCR through "
                  "the proxy %.2f s; first op applied by walrus apply %.2f s" % (
                      i + 1, leader.id, new.id, *results[-1]), flush=True)
            leader.redis.start()  # back empty: rejoins as a replica
        app.check_alive()
        return results
    finally:
        if client:
            client.stop.set()
        if stream:
            stream.kill()
        procs.stop_all()


def run_sentinel(args, walrus):
    bench = os.path.join(HERE, "failover_bench.py")
    out = subprocess.run([sys.executable, bench, "--failovers", str(args.failovers),
                          "--walrus", walrus], capture_output=True, text=True, timeout=900)
    text = out.stdout
    runs = [float(x) for x in re.findall(r"first op applied after ([0-9.]+) s", text)]
    switch = [float(x) for x in re.findall(r"sentinels switched after ([0-9.]+) s", text)]
    if out.returncode != 0 or not runs:
        print("failover_bench.py failed (rc %d):\n%s\n%s" % (out.returncode, text[-2000:],
                                                           out.stderr[-2000:]))
        return None
    return runs, switch


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--failovers", type=int, default=5)
    ap.add_argument("--ttl", type=int, default=2, help="lease TTL, seconds")
    ap.add_argument("--renew-ms", type=int, default=500)
    ap.add_argument("--fence-margin-ms", type=int, default=500)
    ap.add_argument("--down-after-ms", type=int, default=1000,
                    help="leader steps down after its Redis is unreachable this long "
                         "(1000 = Sentinel's down-after in failover_bench.py)")
    ap.add_argument("--rate", type=int, default=2000, help="ops per second streamed")
    ap.add_argument("--no-sentinel", action="store_true", help="skip the Sentinel comparison")
    ap.add_argument("--keep", action="store_true", help="keep the work dir (process logs)")
    ap.add_argument("--walrus", default=harness.default_walrus_bin())
    args = ap.parse_args()
    walrus = os.path.abspath(args.walrus)
    work = tempfile.mkdtemp(prefix="walrus-elect-bench-")
    try:
        res = run_elect(args, walrus, work)
    finally:
        if args.keep:
            print("logs kept in", work)
        else:
            subprocess.run(["rm", "-rf", work])
    print("\nwalrus elect: etcd, TTL %d s, renew %d ms, down-after %d ms, %d failovers" % (
        args.ttl, args.renew_ms, args.down_after_ms, len(res)))
    print(summary("  kill -9 -> new leader serving", [r[0] for r in res]))
    print(summary("  kill -9 -> first write through the proxy", [r[1] for r in res]))
    print(summary("  kill -9 -> first op applied (walrus apply)", [r[2] for r in res]))
    if args.no_sentinel:
        return
    print("\nrunning bench/failover_bench.py --failovers %d (Sentinel, down-after 1000 ms) ..." %
          args.failovers, flush=True)
    s = run_sentinel(args, walrus)
    if s:
        runs, switch = s
        print("Sentinel (redis-sentinel x3, quorum 2, down-after 1000 ms), %d failovers" % len(runs))
        if switch:
            print(summary("  kill -9 -> sentinels switched", switch))
        print(summary("  kill -9 -> first op applied (walrus apply)", runs))
        print("\nside by side (kill -9 -> first op applied by walrus apply): elect mean %.2f s / "
              "max %.2f s vs Sentinel mean %.2f s / max %.2f s" % (
                  statistics.mean(r[2] for r in res), max(r[2] for r in res),
                  statistics.mean(runs), max(runs)))


if __name__ == "__main__":
    main()
