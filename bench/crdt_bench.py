#!/usr/bin/python3
"""crdt-mode throughput: CrdtPlanner + walrus' pipelined client vs redis-benchmark EVALSHA.

Starts one redis-server on a free loopback port. For each variant (LWW SET with 64-byte values,
counter INCR, set SADD) it
  1. runs `crdt_bench` (src/crdt/crdt_bench.cc): records planned by CrdtPlanner and applied in
     the applier's shape, batches of MULTI + SCRIPT LOAD + one EVALSHA per record + EXEC,
  2. runs `redis-benchmark -P 64` of EVALSHA of the same merge script with the same arguments
     (random keys and random stamps via __rand_int__),
on the same redis-server, FLUSHALL in between, and prints ops/s for both and their ratio.

Usage: bench/crdt_bench.py [--n 200000] [--bin build/src/crdt/crdt_bench]
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import benchlib
from benchlib import free_port


def cli(port, *args, stdin=None):
    return subprocess.run(["redis-cli", "-p", str(port), *args], input=stdin, capture_output=True,
                          text=True, check=True).stdout.strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200000)
    root = benchlib.CHECKOUT
    ap.add_argument("--bin", default=os.path.join(root, "build/src/crdt/crdt_bench"))
    ap.add_argument("--script", default=os.path.join(root, "src/crdt/merge.lua"))
    args = ap.parse_args()

    port = free_port()
    tmp = tempfile.mkdtemp(prefix="walrus-crdt-bench-")
    srv = subprocess.Popen(["redis-server", "--port", str(port), "--save", "", "--appendonly",
                            "no", "--dir", tmp], stdout=subprocess.DEVNULL)
    try:
        deadline = time.time() + 10
        while True:
            try:
                if cli(port, "PING") == "PONG":
                    break
            except subprocess.CalledProcessError:
                pass
            if time.time() > deadline:
                sys.exit("redis-server did not start")
            time.sleep(0.05)
        with open(args.script) as f:
            sha = cli(port, "-x", "SCRIPT", "LOAD", stdin=f.read())
        val = "x" * 64
        # Same argument shapes as CrdtPlanner emits (3 keys, op, stamp, expiry mode/abs, id, args).
        stamp = "__rand_int__-0000.0000-us"
        variants = {
            "set": ["EVALSHA", sha, "3", "k:__rand_int__", "walrus:m:{k:__rand_int__}:k",
                    "walrus:c:{k:__rand_int__}:k", "SET", stamp, "P", "0", "0-0", val],
            "incr": ["EVALSHA", sha, "3", "c:__rand_int__", "walrus:m:{c:__rand_int__}:c",
                     "walrus:c:{c:__rand_int__}:c", "INCRBY", stamp, "", "0", "0-0", "1"],
            "sadd": ["EVALSHA", sha, "3", "s:{x}", "walrus:m:{x}:s", "walrus:c:{x}:s", "SADD",
                     stamp, "", "0", "0-0", "m__rand_int__"],
        }
        print(f"{'variant':8} {'walrus ops/s':>14} {'redis-benchmark':>16} {'ratio':>6}")
        for name, argv in variants.items():
            cli(port, "FLUSHALL")
            cli(port, "-x", "SCRIPT", "LOAD", stdin=open(args.script).read())
            out = subprocess.run([args.bin, "--url", f"redis://127.0.0.1:{port}", "--variant",
                                  name, "--n", str(args.n)], capture_output=True, text=True)
            if out.returncode != 0:
                sys.exit(f"crdt_bench failed: {out.stderr}")
            ours = float(out.stdout.split()[-1])
            cli(port, "FLUSHALL")
            theirs = benchlib.redis_benchmark(port, argv, args.n)
            print(f"{name:8} {ours:14.0f} {theirs:16.0f} {ours / theirs:6.2f}")
    finally:
        srv.terminate()
        srv.wait()


if __name__ == "__main__":
    main()
