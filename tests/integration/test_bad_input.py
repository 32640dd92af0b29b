#!/usr/bin/python3
"""Hostile and broken input on raw sockets against `sluice broker`: random
bytes, truncated frames, absurd frame sizes, unknown API keys, an ApiVersions
request of version 99 (answered with UNSUPPORTED_VERSION and the supported
list, parsed here), garbage inside Produce bodies and record batches, and
clients vanishing with responses pending.  After each case the broker must
still run and serve a good client (raw ApiVersions, confluent-kafka, kcat),
and a connection that sent a malformed frame must have been closed.

usage: /usr/bin/python3 test_bad_input.py PATH_TO_SLUICE [CASE...]
"""

import json
import os
import random
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import TestFailure, check, check_eq, run  # noqa: E402

from confluent_kafka.admin import AdminClient, NewTopic  # noqa: E402

API_PRODUCE, API_METADATA, API_API_VERSIONS = 0, 3, 18
UNSUPPORTED_VERSION, CORRUPT_MESSAGE = 35, 2

# ---- Kafka wire encoding (non-flexible versions) ------------------------------------


def i8(v): return struct.pack(">b", v)
def i16(v): return struct.pack(">h", v)
def i32(v): return struct.pack(">i", v)
def i64(v): return struct.pack(">q", v)


def string(s):
    if s is None:
        return i16(-1)
    b = s.encode() if isinstance(s, str) else s
    return i16(len(b)) + b


def nbytes(b):
    return i32(-1) if b is None else i32(len(b)) + b


def frame(api_key, version, corr, body=b"", client_id="bad-input-test"):
    """A request frame with header v1 (all the versions used here are non-flexible)."""
    payload = i16(api_key) + i16(version) + i32(corr) + string(client_id) + body
    return i32(len(payload)) + payload


def zigzag_varint(v):
    z = (v << 1) ^ (v >> 63)
    out = bytearray()
    while True:
        byte = z & 0x7F
        z >>= 7
        if z:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


_CRC32C = []
for n in range(256):
    c = n
    for _ in range(8):
        c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
    _CRC32C.append(c)


def crc32c(data):
    c = 0xFFFFFFFF
    for b in data:
        c = _CRC32C[(c ^ b) & 0xFF] ^ (c >> 8)
    return c ^ 0xFFFFFFFF


def record_batch(values, ts=1_700_000_000_000):
    """A magic-2 record batch, uncompressed, no producer id."""
    recs = b""
    for i, v in enumerate(values):
        body = i8(0) + zigzag_varint(0) + zigzag_varint(i) + zigzag_varint(-1) + zigzag_varint(len(v)) + v + \
            zigzag_varint(0)
        recs += zigzag_varint(len(body)) + body
    after_crc = i16(0) + i32(len(values) - 1) + i64(ts) + i64(ts) + i64(-1) + i16(-1) + i32(-1) + \
        i32(len(values)) + recs
    after_length = i32(-1) + i8(2) + struct.pack(">I", crc32c(after_crc)) + after_crc
    return i64(0) + i32(len(after_length)) + after_length


def produce_body(topic, partition, records, acks=-1):
    return string(None) + i16(acks) + i32(5000) + i32(1) + string(topic) + i32(1) + i32(partition) + nbytes(records)


class Reader:
    def __init__(self, data):
        self.d, self.at = data, 0

    def take(self, n):
        if self.at + n > len(self.d):
            raise TestFailure("response truncated at byte %d (wanted %d more of %d)" % (self.at, n, len(self.d)))
        v = self.d[self.at:self.at + n]
        self.at += n
        return v

    def i16(self): return struct.unpack(">h", self.take(2))[0]
    def i32(self): return struct.unpack(">i", self.take(4))[0]
    def i64(self): return struct.unpack(">q", self.take(8))[0]

    def string(self):
        n = self.i16()
        return None if n < 0 else self.take(n).decode()


# ---- sockets ---------------------------------------------------------------------------


def connect(b):
    s = socket.create_connection(("127.0.0.1", b.port), timeout=5)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def recv_exact(s, n):
    out = b""
    while len(out) < n:
        chunk = s.recv(n - len(out))
        if not chunk:
            raise TestFailure("connection closed after %d of %d response bytes" % (len(out), n))
        out += chunk
    return out


def read_response(s, corr):
    """One response frame; checks the correlation id; returns the body."""
    size = struct.unpack(">i", recv_exact(s, 4))[0]
    check(0 <= size < 1 << 24, "response size %d" % size)
    data = recv_exact(s, size)
    got = struct.unpack(">i", data[:4])[0]
    check_eq(got, corr, "correlation id of the response")
    return data[4:]


