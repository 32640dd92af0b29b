#!/usr/bin/python3
"""Integration test: idempotent producers.  The peer is a real `sluice broker`
and the client librdkafka (Debian's confluent-kafka) with
enable.idempotence=true, talking through a fault-injecting TCP proxy started
by this test.  The proxy loses Produce responses after the broker has appended
the batch, so the client must resend the same batch (same producer id, epoch
and sequence) and the broker must answer with the original offset instead of
appending it again -- also across a broker crash (SIGKILL: the state comes
back from the log) and a clean restart (from the snapshot).  A control case
without idempotence shows that the same faults do cause duplicates.

Stored records are checked with `sluice log dump --records` on the stopped
broker's partition folders, delivery offsets from the client's reports.

usage: /usr/bin/python3 test_idempotence.py PATH_TO_SLUICE [CASE...]
"""

import collections
import os
import re
import socket
import struct
import sys
import threading

from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import check, check_eq, run  # noqa: E402

PRODUCE = 0
METADATA = 3
PARTITIONS = 3
MESSAGES = 3000


def read_frame(sock):
    """One size-prefixed Kafka frame (with its size), or None at EOF."""
    head = _read_exact(sock, 4)
    if head is None:
        return None
    (size,) = struct.unpack(">i", head)
    body = _read_exact(sock, size)
    return None if body is None else head + body


def _read_exact(sock, n):
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            return None
        buf += chunk
    return buf


class FaultProxy:
    """127.0.0.1:<port> -> the broker.  Metadata responses get the proxy's
    port in place of the broker's, so the client keeps talking through it.
    fault(n) is asked about the n-th Produce response: None passes it on;
    a callable is run (e.g. to restart the broker) and the response is then
    lost with the connection, after the broker appended the batch."""

    def __init__(self, broker, fault):
        self.broker = broker
        self.fault = fault
        self.lock = threading.Lock()
        self.produce_responses = 0
        self.faults = 0
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def bootstrap(self):
        return "127.0.0.1:%d" % self.port

    def close(self):
        self.sock.close()

    def _accept(self):
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client):
        try:
            upstream = socket.create_connection(("127.0.0.1", self.broker.port), timeout=5)
            upstream.settimeout(None)
        except OSError:
            client.close()
            return
        inflight = {}  # correlation id -> (api_key, api_version)
        threading.Thread(target=self._requests, args=(client, upstream, inflight), daemon=True).start()
        self._responses(client, upstream, inflight)

    @staticmethod
    def _close(*socks):
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def _requests(self, client, upstream, inflight):
        try:
            while True:
                frame = read_frame(client)
                if frame is None:
                    break
                key, version, corr = struct.unpack(">hhi", frame[4:12])
                inflight[corr] = (key, version)  # recorded before the broker can answer
                upstream.sendall(frame)
        except OSError:
            pass
        self._close(client, upstream)

    def _responses(self, client, upstream, inflight):
        try:
            while True:
                frame = read_frame(upstream)
                if frame is None:
                    break
                (corr,) = struct.unpack(">i", frame[4:8])
                key, version = inflight.pop(corr, (None, None))
                if key == METADATA:
                    frame = self._rewrite_metadata(frame, version)
                elif key == PRODUCE:
                    with self.lock:
                        self.produce_responses += 1
                        action = self.fault(self.produce_responses)
                        if action:
                            self.faults += 1
                            action()
                    if action:
                        break
                client.sendall(frame)
        except OSError:
            pass
        self._close(client, upstream)

    def _rewrite_metadata(self, frame, version):
        """Brokers array of Metadata v0-8 (non-flexible: what Sluice
        advertises): node_id, host, port, rack (v1+)."""
        check(version <= 8, "Metadata v%d is flexible: the proxy only rewrites v0-8" % version)
        buf = bytearray(frame)
        off = 8 + (4 if version >= 3 else 0)
        (n,) = struct.unpack_from(">i", buf, off)
        off += 4
        for _ in range(n):
            off += 4
            (host_len,) = struct.unpack_from(">h", buf, off)
            off += 2 + host_len
            struct.pack_into(">i", buf, off, self.port)
            off += 4
            if version >= 1:
                (rack_len,) = struct.unpack_from(">h", buf, off)
                off += 2 + max(rack_len, 0)
        return bytes(buf)


def create_topic(b, topic):
    admin = AdminClient({"bootstrap.servers": b.bootstrap})
    fs = admin.create_topics([NewTopic(topic, PARTITIONS, 1)], operation_timeout=10)
    fs[topic].result(timeout=20)


