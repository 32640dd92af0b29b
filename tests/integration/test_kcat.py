#!/usr/bin/python3
"""Integration test: kcat (Debian's, on librdkafka) against `sluice broker`.
Metadata, a 100,000-line produce/consume round trip that must come back
byte-identical, every compression codec stored as sent (checked with
`sluice log dump` on the partition folder), unknown topics without
auto-creation, and a -G group consumer that resumes from its commits.

usage: /usr/bin/python3 test_kcat.py PATH_TO_SLUICE [CASE...]
"""

import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import TestFailure, check, check_eq, run  # noqa: E402

KCAT = "kcat"


def random_lines(n, seed):
    """n lines as one bytes object ending in a newline (kcat -P sends a
    message per line, -C prints one).  Words from a small vocabulary keep the
    batches compressible (librdkafka sends a batch uncompressed when the codec
    does not shrink it); a few random bytes (anything but the newline) per
    line check that values pass through untouched."""
    rnd = random.Random(seed)
    words = [b"sluice", b"kafka", b"stream", b"caf\xc3\xa9", b"offset", b"\t", b"\r", b"\x00", b"{\"k\":1}"]
    raw = bytes(b for b in range(256) if b != 0x0A)
    out = bytearray()
    for i in range(n):
        out += b"%d:" % i
        out += b" ".join(rnd.choice(words) for _ in range(rnd.randint(0, 30)))
        out += bytes(rnd.choice(raw) for _ in range(rnd.randint(0, 3)))
        out += b"\n"
    return bytes(out)


def kcat_produce(b, topic, data, codec, extra=()):
    run([KCAT, "-b", b.bootstrap, "-P", "-t", topic, "-X", "acks=all", "-z", codec, *extra], input=data,
        what="kcat -P -z %s" % codec)


def kcat_consume_all(b, topic, timeout=60):
    return run([KCAT, "-b", b.bootstrap, "-C", "-t", topic, "-e", "-o", "beginning", "-q"], timeout=timeout,
               what="kcat -C").stdout


def check_stored_codec(ctx, b, topic, codec):
    """Every record of the topic's partition 0 is stored in batches of the
    codec the client sent (read with `sluice log dump`, broker stopped),
    except in batches librdkafka left uncompressed because compressing did
    not shrink them (a lone short record): those are few."""
    d = os.path.join(b.data, "topics", "%s-0" % topic)
    out = run([ctx.sluice, "log", "dump", "--dir", d], what="sluice log dump").stdout.decode()
    by_codec = {}
    for line in out.splitlines():
        if "compression:" in line:
            c = line.split("compression:")[1].split()[0]
            by_codec[c] = by_codec.get(c, 0) + int(line.split("count:")[1].split()[0])
    total = sum(by_codec.values())
    check(total, "sluice log dump shows no records in %s: %s" % (d, out[:500]))
    check(set(by_codec) <= {codec, "none"}, "%s: records by stored codec %s" % (topic, by_codec))
    check(by_codec.get(codec, 0) >= 0.9 * total,
          "%s: records by stored codec %s, expected (nearly) all %s" % (topic, by_codec, codec))


def first_difference(a, b):
    la, lb = a.split(b"\n"), b.split(b"\n")
    for i, (x, y) in enumerate(zip(la, lb)):
        if x != y:
            return "line %d differs: sent %r, got %r" % (i, x[:80], y[:80])
    return "sent %d lines, got %d" % (len(la), len(lb))


def test_metadata_lists_broker_and_topics(ctx):
    b = ctx.broker({"num.partitions": 3})
    md = json.loads(run([KCAT, "-b", b.bootstrap, "-L", "-J"]).stdout)
    check_eq([(x["id"], x["name"]) for x in md["brokers"]], [(0, b.bootstrap)], "brokers before any topic")
    check_eq(md["topics"], [], "topics of an empty broker")
    for t in ("alpha", "beta"):
        kcat_produce(b, t, b"one\ntwo\n", "none")
    md = json.loads(run([KCAT, "-b", b.bootstrap, "-L", "-J"]).stdout)
    check_eq(md["controllerid"], 0, "controller id")
    topics = {t["topic"]: t for t in md["topics"]}
    check_eq(sorted(topics), ["alpha", "beta"], "topics listed after auto-creation")
    for name, t in topics.items():
        check("error" not in t, "topic %s has an error: %s" % (name, t.get("error")))
        parts = sorted(t["partitions"], key=lambda p: p["partition"])
        check_eq([p["partition"] for p in parts], [0, 1, 2], "%s partitions (num.partitions=3)" % name)
        for p in parts:
            check_eq(p["leader"], 0, "%s[%d] leader" % (name, p["partition"]))
            check_eq([r["id"] for r in p["replicas"]], [0], "%s[%d] replicas" % (name, p["partition"]))
            check_eq([r["id"] for r in p["isrs"]], [0], "%s[%d] isrs" % (name, p["partition"]))
    # A single-topic query names just that topic.
    md = json.loads(run([KCAT, "-b", b.bootstrap, "-L", "-J", "-t", "beta"]).stdout)
    check_eq([t["topic"] for t in md["topics"]], ["beta"], "topics for -t beta")


