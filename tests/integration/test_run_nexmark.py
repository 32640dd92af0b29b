#!/usr/bin/env python3
"""Nexmark q4 (a grouped table: each auction's best bid so far is taken out of
its category's average before the new one is added) through `sluice run` on
the embedded broker with --app-id, fed and read with kcat: the retractions
travel through real repartition logs (as record headers); the internal
topics carry the application id; q8 (a join after a re-key) creates the
planner's internal -rekey topic; a bad --app-id is refused with exit 2.

Usage: /usr/bin/python3 test_run_nexmark.py PATH_TO_SLUICE [CASE...]"""

import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check, check_eq, run, run_cases, wait_for, TestFailure  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
Q4 = os.path.join(ROOT, "bench", "nexmark", "q4.sl")


def produce(b, topic, records):
    """records: (key, value dict), sent with kcat, key and value split by a tab."""
    lines = "".join("%s\t%s\n" % (k, json.dumps(v, separators=(",", ":"))) for k, v in records)
    run(["kcat", "-b", b.bootstrap, "-P", "-t", topic, "-K", "\t", "-X", "acks=all"], input=lines.encode(),
        what="kcat -P " + topic)


def latest(b, topic):
    r = run(["kcat", "-b", b.bootstrap, "-C", "-t", topic, "-e", "-q", "-f", "%k\t%s\n"], what="kcat -C " + topic)
    out = {}
    for line in r.stdout.decode().splitlines():
        k, v = line.split("\t", 1)
        out[k] = json.loads(v)
    return out


def auction(i, category, t, expires):
    return (str(i), {"id": i, "itemName": "i", "description": "d", "initialBid": 1, "reserve": 1, "dateTime": t,
                     "expires": expires, "seller": 1, "category": category, "extra": ""})


def bid(a, price, t):
    return (str(a), {"auction": a, "bidder": 7, "price": price, "channel": "web", "url": "u", "dateTime": t,
                     "extra": "x"})


def expected_q4(auctions, bids):
    """An independent reference: best bid per auction within [dateTime, expires), averaged per category."""
    by_id = {v["id"]: v for _, v in auctions}
    best = {}
    for _, b in bids:
        a = by_id.get(b["auction"])
        if a and a["dateTime"] <= b["dateTime"] < a["expires"]:
            best[a["id"]] = max(best.get(a["id"], b["price"]), b["price"])
    cats = {}
    for aid, price in best.items():
        cats.setdefault(by_id[aid]["category"], []).append(price)
    return {str(c): {"category": c, "avg": sum(p) / len(p)} for c, p in cats.items()}


def test_q4_with_app_id_through_sluice_run(ctx):
    b = ctx.broker(command=["run", Q4, "--app-id", "nexq4"])
    auctions = [auction(100, 10, 3000, 20000), auction(101, 10, 4000, 25000), auction(102, 11, 13000, 30000),
                auction(103, 10, 15000, 16000)]
    produce(b, "nexmark-auction", auctions)
    time.sleep(1.0)  # the stream-table join needs the auctions in the table before their bids
    bids = []
    # several rounds, each waited for, so that best bids change between commits (retractions)
    rounds = [[bid(100, 10000, 2500), bid(100, 150, 5000), bid(101, 200, 7000)],
              [bid(100, 300, 6000), bid(102, 50, 14000)],
              [bid(101, 400, 14500), bid(103, 800, 15500), bid(103, 5000, 17000), bid(100, 250, 8000)]]
    for rnd in rounds:
        produce(b, "nexmark-bid", rnd)
        bids += rnd
        want = expected_q4(auctions, bids)
        got = {}

        def done():
            nonlocal got
            got = latest(b, "nexmark-q4")
            return got == want
        try:
            wait_for(done, 30, "q4 averages")
        except TestFailure:
            raise TestFailure("q4: got %s, want %s" % (got, want))
    check_eq(latest(b, "nexmark-q4")["10"]["avg"], 500.0, "category 10: (300 + 400 + 800) / 3")
    r = run(["kcat", "-b", b.bootstrap, "-L"], what="kcat -L")
    topics = r.stdout.decode()
    check("nexq4-winning" in topics and "repartition" in topics, "internal topics named after the app id: " + topics)
    check("sluice-" not in topics, "no internal topic with the default app id: " + topics)
    check(os.path.isdir(os.path.join(b.data, "jobs", "nexq4")), "state in DIR/jobs/nexq4")


def person(i, name, t):
    return (str(i), {"id": i, "name": name, "emailAddress": "e", "creditCard": "c", "city": "c", "state": "OR",
                     "dateTime": t, "extra": ""})


def test_q8_join_after_rekey_through_sluice_run(ctx):
    """q8 re-keys auctions by seller before its join: the planner's internal
    -rekey topic must be created by sluice run like an input."""
    b = ctx.broker(command=["run", os.path.join(ROOT, "bench", "nexmark", "q8.sl")])
    persons = [person(1, "alice", 1000), person(2, "bob", 2000), person(3, "carol", 12000)]
    auctions = [auction(100, 10, 3000, 20000), auction(104, 11, 11000, 40000), auction(102, 11, 13000, 30000)]
    auctions[0][1]["seller"], auctions[1][1]["seller"], auctions[2][1]["seller"] = 1, 1, 3
    produce(b, "nexmark-auction", auctions)
    produce(b, "nexmark-person", persons)
    want = {("1", 1, "alice", 1), ("3", 3, "carol", 1)}  # 104 is in the window after alice's
    got = set()

    def done():
        nonlocal got
        r = run(["kcat", "-b", b.bootstrap, "-C", "-t", "nexmark-q8", "-e", "-q", "-f", "%k\t%s\n"],
                what="kcat -C nexmark-q8")
        got = set()
        for line in r.stdout.decode().splitlines():
            k, v = line.split("\t", 1)
            v = json.loads(v)
            got.add((k, v["id"], v["name"], v["reserve"]))
        return got == want
    try:
        wait_for(done, 30, "q8 rows")
    except TestFailure:
        raise TestFailure("q8: got %s, want %s" % (got, want))
    check("sluice-q8.2-rekey" in b.stderr_text(), "the internal rekey topic was created")


def test_bad_app_id_is_refused(ctx):
    r = subprocess.run([ctx.sluice, "run", Q4, "--app-id", "no spaces", "--data", ctx.path("d")],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=30)
    check_eq(r.returncode, 2, "exit status for a bad --app-id")
    check("--app-id expects" in r.stderr.decode(), r.stderr.decode())
    h = subprocess.run([ctx.sluice, "run", "--help"], stdout=subprocess.PIPE, timeout=30)
    check("--app-id" in h.stdout.decode(), "--help lists --app-id")


if __name__ == "__main__":
    run_cases([
        test_q4_with_app_id_through_sluice_run,
        test_q8_join_after_rekey_through_sluice_run,
        test_bad_app_id_is_refused,
    ])
