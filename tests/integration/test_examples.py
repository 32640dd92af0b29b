#!/usr/bin/env python3
"""The examples of examples/ end to end: each job is started with
`sluice run examples/NAME.sl` on a free port and a temporary data folder, its
sample inputs (examples/NAME/input-TOPIC.jsonl, one KEY<TAB>VALUE record a
line, see examples/README.md) are produced with kcat (acks=all; tables
first, then streams), and the output topic is read back with kcat until it
holds exactly examples/NAME/expected.jsonl (order-independent).  Tables
emitting changes are compared by their latest value per key; streams and
`emit final` tables record by record.

Usage: /usr/bin/python3 test_examples.py PATH_TO_SLUICE [CASE...]"""

import collections
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check_eq, run, run_cases, wait_for, TestFailure  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = os.path.join(ROOT, "examples")
WAIT_S = 20
# Between input topics: let the job read one topic before the next arrives
# (a table must be loaded before the stream is joined with it; a stream-stream
# join refuses records older than stream time, its grace being 0).
SETTLE_S = 1.0


def read_input(path):
    """[(key, value)] of an input file: KEY<TAB>VALUE a line."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line:
                continue
            if "\t" not in line:
                raise TestFailure("%s:%d: no TAB between key and value" % (path, n))
            rows.append(tuple(line.split("\t", 1)))
    return rows


def read_expected(name):
    """[(key, value as a JSON value)] of examples/NAME/expected.jsonl."""
    return [(k, json.loads(v)) for k, v in read_input(os.path.join(EXAMPLES, name, "expected.jsonl"))]


def produce(b, topic, rows, keyed=True):
    data = "".join(("%s\t%s\n" % r) if keyed else ("%s\n" % r[1]) for r in rows).encode()
    args = ["kcat", "-b", b.bootstrap, "-P", "-t", topic, "-X", "acks=all"]
    if keyed:
        args += ["-K", "\t"]
    run(args, input=data, what="kcat -P %s" % topic)


def consume(b, topic, fmt="json"):
    """[(key, value)] of every record of topic, in offset order."""
    r = run(["kcat", "-b", b.bootstrap, "-C", "-t", topic, "-e", "-q", "-f", "%k\t%s\n"],
            what="kcat -C %s" % topic, check_rc=False)
    if r.returncode != 0:
        return []  # the topic does not exist yet
    out = []
    for line in r.stdout.decode("utf-8").splitlines():
        k, v = line.split("\t", 1)
        out.append((k, json.loads(v) if fmt == "json" else v))
    return out


def canon(rows):
    return collections.Counter((k, json.dumps(v, sort_keys=True)) for k, v in rows)


def latest(rows):
    d = {}
    for k, v in rows:
        d[k] = v
    return sorted((k, json.dumps(v, sort_keys=True)) for k, v in d.items())


def run_example(ctx, name, inputs, output, compare="all", job=None, keyed=True):
    """inputs: [(topic, file under examples/NAME/)], in the order to produce.
    compare: "all" (every record, as a multiset) or "latest" (per key)."""
    b = ctx.broker(command=["run", job or os.path.join(EXAMPLES, name + ".sl")])
    t0 = time.monotonic()
    for i, (topic, fname) in enumerate(inputs):
        if i:
            time.sleep(SETTLE_S)
        path = fname if os.path.isabs(fname) else os.path.join(EXAMPLES, name, fname)
        produce(b, topic, read_input(path), keyed)
    want = read_expected(name)
    got = []

    def done():
        nonlocal got
        got = consume(b, output)
        if compare == "latest":
            return latest(got) == latest(want)
        return canon(got) == canon(want)
    try:
        wait_for(done, WAIT_S, "%s: the expected records on %s" % (name, output), interval_s=0.2)
    except TestFailure:
        raise TestFailure("%s: %s holds\n  %s\nexpected\n  %s" % (
            name, output, "\n  ".join("%s\t%s" % (k, json.dumps(v)) for k, v in got),
            "\n  ".join("%s\t%s" % (k, json.dumps(v)) for k, v in want)))
    if compare == "all":
        # Nothing more arrives (a duplicate or a premature window would).
        time.sleep(0.5)
        check_eq(canon(consume(b, output)), canon(want), "%s: %s after settling" % (name, output))
    check_eq(consume(b, "sluice-dlq", fmt="raw"), [], "%s: dead letters" % name)
    print("     %s: %d records in %.1f s" % (name, len(want), time.monotonic() - t0), flush=True)


def test_wordcount(ctx):
    run_example(ctx, "wordcount", [("text-lines", "input-text-lines.jsonl")], "word-counts", compare="latest")


def test_wordcount_from_sample_lines(ctx):
    """examples/sample-lines.txt, produced as plain lines (no key)."""
    lines = [("", line) for line in open(os.path.join(EXAMPLES, "sample-lines.txt"), encoding="utf-8")
             .read().splitlines()]
    path = ctx.path("sample-lines.jsonl")
    with open(path, "w", encoding="utf-8") as f:
        f.write("".join("\t%s\n" % v for _, v in lines))
    run_example(ctx, "wordcount", [("text-lines", path)], "word-counts", compare="latest", keyed=False)


def test_pageviews(ctx):
    run_example(ctx, "pageviews", [("users", "input-users.jsonl"), ("clicks", "input-clicks.jsonl")],
                "views-by-region")


def test_click_enrichment(ctx):
    run_example(ctx, "click_enrichment", [("users", "input-users.jsonl"), ("clicks", "input-clicks.jsonl")],
                "enriched-clicks")


def test_suspicious_payments(ctx):
    run_example(ctx, "suspicious_payments",
                [("logins", "input-logins.jsonl"), ("payments", "input-payments.jsonl")], "suspicious-payments")


def test_sessions(ctx):
    run_example(ctx, "sessions", [("activity", "input-activity.jsonl")], "user-sessions")


def test_top_page(ctx):
    run_example(ctx, "top_page", [("page-views", "input-page-views.jsonl")], "top-page-per-minute",
                compare="latest")


if __name__ == "__main__":
    run_cases([
        test_wordcount,
        test_wordcount_from_sample_lines,
        test_pageviews,
        test_click_enrichment,
        test_suspicious_payments,
        test_sessions,
        test_top_page,
    ])
