"""A mirror's stored source position outside the source log holds that source partition until an
operator decides (issue 12, `walrus mirror`; docs/log-gaps.md).

(a) Retention gap: DC devkafka -> `walrus mirror` -> DR devkafka. The mirror copied 5 INCRBY of
    partition 0 and stopped (killed by PID; or, `while_running`, frozen with SIGSTOP so that its
    next fetch finds its position gone: the reactive path). ~7 MiB of big SETs then made devkafka
    (~5 MiB per partition) drop the oldest records of DC partition 0, uncopied ones included.
    The mirror holds partition 0 and reports the gap [5, low) with its size: an ERROR log line,
    /readyz 503 naming it, /metrics (walrus_mirror_partition_held, walrus_mirror_gap_records),
    `walrus status` (exit 1, HELD); nothing of partition 0 is copied past the gap (DR end stays
    5), partition 1 keeps flowing. `walrus mirror-position --accept-gap --reason ...` (the
    documented decision, recorded in the target's walrus-mirror.offsets) lets the running mirror
    copy the rest: DR partition 0 holds exactly source offsets 0..4 and low..84 (kcat).

(b) Replaced source cluster: the DC cluster is replaced by a new, empty devkafka with 3 (or 8)
    records per partition; the stored positions (5) are beyond its end (3): both partitions are
    held (beyond_end by 2); with 8 records offsets cannot tell, the source cluster id recorded in
    the target does (cluster_changed). Nothing is copied, also after a mirror restart, until
    `--all-held --reset-to-log-start`; then the new records of each partition are copied, once.

Today (auto.offset.reset=earliest on the mirror's source consumer) (a) silently copies from the
new log start and (b) from offset 0 with /readyz 200: both fail at the first /readyz check.
"""

import json
import re
import signal
import subprocess

import pytest

import harness
import kafka_io
from mirror_harness import Cluster, Mirror, status_json

TOPIC = harness.TOPIC
TOPICS = ["%s:2" % TOPIC, "%s.dlq:2" % TOPIC]


def incr(p, n):
    return [(b"ctr:%d" % p, json.dumps({"cmd": "INCRBY", "key": "ctr:%d" % p,
                                        "args": ["1"]}).encode())] * n


def metric(mirror, name, **labels):
    return harness.metric_sum(mirror.metrics(), name, **labels)


readyz = harness.readyz
wait_held = harness.wait_held


def wait_ends(brokers, want, what, mirror, timeout=60):
    harness.wait_until(lambda: mirror.check_alive() or
                       kafka_io.end_offsets(brokers, TOPIC, len(want)) == want, timeout, what,
                       interval=0.1, on_timeout=lambda: "ends %s\n%s" % (
                           kafka_io.end_offsets(brokers, TOPIC, len(want)),
                           mirror.proc.log_tail()))


def mirror_position(walrus_bin, dc, dr, *args):
    res = subprocess.run([walrus_bin, "mirror-position", "--source", dc.brokers, "--target",
                          dr.brokers, "--source-alias", "dc", "--topic", TOPIC,
                          "--operator", "e2e"] + list(args), capture_output=True, timeout=60)
    return res.returncode, res.stdout.decode(), res.stderr.decode()


def src_offsets(brokers, partition):
    """Source offsets (from walrus-src) of the records of a DR partition, in log order."""
    return [int(r["headers"]["walrus-src"].rsplit("/", 1)[1])
            for r in kafka_io.read_topic(brokers, TOPIC) if r["partition"] == partition]


def decisions(brokers):
    return [json.loads(r["value"]) for r in kafka_io.read_topic(brokers, "walrus-mirror.offsets")
            if r["key"] and b"/decision/" in r["key"]]


def status(walrus_bin, dc, dr):
    rc, st, _ = status_json(walrus_bin, ["--cluster", "dc=" + dc.brokers, "--cluster",
                                         "dr=" + dr.brokers, "--topics", TOPIC])
    table = subprocess.run([walrus_bin, "status", "--cluster", "dc=" + dc.brokers, "--cluster",
                            "dr=" + dr.brokers, "--topics", TOPIC], capture_output=True,
                           timeout=60).stdout.decode()
    rows = {(r["cluster"], r["partition"]): r for r in st["partitions"]}
    return rc, rows, table


def mirror_args(dc, dr):
    return ["--source", dc.brokers, "--target", dr.brokers, "--source-alias", "dc",
            "--target-alias", "dr", "--topics", TOPIC]


