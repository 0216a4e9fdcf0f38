"""`walrus verify` end to end: exit codes, summary and first differences, sidecar handling.

(Convergence itself is tested by src/crdt/crdt_property_test.cc; the Kafka path of
`walrus apply --mode crdt` across three regions is tested once mirroring is wired.)
"""

import subprocess

import harness


def run_verify(walrus_bin, *args):
    return subprocess.run([walrus_bin, "verify", *args], capture_output=True, text=True,
                          timeout=120)


def fill(client, rng, n, order):
    pipe = client.pipeline(transaction=False)
    items = list(range(n))
    order.shuffle(items)
    for i in items:
        pipe.set("k:%d" % i, "v%d" % i)
        pipe.hset("h:%d" % (i % 50), "f%d" % i, i)
        pipe.sadd("s:%d" % (i % 20), "m%d" % i)
    pipe.zadd("z", {"a": 1.5, "b": 2})
    pipe.xadd("x", {"f": "v"}, id="1-1")
    pipe.pexpireat("k:1", 4000000000000)
    pipe.hset("walrus:m:{k:2}:k:2", "t", "r")
    pipe.execute()


def test_verify_identical_divergent_and_errors(procs, walrus_bin, tmp_path, rng):
    servers = [harness.RedisServer(procs, tmp_path / ("r%d" % i)) for i in range(3)]
    for s in servers:
        fill(s.client(), rng, 3000, rng)  # same content, different insertion orders
    # Applier positions differ between regions by design and are not compared.
    for i, s in enumerate(servers):
        s.client().set("walrus:pos:t:0", str(i))
    urls = [s.url for s in servers]

    r = run_verify(walrus_bin, *urls)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "identical" in r.stdout
    assert "3 instances" in r.stdout
    assert "keys compared (1 sidecars)" in r.stdout, r.stdout

    c = servers[2].client()
    c.set("k:7", "changed")
    c.hdel("h:3", "f3")
    c.pexpireat("k:1", 4000000009000)  # beyond the 1 s default tolerance
    c.hset("walrus:m:{k:2}:k:2", "t", "c")
    r = run_verify(walrus_bin, *urls)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "4 keys differ" in r.stdout, r.stdout
    for key in ("'k:7'", "'h:3'", "'k:1'", "'walrus:m:{k:2}:k:2'"):
        assert key in r.stdout, r.stdout

    r = run_verify(walrus_bin, "--no-sidecars", "--ttl-tolerance-ms", "10000", *urls)
    assert r.returncode == 1 and "2 keys differ" in r.stdout, r.stdout

    r = run_verify(walrus_bin, urls[0])
    assert r.returncode == 2, r.stdout + r.stderr
    r = run_verify(walrus_bin, urls[0], "redis://127.0.0.1:%d" % harness.free_port())
    assert r.returncode == 2 and "error" in r.stderr, r.stdout + r.stderr
