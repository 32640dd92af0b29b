#!/usr/bin/env python3
"""`sluice server` with a folder of jobs: two example jobs (word count and
click enrichment) and one that does not compile run in one process beside
the broker; kcat (the peer) feeds their inputs and reads their outputs.  The
broken job is reported and the others run; each job keeps its state in
DATA/jobs/NAME/ and its own dead-letter topic; after a clean restart both
resume from their last commit (counts continue, nothing is re-processed);
SIGTERM stops the server with exit status 0.

Usage: /usr/bin/python3 test_server.py PATH_TO_SLUICE [CASE...]"""

import collections
import json
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check, check_eq, run, run_cases, wait_for  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = os.path.join(ROOT, "examples")


def produce(b, topic, rows):
    data = "".join("%s\t%s\n" % r for r in rows).encode()
    run(["kcat", "-b", b.bootstrap, "-P", "-t", topic, "-X", "acks=all", "-K", "\t"], input=data)


def consume(b, topic):
    r = run(["kcat", "-b", b.bootstrap, "-C", "-t", topic, "-e", "-q", "-f", "%k\t%s\n"], check_rc=False)
    if r.returncode != 0:
        return []
    return [tuple(line.split("\t", 1)) for line in r.stdout.decode().splitlines()]


def rows(path):
    with open(path, encoding="utf-8") as f:
        return [tuple(line.rstrip("\n").split("\t", 1)) for line in f if line.strip()]


def counts_of(lines):
    c = collections.Counter()
    for line in lines:
        for w in line.lower().split(" "):
            if w:
                c[w] += 1
    return dict(c)


def latest_counts(b):
    d = {}
    for k, v in consume(b, "word-counts"):
        d[k] = json.loads(v)["count"]
    return d


def test_server_runs_a_folder_of_jobs_and_resumes(ctx):
    jobs = ctx.path("jobs")
    os.makedirs(jobs)
    shutil.copy(os.path.join(EXAMPLES, "wordcount.sl"), jobs)
    shutil.copy(os.path.join(EXAMPLES, "click_enrichment.sl"), jobs)
    with open(os.path.join(jobs, "broken.sl"), "w") as f:
        f.write('stream s from topic "t" format json;\ntable x = s | count;\n')
    with open(os.path.join(jobs, "notes.txt"), "w") as f:
        f.write("not a job\n")
    b = ctx.broker(command=["server", "--jobs", jobs, "--http", "127.0.0.1:0", "--status-interval", "1"])
    wait_for(lambda: "2 job(s)" in b.stderr_text() or "3 job(s)" in b.stderr_text(), 15, "the jobs to start")
    log = b.stderr_text()
    check("job broken (" in log and "not started" in log, "the broken job is reported: " + log[-2000:])
    check("broken.sl:2:" in log, "with file:line:col")
    check("job wordcount (" in log and "job click_enrichment (" in log, "both good jobs start")

    lines1 = ["the quick brown fox", "jumps over the lazy dog", "The End"]
    produce(b, "text-lines", [("", l) for l in lines1])
    produce(b, "users", rows(os.path.join(EXAMPLES, "click_enrichment", "input-users.jsonl")))
    time.sleep(1.0)  # the table is loaded before the clicks arrive
    produce(b, "clicks", rows(os.path.join(EXAMPLES, "click_enrichment", "input-clicks.jsonl")))
    want_enriched = sorted((k, json.dumps(json.loads(v), sort_keys=True))
                           for k, v in rows(os.path.join(EXAMPLES, "click_enrichment", "expected.jsonl")))

    def enriched():
        return sorted((k, json.dumps(json.loads(v), sort_keys=True)) for k, v in consume(b, "enriched-clicks"))
    wait_for(lambda: enriched() == want_enriched, 20, "enriched-clicks to hold the expected records", 0.2)
    wait_for(lambda: latest_counts(b) == counts_of(lines1), 20, "word-counts after the first lines", 0.2)
    wait_for(lambda: "status: wordcount running:" in b.stderr_text(), 5, "a status line per job")

    data = b.data
    for name in ("wordcount", "click_enrichment"):
        check(os.path.isdir(os.path.join(data, "jobs", name)), "state of %s in DATA/jobs/%s" % (name, name))
    topics = run([ctx.sluice, "topics", "list", "--bootstrap", b.bootstrap]).stdout.decode().split()
    check("wordcount-dlq" in topics and "click_enrichment-dlq" in topics, "a dead-letter topic per job: %s" % topics)

    # Clean restart: both jobs resume where they committed.
    b.restart()
    wait_for(lambda: b.stderr_text().count("job wordcount (") >= 2, 15, "the jobs to start again")
    lines2 = ["the fox again", "and THE dog"]
    produce(b, "text-lines", [("", l) for l in lines2])
    wait_for(lambda: latest_counts(b) == counts_of(lines1 + lines2), 20,
             "word counts continuing from the first run (no re-processing)", 0.2)
    more = [("alice", json.dumps({"user": "alice", "page": "/again"}))]
    produce(b, "clicks", more)
    wait_for(lambda: len(consume(b, "enriched-clicks")) == len(want_enriched) + 1, 20, "one more enriched click")
    last = json.loads(consume(b, "enriched-clicks")[-1][1])
    check_eq(last.get("name"), "Alice", "the users table survived the restart")
    check_eq(consume(b, "wordcount-dlq") + consume(b, "click_enrichment-dlq"), [], "no dead letters")
    b.stop()  # checks exit status 0 on SIGTERM
    check("stopping: committing every job" in b.stderr_text(), "a clean stop")


if __name__ == "__main__":
    run_cases([test_server_runs_a_folder_of_jobs_and_resumes])
