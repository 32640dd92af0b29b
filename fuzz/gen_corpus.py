#!/usr/bin/env python3
"""Writes the seed corpus of the request fuzz target (fuzz/corpus/request/).

Each seed-* file is one client connection's byte stream: int32-framed Kafka
requests, well formed, for every API and version range the broker advertises
(apis.c), naming the fuzz target's fixed topics ("fuzz", 2 partitions, and
"fuzz-compact").  The replay test (replay_request.c) requires the broker to
accept every seed, so a seed is also a regression test for its decoder.
Encodings follow the Kafka protocol guide; record batches are RecordBatch v2
with a real CRC-32C.  Usage: fuzz/gen_corpus.py [OUT_DIR]
"""
import gzip
import os
import struct
import sys
import zlib

# ---- primitive types ---------------------------------------------------------------


def i8(v): return struct.pack(">b", v)
def i16(v): return struct.pack(">h", v)
def i32(v): return struct.pack(">i", v)
def i64(v): return struct.pack(">q", v)


def uvarint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def varint(v):  # zigzag
    return uvarint((v << 1) ^ (v >> 63))


def string(s):
    if s is None:
        return i16(-1)
    b = s.encode()
    return i16(len(b)) + b


def cstring(s):  # COMPACT_STRING
    if s is None:
        return uvarint(0)
    b = s.encode()
    return uvarint(len(b) + 1) + b


def bytes_(b):
    if b is None:
        return i32(-1)
    return i32(len(b)) + b


def array(items, enc):
    if items is None:
        return i32(-1)
    return i32(len(items)) + b"".join(enc(x) for x in items)


TAGS = uvarint(0)  # an empty tagged-field section

# ---- CRC-32C (Castagnoli), for record batches ---------------------------------------