def test_100k_lines_zstd_round_trip_is_byte_identical(ctx):
    b = ctx.broker()
    data = random_lines(100000, seed=1)
    kcat_produce(b, "big", data, "zstd")
    got = kcat_consume_all(b, "big")
    if got != data:
        raise TestFailure("consumed bytes differ (%d sent, %d got): %s" % (len(data), len(got),
                                                                          first_difference(data, got)))
    # Read back again after a clean restart: what was acknowledged is on disk.
    b.restart()
    got = kcat_consume_all(b, "big")
    check(got == data, "after a restart: %s" % first_difference(data, got))
    b.stop()
    check_stored_codec(ctx, b, "big", "zstd")


def test_every_codec_passes_through(ctx):
    b = ctx.broker()
    for i, codec in enumerate(("lz4", "gzip", "snappy", "none")):
        data = random_lines(5000, seed=10 + i)
        topic = "codec-" + codec
        kcat_produce(b, topic, data, codec)
        got = kcat_consume_all(b, topic)
        check(got == data, "%s round trip: %s" % (codec, first_difference(data, got)))
    b.stop()
    for codec in ("lz4", "gzip", "snappy", "none"):
        check_stored_codec(ctx, b, "codec-" + codec, codec)


def test_unknown_topic_without_auto_create_is_an_error(ctx):
    b = ctx.broker({"auto.create.topics.enable": "false"})
    r = run([KCAT, "-b", b.bootstrap, "-C", "-t", "nosuch", "-e", "-o", "beginning"], check_rc=False, timeout=30)
    check(r.returncode != 0, "kcat -C on an unknown topic exited 0")
    check(b"Unknown topic or partition" in r.stderr, "kcat -C error: %r" % r.stderr[-300:])
    md = json.loads(run([KCAT, "-b", b.bootstrap, "-L", "-J", "-t", "nosuch"]).stdout)
    check_eq([(t["topic"], t.get("error")) for t in md["topics"]],
             [("nosuch", "Broker: Unknown topic or partition")], "metadata for an unknown topic")
    r = run([KCAT, "-b", b.bootstrap, "-P", "-t", "nosuch", "-X", "acks=all", "-X", "message.timeout.ms=2000"],
            input=b"hello\n", check_rc=False, timeout=30)
    check(r.returncode != 0, "kcat -P to an unknown topic exited 0")
    md = json.loads(run([KCAT, "-b", b.bootstrap, "-L", "-J"]).stdout)
    check_eq(md["topics"], [], "topics after requests for an unknown one (none may be created)")
    check(not os.path.exists(os.path.join(b.data, "topics", "nosuch-0")), "a partition folder was created")


def test_group_consumer_reads_everything_then_resumes_after_commit(ctx):
    b = ctx.broker({"num.partitions": 3})
    first = b"".join(b"k%d:first-%d\n" % (i, i) for i in range(3000))
    # -K: keys spread the lines over the three partitions.
    run([KCAT, "-b", b.bootstrap, "-P", "-t", "grp", "-K", ":", "-X", "acks=all"], input=first)

    def group_read():
        r = run([KCAT, "-b", b.bootstrap, "-G", "kcat-group", "grp", "-e", "-q", "-f", "%k:%s\n",
                 "-X", "auto.offset.reset=earliest", "-X", "enable.auto.commit=true"], timeout=60,
                what="kcat -G")
        return sorted(r.stdout.splitlines())

    got = group_read()
    check_eq(len(got), 3000, "records read by the group consumer")
    check(got == sorted(first.splitlines()), "group consumer read different records")
    second = b"".join(b"k%d:second-%d\n" % (i, i) for i in range(100))
    run([KCAT, "-b", b.bootstrap, "-P", "-t", "grp", "-K", ":", "-X", "acks=all"], input=second)
    got = group_read()
    check(got == sorted(second.splitlines()),
          "second run of the group should read only the 100 new records, read %d" % len(got))


CASES = [
    test_metadata_lists_broker_and_topics,
    test_100k_lines_zstd_round_trip_is_byte_identical,
    test_every_codec_passes_through,
    test_unknown_topic_without_auto_create_is_an_error,
    test_group_consumer_reads_everything_then_resumes_after_commit,
]

if __name__ == "__main__":
    harness.run_cases(CASES)
