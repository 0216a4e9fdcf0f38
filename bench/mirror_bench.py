#!/usr/bin/python3
"""Mirror benchmark: `walrus mirror` throughput vs a kcat consume->produce pipe between the same
two devkafka clusters (same run), and produce-in-DC -> visible-in-DR-Redis latency.

1. Starts two `walrus devkafka` clusters (dc: topic bench:12; dr: a fresh target topic per run)
   and pre-produces --records small records (~60 B) into dc/bench with kcat.
2. Throughput, --trials times, interleaved so that every trial sees the same machine load:
   `kcat -C -e dc/bench | kcat -P dr/pipeN`, the same pipe adding one constant header to each
   record (the mirror adds walrus-src to each: librdkafka 2.0 roughly doubles a producer's CPU
   per record for one header), then `walrus mirror` transactional and --no-transactions for each
   --workers value (prefix naming, a new source alias per run, so each run copies everything
   into its own target topic). One observer for all: the target topic's end offsets, polled
   every 10 ms with kafka-python (an independent client). Per run: the steady rate (records/s
   between 10% and 90% of the records), the rate from process start until every record is in
   the target, and CPU seconds per record of the copying processes (the mirror; both kcats).
   Prints the per-trial ratios to the plain kcat pipe and their medians.
3. Latency: a redis-server and `walrus apply` on dr, the mirror running (transactional, then
   --no-transactions); RPUSH ops on one key produced into dc at --rate for --seconds
   (kafka-python, linger 0, after a warm-up record went through the whole chain); a client
   BLPOPs the list in the dr Redis: latency = pop time - send time; p50/p99/max. With --stages, a
   `kcat -C` witness on dr/lat also timestamps each record's arrival in the DR cluster, splitting
   the latency into mirror (dc produce -> dr Kafka) and applier (dr Kafka -> Redis) parts.

Every mirror signs walrus-src with a generated source key (--src-key-file, walrus-src-mac) and
the latency applier trusts it (--trusted-source dc). --baseline-walrus PATH adds, to every
trial, the same mirror runs with another build (run without key flags: a build before
walrus-src-mac), so two builds are compared in the same, interleaved runs; the kcat pipe with
two headers (walrus-src + a walrus-src-mac-sized value) shows what librdkafka charges for the
second header alone.

Usage: bench/mirror_bench.py [--records 300000] [--trials 3] [--workers 1,2] [--rate 200]
                             [--seconds 10] [--stages] [--walrus PATH] [--mirror-arg ARG...]
                             [--baseline-walrus PATH]
"""
import argparse
import json
import os
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import redis

import benchlib  # noqa: E402
from benchlib import free_port, ready, wait  # noqa: E402

KCAT = "/usr/bin/kcat"
PARTS = 12