def expect_closed(s, what, timeout_s=5):
    """The broker must close the connection (EOF or reset) and send nothing."""
    s.settimeout(timeout_s)
    try:
        data = s.recv(65536)
    except socket.timeout:
        raise TestFailure("%s: connection still open after %d s" % (what, timeout_s))
    except ConnectionResetError:
        return
    finally:
        s.close()
    check(data == b"", "%s: expected the connection closed, got %d bytes: %r" % (what, len(data), data[:40]))


def send_quietly(s, data):
    """Send; the broker may already have closed (reset) the connection."""
    try:
        s.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass


def api_versions_v0(b, corr=7):
    with connect(b) as s:
        s.sendall(frame(API_API_VERSIONS, 0, corr))
        r = Reader(read_response(s, corr))
        return r.i16(), [(r.i16(), r.i16(), r.i16()) for _ in range(r.i32())]


def assert_healthy(b, what):
    """The broker still runs and serves good clients."""
    check(b.alive(), "%s: the broker died (status %s)" % (what, b.proc and b.proc.poll()))
    err, apis = api_versions_v0(b)
    check_eq(err, 0, "%s: ApiVersions v0 error afterwards" % what)
    check(any(k == API_PRODUCE for k, _, _ in apis), "%s: ApiVersions lists no Produce" % what)
    md = AdminClient({"bootstrap.servers": b.bootstrap}).list_topics(timeout=10)
    check_eq(sorted(md.brokers), [0], "%s: brokers seen by confluent-kafka afterwards" % what)


def kcat_ok(b):
    md = json.loads(run(["kcat", "-b", b.bootstrap, "-L", "-J"]).stdout)
    check_eq([x["id"] for x in md["brokers"]], [0], "kcat -L brokers")


# ---- cases -----------------------------------------------------------------------------


def test_absurd_frame_sizes_close_the_connection(ctx):
    b = ctx.broker()
    for size in (0x7FFFFFFF, -1, -0x80000000, 0, 4, 7, 100 * 1024 * 1024 + 1):
        s = connect(b)
        send_quietly(s, i32(size) + b"\x00" * 16)
        expect_closed(s, "frame size %d" % size)
        assert_healthy(b, "frame size %d" % size)
    kcat_ok(b)


def test_random_bytes_close_the_connection(ctx):
    b = ctx.broker()
    rnd = random.Random(1234)
    for i in range(30):
        junk = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(1, 3000)))
        # Half raw junk; half framed junk whose size is right, so that the
        # broker parses a header out of it.
        data = junk if i % 2 == 0 else i32(len(junk)) + junk
        s = connect(b)
        send_quietly(s, data)
        s.shutdown(socket.SHUT_WR)  # no more bytes: a frame still incomplete can never finish
        s.settimeout(5)
        try:
            while s.recv(65536):  # a random header may, rarely, be a valid request: drain
                pass
        except socket.timeout:
            raise TestFailure("junk #%d (%d bytes): connection still open 5 s after the client's EOF" % (i, len(data)))
        except ConnectionResetError:
            pass
        s.close()
    assert_healthy(b, "random bytes")
    kcat_ok(b)


def test_truncated_frames(ctx):
    b = ctx.broker()
    good = frame(API_API_VERSIONS, 0, 1)
    for cut in (1, 3, 4, 6, len(good) - 1):
        s = connect(b)
        s.sendall(good[:cut])
        s.close()  # the client goes away mid-frame
        assert_healthy(b, "frame cut after %d bytes" % cut)
    # A frame whose size covers only part of the header: malformed header.
    for payload in (i16(API_API_VERSIONS) + i16(0) + i32(5), i16(API_API_VERSIONS) + i16(0) + i32(5) + i16(40) + b"ab"):
        s = connect(b)
        s.sendall(i32(len(payload)) + payload)
        expect_closed(s, "header truncated inside the frame (%d bytes)" % len(payload))
    # The rest of a frame that never comes does not stop other clients.
    s = connect(b)
    s.sendall(i32(1000) + good[4:])
    assert_healthy(b, "a frame waiting for the rest of its bytes")
    s.close()
    assert_healthy(b, "truncated frames")


def test_unknown_api_key_and_version_close_the_connection(ctx):
    b = ctx.broker()
    for key, version in ((999, 0), (-1, 0), (17, 0), (API_METADATA, 99), (API_PRODUCE, -1)):
        s = connect(b)
        s.sendall(frame(key, version, 42))
        expect_closed(s, "api key %d version %d" % (key, version))
    assert_healthy(b, "unknown api keys")