def mirrored_five(procs, walrus_bin, tmp_path):
    """DC and DR devkafka, 5 INCRBY per DC partition, copied by a mirror: (dc, dr, mirror)."""
    dc = Cluster(procs, walrus_bin, tmp_path, "dc", TOPICS)
    dr = Cluster(procs, walrus_bin, tmp_path, "dr", TOPICS)
    for p in (0, 1):
        kafka_io.produce(dc.brokers, TOPIC, incr(p, 5), str(tmp_path), partition=p)
    m = Mirror(procs, walrus_bin, mirror_args(dc, dr))
    m.wait_ready()
    harness.wait_until(lambda: m.check_alive() or m.positions(TOPIC) == {0: 5, 1: 5}, 60,
                       "mirror positions 5, 5", on_timeout=lambda: m.proc.log_tail())
    return dc, dr, m


@pytest.mark.parametrize("while_running", [False, True], ids=["at_start", "while_running"])
def test_retention_gap_is_held_until_the_operator_decides(procs, walrus_bin, tmp_path,
                                                          while_running):
    dc, dr, m = mirrored_five(procs, walrus_bin, tmp_path)
    if while_running:
        m.proc.signal(signal.SIGSTOP)
    else:
        m.kill9()

    # ~7 MiB into DC partition 0: devkafka keeps ~5 MiB and drops the oldest, uncopied ones too.
    big = [(b"big:%d" % i, json.dumps({"cmd": "SET", "key": "big:%d" % i,
                                       "args": ["v" * 100000]}).encode()) for i in range(70)]
    for i in range(0, 70, 10):
        kafka_io.produce(dc.brokers, TOPIC, big[i:i + 10], str(tmp_path), partition=0)
    kafka_io.produce(dc.brokers, TOPIC, incr(0, 10), str(tmp_path), partition=0)
    kafka_io.produce(dc.brokers, TOPIC, incr(1, 3), str(tmp_path), partition=1)
    low = kafka_io.start_offsets(dc.brokers, TOPIC, 2)[0]
    assert kafka_io.end_offsets(dc.brokers, TOPIC, 2) == [85, 8] and 5 < low < 75, low

    if while_running:
        m.proc.signal(signal.SIGCONT)
    else:
        m.start()
    clause = "source partition %s[0] held: retention gap [5, %d) of %d records" % (
        TOPIC, low, low - 5)
    body = wait_held(m, [clause, "1 partition(s) held, an operator must decide"])
    assert "source log [%d, 85]" % low in body, body
    wait_ends(dr.brokers, [5, 8], "partition 1 flowing, partition 0 not past the gap", m)
    assert metric(m, "walrus_mirror_partition_held", partition=0, reason="retention_gap") == 1
    assert metric(m, "walrus_mirror_gap_records", partition=0) == low - 5
    assert metric(m, "walrus_mirror_partition_held", partition=1) is None
    log = m.proc.log_text()
    assert re.search(r" error mirror flow dc:dr: %s" % re.escape(clause), log), log[-3000:]
    assert "walrus mirror-position" in log
    if while_running:
        assert metric(m, "walrus_mirror_fetch_out_of_range_total") >= 1
        assert "source fetch position 5 of %s[0] is not in the source log" % TOPIC in log
    rc, rows, table = status(walrus_bin, dc, dr)
    assert rc == 1, rows
    assert rows[("dr", 0)]["mirror_state"] == "retention_gap", rows[("dr", 0)]
    assert rows[("dr", 0)]["mirror_outside"] == low - 5
    assert "retention gap [5, %d)" % low in rows[("dr", 0)]["mirror_held"], rows[("dr", 0)]
    assert rows[("dr", 1)]["mirror_lag"] == 0 and rows[("dr", 1)]["mirror_held"] == ""
    assert "HELD" in table and "mirror position 5 (from dc)" in table, table
    assert kafka_io.end_offsets(dr.brokers, TOPIC, 2) == [5, 8]  # still nothing past the gap

    # Decisions: without a reason a usage error; outside the source log refused; then accepted.
    rc, out, err = mirror_position(walrus_bin, dc, dr, "--partition", "0", "--accept-gap")
    assert rc == 2 and "--reason" in err, (rc, out, err)
    rc, out, err = mirror_position(walrus_bin, dc, dr, "--partition", "0", "--reset-to", "2",
                                   "--reason", "outside")
    assert rc == 1 and "outside the source log [%d, 85]" % low in err, (rc, out, err)
    rc, out, err = mirror_position(walrus_bin, dc, dr, "--partition", "1", "--accept-gap",
                                   "--reason", "not held")
    assert rc == 1 and "is not held" in err, (rc, out, err)
    rc, out, err = mirror_position(walrus_bin, dc, dr, "--partition", "0")  # a look: no change
    assert rc == 0 and "retention_gap (%d offsets)" % (low - 5) in out and "HELD" in out, out
    rc, out, err = mirror_position(walrus_bin, dc, dr, "--partition", "0", "--accept-gap",
                                   "--reason", "records lost to retention, accepted (e2e)")
    assert rc == 0, (rc, out, err)
    assert "decision: dc/%s[0] accept-gap position 5 -> %d (source log [%d, 85]) by e2e" % (
        TOPIC, low, low) in out, out

    # The running mirror applies it: exactly the rest of partition 0 is copied.
    wait_ends(dr.brokers, [5 + 85 - low, 8], "the rest of partition 0 copied", m)
    m.wait_ready(timeout=30)
    assert metric(m, "walrus_mirror_partition_held") is None
    assert src_offsets(dr.brokers, 0) == list(range(5)) + list(range(low, 85))
    assert src_offsets(dr.brokers, 1) == list(range(8))
    assert "hold lifted by an operator decision (accept-gap by e2e" in m.proc.log_text()
    d = decisions(dr.brokers)
    assert len(d) == 1 and d[0]["action"] == "accept-gap" and d[0]["position"] == 5 \
        and d[0]["new_position"] == low and d[0]["by"] == "e2e" \
        and d[0]["why"] == "records lost to retention, accepted (e2e)", d
    rc, rows, _ = status(walrus_bin, dc, dr)
    assert rc == 0 and rows[("dr", 0)]["mirror_lag"] == 0, rows
    rc, out, err = mirror_position(walrus_bin, dc, dr, "--partition", "0", "--accept-gap",
                                   "--reason", "again")
    assert rc == 1 and "is not held" in err, (rc, out, err)
    # A restart finds everything in order (the hold record says released).
    m.restart()
    m.wait_ready()
    assert metric(m, "walrus_mirror_partition_held") is None


