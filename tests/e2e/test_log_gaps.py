"""A stored position outside the log holds the partition until an operator decides (issue 12).

(a) Replaced cluster: an applier applied 15 INCRBY per partition; the Kafka cluster is replaced by
    a new, empty devkafka (the old process killed by PID) and the applier restarted against it;
    20 new INCRBY per partition are produced with kcat. The stored positions (15) are beyond the
    new log's end (10): both partitions are held, the reason with both numbers is in /readyz (503),
    /metrics (walrus_apply_partition_held, walrus_apply_gap_records) and `walrus status` (exit 1,
    HELD), nothing is counted as duplicate, the counters are unchanged. The hold survives an
    applier restart after the new log grew PAST the old position (offsets alone could not tell
    any more). Then the documented decision (`walrus position --all-held --reset-to-log-start`):
    every new record applies, counters exact, the decision recorded in walrus:decisions.

(a2) The same with a new log already LONGER than the stored positions (20 > 15): offsets cannot
    tell, the Kafka cluster id stored beside each position (walrus:kafka-cluster-id:<topic>:<p>)
    does.

(a3) The same, but the operator first decides about partition 0 only: partition 1's stale
    position, inside the new log, stays held by its own cluster id (`walrus status` says
    CLUSTER-CHANGED for it before the applier even runs).

(b) Retention gap: the applier applied 5 INCRBY and stopped; ~7 MiB of SETs then made devkafka
    (~5 MiB per partition) drop the oldest records, the 5.. unapplied ones included. The restarted
    applier holds the partition and reports the gap [5, low) with its size; nothing is skipped
    (position stays 5, counter 5) until `walrus position --accept-gap`; then the rest applies
    exactly and the decision is logged and recorded.

Today (auto.offset.reset=earliest) (a) counts the new records as duplicates with /readyz 200, and
(b) silently skips the gap with /readyz 200: both fail at the first /readyz check.
"""

import json
import re
import signal
import subprocess

import pytest

import harness
import kafka_io

TOPIC = harness.TOPIC
X = ["-X", "session.timeout.ms=6000", "-X", "heartbeat.interval.ms=500"]


def incr(p, n):
    return [(b"ctr:%d" % p, json.dumps({"cmd": "INCRBY", "key": "ctr:%d" % p,
                                        "args": ["1"]}).encode())] * n


def start_offsets(brokers, partitions):
    """Low watermark of every partition (kcat -Q with timestamp -2 = beginning)."""
    argv = [kafka_io.KCAT, "-Q", "-b", brokers]
    for p in range(partitions):
        argv += ["-t", "%s:%d:-2" % (TOPIC, p)]
    res = subprocess.run(argv, capture_output=True, timeout=60)
    out = [None] * partitions
    for line in res.stdout.decode().splitlines():
        m = re.match(r"^(\S+) \[(\d+)\] offset (-?\d+)", line.strip())
        if m and m.group(1) == TOPIC:
            out[int(m.group(2))] = int(m.group(3))
    assert res.returncode == 0 and None not in out, res
    return out


def metric(app, name, **labels):
    return harness.metric_sum(harness.parse_metrics(app.metrics()), name, **labels)


readyz = harness.readyz
wait_held = harness.wait_held


def status(walrus_bin, brokers, redis_url):
    res = subprocess.run([walrus_bin, "status", "--json", "--cluster", "local=" + brokers,
                          "--redis", "local=" + redis_url, "--topics", TOPIC],
                         capture_output=True, timeout=60)
    table = subprocess.run([walrus_bin, "status", "--cluster", "local=" + brokers,
                            "--redis", "local=" + redis_url, "--topics", TOPIC],
                           capture_output=True, timeout=60)
    return res.returncode, json.loads(res.stdout.decode()), table.stdout.decode()


def position(walrus_bin, redis_url, brokers, *args):
    res = subprocess.run([walrus_bin, "position", "--redis", redis_url, "--brokers", brokers,
                          "--topic", TOPIC, "--operator", "e2e"] + list(args),
                         capture_output=True, timeout=60)
    return res.returncode, res.stdout.decode(), res.stderr.decode()


def decisions(client):
    return [{k.decode(): v.decode() for k, v in fields.items()}
            for _, fields in client.xrange("walrus:decisions")]


