#!/usr/bin/python3
"""Crash test against a real `sluice broker` process: SIGKILL it while
confluent-kafka clients produce (acks=all) or consume in a group, restart it
on the same data folder and port, and check that nothing acknowledged was
lost: every delivery-acknowledged record is at its acknowledged offset with
its value, and committed group offsets survive.

usage: /usr/bin/python3 test_broker_crash.py PATH_TO_SLUICE [CASE...]
"""

import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import TestFailure, check, check_eq  # noqa: E402

from confluent_kafka import Consumer, KafkaError, OFFSET_BEGINNING, Producer, TopicPartition  # noqa: E402
from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

NPARTS = 2


def seeded_random():
    seed = int(os.environ.get("SL_IT_SEED", time.time_ns() % 1000000))
    print("     seed %d (SL_IT_SEED to repeat)" % seed, flush=True)
    return random.Random(seed)


def create_topic(b, name, partitions):
    a = AdminClient({"bootstrap.servers": b.bootstrap})
    a.create_topics([NewTopic(name, partitions, 1)], operation_timeout=10)[name].result(timeout=20)


def read_all(b, topic, partitions, timeout_s=60):
    """{(partition, offset): value} of the whole topic (assign, read to EOF)."""
    c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": "crash-reader", "enable.auto.commit": False,
                  "enable.partition.eof": True, "fetch.max.bytes": 8 << 20})
    try:
        c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in range(partitions)])
        out, eof = {}, set()
        deadline = time.monotonic() + timeout_s
        while len(eof) < partitions:
            if time.monotonic() > deadline:
                raise TestFailure("reading %s back: EOF on %s only after %d s" % (topic, sorted(eof), timeout_s))
            for m in c.consume(1000, 0.5):
                if m.error():
                    if m.error().code() == KafkaError._PARTITION_EOF:
                        eof.add(m.partition())
                        continue
                    raise TestFailure("reading %s back: %s" % (topic, m.error()))
                eof.discard(m.partition())
                out[(m.partition(), m.offset())] = m.value()
        return out
    finally:
        c.close()


def produce_until_killed(b, topic, round_no, kill_after_s):
    """Produce "r<round>-<i>" values (acks=all), SIGKILL the broker mid-stream
    kill_after_s after the first acknowledgement, and return {(partition, offset): value} of every
    message whose delivery was acknowledged."""
    p = Producer({"bootstrap.servers": b.bootstrap, "acks": "all", "linger.ms": 2,
                  "message.timeout.ms": 10000, "reconnect.backoff.max.ms": 500})
    acked, failed = {}, [0]

    def on_delivery(err, msg):
        if err:
            failed[0] += 1
        else:
            acked[(msg.partition(), msg.offset())] = msg.value()

    # The clock starts at the first acknowledgement, so that a slow start
    # (a sanitizer build, a loaded machine) still kills mid-stream.
    t_kill = None
    give_up = time.monotonic() + 30
    i = 0
    while t_kill is None or time.monotonic() < t_kill:
        if t_kill is None:
            if acked:
                t_kill = time.monotonic() + kill_after_s
            elif time.monotonic() > give_up:
                raise TestFailure("round %d: no delivery acknowledged within 30 s" % round_no)
        for _ in range(50):  # about 25,000 messages a second
            try:
                p.produce(topic, b"r%d-%d" % (round_no, i), partition=i % NPARTS, on_delivery=on_delivery)
            except BufferError:
                p.poll(0.01)
                continue
            i += 1
        p.poll(0.002)
    b.kill()
    # Nothing can be acknowledged any more: fail what is left and collect.
    p.purge(in_queue=True, in_flight=True)
    p.flush(10)
    return acked, i, failed[0]


def test_acknowledged_records_survive_sigkill_during_produce(ctx):
    rnd = seeded_random()
    b = ctx.broker()
    create_topic(b, "crash", NPARTS)
    all_acked = {}
    for round_no in range(4):
        kill_after = rnd.uniform(0.3, 2.0)
        acked, sent, failed = produce_until_killed(b, "crash", round_no, kill_after)
        print("     round %d: killed %.2f s into the stream; %d sent, %d acknowledged, %d failed" %
              (round_no, kill_after, sent, len(acked), failed), flush=True)
        check(acked, "round %d: nothing was acknowledged before the kill" % round_no)
        b.start()
        all_acked.update(acked)
        stored = read_all(b, "crash", NPARTS)
        missing = [k for k in sorted(all_acked) if stored.get(k) != all_acked[k]]
        if missing:
            k = missing[0]
            raise TestFailure("round %d: %d acknowledged record(s) lost or changed; first at %d/%d: "
                              "acknowledged %r, stored %r" % (round_no, len(missing), k[0], k[1], all_acked[k],
                                                              stored.get(k)))
        # Offsets stay dense: what follows a crash continues after what was kept.
        for part in range(NPARTS):
            offs = sorted(o for p, o in stored if p == part)
            check_eq(offs, list(range(len(offs))), "offsets of partition %d after round %d" % (part, round_no))


