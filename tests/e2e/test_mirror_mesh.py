"""Three regions (us, eu, ap), each a devkafka cluster holding us.events, eu.events, ap.events;
one `walrus mirror` process per region pulls the other two regions' <src>.events (--cluster x3,
--flow x2: six flows in all). Writes go only to each region's own topic. Claims (read back with
kcat, an independent client): every region ends with, for every origin topic, exactly the
origin's records -- same partition, order, key, value, timestamp and original headers -- each
with walrus-src = <origin>/<topic>/<partition>/<offset>; nothing is mirrored back to its origin
(a record carrying walrus-origin=<target> is skipped); `walrus status` shows zero mirror lag.
The crdt appliers of the full three-region claim are not part of this test (--mode crdt is not
available in `walrus apply` yet).
"""

import json
import subprocess

import kafka_io
from harness import wait_until, scaled
from mirror_harness import Cluster, Mirror, status_json

REGIONS = ["us", "eu", "ap"]
PARTS = 4


def test_three_region_mesh_six_flows(procs, walrus_bin, tmp_path, rng):
    topics = ["%s.events:%d" % (r, PARTS) for r in REGIONS]
    clusters = {r: Cluster(procs, walrus_bin, tmp_path, r, topics) for r in REGIONS}
    cargs = sum([["--cluster", "%s=%s" % (r, c.brokers)] for r, c in clusters.items()], [])
    mirrors = []
    for dst in REGIONS:
        flows = sum([["--flow", "%s:%s" % (src, dst)] for src in REGIONS if src != dst], [])
        mirrors.append(Mirror(procs, walrus_bin, cargs + flows, name="mirror-" + dst))
    for m in mirrors:
        m.wait_ready()
    n = scaled(6000)
    for r in REGIONS:
        recs = []
        for i in range(n):
            k = "%s:k%d" % (r, rng.randrange(500))
            recs.append((k.encode(), json.dumps({"cmd": "INCRBY", "key": k, "args": ["1"],
                                                 "origin": r}).encode()))
        kafka_io.produce(clusters[r].brokers, "%s.events" % r, recs, str(tmp_path))
    # One record that claims to come from eu: the eu-bound flow must not copy it back to eu.
    subprocess.run([kafka_io.KCAT, "-P", "-b", clusters["us"].brokers, "-t", "us.events", "-p", "0",
                    "-K", "\t", "-H", "walrus-origin=eu"], input=b'loop\t{"cmd":"DEL","key":"loop"}\n',
                   check=True, timeout=60)
    origin = {r: kafka_io.read_topic(clusters[r].brokers, "%s.events" % r) for r in REGIONS}
    ends = {r: kafka_io.end_offsets(clusters[r].brokers, "%s.events" % r, PARTS) for r in REGIONS}
    for dst in REGIONS:
        for src in REGIONS:
            if src == dst:
                continue
            # The loop record (walrus-origin=eu) reaches ap but never eu.
            expect = [o for o in origin[src] if not (dst == "eu" and o["key"] == b"loop")]
            assert len(expect) == len(origin[src]) - (1 if (src, dst) == ("us", "eu") else 0)
            wait_until(lambda: sum(kafka_io.end_offsets(clusters[dst].brokers, "%s.events" % src,
                                                        PARTS)) >= len(expect), 120,
                       "%s.events copied into %s" % (src, dst), interval=0.2)
            copy = kafka_io.read_topic(clusters[dst].brokers, "%s.events" % src)
            assert len(copy) == len(expect)
            # Same partition, same order within it.
            for p in range(PARTS):
                assert [c["key"] for c in copy if c["partition"] == p] == \
                    [o["key"] for o in expect if o["partition"] == p]
            by = {(c["partition"], c["headers"]["walrus-src"]): c for c in copy}
            for o in expect:
                c = by[(o["partition"], "%s/%s.events/%d/%d" % (src, src, o["partition"], o["offset"]))]
                assert (c["key"], c["value"], c["ts"]) == (o["key"], o["value"], o["ts"])
                if o["key"] == b"loop":
                    assert c["headers"]["walrus-origin"] == "eu"
    for m in mirrors:
        m.check_alive()
        assert not any(n_ == "walrus_mirror_restarts_total" and v > 0 for n_, _, v in m.metrics())
    rc, st, err = status_json(walrus_bin, cargs)
    assert rc == 0, err
    mirrored = [p for p in st["partitions"] if p["mirror_source"]]  # skipped records count as done
    assert len(mirrored) == 6 * PARTS and all(p["mirror_lag"] == 0 for p in mirrored), mirrored
    flows = {h["flow"] for h in st["heartbeats"]}
    assert flows == {"%s:%s" % (s, d) for s in REGIONS for d in REGIONS if s != d}, flows
