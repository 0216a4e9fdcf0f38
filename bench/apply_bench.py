#!/usr/bin/python3
"""Applier throughput benchmark: walrus apply draining pre-produced ops vs redis-benchmark.

Starts `walrus devkafka` (topic bench:12), one redis-server and `walrus apply`, all on free
loopback ports. For each variant (SET with 64-byte values, INCR) it:
  1. freezes the applier (SIGSTOP) and pre-produces ops with kcat in rounds small enough for the
     mock cluster's ~5 MiB per-partition retention,
  2. resumes it (SIGCONT) and times the drain by polling the positions the applier stores in
     Redis (walrus:pos:bench:<p>) until they reach the topic's end offsets,
  3. runs `redis-benchmark -P 64` for the same command and value size on the same redis-server.
Prints ops/s for both, the ratio, the CPU time each process used during the drains (where the
time goes: applier main thread vs its librdkafka threads, redis-server, the mock brokers) and
the applier's peak RSS.

Usage: bench/apply_bench.py [--ops 1000000] [--round 250000] [--walrus build/src/cli/walrus]
"""
import argparse
import os
import random
import signal
import subprocess
import sys
import tempfile
import time

import redis

import benchlib
from benchlib import cpu_seconds, free_port, ping, ready, rss_peak_kb, wait


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--walrus", default=benchlib.walrus_bin())
    ap.add_argument("--ops", type=int, default=1_000_000)
    ap.add_argument("--round", type=int, default=250_000)
    ap.add_argument("--variants", default="set,incr")
    ap.add_argument("--apply-arg", action="append", default=[],
                    help="extra argument for walrus apply (repeatable), e.g. --apply-arg=--batch-max-ops=20000")
    ap.add_argument("--rounds-detail", action="store_true",
                    help="per round: delay until the first batch lands in Redis, rate after it")
    ap.add_argument("--perf", help="record a perf profile of the applier's drains into this file")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="walrus-bench-")
    procs = []
    try:
        boot = os.path.join(work, "bootstrap")
        procs.append(subprocess.Popen(
            [args.walrus, "devkafka", "--cluster", "bench", "--topic", "bench:12",
             "--bootstrap-file", boot], stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "devkafka.log"), "w")))
        wait(lambda: os.path.exists(boot) and os.path.getsize(boot) > 0, 20, "devkafka")
        brokers = open(boot).read().strip().split("=", 1)[1]
        rport = free_port()
        devkafka = procs[0]
        procs.append(subprocess.Popen(
            ["redis-server", "--port", str(rport), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", work], stdout=subprocess.DEVNULL))
        redis_proc = procs[-1]
        r = redis.Redis(port=rport)
        wait(lambda: ping(r), 10, "redis")

        aport = free_port()
        applier = subprocess.Popen(
            [args.walrus, "apply", "--brokers", brokers, "--topic", "bench", "--group", "bench",
             "--redis", f"redis://127.0.0.1:{rport}", "--admin", f"127.0.0.1:{aport}",
             "--log-level", "warn"] + args.apply_arg, stderr=open(os.path.join(work, "apply.log"), "w"))
        procs.append(applier)
        wait(lambda: ready(aport), 60, "applier readiness")

        value = "".join(random.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(64))
        produced = 0
        results = {}
        tx_before = 0.0
        tx_count_before = 0.0
        for variant in args.variants.split(","):
            applied_time = 0.0
            cpu = [0.0, 0.0, 0.0]  # applier, redis-server, devkafka
            cpu_threads = {}
            done = 0
            while done < args.ops:
                n = min(args.round, args.ops - done)
                os.kill(applier.pid, signal.SIGSTOP)
                lines = []
                for i in range(n):
                    k = f"{variant}:{random.randrange(1_000_000)}"
                    if variant == "set":
                        lines.append(f'{k}\t{{"cmd":"SET","key":"{k}","args":["{value}"]}}')
                    else:
                        lines.append(f'{k}\t{{"cmd":"INCR","key":"{k}"}}')
                subprocess.run(["kcat", "-P", "-b", brokers, "-t", "bench", "-K", "\t",
                                "-X", "linger.ms=50", "-X", "batch.num.messages=10000"],
                               input=("\n".join(lines) + "\n").encode(), check=True)
                produced += n
                perf = None
                if args.perf:
                    perf = subprocess.Popen(["perf", "record", "-F", "2000", "-g", "-p", str(applier.pid),
                                             "-o", f"{args.perf}.{variant}"], stderr=subprocess.DEVNULL)
                    time.sleep(0.5)
                cpu0 = [cpu_seconds(p.pid) for p in (applier, redis_proc, devkafka)]
                os.kill(applier.pid, signal.SIGCONT)
                t0 = time.perf_counter()
                base = produced - n
                first_deadline = time.time() + 300
                while _applied(r) <= base and time.time() < first_deadline:
                    time.sleep(0.002)
                t_first = time.perf_counter() - t0
                wait(lambda: _applied(r) >= produced, 300, "drain")
                applied_time += time.perf_counter() - t0
                if args.rounds_detail:
                    el = time.perf_counter() - t0
                    print(f"      round of {n}: first batch in Redis after {t_first * 1000:.0f} ms, "
                          f"drained in {el:.2f} s ({n / max(el - t_first, 1e-9):,.0f} ops/s after the first batch)",
                          flush=True)
                cpu1 = [cpu_seconds(p.pid) for p in (applier, redis_proc, devkafka)]
                for i in range(3):
                    cpu[i] += cpu1[i][0] - cpu0[i][0]
                for k, v in cpu1[0][1].items():
                    cpu_threads[k] = cpu_threads.get(k, 0.0) + v - cpu0[0][1].get(k, 0.0)
                if perf:
                    perf.send_signal(signal.SIGINT)
                    perf.wait()
                done += n
            ops_s = args.ops / applied_time
            tx_secs = benchlib.metric(aport, "walrus_apply_batch_seconds_sum") - tx_before
            tx_before += tx_secs
            n_tx = benchlib.metric(aport, "walrus_apply_batch_ops_count") - tx_count_before
            tx_count_before += n_tx
            bench_test = "set" if variant == "set" else "incr"
            ref = benchlib.redis_benchmark(rport, ["-t", bench_test, "-d", "64"], args.ops)
            results[variant] = (ops_s, ref)
            print(f"{variant:5s} applier {ops_s:>12,.0f} ops/s   redis-benchmark -P 64 {ref:>12,.0f} ops/s"
                  f"   ratio {ops_s / ref:.2f}   (batch fence-to-settle time summed: "
                  f"{100 * tx_secs / applied_time:.0f}% of the drain; over 100% = batches overlap)",
                  flush=True)
            print(f"      {n_tx:.0f} Redis transactions, {args.ops / max(n_tx, 1):,.0f} ops each on average",
                  flush=True)
            threads = ", ".join(f"{k} {v:.2f}" for k, v in sorted(cpu_threads.items()))
            print(f"      CPU s during the drain ({applied_time:.2f} s wall): applier {cpu[0]:.2f} "
                  f"({threads}), redis-server {cpu[1]:.2f}, devkafka {cpu[2]:.2f}", flush=True)
        print(f"applier peak RSS {rss_peak_kb(applier.pid) / 1024:.1f} MiB")
    finally:
        for p in procs:
            try:
                os.kill(p.pid, signal.SIGCONT)
                p.terminate()
                p.wait(timeout=10)
            except Exception:
                p.kill()
    return 0


def _applied(r):
    vals = r.mget([f"walrus:pos:bench:{p}" for p in range(12)])
    return sum(int(v) for v in vals if v is not None)


if __name__ == "__main__":
    sys.exit(main())