def test_group_resumes_from_committed_offsets_after_sigkill(ctx):
    rnd = seeded_random()
    b = ctx.broker()
    create_topic(b, "consume", NPARTS)
    total = 20000
    p = Producer({"bootstrap.servers": b.bootstrap, "acks": "all", "linger.ms": 5})
    for i in range(total):
        p.produce("consume", b"v%d" % i, partition=i % NPARTS)
        if i % 1000 == 0:
            p.poll(0)
    check_eq(p.flush(30), 0, "undelivered messages")
    per_part = total // NPARTS

    c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": "crash-group", "enable.auto.commit": False,
                  "auto.offset.reset": "earliest", "session.timeout.ms": 10000, "heartbeat.interval.ms": 500,
                  "reconnect.backoff.max.ms": 500, "max.partition.fetch.bytes": 4096})
    c.subscribe(["consume"])
    kill_at = rnd.randint(total // 5, total * 4 // 5)
    seen = {}          # (partition, offset) -> times read
    last = {}          # partition -> last offset read
    committed = {}     # partition -> last committed offset (next to read)
    commit_at_kill = None
    after_kill = []
    n = 0
    deadline = time.monotonic() + 50
    try:
        while len(seen) < total:
            if time.monotonic() > deadline:
                raise TestFailure("read %d distinct records of %d in 50 s" % (len(seen), total))
            for m in c.consume(200, 0.2):
                if m.error():
                    if m.error().code() != KafkaError._PARTITION_EOF:
                        print("     consumer error (retried): %s" % m.error(), flush=True)
                    continue
                key = (m.partition(), m.offset())
                check_eq(m.value(), b"v%d" % (m.offset() * NPARTS + m.partition()), "value at %d/%d" % key)
                seen[key] = seen.get(key, 0) + 1
                last[m.partition()] = m.offset()
                if commit_at_kill is not None:
                    after_kill.append(key)
                n += 1
                if n % 97 == 0:
                    offs = [TopicPartition("consume", part, off + 1) for part, off in last.items()]
                    try:
                        for tp in c.commit(offsets=offs, asynchronous=False):
                            if tp.error is None:
                                committed[tp.partition] = tp.offset
                    except Exception as e:  # noqa: BLE001 (commits during the restart may fail)
                        print("     commit failed (retried later): %s" % e, flush=True)
                if n == kill_at:
                    commit_at_kill = dict(committed)
                    print("     SIGKILL after %d records; committed %s" % (n, commit_at_kill), flush=True)
                    b.restart(crash=True)
                    break
        check(commit_at_kill is not None, "the broker was never killed (kill_at=%d)" % kill_at)
        missing = [(part, o) for part in range(NPARTS) for o in range(per_part) if (part, o) not in seen]
        check(not missing, "%d record(s) never read, first %s" % (len(missing), missing[:1]))
        # After the restart the group may re-read what was not committed,
        # never what was.
        early = [k for k in after_kill if k[1] < commit_at_kill.get(k[0], 0)]
        check(not early, "%d record(s) below the committed offsets re-read after the restart, first %s "
              "(committed %s)" % (len(early), early[:1], commit_at_kill))
        reread = sum(v - 1 for v in seen.values())
        print("     %d records re-read after the restart (not yet committed at the kill)" % reread, flush=True)
        c.commit(offsets=[TopicPartition("consume", part, per_part) for part in range(NPARTS)],
                 asynchronous=False)
    finally:
        c.close()
    b.restart(crash=True)
    c = Consumer({"bootstrap.servers": b.bootstrap, "group.id": "crash-group"})
    try:
        got = [tp.offset for tp in c.committed([TopicPartition("consume", p) for p in range(NPARTS)], timeout=10)]
    finally:
        c.close()
    check_eq(got, [per_part] * NPARTS, "committed offsets after a second SIGKILL")


CASES = [
    test_acknowledged_records_survive_sigkill_during_produce,
    test_group_resumes_from_committed_offsets_after_sigkill,
]

if __name__ == "__main__":
    harness.run_cases(CASES)