def replaced_cluster(procs, walrus_bin, tmp_path):
    """15 INCRBY per partition applied from one devkafka, which is then killed by PID and
    replaced by a new empty one. Returns (new devkafka, redis client, redis url, old cluster id)."""
    old = harness.DevKafka(procs, walrus_bin, tmp_path, topics=["%s:2" % TOPIC, "%s.dlq:2" % TOPIC])
    redis = harness.RedisServer(procs, tmp_path / "redis")
    c = redis.client()
    for p in (0, 1):
        kafka_io.produce(old.brokers, TOPIC, incr(p, 15), str(tmp_path), partition=p)
    app = harness.Applier(procs, walrus_bin, old.brokers, redis.url, "g", extra=X)
    app.wait_ready()
    harness.wait_applied(c, [15, 15], [app], topic=TOPIC)
    old_id = c.get("walrus:kafka-cluster-id:%s:0" % TOPIC)
    assert old_id, "the applier did not record the Kafka cluster id"
    assert c.get("walrus:kafka-cluster-id:%s:1" % TOPIC) == old_id
    assert app.terminate() == 0
    old.proc.kill9()
    new = harness.DevKafka(procs, walrus_bin, tmp_path, topics=["%s:2" % TOPIC, "%s.dlq:2" % TOPIC])
    return new, c, redis.url, old_id


def test_replaced_cluster_is_held_until_the_operator_decides(procs, walrus_bin, tmp_path):
    new, c, redis_url, _ = replaced_cluster(procs, walrus_bin, tmp_path)
    app = harness.Applier(procs, walrus_bin, new.brokers, redis_url, "g", extra=X, name="apply2")
    for p in (0, 1):
        kafka_io.produce(new.brokers, TOPIC, incr(p, 10), str(tmp_path), partition=p)
    body = wait_held(app, ["%s[0] held: stored position 15 beyond log end 10 by 5" % TOPIC,
                           "%s[1] held: stored position 15 beyond log end 10 by 5" % TOPIC])
    assert "log replaced or truncated" in body, body
    for p in (0, 1):
        assert metric(app, "walrus_apply_partition_held", partition=p, reason="beyond_end") == 1
        assert metric(app, "walrus_apply_gap_records", partition=p) == 5
    assert metric(app, "walrus_apply_records_total", result="duplicate") == 0
    assert metric(app, "walrus_apply_records_total", result="applied") == 0
    assert "beyond log end 10" in app.proc.log_text()
    rc, st, table = status(walrus_bin, new.brokers, redis_url)
    assert rc == 1, (rc, st)
    rows = {r["partition"]: r for r in st["partitions"]}
    for p in (0, 1):
        assert rows[p]["redis_state"] == "beyond_end" and rows[p]["redis_outside"] == 5, rows[p]
        assert rows[p]["redis_lag"] is None and "beyond log end 10" in rows[p]["held"], rows[p]
    assert "HELD" in table and "beyond the log end by 5" in table, table
    assert [int(c.get("ctr:%d" % p)) for p in (0, 1)] == [15, 15]

    # The new log grows past the old position and the applier restarts: offsets alone would now
    # look fine (15 <= 20), the stored hold keeps the partitions held.
    for p in (0, 1):
        kafka_io.produce(new.brokers, TOPIC, incr(p, 10), str(tmp_path), partition=p)
    assert app.terminate() == 0
    app = harness.Applier(procs, walrus_bin, new.brokers, redis_url, "g", extra=X, name="apply3")
    wait_held(app, ["%s[0] held" % TOPIC, "%s[1] held" % TOPIC])
    harness.wait_until(lambda: "hold stored in Redis" in app.proc.log_text(), 30, "hold log line")
    assert metric(app, "walrus_apply_records_total", result="duplicate") == 0
    assert [int(c.get("ctr:%d" % p)) for p in (0, 1)] == [15, 15]
    assert harness.positions(c, TOPIC, 2) == [15, 15]

    # A decision without a reason is refused; the documented one lifts both holds.
    rc, out, err = position(walrus_bin, redis_url, new.brokers, "--all-held",
                            "--reset-to-log-start")
    assert rc == 2 and "--reason" in err, (rc, out, err)
    rc, out, err = position(walrus_bin, redis_url, new.brokers, "--all-held",
                            "--reset-to-log-start", "--reason", "cluster replaced (e2e)")
    assert rc == 0, (rc, out, err)
    assert out.count("decision: %s[" % TOPIC) == 2 and "position 15 -> 0" in out, out
    harness.wait_applied(c, [20, 20], [app], topic=TOPIC)
    assert [int(c.get("ctr:%d" % p)) for p in (0, 1)] == [35, 35]
    app.wait_ready(timeout=30)
    assert metric(app, "walrus_apply_records_total", result="duplicate") == 0
    assert metric(app, "walrus_apply_partition_held") is None
    d = decisions(c)
    assert len(d) == 2, d
    assert {x["partition"] for x in d} == {"0", "1"}
    for x in d:
        assert (x["action"], x["old_position"], x["new_position"], x["log_low"], x["log_high"],
                x["operator"], x["reason"]) == ("reset-to-log-start", "15", "0", "0", "20", "e2e",
                                                "cluster replaced (e2e)"), x
        assert json.loads(x["hold"])["reason"] == "beyond_end", x
    assert "hold lifted by an operator decision" in app.proc.log_text()
    rc, st, _ = status(walrus_bin, new.brokers, redis_url)
    assert rc == 0 and all(r["redis_state"] == "ok" and r["redis_lag"] == 0
                           for r in st["partitions"]), st


