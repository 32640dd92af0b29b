#!/usr/bin/python3
"""Consumer groups against a real `sluice broker`, with real clients.

Peers: the sluice binary given as argv[1] (started here on a free port with a
temporary data folder), confluent-kafka (librdkafka) consumers in this process
and in a child process, kcat when installed, and a few raw protocol requests
for what the clients do not expose (OffsetFetch of all topics, DeleteGroups).

Checks: two consumers split a 6-partition topic; a third joins and the group
rebalances to 2+2+2; leaving rebalances back; a consumer killed with SIGKILL is
removed after its session timeout; committed offsets survive a SIGKILL of the
broker; kcat -G consumes through the coordinator.  Exits non-zero on failure.

Run: /usr/bin/python3 tests/integration/test_groups.py build/sluice
(Debian's python3-confluent-kafka lives in /usr/bin/python3's dist-packages.)
"""
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time

from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

TOPIC = "orders"
PARTITIONS = 6
PER_PARTITION = 100


class Broker:
    def __init__(self, binary, data):
        self.binary, self.data = binary, data
        self.proc, self.port, self.log = None, None, None

    def start(self):
        self.log = open(os.path.join(self.data, "..", "broker.log"), "ab")
        args = [self.binary, "broker", "--data", self.data, "--listen", "127.0.0.1:%d" % (self.port or 0),
                "--set", "group.min.session.timeout.ms=1000", "--set", "num.partitions=%d" % PARTITIONS,
                "--set", "group.initial.rebalance.delay.ms=1000"]
        self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.PIPE)
        deadline = time.time() + 20
        while time.time() < deadline:
            line = self.proc.stderr.readline().decode(errors="replace")
            if not line:
                break
            self.log.write(line.encode())
            m = re.search(r"listening on [^ ]*:(\d+)", line)
            if m:
                self.port = int(m.group(1))
                # Keep draining stderr into the log so the broker never blocks on a full pipe.
                threading.Thread(target=self.drain, args=(self.proc.stderr, self.log), daemon=True).start()
                return
        raise SystemExit("broker did not start (see %s/../broker.log)" % self.data)

    @staticmethod
    def drain(pipe, log):
        for line in pipe:
            log.write(line)
            log.flush()

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    @property
    def bootstrap(self):
        return "127.0.0.1:%d" % self.port


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print("ok -", what, flush=True)


def consumer(bootstrap, group, name, **extra):
    conf = {"bootstrap.servers": bootstrap, "group.id": group, "client.id": name,
            "auto.offset.reset": "earliest", "enable.auto.commit": False,
            "session.timeout.ms": 6000, "heartbeat.interval.ms": 300,
            "partition.assignment.strategy": "range"}
    conf.update(extra)
    c = Consumer(conf)
    c.subscribe([TOPIC])
    return c


def assigned(c):
    return sorted(tp.partition for tp in c.assignment())