def produce_all(bootstrap, topic, idempotent):
    """Produce MESSAGES records (value m-<i>); returns the delivery reports."""
    errors = []
    p = Producer({
        "bootstrap.servers": bootstrap,
        "enable.idempotence": idempotent,
        "acks": "all",
        "linger.ms": 2,
        "batch.num.messages": 20,  # many small batches: many Produce requests in flight
        "max.in.flight.requests.per.connection": 5,
        "message.timeout.ms": 90000,
        "retry.backoff.ms": 50,
        "reconnect.backoff.ms": 50,
        "reconnect.backoff.max.ms": 500,
        "error_cb": lambda e: errors.append(e) if e.fatal() else None,
    })
    reports = []

    def on_delivery(err, msg):
        reports.append((err, msg.partition(), msg.offset(), msg.value()))

    for i in range(MESSAGES):
        while True:
            try:
                p.produce(topic, key=b"k-%d" % i, value=b"m-%d" % i, partition=i % PARTITIONS,
                          on_delivery=on_delivery)
                break
            except BufferError:
                p.poll(0.05)
        if i % 20 == 19:
            p.poll(0.002)  # let batches go out while we produce
    left = p.flush(120)
    check(not errors, "fatal producer error: %s" % errors)
    check_eq(left, 0, "messages still undelivered after flush")
    return reports


def stored_values(ctx, b, topic):
    """Every record value stored in the topic (broker stopped)."""
    b.stop()
    values = []
    for part in range(PARTITIONS):
        d = os.path.join(b.data, "topics", "%s-%d" % (topic, part))
        out = run([ctx.sluice, "log", "dump", "--dir", d, "--records"], what="sluice log dump").stdout.decode()
        values += re.findall(r'"(m-\d+)"', out)
    return values


def check_exactly_once(ctx, b, topic, reports):
    failed = [r for r in reports if r[0] is not None]
    check(not failed, "%d delivery errors, first: %s" % (len(failed), failed[:1]))
    check_eq(len(reports), MESSAGES, "delivery reports")
    # Offsets acknowledged per partition are exactly 0..n-1: a resent batch was
    # answered with its original offset, not a new one.
    by_part = collections.defaultdict(list)
    for _, part, offset, _ in reports:
        by_part[part].append(offset)
    for part, offsets in by_part.items():
        offsets.sort()
        check(offsets == list(range(len(offsets))),
              "partition %d: acknowledged offsets are not 0..%d (duplicates or gaps), e.g. %s"
              % (part, len(offsets) - 1, [o for i, o in enumerate(offsets) if o != i][:5]))
    values = stored_values(ctx, b, topic)
    counts = collections.Counter(values)
    dups = sorted((v for v, c in counts.items() if c > 1), key=lambda v: int(v[2:]))
    missing = set("m-%d" % i for i in range(MESSAGES)) - set(counts)
    check(not dups, "%d value(s) stored more than once, e.g. %s" % (len(dups), dups[:5]))
    check(not missing, "%d value(s) missing, e.g. %s" % (len(missing), sorted(missing)[:5]))
    check_eq(len(values), MESSAGES, "stored records")


def run_with_faults(ctx, faults, idempotent=True, topic="idem"):
    b = ctx.broker()
    create_topic(b, topic)
    proxy = FaultProxy(b, lambda n: faults.get(n) and (lambda: faults[n](b)))
    try:
        reports = produce_all(proxy.bootstrap, topic, idempotent)
    finally:
        proxy.close()
    check(proxy.faults == len(faults),
          "only %d of %d faults injected (%d Produce responses seen)"
          % (proxy.faults, len(faults), proxy.produce_responses))
    return b, reports


def lose(b):
    pass


def crash(b):
    b.restart(crash=True)


def clean_restart(b):
    b.restart(crash=False)


def test_lost_produce_responses_leave_no_duplicates(ctx):
    b, reports = run_with_faults(ctx, {3: lose, 7: lose, 12: lose, 20: lose})
    check_exactly_once(ctx, b, "idem", reports)


def test_no_duplicates_across_a_broker_crash(ctx):
    # The batch was appended and acknowledged by the broker, which then died
    # before the client saw the answer: after the restart the producer state
    # is rebuilt from the log and must recognise the resent batch.
    b, reports = run_with_faults(ctx, {5: crash, 16: lose, 30: crash})
    check_exactly_once(ctx, b, "idem", reports)


def test_no_duplicates_across_a_clean_restart(ctx):
    b, reports = run_with_faults(ctx, {5: clean_restart, 16: lose, 30: clean_restart})
    check_exactly_once(ctx, b, "idem", reports)


def test_control_without_idempotence_the_same_faults_duplicate(ctx):
    # Shows the faults above make the client resend appended batches; without
    # this the cases above could pass without exercising anything.
    b, reports = run_with_faults(ctx, {3: lose, 7: lose, 12: lose, 20: lose}, idempotent=False)
    values = stored_values(ctx, b, "idem")
    check(len(values) > MESSAGES,
          "expected duplicates without idempotence, got %d records for %d messages" % (len(values), MESSAGES))


if __name__ == "__main__":
    harness.run_cases([
        test_lost_produce_responses_leave_no_duplicates,
        test_no_duplicates_across_a_broker_crash,
        test_no_duplicates_across_a_clean_restart,
        test_control_without_idempotence_the_same_faults_duplicate,
    ])