def test_replaced_cluster_with_a_longer_log_is_held_by_cluster_id(procs, walrus_bin, tmp_path):
    new, c, redis_url, old_id = replaced_cluster(procs, walrus_bin, tmp_path)
    for p in (0, 1):
        kafka_io.produce(new.brokers, TOPIC, incr(p, 20), str(tmp_path), partition=p)
    app = harness.Applier(procs, walrus_bin, new.brokers, redis_url, "g", extra=X, name="apply2")
    body = wait_held(app, ["%s[0] held: Kafka cluster changed" % TOPIC,
                           "%s[1] held: Kafka cluster changed" % TOPIC])
    assert "stored position 15" in body and old_id.decode() in body, body
    for p in (0, 1):
        assert metric(app, "walrus_apply_partition_held", partition=p,
                      reason="cluster_changed") == 1
    assert metric(app, "walrus_apply_records_total", result="applied") == 0
    assert metric(app, "walrus_apply_records_total", result="duplicate") == 0
    rc, st, table = status(walrus_bin, new.brokers, redis_url)
    assert rc == 1 and all("Kafka cluster changed" in r["held"] for r in st["partitions"]), st
    assert [int(c.get("ctr:%d" % p)) for p in (0, 1)] == [15, 15]

    rc, out, err = position(walrus_bin, redis_url, new.brokers, "--all-held",
                            "--reset-to-log-start", "--reason", "new cluster, replay it")
    assert rc == 0 and out.count("decision:") == 2, (rc, out, err)
    harness.wait_applied(c, [20, 20], [app], topic=TOPIC)
    assert [int(c.get("ctr:%d" % p)) for p in (0, 1)] == [35, 35]
    app.wait_ready(timeout=30)
    new_id = c.get("walrus:kafka-cluster-id:%s:0" % TOPIC)
    assert new_id and new_id != old_id, (old_id, new_id)
    assert c.get("walrus:kafka-cluster-id:%s:1" % TOPIC) == new_id
    assert all(x["kafka_cluster"] == new_id.decode() for x in decisions(c))
    # A restart now finds everything in order.
    assert app.terminate() == 0
    app = harness.Applier(procs, walrus_bin, new.brokers, redis_url, "g", extra=X, name="apply3")
    app.wait_ready()
    assert metric(app, "walrus_apply_partition_held") is None


def test_a_decision_about_one_partition_leaves_the_others_held(procs, walrus_bin, tmp_path):
    new, c, redis_url, old_id = replaced_cluster(procs, walrus_bin, tmp_path)
    for p in (0, 1):
        kafka_io.produce(new.brokers, TOPIC, incr(p, 20), str(tmp_path), partition=p)
    rc, out, err = position(walrus_bin, redis_url, new.brokers, "--partition", "0",
                            "--reset-to", "0", "--reason", "new cluster, replay partition 0")
    assert rc == 0 and out.count("decision:") == 1, (rc, out, err)
    assert c.get("walrus:kafka-cluster-id:%s:1" % TOPIC) == old_id
    rc, st, table = status(walrus_bin, new.brokers, redis_url)
    rows = {r["partition"]: r for r in st["partitions"]}
    assert rc == 1 and rows[0]["redis_state"] == "ok", st
    assert rows[1]["redis_state"] == "cluster_changed" and rows[1]["redis_lag"] is None, st
    assert rows[1]["redis_cluster_id"] == old_id.decode() != rows[1]["cluster_id"], st
    assert "CLUSTER-CHANGED" in table and "refers to another log" in table, table

    app = harness.Applier(procs, walrus_bin, new.brokers, redis_url, "g", extra=X, name="apply2")
    wait_held(app, ["%s[1] held: Kafka cluster changed" % TOPIC])
    harness.wait_until(lambda: app.check_alive() or c.get("walrus:pos:%s:0" % TOPIC) == b"20",
                       60, "partition 0 applied to 20", interval=0.1)
    assert int(c.get("ctr:0")) == 35
    assert metric(app, "walrus_apply_partition_held", partition=1, reason="cluster_changed") == 1
    assert metric(app, "walrus_apply_partition_lag", partition=1) is None
    assert int(c.get("ctr:1")) == 15 and c.get("walrus:pos:%s:1" % TOPIC) == b"15"


