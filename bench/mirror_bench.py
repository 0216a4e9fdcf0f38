#!/usr/bin/python3
"""Mirror benchmark: `walrus mirror` throughput vs a kcat consume->produce pipe between the same
two devkafka clusters (same run), and produce-in-DC -> visible-in-DR-Redis latency.

1. Starts two `walrus devkafka` clusters (dc, dr; topic bench:12 in both, pipe:12 in dr) and
   pre-produces --records small records into dc/bench with kcat.
2. Throughput: starts `walrus mirror` (transactional, then --no-transactions on a fresh target
   topic) and `kcat -C -e dc/bench | kcat -P dr/pipe`; the rate of each is measured between 10%
   and 90% of the records (steady state: mirror by walrus_mirror_records_total, kcat by dr/pipe's
   end offsets), and also end to end including start-up. Prints the ratio mirror / kcat.
3. Latency: a redis-server and `walrus apply` on dr, the mirror running; RPUSH ops on one key
   produced into dc at --rate for --seconds (kafka-python, linger 0, after a warm-up record went
   through the whole chain); a client BLPOPs the list in the dr Redis: latency = pop time - send
   time. Prints p50/p99/max.

Usage: bench/mirror_bench.py [--records 300000] [--rate 200] [--seconds 10] [--walrus PATH]
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

import redis

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "e2e"))
from harness import free_port  # noqa: E402

KCAT = "/usr/bin/kcat"


def wait(pred, timeout, what):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.01)
    raise SystemExit("timed out waiting for " + what)


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


def ends(brokers, topic, parts=12):
    out = subprocess.run([KCAT, "-Q", "-b", brokers] + sum(
        [["-t", "%s:%d:-1" % (topic, p)] for p in range(parts)], []), capture_output=True).stdout
    return sum(int(m.group(1)) for m in re.finditer(rb"offset (\d+)", out))


def metrics(port):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=2) as r:
            return r.read().decode()
    except OSError:
        return ""


def ready(port):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d/readyz" % port, timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def mirror_positions(port, topic):
    return sum(float(v) for v in re.findall(
        r'walrus_mirror_position\{[^}]*topic="%s"[^}]*\} (\S+)' % re.escape(topic), metrics(port)))


def mirror_records(port):
    return sum(float(v) for v in re.findall(r'walrus_mirror_records_total\{[^}]*\} (\S+)',
                                            metrics(port)))


def steady_rate(progress, total, timeout):
    """Records/s between 10% and 90% of `total`, sampling progress() as fast as it answers."""
    t10 = t90 = None
    deadline = time.time() + timeout
    while t90 is None and time.time() < deadline:
        n, t = progress(), time.time()
        if t10 is None and n >= 0.1 * total:
            t10, n10 = t, n
        if t10 is not None and n >= 0.9 * total:
            t90, n90 = t, n
        time.sleep(0.005)
    if t90 is None or t90 == t10:
        return float("nan")
    return (n90 - n10) / (t90 - t10)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=300000)
    ap.add_argument("--rate", type=int, default=200)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--walrus", default="build/src/cli/walrus")
    ap.add_argument("--mirror-arg", action="append", default=[],
                    help="extra argument for every mirror started (repeatable)")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="mirror-bench-")
    procs = []
    try:
        dc = devkafka(a.walrus, "dc", ["bench:12", "lat:12"], tmp, procs)
        dr = devkafka(a.walrus, "dr", ["bench:12", "pipe:12", "pipe2:12", "lat:12", "lat.dlq:12"],
                      tmp, procs)
        dr2 = devkafka(a.walrus, "dr2", ["bench:12"], tmp, procs)
        data = os.path.join(tmp, "data")
        with open(data, "w") as f:
            for i in range(a.records):
                f.write("k%d\t{\"cmd\":\"SET\",\"key\":\"k%d\",\"args\":[\"%032d\"]}\n" % (i, i, i))
        subprocess.run([KCAT, "-P", "-b", dc, "-t", "bench", "-K", "\t", "-l", "-X",
                        "linger.ms=20", data], check=True)
        total = ends(dc, "bench")
        print("pre-produced %d records into dc/bench" % total)

        results = {}
        for label, target, extra in (("mirror (transactional)", dr, []),
                                     ("mirror (--no-transactions)", dr2, ["--no-transactions"])):
            port = free_port()
            t_start = time.time()
            p = subprocess.Popen([a.walrus, "mirror", "--source", dc, "--target", target,
                                  "--source-alias", "dc", "--target-alias", "dr", "--topics",
                                  "bench", "--admin", "127.0.0.1:%d" % port, "--log-level", "warn"]
                                 + extra + a.mirror_arg)
            procs.append(p)
            wait(lambda: ready(port), 60, "mirror ready")
            t0 = time.time()
            steady = steady_rate(lambda: mirror_records(port), total, 300)
            wait(lambda: mirror_positions(port, "bench") >= total, 300, "mirror to finish")
            done = time.time()
            results[label] = (steady, total / (done - t_start))
            print("%-28s %9.0f records/s steady (10%%..90%%); %9.0f records/s from ready to all "
                  "committed; %9.0f records/s from process start (%.2fs)" % (
                      label, steady, total / (done - t0), total / (done - t_start), done - t_start))
            p.terminate()
            p.wait()

        sh = ("%s -C -b %s -t bench -o beginning -e -q -K '\\t' | "
              "%s -P -b %s -t pipe -K '\\t'" % (KCAT, dc, KCAT, dr))
        t0 = time.time()
        subprocess.run(sh, shell=True, check=True)  # unobserved: process start to exit
        kcat_total = total / (time.time() - t0)
        t0 = time.time()
        pipe = subprocess.Popen(sh.replace("-t pipe", "-t pipe2"), shell=True)
        kcat_steady = steady_rate(lambda: ends(dr, "pipe2"), total, 300)  # observed by kcat -Q
        pipe.wait()
        print("%-28s %9.0f records/s steady (10%%..90%%, 2nd run, polled with kcat -Q); %9.0f "
              "records/s process start to exit" % ("kcat -C | kcat -P", kcat_steady, kcat_total))
        for label, (steady, from_start) in results.items():
            print("ratio %s / kcat pipe: steady %.2f, from process start %.2f" % (
                label, steady / kcat_steady, from_start / kcat_total))
        if a.seconds == 0:
            return
        # Latency: dr applier + mirror on topic lat.
        rport = free_port()
        procs.append(subprocess.Popen(["/usr/bin/redis-server", "--port", str(rport), "--save", "",
                                       "--appendonly", "no"], stdout=subprocess.DEVNULL))
        r = redis.Redis(port=rport)
        wait(lambda: _ping(r), 10, "redis")
        aport, mport = free_port(), free_port()
        procs.append(subprocess.Popen([a.walrus, "apply", "--brokers", dr, "--topic", "lat",
                                       "--group", "lat", "--redis", "redis://127.0.0.1:%d" % rport,
                                       "--admin", "127.0.0.1:%d" % aport, "--log-level", "warn",
                                       "-X", "session.timeout.ms=6000", "-X",
                                       "heartbeat.interval.ms=500", "-X", "fetch.wait.max.ms=5"]))
        procs.append(subprocess.Popen([a.walrus, "mirror", "--source", dc, "--target", dr,
                                       "--source-alias", "dc", "--target-alias", "dr", "--topics",
                                       "lat", "--admin", "127.0.0.1:%d" % mport,
                                       "--log-level", "warn"] + a.mirror_arg))
        wait(lambda: ready(aport) and ready(mport), 60, "applier and mirror ready")
        from kafka import KafkaProducer  # Debian python3-kafka: an independent client
        kp = KafkaProducer(bootstrap_servers=dc, linger_ms=0, acks=1)
        warm = r.blpop("lat", timeout=0.01)
        for i in range(1000):  # warm-up: until a record makes it through the whole chain
            kp.send("lat", key=b"lat", value=json.dumps(
                {"cmd": "RPUSH", "key": "lat", "args": ["-1"]}).encode())
            kp.flush()
            warm = r.blpop("lat", timeout=0.1)
            if warm:
                break
        time.sleep(0.5)
        r.delete("lat")
        sent, lat = {}, []
        n = a.rate * a.seconds

        def popper():
            got = 0
            while got < n:
                item = r.blpop("lat", timeout=30)
                if item is None:
                    return
                i = int(item[1])
                if i >= 0:
                    lat.append(time.time() - sent[i])
                    got += 1
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
        kp.close()
        lat.sort()
        if len(lat) < n:
            print("latency: only %d of %d arrived" % (len(lat), n))
        if lat:
            print("produce(dc) -> visible(dr redis) at %d/s, %d samples: p50 %.1f ms, p99 %.1f ms, "
                  "max %.1f ms" % (a.rate, len(lat), 1000 * lat[len(lat) // 2],
                                   1000 * lat[int(len(lat) * 0.99)], 1000 * lat[-1]))
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()


def _ping(r):
    try:
        return r.ping()
    except redis.ConnectionError:
        return False


if __name__ == "__main__":
    main()