def devkafka(walrus, name, topics, tmp, procs):
    boot = os.path.join(tmp, "boot-" + name)
    argv = [walrus, "devkafka", "--cluster", name, "--bootstrap-file", boot]
    for t in topics:
        argv += ["--topic", t]
    procs.append(subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

    def ready():
        try:
            with open(boot) as f:
                return f.read().strip().split("=", 1)[1] or None
        except (FileNotFoundError, IndexError):
            return None
    return wait(ready, 30, "devkafka " + name)


class Observer:
    """Sum of a topic's end offsets in a cluster, asked with kafka-python (one connection)."""

    def __init__(self, brokers):
        from kafka import KafkaConsumer
        self.c = KafkaConsumer(bootstrap_servers=brokers)

    def count(self, topic):
        from kafka import TopicPartition
        return sum(self.c.end_offsets([TopicPartition(topic, p) for p in range(PARTS)]).values())

    def watch(self, topic, total, t_start, timeout=300):
        """(steady records/s between 10% and 90% of total, seconds from t_start to total)."""
        t10 = t90 = None
        deadline = time.time() + timeout
        while time.time() < deadline:
            n, t = self.count(topic), time.time()
            if t10 is None and n >= 0.1 * total:
                t10, n10 = t, n
            if t90 is None and n >= 0.9 * total:
                t90, n90 = t, n
            if n >= total:
                steady = (n90 - n10) / (t90 - t10) if t90 > t10 else float("nan")
                return steady, t - t_start
            time.sleep(0.01)
        raise SystemExit("timed out waiting for %d records in %s" % (total, topic))


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def run_kcat(dc, dr, topic, total, obs, header=0):
    cpu0, t0 = children_cpu(), time.time()
    c = subprocess.Popen([KCAT, "-C", "-b", dc, "-t", "bench", "-o", "beginning", "-e", "-q",
                          "-K", "\t"], stdout=subprocess.PIPE)
    extra = ["-H", "walrus-src=dc/bench/0/123456"] if header >= 1 else []
    if header >= 2:
        extra += ["-H", "walrus-src-mac=v1:01234567:" + "0" * 64]
    p = subprocess.Popen([KCAT, "-P", "-b", dr, "-t", topic, "-K", "\t"] + extra, stdin=c.stdout)
    c.stdout.close()
    steady, secs = obs.watch(topic, total, t0)
    c.wait()
    p.wait()
    return steady, total / secs, (children_cpu() - cpu0) / total


def run_mirror(a, dc, dr, alias, extra, total, obs, walrus=None):
    port = free_port()
    cpu0, t0 = children_cpu(), time.time()
    if walrus is None:
        walrus, extra = a.walrus, extra + ["--src-key-file", a.key_file]
    p = subprocess.Popen([walrus, "mirror", "--source", dc, "--target", dr, "--source-alias",
                          alias, "--target-alias", "dr", "--topics", "bench", "--naming", "prefix",
                          "--admin", "127.0.0.1:%d" % port, "--log-level", "error"]
                         + extra + a.mirror_arg)
    try:
        steady, secs = obs.watch(alias + ".bench", total, t0)
    finally:
        p.terminate()
        p.wait()
    return steady, total / secs, (children_cpu() - cpu0) / total


def variants(a):
    """(label, target topic template, runner) of every throughput run of a trial, in order."""
    out = [("kcat pipe", "pipe%d", lambda t, *r: run_kcat(*r[:2], t, *r[2:])),
           ("kcat pipe + 1 header", "hpipe%d",
            lambda t, *r: run_kcat(*r[:2], t, *r[2:], header=1)),
           ("kcat pipe + 2 headers", "h2pipe%d",
            lambda t, *r: run_kcat(*r[:2], t, *r[2:], header=2))]
    builds = [("", "", None)]
    if a.baseline_walrus:
        builds.append(("baseline ", "b", a.baseline_walrus))
    for w in a.workers:
        for mode, extra in (("tx", []), ("al", ["--no-transactions"])):
            for prefix, tag, binary in builds:
                alias = "%s%sw%d_%%d" % (tag, mode, w)
                label = "%smirror %s --workers %d" % (prefix, "transactional" if mode == "tx"
                                                      else "--no-transactions", w)
                out.append((label, alias + ".bench",
                            lambda t, dc, dr, total, obs, x=extra, w=w, b=binary:
                            run_mirror(a, dc, dr, t[:-len(".bench")],
                                       x + (["--workers", str(w)] if w != 1 else []), total,
                                       obs, walrus=b)))
    return out


def throughput(a, dc, dr, total):
    obs = Observer(dr)
    runs = {label: [] for label, _, _ in variants(a)}
    for i in range(a.trials):
        for label, topic, run in variants(a):
            runs[label].append(run(topic % i, dc, dr, total, obs))
            s, f, cpu = runs[label][-1]
            print("trial %d: %-40s %6.0fk/s steady %6.0fk/s from process start %5.2f us/rec "
                  "CPU" % (i, label, s / 1000, f / 1000, cpu * 1e6), flush=True)
    base = runs["kcat pipe"]
    for label, r in runs.items():
        if label == "kcat pipe":
            continue
        steady = [m[0] / c[0] for m, c in zip(r, base)]
        start = [m[1] / c[1] for m, c in zip(r, base)]
        cpu = [m[2] / c[2] for m, c in zip(r, base)]
        print("%-40s / kcat pipe: steady %s (median %.2f); from process start %s (median %.2f); "
              "CPU per record %s (median %.2f)" % (
                  label, " ".join("%.2f" % x for x in steady), statistics.median(steady),
                  " ".join("%.2f" % x for x in start), statistics.median(start),
                  " ".join("%.2f" % x for x in cpu), statistics.median(cpu)), flush=True)


class Witness:
    """`kcat -C` on dr/lat: arrival time of each record id in the DR cluster."""

    def __init__(self, dr):
        self.seen = {}
        self.p = subprocess.Popen([KCAT, "-C", "-b", dr, "-t", "lat", "-o", "end", "-u", "-q",
                                   "-X", "fetch.wait.max.ms=1", "-f", "%s\n"],
                                  stdout=subprocess.PIPE)
        threading.Thread(target=self.read, daemon=True).start()

    def read(self):
        for line in self.p.stdout:
            try:
                self.seen.setdefault(int(json.loads(line)["args"][0]), time.time())
            except (ValueError, KeyError):
                pass

    def close(self):
        self.p.terminate()
        self.p.wait()


def pct(xs, q):
    return 1000 * xs[min(len(xs) - 1, int(len(xs) * q))]


def latency(a, dc, dr, tmp, procs):
    rport = free_port()
    procs.append(subprocess.Popen(["/usr/bin/redis-server", "--port", str(rport), "--save", "",
                                   "--appendonly", "no"], stdout=subprocess.DEVNULL))
    r = redis.Redis(port=rport)
    wait(lambda: benchlib.ping(r), 10, "redis")
    aport = free_port()
    procs.append(subprocess.Popen([a.walrus, "apply", "--brokers", dr, "--topic", "lat",
                                   "--group", "lat", "--redis", "redis://127.0.0.1:%d" % rport,
                                   "--admin", "127.0.0.1:%d" % aport, "--log-level", "warn",
                                   "--src-key-file", a.key_file, "--trusted-source", "dc",
                                   "-X", "session.timeout.ms=6000", "-X",
                                   "heartbeat.interval.ms=500", "-X", "fetch.wait.max.ms=5"]))
    wait(lambda: ready(aport), 60, "applier ready")
    from kafka import KafkaProducer  # Debian python3-kafka: an independent client
    kp = KafkaProducer(bootstrap_servers=dc, linger_ms=0, acks=1)
    for label, extra in (("transactional", []), ("--no-transactions", ["--no-transactions"])):
        mport = free_port()
        m = subprocess.Popen([a.walrus, "mirror", "--source", dc, "--target", dr,
                              "--source-alias", "dc", "--target-alias", "dr", "--topics", "lat",
                              "--admin", "127.0.0.1:%d" % mport, "--log-level", "warn",
                              "--src-key-file", a.key_file]
                             + extra + a.mirror_arg)
        wait(lambda: ready(mport), 60, "mirror ready")
        witness = Witness(dr) if a.stages else None
        for _ in range(1000):  # warm-up: until a record makes it through the whole chain
            kp.send("lat", key=b"lat", value=json.dumps(
                {"cmd": "RPUSH", "key": "lat", "args": ["-1"]}).encode())
            kp.flush()
            if r.blpop("lat", timeout=0.1):
                break
        time.sleep(0.5)
        r.delete("lat")
        sent, popped = {}, {}
        n = a.rate * a.seconds

        def popper():
            while len(popped) < n:
                item = r.blpop("lat", timeout=30)
                if item is None:
                    return
                i = int(item[1])
                if i >= 0:
                    popped[i] = time.time()
        th = threading.Thread(target=popper)
        th.start()
        t0 = time.time()
        for i in range(n):
            delay = t0 + i / a.rate - time.time()
            if delay > 0:
                time.sleep(delay)
            sent[i] = time.time()
            kp.send("lat", key=b"lat", value=json.dumps(
                {"cmd": "RPUSH", "key": "lat", "args": [str(i)]}).encode())
        kp.flush()
        th.join()
        m.terminate()
        m.wait()
        total = sorted(popped[i] - sent[i] for i in popped)
        if len(total) < n:
            print("latency: only %d of %d arrived" % (len(total), n))
        line = "produce(dc) -> visible(dr redis), mirror %s, %d/s, %d samples: p50 %.1f ms, " \
               "p99 %.1f ms, max %.1f ms" % (label, a.rate, len(total), pct(total, 0.5),
                                              pct(total, 0.99), 1000 * total[-1])
        if witness:
            witness.close()
            ids = [i for i in popped if i in witness.seen]
            mir = sorted(witness.seen[i] - sent[i] for i in ids)
            app = sorted(popped[i] - witness.seen[i] for i in ids)
            line += "\n    stages (%d samples): dc -> dr Kafka (mirror) p50 %.1f p99 %.1f ms; " \
                    "dr Kafka -> Redis (applier) p50 %.1f p99 %.1f ms" % (
                        len(ids), pct(mir, 0.5), pct(mir, 0.99), pct(app, 0.5), pct(app, 0.99))
        print(line, flush=True)
    kp.close()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=300000)
    ap.add_argument("--trials", type=int, default=3)
    ap.add_argument("--rate", type=int, default=200)
    ap.add_argument("--seconds", type=int, default=10, help="latency phase length (0: skip)")
    ap.add_argument("--stages", action="store_true",
                    help="split the latency with a kcat witness on the DR cluster")
    ap.add_argument("--workers", default="1,2",
                    help="comma-separated --workers values to run the mirror with")
    ap.add_argument("--walrus", default=benchlib.walrus_bin())
    ap.add_argument("--mirror-arg", action="append", default=[],
                    help="extra argument for every mirror started (repeatable)")
    ap.add_argument("--baseline-walrus", default="",
                    help="another walrus build whose mirror runs in every trial too (no key flags)")
    a = ap.parse_args()
    a.workers = [int(w) for w in a.workers.split(",")]
    tmp = tempfile.mkdtemp(prefix="mirror-bench-")
    a.key_file = os.path.join(tmp, "src-key")
    with open(a.key_file, "w") as f:
        f.write(secrets.token_hex(32) + "\n")
    procs = []
    try:
        dc = devkafka(a.walrus, "dc", ["bench:%d" % PARTS, "lat:%d" % PARTS], tmp, procs)
        dr_topics = ["lat:%d" % PARTS, "lat.dlq:%d" % PARTS]
        for i in range(a.trials):
            dr_topics += ["%s:%d" % (t % i, PARTS) for _, t, _ in variants(a)]
        dr = devkafka(a.walrus, "dr", dr_topics, tmp, procs)
        data = os.path.join(tmp, "data")
        with open(data, "w") as f:
            for i in range(a.records):
                f.write("k%d\t{\"cmd\":\"SET\",\"key\":\"k%d\",\"args\":[\"%032d\"]}\n" % (i, i, i))
        subprocess.run([KCAT, "-P", "-b", dc, "-t", "bench", "-K", "\t", "-l", "-X",
                        "linger.ms=20", data], check=True)
        total = Observer(dc).count("bench")
        print("pre-produced %d records into dc/bench" % total, flush=True)
        if a.trials > 0:
            throughput(a, dc, dr, total)
        if a.seconds > 0:
            latency(a, dc, dr, tmp, procs)
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()


if __name__ == "__main__":
    main()