@pytest.mark.parametrize("while_running", [False, True], ids=["at_start", "while_running"])
def test_retention_gap_is_reported_and_never_skipped(procs, walrus_bin, tmp_path, while_running):
    """at_start: the applier is stopped while retention deletes, the check at assignment finds
    the gap. while_running: the applier is frozen (SIGSTOP, shorter than its session timeout, so
    no rebalance re-checks), and its next fetch finds the position gone (the reactive path)."""
    kafka = harness.DevKafka(procs, walrus_bin, tmp_path, topics=["%s:1" % TOPIC, "%s.dlq:1" % TOPIC])
    redis = harness.RedisServer(procs, tmp_path / "redis")
    c = redis.client()
    kafka_io.produce(kafka.brokers, TOPIC, incr(0, 5), str(tmp_path), partition=0)
    extra = ["-X", "session.timeout.ms=45000", "-X", "heartbeat.interval.ms=1000"] \
        if while_running else X
    app = harness.Applier(procs, walrus_bin, kafka.brokers, redis.url, "g", extra=extra)
    app.wait_ready()
    harness.wait_applied(c, [5], [app], topic=TOPIC)
    if while_running:
        app.proc.signal(signal.SIGSTOP)
    else:
        assert app.terminate() == 0

    # ~7 MiB into the partition: devkafka keeps ~5 MiB and drops the oldest, unapplied ones too.
    big = [(b"big:%d" % i, json.dumps({"cmd": "SET", "key": "big:%d" % i,
                                       "args": ["v" * 100000]}).encode()) for i in range(70)]
    for i in range(0, 70, 10):
        kafka_io.produce(kafka.brokers, TOPIC, big[i:i + 10], str(tmp_path), partition=0)
    kafka_io.produce(kafka.brokers, TOPIC, incr(0, 10), str(tmp_path), partition=0)
    low = start_offsets(kafka.brokers, 1)[0]
    end = kafka_io.end_offsets(kafka.brokers, TOPIC, 1)[0]
    assert end == 85 and 5 < low < 75, (low, end)

    if while_running:
        app.proc.signal(signal.SIGCONT)
    else:
        app = harness.Applier(procs, walrus_bin, kafka.brokers, redis.url, "g", extra=X,
                              name="apply2")
    body = wait_held(app, ["%s[0] held: retention gap [5, %d) of %d records" % (TOPIC, low, low - 5)])
    assert metric(app, "walrus_apply_partition_held", partition=0, reason="retention_gap") == 1
    assert metric(app, "walrus_apply_gap_records", partition=0) == low - 5
    if while_running:
        assert metric(app, "walrus_apply_fetch_out_of_range_total") >= 1
        assert "fetch position 5 of %s[0] is not in the log" % TOPIC in app.proc.log_text()
        assert "revoked" not in app.proc.log_text()  # no rebalance: the reactive path held it
    else:
        assert metric(app, "walrus_apply_records_total", result="applied") == 0
    rc, st, table = status(walrus_bin, kafka.brokers, redis.url)
    assert rc == 1 and st["partitions"][0]["redis_state"] == "retention_gap", st
    assert "retention gap [5, %d) of %d records" % (low, low - 5) in table, table
    assert harness.positions(c, TOPIC, 1) == [5] and int(c.get("ctr:0")) == 5
    assert c.exists("big:%d" % (low - 5)) == 0

    # accept-gap refuses where there is no gap (a show of the numbers first is harmless).
    rc, out, err = position(walrus_bin, redis.url, kafka.brokers, "--partition", "0")
    assert rc == 0 and "retention_gap (%d offsets)" % (low - 5) in out and "HELD" in out, out
    rc, out, err = position(walrus_bin, redis.url, kafka.brokers, "--partition", "0",
                            "--reset-to", "2", "--reason", "outside the log")
    assert rc == 1 and "outside the log [%d, %d]" % (low, end) in err, (rc, out, err)
    rc, out, err = position(walrus_bin, redis.url, kafka.brokers, "--partition", "0",
                            "--accept-gap", "--reason", "records lost to retention, accepted")
    assert rc == 0 and "accept-gap position 5 -> %d" % low in out, (rc, out, err)
    harness.wait_applied(c, [end], [app], topic=TOPIC)
    assert int(c.get("ctr:0")) == 15
    assert sum(c.exists("big:%d" % i) for i in range(70)) == 70 - (low - 5)
    app.wait_ready(timeout=30)
    assert "hold lifted by an operator decision" in app.proc.log_text()
    d = decisions(c)
    assert len(d) == 1 and d[0]["action"] == "accept-gap" and d[0]["old_position"] == "5" \
        and d[0]["new_position"] == str(low), d
    rc, out, err = position(walrus_bin, redis.url, kafka.brokers, "--partition", "0",
                            "--accept-gap", "--reason", "again")
    assert rc == 1 and "no retention gap" in err, (rc, out, err)