def poll_until(consumers, cond, timeout, sink=None):
    """Poll every consumer in turn until cond() holds."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for c in consumers:
            m = c.poll(0.05)
            if m is not None and not m.error() and sink is not None:
                sink.append((m.partition(), m.offset()))
        if cond():
            return True
    return False


def split_ok(consumers, sizes):
    parts = [assigned(c) for c in consumers]
    flat = sorted(p for ps in parts for p in ps)
    return flat == list(range(PARTITIONS)) and sorted(len(ps) for ps in parts) == sorted(sizes)


# ---- raw protocol: OffsetFetch v2 (all topics), DescribeGroups v0, DeleteGroups v0 ----

def kstr(s):
    b = s.encode()
    return struct.pack(">h", len(b)) + b


def request(bootstrap, api_key, version, body):
    host, port = bootstrap.split(":")
    with socket.create_connection((host, int(port)), timeout=10) as s:
        hdr = struct.pack(">hhi", api_key, version, 7) + kstr("raw-test")
        msg = hdr + body
        s.sendall(struct.pack(">i", len(msg)) + msg)
        size = struct.unpack(">i", recv_exact(s, 4))[0]
        data = recv_exact(s, size)
    corr = struct.unpack(">i", data[:4])[0]
    assert corr == 7
    return Reader(data[4:])


def recv_exact(s, n):
    out = b""
    while len(out) < n:
        chunk = s.recv(n - len(out))
        if not chunk:
            raise AssertionError("connection closed by broker")
        out += chunk
    return out


class Reader:
    def __init__(self, data):
        self.d, self.p = data, 0

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.d, self.p)[0]
        self.p += struct.calcsize(fmt)
        return v

    def str(self):
        n = self.take(">h")
        if n < 0:
            return None
        v = self.d[self.p:self.p + n].decode()
        self.p += n
        return v


def offset_fetch_all(bootstrap, group):
    """OffsetFetch v2 with a null topic array: {(topic, partition): offset}."""
    r = request(bootstrap, 9, 2, kstr(group) + struct.pack(">i", -1))
    out = {}
    for _ in range(r.take(">i")):
        topic = r.str()
        for _ in range(r.take(">i")):
            part, off = r.take(">i"), r.take(">q")
            r.str()
            err = r.take(">h")
            assert err == 0, err
            out[(topic, part)] = off
    assert r.take(">h") == 0
    return out


def describe_state(bootstrap, group):
    r = request(bootstrap, 15, 0, struct.pack(">i", 1) + kstr(group))
    assert r.take(">i") == 1
    err, gid, state = r.take(">h"), r.str(), r.str()
    assert err == 0 and gid == group
    return state


def delete_group(bootstrap, group):
    r = request(bootstrap, 42, 0, struct.pack(">i", 1) + kstr(group))
    r.take(">i")  # throttle
    assert r.take(">i") == 1
    assert r.str() == group
    return r.take(">h")


# ---- the scenario -----------------------------------------------------------------------------

CHILD = r"""
import sys
from confluent_kafka import Consumer
c = Consumer({"bootstrap.servers": sys.argv[1], "group.id": sys.argv[2], "client.id": "doomed",
              "session.timeout.ms": 6000, "heartbeat.interval.ms": 300,
              "partition.assignment.strategy": "range", "auto.offset.reset": "earliest"})
c.subscribe([sys.argv[3]])
while True:
    c.poll(0.1)
    if c.assignment():
        print("assigned", flush=True)
