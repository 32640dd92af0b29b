#!/usr/bin/env python3
"""The convenience clients against a real `sluice broker` (the peer; kcat
checks what they wrote): `sluice topics` create / list / describe / delete
with their exit codes, `sluice produce` keyed by a JSON field (partitioned by
murmur2 like the Java client) and `sluice consume` from the beginning, to the
end, and in a consumer group that resumes at its committed offsets; and
`sluice run`'s status line, redrawn on a terminal (a pty) and logged
otherwise.

Usage: /usr/bin/python3 test_ops_cli.py PATH_TO_SLUICE [CASE...]"""

import os
import pty
import re
import select
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check, check_eq, free_port, run, run_cases, wait_for, TestFailure  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def murmur2(data):
    """Kafka's murmur2 (seed 0x9747b28c), as the Java client's partitioner."""
    m, r = 0x5bd1e995, 24
    length = len(data)
    h = (0x9747b28c ^ length) & 0xffffffff
    i = 0
    while length - i >= 4:
        k = int.from_bytes(data[i:i + 4], "little")
        k = (k * m) & 0xffffffff
        k ^= k >> r
        k = (k * m) & 0xffffffff
        h = (h * m) & 0xffffffff
        h ^= k
        i += 4
    rest = length - i
    if rest == 3:
        h ^= data[i + 2] << 16
    if rest >= 2:
        h ^= data[i + 1] << 8
    if rest >= 1:
        h ^= data[i]
        h = (h * m) & 0xffffffff
    h ^= h >> 13
    h = (h * m) & 0xffffffff
    h ^= h >> 15
    return h


def sl(ctx, b, *args, input=None, want=0):
    r = run([ctx.sluice] + list(args) + ["--bootstrap", b.bootstrap], input=input, check_rc=False)
    check(r.returncode == want, "sluice %s: exit %d, expected %d: %s" % (
        " ".join(args), r.returncode, want, r.stderr.decode()[-500:]))
    return r.stdout.decode(), r.stderr.decode()


def test_topics_create_list_describe_delete(ctx):
    b = ctx.broker({"auto.create.topics.enable": "false"})
    sl(ctx, b, "topics", "create", "events", "--partitions", "3", "--config", "retention.ms=3600000",
       "--config", "cleanup.policy=compact")
    sl(ctx, b, "topics", "create", "other")
    out, _ = sl(ctx, b, "topics", "list")
    check_eq(out.split(), ["events", "other"], "topics list")
    out, _ = sl(ctx, b, "topics")  # list is the default
    check_eq(out.split(), ["events", "other"], "topics (no subcommand)")
    _, err = sl(ctx, b, "topics", "create", "events", want=1)
    check("already exists" in err, "a second create says the topic exists: " + err)
    sl(ctx, b, "topics", "create", "bad", "--config", "no.such.setting=1", want=1)
    run(["kcat", "-b", b.bootstrap, "-P", "-t", "events", "-p", "2", "-K", ":"], input=b"k1:a\nk2:b\n")
    out, _ = sl(ctx, b, "topics", "describe", "events")
    check("partitions 3" in out, "describe shows 3 partitions: " + out)
    check(re.search(r"partition 2 .*end offset 2 +records 2", out), "describe shows partition 2's offsets: " + out)
    check("retention.ms=3600000  (set on the topic)" in out, "describe shows the override: " + out)
    check("cleanup.policy=compact  (set on the topic)" in out, "describe shows cleanup.policy: " + out)
    sl(ctx, b, "topics", "delete", "events")
    sl(ctx, b, "topics", "describe", "events", want=1)
    sl(ctx, b, "topics", "delete", "events", want=1)
    out, _ = sl(ctx, b, "topics", "list")
    check_eq(out.split(), ["other"], "topics list after delete")
    r = run([ctx.sluice, "topics", "list", "--bootstrap", "127.0.0.1:%d" % free_port()], check_rc=False, timeout=30)
    check_eq(r.returncode, 1, "topics list with no broker exits 1")


