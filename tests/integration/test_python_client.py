#!/usr/bin/python3
"""Integration test: confluent-kafka-python (Debian's python3-confluent-kafka,
on librdkafka) against `sluice broker`.  Admin (create with its errors,
describe configs, delete), produce with delivery reports and acks=all, consume
by assign, watermarks, offsets_for_times on timestamps we set, reading past
the end with auto.offset.reset=error, and commit/committed in a group.

usage: /usr/bin/python3 test_python_client.py PATH_TO_SLUICE [CASE...]
"""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import TestFailure, check, check_eq, wait_for  # noqa: E402

from confluent_kafka import (Consumer, KafkaError, KafkaException, OFFSET_BEGINNING, Producer,  # noqa: E402
                             TopicPartition)
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic  # noqa: E402


def admin(b):
    return AdminClient({"bootstrap.servers": b.bootstrap})


def create(a, topics, **kw):
    """Create topics; returns {name: None or KafkaError}."""
    out = {}
    for name, fut in a.create_topics(topics, operation_timeout=10, request_timeout=15, **kw).items():
        try:
            fut.result(timeout=20)
            out[name] = None
        except KafkaException as e:
            out[name] = e.args[0]
    return out


def produce(b, topic, records, **conf):
    """Produce (key, value, partition, timestamp) tuples with acks=all; returns
    the delivery reports [(key, value, partition, offset)] and fails on any
    delivery error."""
    p = Producer({"bootstrap.servers": b.bootstrap, "acks": "all", "linger.ms": 5, **conf})
    reports, errors = [], []

    def on_delivery(err, msg):
        if err:
            errors.append(err)
        else:
            reports.append((msg.key(), msg.value(), msg.partition(), msg.offset()))

    for key, value, partition, ts in records:
        kw = {"key": key, "value": value, "on_delivery": on_delivery}
        if partition is not None:
            kw["partition"] = partition
        if ts is not None:
            kw["timestamp"] = ts
        p.produce(topic, **kw)
        p.poll(0)
    left = p.flush(30)
    check_eq(left, 0, "messages still undelivered after flush")
    check(not errors, "delivery errors: %s" % errors[:5])
    check_eq(len(reports), len(records), "delivery reports")
    return reports


def consumer(b, **conf):
    c = {"bootstrap.servers": b.bootstrap, "group.id": "py-assign", "enable.auto.commit": False,
         "auto.offset.reset": "earliest", "enable.partition.eof": True}
    c.update(conf)
    return Consumer(c)


def read_partitions(b, tps, want, timeout_s=30, **conf):
    """assign() (no group membership) and read until `want` records or every
    partition reports EOF; returns [(partition, offset, key, value, (ts_type, ts))]."""
    c = consumer(b, **conf)
    try:
        c.assign(tps)
        out, eof = [], set()
        deadline = time.monotonic() + timeout_s
        while len(out) < want or len(eof) < len(tps):
            if time.monotonic() > deadline:
                raise TestFailure("read %d of %d records before the timeout (EOF on %s)" % (len(out), want, eof))
            m = c.poll(0.5)
            if m is None:
                continue
            if m.error():
                if m.error().code() == KafkaError._PARTITION_EOF:
                    eof.add(m.partition())
                    continue
                raise TestFailure("consumer error: %s" % m.error())
            eof.discard(m.partition())
            out.append((m.partition(), m.offset(), m.key(), m.value(), m.timestamp()))
        return out
    finally:
        c.close()