_CRC_TABLE = []
for n in range(256):
    c = n
    for _ in range(8):
        c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    _CRC_TABLE.append(c)


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = _CRC_TABLE[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF

# ---- RecordBatch v2 ----------------------------------------------------------------------


def record(offset_delta, ts_delta, key, value, headers=()):
    body = i8(0) + varint(ts_delta) + varint(offset_delta)
    body += varint(-1) if key is None else varint(len(key)) + key
    body += varint(-1) if value is None else varint(len(value)) + value
    body += varint(len(headers))
    for hk, hv in headers:
        body += varint(len(hk)) + hk + varint(len(hv)) + hv
    return varint(len(body)) + body


def batch(records, base_ts=1700000000000, codec=0, producer_id=-1, epoch=-1, base_seq=-1):
    """records: (key, value, headers) tuples."""
    recs = b"".join(record(i, i, k, v, h) for i, (k, v, h) in enumerate(records))
    if codec == 1:
        recs = gzip.compress(recs)
    attributes = codec
    after_crc = (i16(attributes) + i32(len(records) - 1) + i64(base_ts) + i64(base_ts + len(records) - 1) +
                 i64(producer_id) + i16(epoch) + i32(base_seq) + i32(len(records)) + recs)
    after_len = i32(0) + i8(2) + struct.pack(">I", crc32c(after_crc)) + after_crc  # leader epoch, magic, crc
    return i64(0) + i32(len(after_len)) + after_len

def legacy_message_set(values):
    """A magic-0 message set (what Produce v0-v2 clients sent before RecordBatch v2)."""
    out = b""
    for i, v in enumerate(values):
        body = i8(0) + i8(0) + bytes_(None) + bytes_(v)  # magic, attributes, key, value
        msg = struct.pack(">I", zlib.crc32(body)) + body
        out += i64(i) + i32(len(msg)) + msg
    return out

# ---- requests -------------------------------------------------------------------------------

API = dict(Produce=0, Fetch=1, ListOffsets=2, Metadata=3, OffsetCommit=8, OffsetFetch=9, FindCoordinator=10,
           JoinGroup=11, Heartbeat=12, LeaveGroup=13, SyncGroup=14, DescribeGroups=15, ListGroups=16,
           ApiVersions=18, CreateTopics=19, DeleteTopics=20, InitProducerId=22, DescribeConfigs=32,
           DeleteGroups=42)
# First flexible version of each API (as apis.c); header v2 from there on.
FIRST_FLEX = dict(Produce=9, Fetch=12, ListOffsets=6, Metadata=9, OffsetCommit=8, OffsetFetch=6,
                  FindCoordinator=3, JoinGroup=6, Heartbeat=4, LeaveGroup=4, SyncGroup=4, DescribeGroups=5,
                  ListGroups=3, ApiVersions=3, CreateTopics=5, DeleteTopics=4, InitProducerId=2,
                  DescribeConfigs=4, DeleteGroups=2)

_corr = [0]


def frame(api, version, body, client_id="fuzz-seed"):
    _corr[0] += 1
    header = i16(API[api]) + i16(version) + i32(_corr[0]) + string(client_id)
    if version >= FIRST_FLEX[api]:
        header += TAGS
    msg = header + body
    return i32(len(msg)) + msg


def api_versions(v):
    if v >= 3:
        return frame("ApiVersions", v, cstring("sluice-fuzz") + cstring("1.0") + TAGS)
    return frame("ApiVersions", v, b"")


def metadata(v, topics, auto_create=True):
    body = array(topics, string)
    if v >= 4:
        body += i8(1 if auto_create else 0)
    if v >= 8:
        body += i8(0) + i8(0)
    return frame("Metadata", v, body)


def produce(v, acks, parts, topic="fuzz", txn=None):
    """parts: (partition, records bytes)."""
    body = (string(txn) if v >= 3 else b"") + i16(acks) + i32(30000)
    body += array([(topic, parts)], lambda t: string(t[0]) + array(t[1], lambda p: i32(p[0]) + bytes_(p[1])))
    return frame("Produce", v, body)


def fetch(v, parts, max_wait=0, min_bytes=1, topic="fuzz", forgotten=()):
    """parts: (partition, offset)."""
    body = i32(-1) + i32(max_wait) + i32(min_bytes) + i32(1 << 20) + i8(0)
    if v >= 7:
        body += i32(0) + i32(-1)  # sessionless

    def part(p):
        out = i32(p[0])
        if v >= 9:
            out += i32(-1)
        out += i64(p[1])
        if v >= 5:
            out += i64(-1)
        return out + i32(1 << 20)
    body += array([(topic, parts)], lambda t: string(t[0]) + array(t[1], part))
    if v >= 7:
        body += array(list(forgotten), lambda t: string(t[0]) + array(t[1], i32))
    if v >= 11:
        body += string("")
    return frame("Fetch", v, body)


def list_offsets(v, parts, topic="fuzz"):
    """parts: (partition, timestamp)."""
    body = i32(-1)
    if v >= 2:
        body += i8(0)

    def part(p):
        return i32(p[0]) + (i32(-1) if v >= 4 else b"") + i64(p[1])
    body += array([(topic, parts)], lambda t: string(t[0]) + array(t[1], part))
    return frame("ListOffsets", v, body)


def create_topics(v, topics, validate_only=False):
    """topics: (name, partitions, replication, configs)."""
    def topic(t):
        return (string(t[0]) + i32(t[1]) + i16(t[2]) + array([], lambda a: b"") +
                array(t[3], lambda c: string(c[0]) + string(c[1])))
    body = array(topics, topic) + i32(5000)
    if v >= 1:
        body += i8(1 if validate_only else 0)
    return frame("CreateTopics", v, body)


def delete_topics(v, names):
    return frame("DeleteTopics", v, array(names, string) + i32(5000))


def describe_configs(v, resources):
    """resources: (type, name, keys or None)."""
    body = array(resources, lambda r: i8(r[0]) + string(r[1]) + array(r[2], string))
    if v >= 1:
        body += i8(0)
    if v >= 3:
        body += i8(0)
    return frame("DescribeConfigs", v, body)


def find_coordinator(v, key, key_type=0):
    body = string(key)
    if v >= 1:
        body += i8(key_type)
    return frame("FindCoordinator", v, body)


def consumer_metadata(topics):
    """The consumer protocol's subscription (version 0)."""
    return i16(0) + array(topics, string) + bytes_(None)


def join_group(v, group, member="", instance=None, topics=("fuzz",)):
    body = string(group) + i32(10000)
    if v >= 1:
        body += i32(30000)
    body += string(member)
    if v >= 5:
        body += string(instance)
    body += string("consumer")
    meta = consumer_metadata(list(topics))
    body += array([("range", meta), ("roundrobin", meta)], lambda p: string(p[0]) + bytes_(p[1]))
    return frame("JoinGroup", v, body)


def sync_group(v, group, generation, member, instance=None, assignments=()):
    body = string(group) + i32(generation) + string(member)
    if v >= 3:
        body += string(instance)
    body += array(list(assignments), lambda a: string(a[0]) + bytes_(a[1]))
    return frame("SyncGroup", v, body)


def heartbeat(v, group, generation, member, instance=None):
    body = string(group) + i32(generation) + string(member)
    if v >= 3:
        body += string(instance)
    return frame("Heartbeat", v, body)


def leave_group(v, group, member, instance=None):
    if v >= 3:
        body = string(group) + array([(member, instance)], lambda m: string(m[0]) + string(m[1]))
    else:
        body = string(group) + string(member)
    return frame("LeaveGroup", v, body)


def offset_commit(v, group, generation, member, parts, topic="fuzz", instance=None):
    """parts: (partition, offset, metadata)."""
    body = string(group) + i32(generation) + string(member)
    if v >= 7:
        body += string(instance)
    if 2 <= v <= 4:
        body += i64(-1)  # retention_time_ms: broker default

    def part(p):
        out = i32(p[0]) + i64(p[1])
        if v >= 6:
            out += i32(-1)
        return out + string(p[2])
    body += array([(topic, parts)], lambda t: string(t[0]) + array(t[1], part))
    return frame("OffsetCommit", v, body)


def offset_fetch(v, group, topics):
    """topics: None (all, v2+) or (name, [partitions])."""
    body = string(group) + array(topics, lambda t: string(t[0]) + array(t[1], i32))
    return frame("OffsetFetch", v, body)


def describe_groups(v, groups):
    body = array(groups, string)
    if v >= 3:
        body += i8(0)
    return frame("DescribeGroups", v, body)


def list_groups(v):
    return frame("ListGroups", v, b"")


def delete_groups(v, groups):
    return frame("DeleteGroups", v, array(groups, string))


def init_producer_id(v, txn=None):
    return frame("InitProducerId", v, string(txn) + i32(60000))

# ---- the seeds --------------------------------------------------------------------------------


def seeds():
    recs = [(b"key-%d" % i, b"value %d " % i * 4, ()) for i in range(5)]
    hdr_recs = [(None, b"tombstone-free value", ((b"trace", b"abc"), (b"h2", b""))), (b"k", None, ())]
    plain = batch(recs)
    s = {}
    s["api-versions-v0"] = api_versions(0)
    s["api-versions-v3"] = api_versions(3)
    s["api-versions-v2-then-v3"] = api_versions(2) + api_versions(3)
    s["metadata-v0-fuzz"] = metadata(0, ["fuzz"])
    s["metadata-v1-all"] = metadata(1, None)
    s["metadata-v4-autocreate"] = metadata(4, ["fuzz", "fuzz-new"], auto_create=True)
    s["metadata-v8-no-autocreate"] = metadata(8, ["fuzz-compact", "missing"], auto_create=False)
    s["produce-v0-legacy-message-set"] = produce(0, 1, [(0, legacy_message_set([b"old", b"format"]))])
    s["produce-v2-batch"] = produce(2, 1, [(1, plain)])
    s["produce-v3-acks1"] = produce(3, 1, [(0, plain)])
    s["produce-v7-acks-all-two-partitions"] = produce(7, -1, [(0, plain), (1, batch(hdr_recs))])
    s["produce-v8-acks0"] = produce(8, 0, [(1, plain)])
    s["produce-v8-gzip"] = produce(8, 1, [(0, batch(recs, codec=1))])
    s["produce-v5-two-batches"] = produce(5, 1, [(0, plain + batch(hdr_recs))])
    s["produce-v8-compact-topic"] = produce(8, 1, [(0, batch(recs))], topic="fuzz-compact")
    s["produce-v8-idempotent"] = (init_producer_id(1) +
                                  produce(8, -1, [(0, batch(recs, producer_id=7, epoch=0, base_seq=0))]) +
                                  produce(8, -1, [(0, batch(recs, producer_id=7, epoch=0, base_seq=0))]) +
                                  produce(8, -1, [(0, batch(recs, producer_id=7, epoch=0, base_seq=5))]))
    s["produce-v8-unknown-partition"] = produce(8, 1, [(9, plain)])
    s["fetch-v4"] = fetch(4, [(0, 0), (1, 0)])
    s["fetch-v11"] = fetch(11, [(0, 0), (1, 0)], forgotten=[("fuzz", [1])])
    s["fetch-v7-out-of-range"] = fetch(7, [(0, 1 << 40)])
    s["fetch-v11-long-poll"] = fetch(11, [(1, 1 << 20)], max_wait=500, min_bytes=1 << 20)
    s["produce-then-fetch-v10"] = produce(8, 1, [(1, plain)]) + fetch(10, [(1, 0)], max_wait=100)
    s["list-offsets-v1"] = list_offsets(1, [(0, -1), (1, -2)])
    s["list-offsets-v5"] = list_offsets(5, [(0, -1), (0, -2), (0, 1700000000001), (1, 0)])
    s["create-topics-v0"] = create_topics(0, [("fuzz-created", 2, 1, [])])
    s["create-topics-v4-configs"] = create_topics(4, [
        ("fuzz-configs", 1, -1, [("cleanup.policy", "compact"), ("retention.ms", "60000"),
                                 ("segment.bytes", None)]),
        ("fuzz", 1, 1, []),
        ("bad name!", 1, 1, [])])
    s["create-topics-v1-validate-only"] = create_topics(1, [("fuzz-validate", 3, 1, [])], validate_only=True)
    s["create-then-delete-topics-v3"] = (create_topics(2, [("fuzz-gone", 1, 1, [])]) +
                                         delete_topics(3, ["fuzz-gone", "never-was"]))
    s["describe-configs-v0"] = describe_configs(0, [(2, "fuzz", None), (4, "0", None)])
    s["describe-configs-v3-keys"] = describe_configs(3, [(2, "fuzz-compact", ["cleanup.policy", "retention.ms"]),
                                                         (2, "missing", None), (4, "0", ["num.partitions"])])
    s["find-coordinator-v0"] = find_coordinator(0, "fuzz-group")
    s["find-coordinator-v2"] = find_coordinator(2, "fuzz-group")
    s["join-group-v0"] = join_group(0, "fuzz-group")
    s["join-group-v5-static"] = join_group(5, "fuzz-static", instance="instance-1")
    s["group-session-v3"] = (find_coordinator(2, "fuzz-group") + join_group(3, "fuzz-group") +
                             sync_group(2, "fuzz-group", 1, "m", assignments=[("m", b"\x00\x00")]) +
                             heartbeat(2, "fuzz-group", 1, "m") +
                             offset_commit(5, "fuzz-group", 1, "m", [(0, 3, "meta")]) +
                             offset_fetch(4, "fuzz-group", [("fuzz", [0, 1])]) +
                             leave_group(2, "fuzz-group", "m"))
    s["sync-group-v3"] = sync_group(3, "fuzz-group", 1, "m", instance="i", assignments=[("m", b"")])
    s["heartbeat-v3"] = heartbeat(3, "fuzz-group", 1, "m", instance="i")
    s["leave-group-v3"] = leave_group(3, "fuzz-group", "m", instance="i")
    s["offset-commit-v2-simple"] = offset_commit(2, "fuzz-simple", -1, "", [(0, 2, None), (1, 0, "")])
    s["offset-commit-v7"] = offset_commit(7, "fuzz-simple", -1, "", [(0, 4, "m")])
    s["offset-fetch-v1"] = offset_fetch(1, "fuzz-simple", [("fuzz", [0, 1, 7])])
    s["offset-fetch-v5-all"] = offset_fetch(5, "fuzz-simple", None)
    s["describe-groups-v0"] = describe_groups(0, ["fuzz-group", "fuzz-simple"])
    s["describe-groups-v4"] = describe_groups(4, ["fuzz-group", "missing"])
    s["list-groups-v0"] = list_groups(0)
    s["list-groups-v2"] = list_groups(2)
    s["delete-groups-v1"] = offset_commit(2, "fuzz-del", -1, "", [(0, 1, None)]) + delete_groups(1, ["fuzz-del"])
    s["init-producer-id-v0"] = init_producer_id(0)
    s["many-requests-pipelined"] = (api_versions(3) + metadata(8, ["fuzz"]) + list_offsets(5, [(0, -1)]) +
                                    produce(8, 1, [(0, plain)]) + fetch(11, [(0, 0)]))
    return s


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                             "corpus", "request")
    os.makedirs(out, exist_ok=True)
    for name, data in seeds().items():
        with open(os.path.join(out, "seed-" + name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
