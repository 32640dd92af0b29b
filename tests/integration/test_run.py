#!/usr/bin/env python3
"""`sluice run` end to end: the DESIGN.md word-count job on the embedded
broker, fed with kcat and read back with kcat (the peers); a clean stop and a
restart resume exactly where the job committed; a SIGKILL in the middle loses
and duplicates nothing; a bad job file is refused with file:line:col and exit 2.

Usage: /usr/bin/python3 test_run.py PATH_TO_SLUICE [CASE...]"""

import json
import os
import random
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check, check_eq, run, run_cases, wait_for, word_counts, TestFailure  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WORDCOUNT = os.path.join(ROOT, "examples", "wordcount.sl")
WORDS = ["alpha", "beta", "gamma", "delta", "Epsilon", "zeta", "ETA", "theta"]


def produce(b, lines):
    run(["kcat", "-b", b.bootstrap, "-P", "-t", "text-lines", "-X", "acks=all"],
        input=("\n".join(lines) + "\n").encode(), what="kcat -P")


def read_counts(b):
    """Every record of word-counts: (offset, key, value dict), in order."""
    r = run(["kcat", "-b", b.bootstrap, "-C", "-t", "word-counts", "-e", "-q", "-f", "%o\t%k\t%s\n"],
            what="kcat -C")
    out = []
    for line in r.stdout.decode().splitlines():
        off, key, val = line.split("\t", 2)
        out.append((int(off), key, json.loads(val)))
    return out


def latest(records):
    counts = {}
    for _, key, val in records:
        check_eq(val["word"], key, "the record key is the word")
        counts[key] = val["count"]
    return counts


def wait_counts(b, want, what):
    got = {}

    def done():
        nonlocal got
        got = latest(read_counts(b))
        return got == want
    try:
        wait_for(done, 30, what)
    except TestFailure:
        raise TestFailure("%s: got %s, want %s" % (what, got, want))


def check_increasing(records):
    """Exactly-once: per word, published counts strictly increase (a replayed
    duplicate would repeat a value)."""
    last = {}
    for off, key, val in records:
        check(val["count"] > last.get(key, 0), "count of %r went %d -> %d at offset %d (duplicate or loss)"
              % (key, last.get(key, 0), val["count"], off))
        last[key] = val["count"]


def lines_of(n, seed):
    rnd = random.Random(seed)
    return [" ".join(rnd.choice(WORDS) for _ in range(rnd.randint(1, 6))) for _ in range(n)]


def test_wordcount_fed_and_read_by_kcat(ctx):
    b = ctx.broker(command=["run", WORDCOUNT])
    lines = ["hello world", "hello sluice", "Hello again  world"]
    produce(b, lines)
    wait_counts(b, word_counts(lines), "word counts")
    check_increasing(read_counts(b))
    # the job's repartition topic keeps its records whatever their timestamps
    r = run([ctx.sluice, "topics", "list", "--bootstrap", b.bootstrap], what="sluice topics list")
    internal = [t for t in r.stdout.decode().split() if t.endswith("-repartition")]
    check_eq(len(internal), 1, "one repartition topic: %s" % r.stdout.decode())
    r = run([ctx.sluice, "topics", "describe", internal[0], "--bootstrap", b.bootstrap], what="sluice topics describe")
    out = r.stdout.decode()
    check("retention.ms=-1  (set on the topic)" in out, "no time retention on the repartition topic: " + out)
    check("retention.bytes=-1  (set on the topic)" in out, "no size retention on the repartition topic: " + out)


def test_restart_resumes_where_it_committed(ctx):
    b = ctx.broker(command=["run", WORDCOUNT])
    first = lines_of(2000, 1)
    produce(b, first)
    wait_counts(b, word_counts(first), "first batch counted")
    b.stop()
    b.start()
    second = lines_of(1500, 2)
    produce(b, second)
    wait_counts(b, word_counts(first + second), "counts continue after a clean restart")
    check_increasing(read_counts(b))


def test_sigkill_loses_and_duplicates_nothing(ctx):
    b = ctx.broker(command=["run", WORDCOUNT])
    lines = lines_of(20000, 3)
    produce(b, lines[:10000])
    time.sleep(0.3)  # let the job get going, then kill it mid-stream
    b.kill()
    b.start()
    produce(b, lines[10000:])
    wait_counts(b, word_counts(lines), "counts after SIGKILL and restart")
    check_increasing(read_counts(b))


def test_windows_close_when_the_input_goes_idle(ctx):
    """An emit-final window whose closing record never comes: with a short
    --idle-timeout the stream time follows the wall clock once input stops,
    and the window is published without any further record."""
    job = ctx.path("idle.sl")
    with open(job, "w") as f:
        f.write('stream clicks from topic "clicks" format json key user timestamp ts;\n'
                'table views = clicks | group by page | window tumbling 1 second grace 0 seconds\n'
                '  | aggregate { views: count() } | emit final;\n'
                'output views to topic "views";\n')
    b = ctx.broker(command=["run", job, "--idle-timeout", "300"])
    t0 = 1_700_000_000_000
    recs = [{"user": "u%d" % i, "page": "p%d" % (i % 2), "ts": t0 + i * 50} for i in range(10)]
    run(["kcat", "-b", b.bootstrap, "-P", "-t", "clicks", "-X", "acks=all"],
        input=("\n".join(json.dumps(r) for r in recs) + "\n").encode(), what="kcat -P")

    def views():
        r = run(["kcat", "-b", b.bootstrap, "-C", "-t", "views", "-e", "-q", "-f", "%s\n"], what="kcat -C")
        return [json.loads(x) for x in r.stdout.decode().splitlines() if x]
    # the window [t0, t0 + 1 s) closes at t0 + 1 s: ~0.3 s idle timeout + 0.55 s of idle wall time
    got = wait_for(lambda: views() if len(views()) >= 2 else None, timeout_s=30, what="windows closed by idleness")
    got = sorted(got, key=lambda v: v["page"])
    check_eq([(v["page"], v["views"], v["window_start"]) for v in got], [("p0", 5, t0), ("p1", 5, t0)],
             "each page's window, once")
    time.sleep(1.0)
    check_eq(len(views()), 2, "published once, not again at later idle commits")


def test_bad_job_is_refused_before_anything_starts(ctx):
    job = ctx.path("bad.sl")
    with open(job, "w") as f:
        f.write('stream lines from topic "t" format string;\ntable c = lnes | group by value | count;\n')
    r = subprocess.run([ctx.sluice, "run", job, "--data", ctx.path("d"), "--listen", "127.0.0.1:0"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    err = r.stderr.decode()
    check_eq(r.returncode, 2, "exit status for a bad job")
    check("bad.sl:2:11: error: unknown stream or table 'lnes' (did you mean 'lines'?)" in err, err)
    check(not os.path.exists(ctx.path("d")), "nothing was started (no data folder)")


if __name__ == "__main__":
    run_cases([
        test_wordcount_fed_and_read_by_kcat,
        test_restart_resumes_where_it_committed,
        test_sigkill_loses_and_duplicates_nothing,
        test_windows_close_when_the_input_goes_idle,
        test_bad_job_is_refused_before_anything_starts,
    ])