def test_create_topics_and_their_errors(ctx):
    b = ctx.broker()
    a = admin(b)
    res = create(a, [NewTopic("orders", 4, 1), NewTopic("audit", 1, 1, config={"retention.ms": "3600000"})])
    check_eq(res, {"orders": None, "audit": None}, "create results")
    md = a.list_topics(timeout=10)
    check_eq(len(md.topics["orders"].partitions), 4, "partitions of orders")
    check_eq(md.topics["orders"].partitions[3].leader, 0, "leader of orders[3]")

    res = create(a, [NewTopic("orders", 4, 1)])
    check_eq(res["orders"].code(), KafkaError.TOPIC_ALREADY_EXISTS, "creating an existing topic")
    res = create(a, [NewTopic("triple", 1, 3)])
    check_eq(res["triple"].code(), KafkaError.INVALID_REPLICATION_FACTOR, "replication factor 3 on one broker")
    res = create(a, [NewTopic("zero", 0, 1)])
    check_eq(res["zero"].code(), KafkaError.INVALID_PARTITIONS, "0 partitions")
    res = create(a, [NewTopic("bad/name", 1, 1)])
    check_eq(res["bad/name"].code(), KafkaError.TOPIC_EXCEPTION, "a name with '/'")
    res = create(a, [NewTopic("badcfg", 1, 1, config={"retention.ms": "soon"})])
    check_eq(res["badcfg"].code(), KafkaError.INVALID_CONFIG, "retention.ms=soon")
    res = create(a, [NewTopic("dry", 2, 1)], validate_only=True)
    check_eq(res, {"dry": None}, "validate_only create")
    topics = set(a.list_topics(timeout=10).topics)
    check_eq(topics, {"orders", "audit"}, "topics after the failed and validate-only creates")


def test_describe_configs_shows_overrides(ctx):
    b = ctx.broker()
    a = admin(b)
    check_eq(create(a, [NewTopic("audit", 1, 1, config={"retention.ms": "3600000", "cleanup.policy": "compact"})]),
             {"audit": None}, "create")
    fut = a.describe_configs([ConfigResource(ConfigResource.Type.TOPIC, "audit")])
    configs = list(fut.values())[0].result(timeout=20)
    check("retention.ms" in configs, "retention.ms missing from %s" % sorted(configs))
    check_eq(configs["retention.ms"].value, "3600000", "retention.ms value")
    check(not configs["retention.ms"].is_default, "retention.ms is reported as a default")
    check_eq(configs["cleanup.policy"].value, "compact", "cleanup.policy value")
    check("segment.bytes" in configs, "segment.bytes (a default) missing from %s" % sorted(configs))
    check(configs["segment.bytes"].is_default, "segment.bytes is not reported as a default")
    # Overrides survive a restart (they are in the registry, not in memory).
    b.restart()
    a = admin(b)  # keep a reference: a collected AdminClient fails its futures
    configs = list(a.describe_configs([ConfigResource(ConfigResource.Type.TOPIC, "audit")]).values())[0] \
        .result(timeout=20)
    check_eq(configs["retention.ms"].value, "3600000", "retention.ms after a restart")
    fut = a.describe_configs([ConfigResource(ConfigResource.Type.TOPIC, "nosuch")])
    try:
        list(fut.values())[0].result(timeout=20)
        raise TestFailure("describe_configs of an unknown topic succeeded")
    except KafkaException as e:
        check_eq(e.args[0].code(), KafkaError.UNKNOWN_TOPIC_OR_PART, "describe_configs of an unknown topic")


def test_delete_topic_removes_it_and_its_data(ctx):
    b = ctx.broker()
    a = admin(b)
    check_eq(create(a, [NewTopic("gone", 2, 1), NewTopic("kept", 1, 1)]), {"gone": None, "kept": None}, "create")
    produce(b, "gone", [(b"k", b"v%d" % i, i % 2, None) for i in range(10)])
    a.delete_topics(["gone"], operation_timeout=10)["gone"].result(timeout=20)
    check_eq(set(a.list_topics(timeout=10).topics), {"kept"}, "topics after delete")
    wait_for(lambda: not any(n.startswith("gone-") for n in os.listdir(os.path.join(b.data, "topics"))), 10,
             "the partition folders of the deleted topic to go")
    try:
        a.delete_topics(["gone"], operation_timeout=10)["gone"].result(timeout=20)
        raise TestFailure("deleting a deleted topic succeeded")
    except KafkaException as e:
        check_eq(e.args[0].code(), KafkaError.UNKNOWN_TOPIC_OR_PART, "deleting an unknown topic")
    # A topic of the same name starts empty.
    check_eq(create(a, [NewTopic("gone", 1, 1)]), {"gone": None}, "re-create")
    c = consumer(b)
    try:
        lo, hi = c.get_watermark_offsets(TopicPartition("gone", 0), timeout=10)
    finally:
        c.close()
    check_eq((lo, hi), (0, 0), "watermarks of the re-created topic")
    b.restart()
    a = admin(b)
    check_eq(set(a.list_topics(timeout=10).topics), {"gone", "kept"}, "topics after a restart")