def test_api_versions_99_answers_unsupported_version_with_the_list(ctx):
    b = ctx.broker()
    with connect(b) as s:
        s.sendall(frame(API_API_VERSIONS, 99, 4242))
        r = Reader(read_response(s, 4242))
        check_eq(r.i16(), UNSUPPORTED_VERSION, "error code for ApiVersions v99")
        apis = {}
        for _ in range(r.i32()):
            key, lo, hi = r.i16(), r.i16(), r.i16()
            check(0 <= lo <= hi, "api %d range %d..%d" % (key, lo, hi))
            apis[key] = (lo, hi)
        check_eq(r.at, len(r.d), "bytes after the v0 body (it must be a v0 body)")
        check_eq(apis.get(API_API_VERSIONS), (0, 3), "ApiVersions range")
        for key in (API_PRODUCE, 1, 2, API_METADATA, 19, 20):
            check(key in apis, "api %d missing from %s" % (key, sorted(apis)))
        # As Kafka does, the connection stays open: the client retries with a
        # version from the list.
        s.sendall(frame(API_API_VERSIONS, 0, 4243))
        r = Reader(read_response(s, 4243))
        check_eq(r.i16(), 0, "error code of the retry with v0")
    assert_healthy(b, "ApiVersions v99")


def test_garbage_in_produce(ctx):
    b = ctx.broker()
    a = AdminClient({"bootstrap.servers": b.bootstrap})
    a.create_topics([NewTopic("raw", 1, 1)], operation_timeout=10)["raw"].result(timeout=20)

    def produce(records, corr):
        with connect(b) as s:
            s.sendall(frame(API_PRODUCE, 7, corr, produce_body("raw", 0, records)))
            r = Reader(read_response(s, corr))
            check_eq(r.i32(), 1, "topics in the Produce response")
            check_eq(r.string(), "raw", "topic in the Produce response")
            check_eq(r.i32(), 1, "partitions in the Produce response")
            check_eq(r.i32(), 0, "partition index")
            err, base = r.i16(), r.i64()
            return err, base

    # A batch built here, byte by byte, is accepted: the encoder is right...
    err, base = produce(record_batch([b"hello", b"world"]), 1)
    check_eq((err, base), (0, 0), "Produce of a hand-built batch (error, base offset)")
    # ... and damaged copies of it are refused as CORRUPT_MESSAGE, not stored.
    good = bytearray(record_batch([b"spoilt"]))
    flipped = bytearray(good)
    flipped[-3] ^= 0xFF  # inside the value: the CRC no longer matches
    cases = [
        ("a flipped byte (bad CRC)", bytes(flipped)),
        ("random bytes", bytes(random.Random(5).getrandbits(8) for _ in range(200))),
        ("a batch cut short", bytes(good[:-5])),
        ("a batch length past the end", bytes(good[:8]) + i32(10_000) + bytes(good[12:])),
        ("a negative batch length", bytes(good[:8]) + i32(-5) + bytes(good[12:])),
        ("magic 7", bytes(good[:16]) + b"\x07" + bytes(good[17:])),
        ("an empty record set", b""),
    ]
    for i, (what, records) in enumerate(cases):
        err, _ = produce(records, 10 + i)
        check(err != 0, "Produce of %s was accepted" % what)
        check(err in (CORRUPT_MESSAGE, 87, 43), "Produce of %s: error %d" % (what, err))
    # Nothing but the good batch was stored.
    with connect(b) as s:
        # ListOffsets v1: replica_id, [topic [partition timestamp]]; -1 = latest.
        s.sendall(frame(2, 1, 99, i32(-1) + i32(1) + string("raw") + i32(1) + i32(0) + i64(-1)))
        r = Reader(read_response(s, 99))
        r.i32(), r.string(), r.i32(), r.i32()
        check_eq(r.i16(), 0, "ListOffsets error")
        r.i64()
        check_eq(r.i64(), 2, "end offset of 'raw' after the refused batches")
    # A body whose structure is broken (not just its records) closes the connection.
    for what, body in (
        ("a topic count of 2^31-1", string(None) + i16(-1) + i32(5000) + i32(0x7FFFFFFF)),
        ("a records length past the end", string(None) + i16(-1) + i32(5000) + i32(1) + string("raw") + i32(1)
         + i32(0) + i32(1 << 20) + b"xx"),
        ("a body cut inside the topic name", string(None) + i16(-1) + i32(5000) + i32(1) + i16(50) + b"ra"),
    ):
        s = connect(b)
        s.sendall(frame(API_PRODUCE, 7, 77, body))
        expect_closed(s, "Produce with " + what)
    assert_healthy(b, "garbage in Produce")
    kcat_ok(b)