"""


def main():
    if len(sys.argv) != 2:
        print("usage: test_groups.py SLUICE_BINARY", file=sys.stderr)
        return 2
    tmp = tempfile.mkdtemp(prefix="sluice-groups-")
    data = os.path.join(tmp, "data")
    os.mkdir(data)
    broker = Broker(os.path.abspath(sys.argv[1]), data)
    child = None
    failed = True
    try:
        broker.start()
        bs = broker.bootstrap
        admin = AdminClient({"bootstrap.servers": bs, "log.connection.close": False})
        fs = admin.create_topics([NewTopic(TOPIC, PARTITIONS, 1)])
        fs[TOPIC].result(10)
        p = Producer({"bootstrap.servers": bs, "linger.ms": 5, "log.connection.close": False})
        for part in range(PARTITIONS):
            for i in range(PER_PARTITION):
                p.produce(TOPIC, value=b"v%d-%d" % (part, i), partition=part)
        check(p.flush(20) == 0, "produced %d records" % (PARTITIONS * PER_PARTITION))

        # Two members split the topic and consume every record.
        seen = []
        a, b = consumer(bs, "g", "a"), consumer(bs, "g", "b")
        check(poll_until([a, b], lambda: split_ok([a, b], [3, 3]), 30, seen), "two consumers split 3+3")
        poll_until([a, b], lambda: len(set(seen)) >= PARTITIONS * PER_PARTITION, 30, seen)
        # (A record may be read twice if one member briefly owned every
        # partition before the other joined; coverage is what must hold.)
        check(set(seen) == {(p_, o) for p_ in range(PARTITIONS) for o in range(PER_PARTITION)},
              "every record consumed by the pair")
        a.commit(asynchronous=False)
        b.commit(asynchronous=False)
        committed = a.committed([TopicPartition(TOPIC, i) for i in range(PARTITIONS)], timeout=10)
        check(all(tp.offset == PER_PARTITION and tp.error is None for tp in committed),
              "committed offsets read back (OffsetFetch)")

        # A third member joins: 2+2+2.
        c = consumer(bs, "g", "c")
        check(poll_until([a, b, c], lambda: split_ok([a, b, c], [2, 2, 2]), 30), "third consumer rebalances to 2+2+2")
        groups = admin.list_groups("g", timeout=10)
        check(len(groups) == 1 and groups[0].state == "Stable" and len(groups[0].members) == 3
              and groups[0].protocol == "range", "DescribeGroups: Stable, 3 members, protocol range")
        check(all(m.client_host.startswith("/127.0.0.1") for m in groups[0].members), "client hosts reported")
        check(delete_group(bs, "g") == 68, "DeleteGroups refuses a group with members (NON_EMPTY_GROUP)")

        # Leaving rebalances back to 3+3.
        c.close()
        check(poll_until([a, b], lambda: split_ok([a, b], [3, 3]), 30), "LeaveGroup rebalances back to 3+3")

        # A member killed without leaving is removed after its session timeout.
        child = subprocess.Popen([sys.executable, "-c", CHILD, bs, "g", TOPIC], stdout=subprocess.PIPE)
        check(poll_until([a, b], lambda: len(assigned(a)) + len(assigned(b)) == 4, 30)
              and child.stdout.readline().strip() == b"assigned", "killable third member joined (2+2+2)")
        child.send_signal(signal.SIGKILL)
        child.wait()
        t0 = time.time()
        check(poll_until([a, b], lambda: split_ok([a, b], [3, 3]), 30), "SIGKILLed member's partitions reassigned")
        check(time.time() - t0 >= 3, "... after its session timeout (%.1f s)" % (time.time() - t0))
        a.close()
        b.close()
        check(describe_state(bs, "g") == "Empty", "group Empty after every member left")
        check(describe_state(bs, "never-seen") == "Dead", "unknown group described as Dead")

        # Committed offsets survive kill -9 of the broker.
        broker.kill9()
        broker.start()
        bs = broker.bootstrap
        offs = offset_fetch_all(bs, "g")
        check(offs == {(TOPIC, i): PER_PARTITION for i in range(PARTITIONS)},
              "after SIGKILL + restart: OffsetFetch(all topics) returns every commit")
        p = Producer({"bootstrap.servers": bs, "log.connection.close": False})
        for part in range(PARTITIONS):
            p.produce(TOPIC, value=b"late", partition=part)
        p.flush(20)
        seen = []
        d = consumer(bs, "g", "d")
        poll_until([d], lambda: len(seen) >= PARTITIONS, 30, seen)
        time.sleep(0.5)
        poll_until([d], lambda: False, 1, seen)
        check(sorted(seen) == [(i, PER_PARTITION) for i in range(PARTITIONS)],
              "a new member resumes from the committed offsets")
        d.close()

        # kcat's balanced consumer goes through the same coordinator.
        if shutil.which("kcat"):
            out = subprocess.run(["kcat", "-b", bs, "-G", "kc", TOPIC, "-e", "-q", "-X", "auto.offset.reset=earliest"],
                                 capture_output=True, timeout=60)
            lines = out.stdout.decode().split()
            check(out.returncode == 0 and len(lines) == PARTITIONS * (PER_PARTITION + 1),
                  "kcat -G consumed all %d records" % len(lines))

        check(delete_group(bs, "g") == 0, "DeleteGroups deletes an empty group")
        check(offset_fetch_all(bs, "g") == {}, "its committed offsets are gone")
        check(delete_group(bs, "g") == 69, "deleting it again: GROUP_ID_NOT_FOUND")
        print("all group checks passed")
        failed = False
        return 0
    except AssertionError as e:
        print("FAIL:", e, file=sys.stderr)
        print("broker log: %s/broker.log" % tmp, file=sys.stderr)
        return 1
    finally:
        if child and child.poll() is None:
            child.kill()
        broker.stop()
        if not failed and os.environ.get("KEEP_TMP") is None:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