def test_produce_acks_all_and_consume_by_assign(ctx):
    b = ctx.broker()
    check_eq(create(admin(b), [NewTopic("events", 3, 1)]), {"events": None}, "create")
    records = [(b"key-%d" % i, b"value-%d-" % i + b"x" * (i % 50), i % 3, None) for i in range(3000)]
    records.append((None, b"null key", 0, None))
    records.append((b"empty value", b"", 1, None))
    reports = produce(b, "events", records)
    # Offsets per partition are dense, from 0, in produce order.
    for part in range(3):
        offs = [r[3] for r in reports if r[2] == part]
        check_eq(sorted(offs), list(range(len(offs))), "offsets acknowledged on partition %d" % part)
    got = read_partitions(b, [TopicPartition("events", p, OFFSET_BEGINNING) for p in range(3)], len(records))
    check_eq(len(got), len(records), "records consumed")
    by_pos = {(p, o): (k, v) for p, o, k, v, _ in got}
    for k, v, part, off in reports:
        check_eq(by_pos.get((part, off)), (k, v), "record at %d/%d" % (part, off))
    # Start in the middle of a partition.
    got = read_partitions(b, [TopicPartition("events", 0, 500)], sum(1 for r in reports if r[2] == 0) - 500)
    check_eq(got[0][1], 500, "first offset read when starting at 500")


def test_watermarks_follow_appends(ctx):
    b = ctx.broker()
    check_eq(create(admin(b), [NewTopic("wm", 2, 1)]), {"wm": None}, "create")
    c = consumer(b)
    try:
        check_eq(c.get_watermark_offsets(TopicPartition("wm", 0), timeout=10), (0, 0), "empty partition")
        produce(b, "wm", [(None, b"v%d" % i, 0, None) for i in range(137)])
        produce(b, "wm", [(None, b"v%d" % i, 1, None) for i in range(5)])
        check_eq(c.get_watermark_offsets(TopicPartition("wm", 0), timeout=10), (0, 137), "partition 0")
        check_eq(c.get_watermark_offsets(TopicPartition("wm", 1), timeout=10), (0, 5), "partition 1")
        try:
            c.get_watermark_offsets(TopicPartition("wm", 7), timeout=10)
            raise TestFailure("watermarks of a partition that does not exist")
        except KafkaException as e:
            check(e.args[0].code() in (KafkaError.UNKNOWN_TOPIC_OR_PART, KafkaError._UNKNOWN_PARTITION),
                  "watermarks of partition 7: %s" % e.args[0])
    finally:
        c.close()


def test_offsets_for_times_uses_record_timestamps(ctx):
    b = ctx.broker()
    check_eq(create(admin(b), [NewTopic("times", 1, 1)]), {"times": None}, "create")
    base = 1_600_000_000_000  # 2020-09-13: far from "now", so broker time cannot be mistaken for it
    # One record per second of timestamps, in batches of several records.
    records = [(None, b"t%d" % i, 0, base + i * 1000) for i in range(200)]
    produce(b, "times", records, **{"linger.ms": 50})
    got = read_partitions(b, [TopicPartition("times", 0, OFFSET_BEGINNING)], 200)
    check_eq([m[4][1] for m in got], [base + i * 1000 for i in range(200)], "timestamps read back")
    c = consumer(b)
    try:
        def lookup(ts):
            return c.offsets_for_times([TopicPartition("times", 0, ts)], timeout=10)[0].offset

        check_eq(lookup(base), 0, "offset for the first timestamp")
        check_eq(lookup(base - 5000), 0, "offset for a time before the first record")
        check_eq(lookup(base + 57 * 1000), 57, "offset for an exact timestamp")
        check_eq(lookup(base + 57 * 1000 + 1), 58, "offset for a time between two records")
        check_eq(lookup(base + 199 * 1000), 199, "offset for the last timestamp")
        check_eq(lookup(base + 300 * 1000), -1, "offset for a time after the last record (end: -1)")
    finally:
        c.close()