def test_produce_keyed_and_consume(ctx):
    b = ctx.broker()
    sl(ctx, b, "topics", "create", "views", "--partitions", "3")
    users = ["alice", "bob", "carol", "dave", "erin", "frank", "grace"]
    lines = ['{"user":"%s","n":%d}' % (users[i % len(users)], i) for i in range(60)]
    _, err = sl(ctx, b, "produce", "views", "--key-field", "user", input=("\n".join(lines) + "\n").encode())
    check("60 record(s) delivered" in err, "produce reports its count: " + err)
    r = run(["kcat", "-b", b.bootstrap, "-C", "-t", "views", "-e", "-q", "-f", "%p\t%k\t%s\n"])
    seen = {}
    for line in r.stdout.decode().splitlines():
        p, k, v = line.split("\t", 2)
        check_eq(int(p), (murmur2(k.encode()) & 0x7fffffff) % 3, "partition of key %s (murmur2, as the Java client)" % k)
        check('"user":"%s"' % k in v, "key %s is the value's user field" % k)
        seen[v] = k
    check_eq(sorted(seen), sorted(lines), "every line is one record")

    # Lines that are not JSON objects with the field are skipped and make the exit status 1.
    _, err = sl(ctx, b, "produce", "views", "--key-field", "user", input=b'{"user":"zed"}\nnot json\n{"x":1}\n', want=1)
    check("line 2: not JSON" in err and "line 3: no field 'user'" in err, "bad lines are named: " + err)
    check("1 record(s) delivered" in err, "the good line went out: " + err)

    out, _ = sl(ctx, b, "consume", "views", "--from-beginning", "--exit")
    check_eq(sorted(out.splitlines()), sorted(lines + ['{"user":"zed"}']), "consume --from-beginning --exit")
    out, _ = sl(ctx, b, "consume", "views", "--from-beginning", "--exit", "--print-key")
    check('zed\t{"user":"zed"}' in out.splitlines(), "--print-key prints KEY<TAB>VALUE")

    # A group: the first member reads 25, commits; the next resumes after them.
    first, _ = sl(ctx, b, "consume", "views", "--from-beginning", "--group", "g1", "--max", "25")
    check_eq(len(first.splitlines()), 25, "--max 25")
    rest, _ = sl(ctx, b, "consume", "views", "--from-beginning", "--group", "g1", "--exit")
    check_eq(sorted(first.splitlines() + rest.splitlines()), sorted(lines + ['{"user":"zed"}']),
             "the group resumes at its committed offsets: nothing twice, nothing lost")

    # Without --from-beginning only new records come.
    p = ctx.popen([ctx.sluice, "consume", "views", "--max", "2", "--bootstrap", b.bootstrap],
                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(1.0)  # let it take its end offsets; new records come after
    sl(ctx, b, "produce", "views", input=b"new-1\nnew-2\n")
    out, _ = p.communicate(timeout=30)
    check_eq(p.returncode, 0, "consume --max 2 exits 0")
    check_eq(sorted(out.decode().splitlines()), ["new-1", "new-2"], "consume from the end")
    sl(ctx, b, "consume", "no-such-topic", "--exit", want=1)


def read_pty(fd, until, timeout):
    buf = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not until(buf):
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            buf += chunk
    return buf


def test_run_status_line_on_a_terminal_and_in_logs(ctx):
    job = os.path.join(ROOT, "examples", "wordcount.sl")
    # Not a terminal: a log line every --status-interval seconds.
    b = ctx.broker(command=["run", job, "--status-interval", "1"])
    sl(ctx, b, "produce", "text-lines", input=b"a b c\nc d\n")
    wait_for(lambda: re.search(r"status: wordcount running: in [0-9.k]+ rec/s, out [0-9.k]+ rec/s, lag 0, "
                               r"committed offset 7 \(total 7 in", b.stderr_text()), 15,
             "a status log line showing the 2 lines and 5 words committed")
    b.stop()
    check(re.search(r"status: wordcount stopped: .*committed offset 7 ", b.stderr_text()),
          "a last status line at the stop")

    # A terminal: one line redrawn in place (carriage return, erase line).
    master, slave = pty.openpty()
    data = ctx.path("tty-data")
    port = free_port()
    p = ctx.popen([ctx.sluice, "run", job, "--data", data, "--listen", "127.0.0.1:%d" % port],
                  stdin=subprocess.DEVNULL, stdout=slave, stderr=slave)
    os.close(slave)
    out = read_pty(master, lambda s: s.count(b"\r\x1b[K") >= 3, 15)
    p.send_signal(signal.SIGTERM)
    out += read_pty(master, lambda s: False, 2)
    p.wait(15)
    os.close(master)
    text = out.decode("utf-8", "replace")
    check(text.count("\r\x1b[K") >= 3, "the status line is redrawn every second: %r" % text[-600:])
    check(re.search(r"\r\x1b\[Kwordcount running: in \d+ rec/s, out \d+ rec/s, lag \d+, committed offset \d+", text),
          "the redrawn line: %r" % text[-600:])
    check_eq(p.returncode, 0, "sluice run exits 0 on SIGTERM")


if __name__ == "__main__":
    run_cases([test_topics_create_list_describe_delete, test_produce_keyed_and_consume,
               test_run_status_line_on_a_terminal_and_in_logs])