def test_produce_v0_to_v2_refuses_old_message_formats(ctx):
    # Produce v0-v2 are listed (librdkafka < 2.10 compresses with gzip, snappy
    # and lz4 only for brokers that list Produce v0) but only record batches
    # (magic 2) are stored: older message sets get UNSUPPORTED_FOR_MESSAGE_FORMAT
    # in a response laid out for the request's version.
    b = ctx.broker()
    a = AdminClient({"bootstrap.servers": b.bootstrap})
    a.create_topics([NewTopic("legacy", 1, 1)], operation_timeout=10)["legacy"].result(timeout=20)
    for version in (0, 1, 2):
        magic = 0 if version == 0 else 1
        msg = i8(magic) + i8(0) + (i64(1_700_000_000_000) if magic else b"") + nbytes(None) + nbytes(b"old")
        msg = struct.pack(">I", 0) + msg  # the (unchecked here) CRC-32 of a legacy message
        message_set = i64(0) + i32(len(msg)) + msg
        body = i16(-1) + i32(5000) + i32(1) + string("legacy") + i32(1) + i32(0) + nbytes(message_set)
        with connect(b) as s:
            s.sendall(frame(API_PRODUCE, version, 500 + version, body))
            r = Reader(read_response(s, 500 + version))
            check_eq((r.i32(), r.string(), r.i32(), r.i32()), (1, "legacy", 1, 0), "Produce v%d response" % version)
            check_eq(r.i16(), 43, "Produce v%d of a magic-%d message set: error" % (version, magic))
            r.i64()  # base offset
            if version >= 2:
                r.i64()  # log_append_time
            if version >= 1:
                r.i32()  # throttle_time_ms
            check_eq(len(r.d) - r.at, 0, "bytes left over in the Produce v%d response" % version)
    assert_healthy(b, "old message formats")


def test_client_vanishing_with_pending_responses(ctx):
    b = ctx.broker()
    a = AdminClient({"bootstrap.servers": b.bootstrap})
    a.create_topics([NewTopic("vanish", 1, 1)], operation_timeout=10)["vanish"].result(timeout=20)
    batch = record_batch([b"x" * 1000] * 50)
    for _ in range(20):
        s = connect(b)
        # Pipelined acks=all produces (answered after fdatasync) and a long-poll
        # fetch, then a reset: the broker must drop the pending answers.
        reqs = b"".join(frame(API_PRODUCE, 7, i, produce_body("vanish", 0, batch)) for i in range(30))
        fetch = i32(-1) + i32(5000) + i32(1) + i32(1 << 20) + i8(0) + i32(1) + string("vanish") + i32(1) + \
            i32(0) + i64(1 << 40) + i32(1 << 20)  # Fetch v4, offset far past the end
        reqs += frame(1, 4, 99, fetch)
        s.sendall(reqs)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST on close
        s.close()
    assert_healthy(b, "clients vanishing")
    # Memory does not stay with the dead connections.
    with open("/proc/%d/status" % b.proc.pid) as f:
        rss_kb = int(next(line for line in f if line.startswith("VmRSS:")).split()[1])
    check(rss_kb < 512 * 1024, "broker RSS %d MiB after the vanished clients" % (rss_kb // 1024))


def test_many_connections_claiming_huge_frames(ctx):
    b = ctx.broker()
    socks = []
    for _ in range(40):
        s = connect(b)
        s.sendall(i32(100 * 1024 * 1024) + b"\x00" * 10)  # just within socket.request.max.bytes
        socks.append(s)
    assert_healthy(b, "40 connections each announcing a 100 MiB frame")
    with open("/proc/%d/status" % b.proc.pid) as f:
        rss_kb = int(next(line for line in f if line.startswith("VmRSS:")).split()[1])
    check(rss_kb < 512 * 1024, "broker RSS %d MiB with 40 announced 100 MiB frames" % (rss_kb // 1024))
    for s in socks:
        s.close()
    assert_healthy(b, "after closing them")


CASES = [
    test_absurd_frame_sizes_close_the_connection,
    test_random_bytes_close_the_connection,
    test_truncated_frames,
    test_unknown_api_key_and_version_close_the_connection,
    test_api_versions_99_answers_unsupported_version_with_the_list,
    test_garbage_in_produce,
    test_produce_v0_to_v2_refuses_old_message_formats,
    test_client_vanishing_with_pending_responses,
    test_many_connections_claiming_huge_frames,
]

if __name__ == "__main__":
    harness.run_cases(CASES)