def test_fetch_beyond_end_with_reset_error_reports_offset_out_of_range(ctx):
    b = ctx.broker()
    check_eq(create(admin(b), [NewTopic("short", 1, 1)]), {"short": None}, "create")
    produce(b, "short", [(None, b"v%d" % i, 0, None) for i in range(10)])
    c = consumer(b, **{"auto.offset.reset": "error"})
    try:
        c.assign([TopicPartition("short", 0, 1000)])
        err = None
        deadline = time.monotonic() + 20
        while err is None and time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is not None:
                check(m.error() is not None, "read a record at offset %d past the end (10)" % m.offset())
                err = m.error()
        check(err is not None, "no error within 20 s for offset 1000 of a 10-record partition")
        # librdkafka reports the broker's OFFSET_OUT_OF_RANGE as _AUTO_OFFSET_RESET
        # when auto.offset.reset=error, naming the broker error in the text.
        check_eq(err.code(), KafkaError._AUTO_OFFSET_RESET, "error code (%s)" % err)
        check("Offset out of range" in err.str() or "OFFSET_OUT_OF_RANGE" in err.str(),
              "error text does not name the broker's offset out of range: %s" % err.str())
    finally:
        c.close()
    # With reset=latest the same request goes to the end and reads what comes next.
    c = consumer(b, **{"auto.offset.reset": "latest", "enable.partition.eof": True})
    try:
        c.assign([TopicPartition("short", 0, 1000)])

        def eof_at_10():
            m = c.poll(0.2)
            return m is not None and m.error() and m.error().code() == KafkaError._PARTITION_EOF and m.offset() == 10

        wait_for(eof_at_10, 20, "EOF at offset 10 after a reset to latest")
    finally:
        c.close()


def test_commit_and_committed(ctx):
    b = ctx.broker()
    check_eq(create(admin(b), [NewTopic("cm", 2, 1)]), {"cm": None}, "create")
    produce(b, "cm", [(None, b"v%d" % i, i % 2, None) for i in range(40)])
    c = consumer(b, **{"group.id": "py-commit"})
    try:
        tps = [TopicPartition("cm", 0), TopicPartition("cm", 1)]
        check_eq([tp.offset for tp in c.committed(tps, timeout=10)], [-1001, -1001], "committed before any commit")
        res = c.commit(offsets=[TopicPartition("cm", 0, 7), TopicPartition("cm", 1, 20)], asynchronous=False)
        check_eq([(tp.partition, tp.offset, tp.error) for tp in res], [(0, 7, None), (1, 20, None)], "commit result")
        check_eq([tp.offset for tp in c.committed(tps, timeout=10)], [7, 20], "committed after commit")
    finally:
        c.close()
    b.restart()
    c = consumer(b, **{"group.id": "py-commit"})
    try:
        check_eq([tp.offset for tp in c.committed([TopicPartition("cm", 0), TopicPartition("cm", 1)], timeout=10)],
                 [7, 20], "committed after a broker restart")
    finally:
        c.close()
    c = consumer(b, **{"group.id": "other-group"})
    try:
        check_eq(c.committed([TopicPartition("cm", 0)], timeout=10)[0].offset, -1001, "another group's commit")
    finally:
        c.close()


CASES = [
    test_create_topics_and_their_errors,
    test_describe_configs_shows_overrides,
    test_delete_topic_removes_it_and_its_data,
    test_produce_acks_all_and_consume_by_assign,
    test_watermarks_follow_appends,
    test_offsets_for_times_uses_record_timestamps,
    test_fetch_beyond_end_with_reset_error_reports_offset_out_of_range,
    test_commit_and_committed,
]

if __name__ == "__main__":
    harness.run_cases(CASES)
