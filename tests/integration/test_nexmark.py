#!/usr/bin/python3
"""Smoke test of the Nexmark benchmark (the peers: `sluice run` processes started
by bench/nexmark/run.py, librdkafka inside nexmark_gen and nexmark_lat).

  - nexmark_gen: same seed, same bytes; 1:3:46 proportions; usage errors exit 2
  - run.py check: every bench/nexmark/qN.sl present, on 10,000 events, matches
    reference.py; the comparison rejects a tampered output, and the check a
    wrong q2 job
  - run.py throughput / latency of q0 on tiny sizes: their results parse, and
    scripts/bench_report.py turns them into a report with a Nexmark table

Usage: test_nexmark.py SLUICE NEXMARK_GEN
"""
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bench", "nexmark"))
import reference  # noqa: E402

RUN = os.path.join(ROOT, "bench", "nexmark", "run.py")


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def main():
    sluice, gen = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
    lat = os.path.join(os.path.dirname(gen), "nexmark_lat")
    bins = ["--sluice", sluice, "--gen", gen, "--lat", lat]

    # ---- the generator
    a = subprocess.run([gen, "--jsonl", "-n", "2000", "--seed", "3", "-q"], stdout=subprocess.PIPE, check=True).stdout
    b = subprocess.run([gen, "--jsonl", "-n", "2000", "--seed", "3", "-q"], stdout=subprocess.PIPE, check=True).stdout
    c = subprocess.run([gen, "--jsonl", "-n", "2000", "--seed", "4", "-q"], stdout=subprocess.PIPE, check=True).stdout
    if a != b or a == c:
        fail("nexmark_gen is not deterministic per seed")
    persons, auctions, bids = reference.read_events(a.decode().splitlines())
    if (len(persons), len(auctions), len(bids)) != (40, 120, 1840):
        fail("proportions: %d persons, %d auctions, %d bids" % (len(persons), len(auctions), len(bids)))
    for bad in (["--jsonl", "--events", "x"], ["--bogus"], [], ["--jsonl", "--data", "/tmp/x"],
                ["--jsonl", "--rate", "10"]):
        p = subprocess.run([gen] + bad, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if p.returncode != 2 or b"Usage" not in p.stderr:
            fail("nexmark_gen %s: exit %d" % (bad, p.returncode))
    if subprocess.run([gen, "--help"], stdout=subprocess.PIPE).returncode != 0:
        fail("nexmark_gen --help")

    # ---- the comparison can fail: a dropped, a changed and an extra record are each reported
    events = (persons, auctions, bids)
    good = reference.q2(*events) or reference.q0(*events)
    q = "q2" if reference.q2(*events) else "q0"
    if reference.compare(q, events, good):
        fail("reference output does not match itself")
    changed = [dict(r) for r in good]
    changed[0]["price"] += 1
    for bad in (good[1:], changed, good + good[:1]):
        if not reference.compare(q, events, bad):
            fail("compare accepted a wrong %s output" % q)

    with tempfile.TemporaryDirectory(prefix="sl-nexmark-test-") as tmp:
        # ---- correctness of every qN.sl present
        p = subprocess.run([sys.executable, RUN, "check", "--dir", tmp] + bins, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=240)
        print(p.stdout, end="")
        if p.returncode != 0:
            print(p.stderr[-3000:])
            fail("run.py check")
        if "check q0: ok" not in p.stdout or "check q2: ok" not in p.stdout:
            fail("q0 and q2 were not checked")

        # ---- a wrong job fails the check (q2 selecting % 124)
        wrong = os.path.join(tmp, "wrong")
        os.mkdir(wrong)
        with open(os.path.join(ROOT, "bench", "nexmark", "q2.sl")) as f:
            src = f.read()
        if "% 123" not in src:
            fail("q2.sl does not select auction % 123")
        with open(os.path.join(wrong, "q2.sl"), "w") as f:
            f.write(src.replace("% 123", "% 124"))
        p = subprocess.run([sys.executable, RUN, "check", "--jobs", wrong, "--dir", tmp] + bins,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
        if p.returncode != 1 or "check q2: MISMATCH" not in p.stdout:
            fail("a wrong q2 passed the check: %s" % p.stdout)

        # ---- a tiny throughput and latency run, and the report
        res = os.path.join(tmp, "results")
        os.mkdir(res)
        nxj = os.path.join(res, "nexmark.json")
        p = subprocess.run([sys.executable, RUN, "bench", "--events", "20000", "--queries", "q0",
                            "--thread-list", "1", "--seconds", "3", "--rate", "2000", "--dir", tmp,
                            "--results", nxj] + bins, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, timeout=120)
        print(p.stdout, end="")
        if p.returncode != 0:
            print(p.stderr[-3000:])
            fail("run.py bench")
        r = json.load(open(nxj))
        t = {x["query"]: x for x in r["throughput"]}
        if t["q0"]["records_in"] != 18400 or t["q0"]["records_out"] != 18400 or t["q0"]["events_per_s"] <= 0:
            fail("q0 throughput result: %s" % t["q0"])
        if t["q0"]["flink_per_core"] != 155020:
            fail("Flink baseline missing")
        lt = {x["query"]: x for x in r["latency"]}
        if not (0 < lt["q0"]["p50_ms"] <= lt["q0"]["p99_ms"]) or lt["q0"]["records"] < 1000:
            fail("q0 latency result: %s" % lt["q0"])
        docs = os.path.join(tmp, "docs")
        os.mkdir(docs)
        p = subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "bench_report.py"), res, docs],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        md = open(os.path.join(docs, "benchmarks.md")).read() if p.returncode == 0 else ""
        if "| q0 |" not in md or "155.0k" not in md:
            fail("bench_report.py: %s %s" % (p.stdout, p.stderr))
    print("test_nexmark: ok")


if __name__ == "__main__":
    main()
