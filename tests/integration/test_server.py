#!/usr/bin/env python3
"""`sluice server` with a folder of jobs: two example jobs (word count and
click enrichment) and one that does not compile run in one process beside
the broker; kcat (the peer) feeds their inputs and reads their outputs.  The
broken job is reported and the others run; each job keeps its state in
DATA/jobs/NAME/ and its own dead-letter topic; after a clean restart both
resume from their last commit (counts continue, nothing is re-processed);
SIGTERM stops the server with exit status 0.  Its HTTP server answers
/v1/status (every job, the broken one failed), /metrics and table queries of
both jobs.

Usage: /usr/bin/python3 test_server.py PATH_TO_SLUICE [CASE...]"""

import json
import os
import re
import shutil
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check, check_eq, run, run_cases, wait_for, word_counts  # noqa: E402

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
    wait_for(lambda: latest_counts(b) == word_counts(lines1), 20, "word-counts after the first lines", 0.2)
    wait_for(lambda: "status: wordcount running:" in b.stderr_text(), 5, "a status line per job")

    # HTTP: status of every job (the broken one failed), metrics, a table query.
    m = re.search(r"HTTP server at http://(127\.0\.0\.1:\d+)", b.stderr_text())
    check(m, "the server logs its HTTP address")
    base = "http://" + m.group(1)
    st = json.loads(urllib.request.urlopen(base + "/v1/status", timeout=5).read())
    states = {j["name"]: j["state"] for j in st["jobs"]}
    check_eq(states, {"broken": "failed", "click_enrichment": "running", "wordcount": "running"}, "job states")
    broken = [j for j in st["jobs"] if j["name"] == "broken"][0]
    check("broken.sl:2:" in broken["error"], "the failed job's error: %r" % broken["error"])
    metrics = urllib.request.urlopen(base + "/metrics", timeout=5).read().decode()
    check('sluice_job_up{job="wordcount"} 1' in metrics and 'sluice_job_up{job="broken"} 0' in metrics,
          "sluice_job_up per job")
    the = json.loads(urllib.request.urlopen(base + "/v1/tables/word_counts/keys/the", timeout=5).read())
    check_eq(the["value"], word_counts(lines1)["the"], "GET /v1/tables/word_counts/keys/the")
    users = json.loads(urllib.request.urlopen(base + "/v1/tables/users/keys/alice", timeout=5).read())
    check_eq(users["value"]["name"], "Alice", "the users table of the other job")

    data = b.data
    for name in ("wordcount", "click_enrichment"):
        check(os.path.isdir(os.path.join(data, "jobs", name)), "state of %s in DATA/jobs/%s" % (name, name))
    topics = run([ctx.sluice, "topics", "list", "--bootstrap", b.bootstrap]).stdout.decode().split()
    check("wordcount-dlq" in topics and "click_enrichment-dlq" in topics, "a dead-letter topic per job: %s" % topics)
    check([t for t in topics if t.startswith("wordcount-") and t.endswith("-repartition")],
          "the job's name is its application id (its repartition topic): %s" % topics)
    check(not [t for t in topics if t.startswith("sluice-")], "no topic of the default app id: %s" % topics)

    # Clean restart: both jobs resume where they committed.
    b.restart()
    wait_for(lambda: b.stderr_text().count("job wordcount (") >= 2, 15, "the jobs to start again")
    lines2 = ["the fox again", "and THE dog"]
    produce(b, "text-lines", [("", l) for l in lines2])
    wait_for(lambda: latest_counts(b) == word_counts(lines1 + lines2), 20,
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