@pytest.mark.parametrize("new_records", [3, 8], ids=["shorter", "longer"])
def test_replaced_source_cluster_is_held(procs, walrus_bin, tmp_path, new_records):
    """shorter: the new log (3) ends below the stored positions (5): beyond_end by 2. longer: the
    new log (8) is already past them: offsets cannot tell, the source cluster id stored beside
    the positions ("dc/cluster-id") does (devkafka derives it from an address, so two processes
    differ)."""
    dc, dr, m = mirrored_five(procs, walrus_bin, tmp_path)
    m.kill9()
    dc.proc.kill9()
    (tmp_path / "dc2").mkdir()
    dc = Cluster(procs, walrus_bin, tmp_path / "dc2", "dc", TOPICS)  # a new, empty DC cluster
    for p in (0, 1):
        kafka_io.produce(dc.brokers, TOPIC, incr(p, new_records), str(tmp_path), partition=p)
    m = Mirror(procs, walrus_bin, mirror_args(dc, dr), name="mirror2")
    if new_records < 5:
        clause, reason = "stored position 5 beyond source log end 3 by 2", "beyond_end"
    else:
        clause, reason = "source Kafka cluster changed (positions stored for cluster", \
            "cluster_changed"
    body = wait_held(m, ["2 partition(s) held"] + [
        "source partition %s[%d] held: %s" % (TOPIC, p, clause) for p in (0, 1)])
    for p in (0, 1):
        assert metric(m, "walrus_mirror_partition_held", partition=p, reason=reason) == 1, body
    assert kafka_io.end_offsets(dr.brokers, TOPIC, 2) == [5, 5]  # nothing copied
    rc, rows, table = status(walrus_bin, dc, dr)
    assert rc == 1 and rows[("dr", 0)]["mirror_held"], rows
    assert "HELD" in table, table
    # A restart keeps them held (the holds are stored in the target), also once the cluster id
    # of the new cluster is recorded.
    m.restart()
    wait_held(m, ["2 partition(s) held"])
    harness.wait_until(lambda: "hold stored in the target" in m.proc.log_text(), 30, "log line")

    rc, out, err = mirror_position(walrus_bin, dc, dr, "--all-held", "--accept-gap",
                                   "--reason", "no gap here")
    assert rc == 1 and "no retention gap" in err, (rc, out, err)
    rc, out, err = mirror_position(walrus_bin, dc, dr, "--all-held", "--reset-to-log-start",
                                   "--reason", "DC Kafka rebuilt (e2e)")
    assert rc == 0 and out.count("decision: dc/%s[" % TOPIC) == 2 \
        and "reset-to-log-start position 5 -> 0" in out, (rc, out, err)
    wait_ends(dr.brokers, [5 + new_records] * 2, "the new logs copied", m)
    m.wait_ready(timeout=30)
    for p in (0, 1):  # the old 5 records, then the new log's, each once
        assert src_offsets(dr.brokers, p) == list(range(5)) + list(range(new_records))
    assert len(decisions(dr.brokers)) == 2
