#!/usr/bin/env python3
"""The HTTP query server (docs/http.md) and `sluice query`, end to end: each
case starts `sluice run JOB.sl --http 127.0.0.1:0` (peer: that process, with
its embedded broker, on free ports and a temporary data folder), feeds its
input topics with kcat, polls the state over HTTP (urllib) until the job has
processed everything, then checks every endpoint and error against a
reference computed here in Python.

Usage: /usr/bin/python3 test_http.py PATH_TO_SLUICE [CASE...]"""

import datetime
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check, check_eq, run, run_cases, wait_for, TestFailure  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EXAMPLES = os.path.join(ROOT, "examples")
WAIT_S = 20


def start_job(ctx, job, settings=None):
    b = ctx.broker(command=["run", os.path.join(EXAMPLES, job), "--http", "127.0.0.1:0"], settings=settings)
    m = wait_for(lambda: re.search(r"HTTP server at http://127\.0\.0\.1:(\d+)", b.stderr_text()), 5,
                 "the HTTP server's address on stderr")
    b.http = "127.0.0.1:%s" % m.group(1)
    b.url = "http://" + b.http
    return b


def get(b, path, expect=200):
    """(status, headers, body as JSON or text) of GET path."""
    req = urllib.request.Request(b.url + path)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            status, headers, data = r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        status, headers, data = e.code, e.headers, e.read()
    ctype = headers.get("Content-Type", "")
    body = json.loads(data) if ctype.startswith("application/json") else data.decode()
    if expect is not None:
        check_eq(status, expect, "status of GET %s (body %r)" % (path, body))
    return status, headers, body


def method(b, verb, path):
    req = urllib.request.Request(b.url + path, method=verb, data=b"" if verb in ("POST", "PUT") else None)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def produce(b, topic, lines, keyed=False):
    args = ["kcat", "-b", b.bootstrap, "-P", "-t", topic, "-X", "acks=all"]
    if keyed:
        args += ["-K", "\t"]
    run(args, input=("".join(l + "\n" for l in lines)).encode(), what="kcat -P %s" % topic)


def word_counts(lines):
    counts = {}
    for line in lines:
        for w in line.lower().split(" "):
            if w:
                counts[w] = counts.get(w, 0) + 1
    return counts


def key_order(keys):
    return sorted(keys, key=lambda k: k.encode())


def scan_all(b, table, params, page):
    """Every row of a scan, following `next` tokens with limit=page."""
    rows, token, pages = [], None, 0
    while True:
        q = dict(params, limit=str(page))
        if token:
            q["next"] = token
        _, _, body = get(b, "/v1/tables/%s?%s" % (table, urllib.parse.urlencode(q)))
        check(len(body["rows"]) <= page, "a page holds at most limit rows")
        rows += body["rows"]
        pages += 1
        token = body["next"]
        if not token:
            return rows, pages
        check(pages < 1000, "pagination does not end")


def wait_counts(b, table, want):
    """Poll the listing until the table holds exactly `want` (key -> value)."""
    def done():
        rows, _ = scan_all(b, table, {}, 10000)
        return {r["key"]: r["value"] for r in rows} == want
    wait_for(done, WAIT_S, "table %s to hold the reference counts" % table, interval_s=0.1)


WORDCOUNT_LINES = [
    "alice login ok from 10.0.0.7", "bob login ok", "alice view /products/kettle", "carol login failed",
    "alice add-to-cart kettle", "dave logout", "Logout alice", "zoe view /products/kettle", "a/b c%d e+f",
]


def test_tables_get_and_errors(ctx):
    b = start_job(ctx, "wordcount.sl")
    produce(b, "text-lines", WORDCOUNT_LINES)
    want = word_counts(WORDCOUNT_LINES)
    wait_counts(b, "word_counts", want)

    _, _, body = get(b, "/v1/tables")
    tables = {t["name"]: t for t in body["tables"]}
    check("word_counts" in tables, "word_counts is listed: %r" % body)
    t = tables["word_counts"]
    check_eq((t["job"], t["kind"], t["partitions"], t["count"]), ("wordcount", "kv", 1, len(want)), "listing")

    _, h, body = get(b, "/v1/tables/word_counts/keys/alice")
    check_eq(body, {"table": "word_counts", "key": "alice", "value": want["alice"]}, "GET alice")
    check(h["Content-Type"].startswith("application/json"), "JSON content type")
    # URL-encoded keys: '/', '%', '+' and a space-free key with them.
    for k in ["/products/kettle", "a/b", "c%d", "e+f", "10.0.0.7"]:
        _, _, body = get(b, "/v1/tables/word_counts/keys/" + urllib.parse.quote(k, safe=""))
        check_eq(body["value"], want[k], "GET %r" % k)

    _, _, body = get(b, "/v1/tables/word_counts/keys/nosuchword", expect=404)
    check("not found" in body["error"], "404 names the missing key: %r" % body)
    _, _, body = get(b, "/v1/tables/nosuchtable/keys/alice", expect=404)
    check("unknown table" in body["error"], "404 names the table: %r" % body)
    get(b, "/v1/tables/nosuchtable", expect=404)
    get(b, "/v1/nothing", expect=404)
    get(b, "/v1/tables/word_counts/nothing", expect=404)
    for q in ["limit=0", "limit=-1", "limit=abc", "limit=10001", "reverse=maybe", "next=notatoken", "bogus=1",
              "from=%zz"]:
        _, _, body = get(b, "/v1/tables/word_counts?" + q, expect=400)
        check(isinstance(body.get("error"), str) and body["error"], "400 for %s has an error message" % q)
    get(b, "/v1/tables/word_counts/keys/alice%zz", expect=400)
    for verb in ["POST", "PUT", "DELETE"]:
        status, body = method(b, verb, "/v1/tables/word_counts/keys/alice")
        check_eq(status, 405, "%s status" % verb)
        check("error" in body, "405 body is a JSON error")

    # Observability endpoints (rendered by engine/obs.c).
    _, h, _ = get(b, "/metrics")
    check(h["Content-Type"].startswith("text/plain"), "metrics content type: %s" % h["Content-Type"])
    _, h, body = get(b, "/v1/status")
    check(isinstance(body, dict), "status is a JSON object")
    _, h, body = get(b, "/")
    check(h["Content-Type"].startswith("text/html") and "<" in body, "the web page is HTML")
    b.stop()


def test_range_prefix_reverse_pagination(ctx):
    """Over 4 partitions: every scan merges four cursors in key order."""
    b = start_job(ctx, "wordcount.sl", settings={"num.partitions": "4"})
    # 300 distinct words in three prefixes, counts 1..3.
    lines = []
    for i in range(300):
        w = "%s%03d" % ("abc"[i % 3], i)
        lines.append(" ".join([w] * (1 + i % 3)))
    produce(b, "text-lines", lines)
    want = word_counts(lines)
    wait_counts(b, "word_counts", want)
    ordered = key_order(want)
    _, _, body = get(b, "/v1/tables")
    check_eq(body["tables"][0]["partitions"], 4, "word_counts has 4 partitions")
    for k in ordered[::37]:  # point reads find keys in whichever partition holds them
        check_eq(get(b, "/v1/tables/word_counts/keys/" + k)[2]["value"], want[k], "GET %s" % k)

    rows, pages = scan_all(b, "word_counts", {}, 7)
    check_eq([r["key"] for r in rows], ordered, "full scan in key order over pages")
    check_eq(pages, (len(ordered) + 6) // 7, "pages of 7")
    check_eq([r["value"] for r in rows], [want[k] for k in ordered], "values")

    rows, _ = scan_all(b, "word_counts", {"reverse": "true"}, 11)
    check_eq([r["key"] for r in rows], ordered[::-1], "reverse scan over pages")

    lo, hi = "a030", "b150"
    rng = [k for k in ordered if lo.encode() <= k.encode() <= hi.encode()]
    rows, _ = scan_all(b, "word_counts", {"from": lo, "to": hi}, 13)
    check_eq([r["key"] for r in rows], rng, "range [a030, b150]")
    rows, _ = scan_all(b, "word_counts", {"from": lo, "to": hi, "reverse": "true"}, 13)
    check_eq([r["key"] for r in rows], rng[::-1], "reverse range")

    pre = [k for k in ordered if k.startswith("b1")]
    rows, _ = scan_all(b, "word_counts", {"prefix": "b1"}, 9)
    check_eq([r["key"] for r in rows], pre, "prefix b1")
    rows, _ = scan_all(b, "word_counts", {"prefix": "b1", "reverse": "true"}, 9)
    check_eq([r["key"] for r in rows], pre[::-1], "reverse prefix b1")
    rows, _ = scan_all(b, "word_counts", {"prefix": "c", "from": "c100", "to": "c200"}, 50)
    check_eq([r["key"] for r in rows], [k for k in ordered if k.startswith("c") and "c100" <= k <= "c200"],
             "prefix within a range")
    _, _, body = get(b, "/v1/tables/word_counts?prefix=zzz")
    check_eq((body["rows"], body["next"]), ([], None), "empty prefix")
    _, _, body = get(b, "/v1/tables/word_counts?from=b&to=a")
    check_eq(body["rows"], [], "from > to")

    # A token is bound to its direction.
    _, _, body = get(b, "/v1/tables/word_counts?limit=5")
    get(b, "/v1/tables/word_counts?limit=5&reverse=true&next=" + body["next"], expect=400)

    # sluice query: the same scans through the CLI.
    def q(*args, rc=0):
        r = run([b.sluice, "query", "word_counts", "--http", b.http] + list(args), check_rc=False)
        check_eq(r.returncode, rc, "sluice query %s exit status (stderr %s)" % (" ".join(args), r.stderr[-300:]))
        return [json.loads(line) for line in r.stdout.decode().splitlines()]
    check_eq([r["key"] for r in q("--prefix", "b1")], pre, "sluice query --prefix")
    check_eq([r["key"] for r in q("--from", lo, "--to", hi, "--reverse")], rng[::-1], "sluice query range")
    check_eq([r["key"] for r in q("--limit", "25")], ordered[:25], "sluice query --limit")
    check_eq(len(q()), len(ordered), "sluice query: every row (pages followed)")
    check_eq(q("--key", "a000"), [{"key": "a000", "value": 1}], "sluice query --key")
    check_eq(q("--key", "missing", rc=1), [], "sluice query --key missing: exit 1")
    b.stop()


T0 = 1795600800000  # a minute boundary
CLICKS = [("alice", "/a", T0 + 1000), ("bob", "/b", T0 + 2000), ("carol", "/c", T0 + 30000),
          ("dave", "/d", T0 + 61000), ("alice", "/e", T0 + 62000)]
REGION = {"alice": "eu", "bob": "us", "carol": "eu", "dave": "apac"}


def test_windowed_table(ctx):
    """examples/pageviews.sl (tumbling 1-minute windows per region) on clicks
    within the store's retention, so every window stays queryable."""
    b = start_job(ctx, "pageviews.sl")
    users = open(os.path.join(EXAMPLES, "pageviews", "input-users.jsonl")).read().splitlines()
    produce(b, "users", users, keyed=True)
    time.sleep(1.0)  # the table is loaded before the stream joins it (as test_examples does)
    produce(b, "clicks", ["%s\t%s" % (u, json.dumps({"user": u, "page": p, "ts": ts})) for u, p, ts in CLICKS],
            keyed=True)
    windows = {}
    for u, p, ts in CLICKS:
        k = (REGION[u], ts - ts % 60000)
        windows[k] = windows.get(k, 0) + 1

    def listed():
        _, _, body = get(b, "/v1/tables")
        t = {x["name"]: x for x in body["tables"]}.get("views")
        return t if t and t["count"] == len(windows) else None
    t = wait_for(listed, WAIT_S, "the views table to hold every window", interval_s=0.1)
    check_eq((t["kind"], t["window_size_ms"]), ("windowed", 60000), "views is windowed, 1 minute")
    check_eq(t["value_fields"], ["views", "last_page", "max_ts"], "value fields of views")
    _, _, body = get(b, "/v1/tables/users/keys/alice")
    check_eq(body["value"], {"name": "Alice", "region": "eu"}, "a table source's JSON value")
    _, _, body = get(b, "/v1/tables")
    users_t = {x["name"]: x for x in body["tables"]}["users"]
    check_eq((users_t["kind"], users_t["count"], sorted(users_t["value_fields"])), ("kv", 4, ["name", "region"]),
             "the users table source in the listing")

    _, _, body = get(b, "/v1/tables/views/keys/eu")
    want_eu = sorted((s, s + 60000, n) for (r, s), n in windows.items() if r == "eu")
    check_eq([(w["start"], w["end"], w["value"]["views"]) for w in body["windows"]], want_eu, "windows of eu")
    check_eq(body["windows"][1]["value"], {"views": 1, "last_page": "/e", "max_ts": T0 + 62000}, "eu's 2nd window")
    second = want_eu[1][0]
    iso = datetime.datetime.fromtimestamp(second / 1000, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    for frm in [str(second), iso, iso.replace("Z", "+00:00"), iso.replace("Z", ".000+01:00")]:
        _, _, body = get(b, "/v1/tables/views/keys/eu?from=" + urllib.parse.quote(frm))
        want = [second] if "+01" not in frm else [want_eu[0][0], second]
        check_eq([w["start"] for w in body["windows"]], want, "windows of eu from %s" % frm)
    _, _, body = get(b, "/v1/tables/views/keys/eu?to=%d" % (second - 1))
    check_eq([w["start"] for w in body["windows"]], [want_eu[0][0]], "windows of eu up to before the second")
    get(b, "/v1/tables/views/keys/eu?from=yesterday", expect=400)
    get(b, "/v1/tables/views/keys/mars", expect=404)
    get(b, "/v1/tables/views?prefix=e", expect=400)
    get(b, "/v1/tables/users/keys/alice?from=1", expect=400)  # a key-value table has no windows

    # Time-range scan of every key's windows, by (start, key), over pages.
    rows, _ = scan_all(b, "views", {}, 2)
    got = [(r["start"], r["key"], r["value"]["views"]) for r in rows]
    want_all = sorted(((s, r, n) for (r, s), n in windows.items()), key=lambda x: (x[0], len(x[1]), x[1]))
    check_eq(got, want_all, "all windows by (start, key)")
    rows, _ = scan_all(b, "views", {"from": str(second), "reverse": "true"}, 1)
    check_eq([(r["start"], r["key"]) for r in rows], [(s, k) for s, k, _ in want_all if s >= second][::-1],
             "windows from the second minute, reversed")
    r = run([b.sluice, "query", "views", "--http", b.http, "--key", "eu"])
    got = [json.loads(l) for l in r.stdout.decode().splitlines()]
    check_eq([(g["key"], g["start"], g["value"]["views"]) for g in got], [("eu", s, n) for s, _, n in want_eu],
             "sluice query --key on a windowed table: one line per window")
    b.stop()


def test_session_table(ctx):
    """examples/sessions.sl: sessions of activity per user (gap 5 minutes)."""
    b = start_job(ctx, "sessions.sl")
    ev = [("alice", T0), ("bob", T0 + 30000), ("alice", T0 + 60000), ("alice", T0 + 200000),
          ("carol", T0 + 250000), ("carol", T0 + 260000)]
    produce(b, "activity", ["%s\t%s" % (u, json.dumps({"user": u, "action": "x", "ts": ts})) for u, ts in ev],
            keyed=True)
    # Within the retention (gap - 1 ms behind stream time), every session stays.
    want = {("alice", T0, T0 + 200000, 3), ("bob", T0 + 30000, T0 + 30000, 1), ("carol", T0 + 250000, T0 + 260000, 2)}

    def listed():
        _, _, body = get(b, "/v1/tables")
        t = {x["name"]: x for x in body["tables"]}.get("sessions")
        return t if t and t["count"] == len(want) else None
    t = wait_for(listed, WAIT_S, "the sessions table to hold three sessions", interval_s=0.1)
    check_eq(t["kind"], "session", "kind")
    _, _, body = get(b, "/v1/tables/sessions/keys/alice")
    check_eq([(x["start"], x["end"], x["value"]) for x in body["sessions"]], [(T0, T0 + 200000, 3)],
             "alice's session")
    _, _, body = get(b, "/v1/tables/sessions/keys/alice?from=%d&to=%d" % (T0 + 100000, T0 + 100001))
    check_eq(len(body["sessions"]), 1, "alice's session overlaps [T0+100 s, T0+100.001 s]")
    get(b, "/v1/tables/sessions/keys/alice?from=%d" % (T0 + 200001), expect=404)
    rows, _ = scan_all(b, "sessions", {}, 1)
    check_eq([(r["key"], r["start"], r["end"], r["value"]) for r in rows], sorted(want, key=lambda x: (x[2], x[0])),
             "every session by end, over pages of one")
    b.stop()


def read_events(resp, n, timeout_s):
    """n JSON lines from a watch response (format=lines), on a thread with a deadline."""
    out = []

    def reader():
        while len(out) < n:
            line = resp.readline()
            if not line:
                return
            out.append(json.loads(line))
    th = threading.Thread(target=reader, daemon=True)
    th.start()
    th.join(timeout_s)
    return out


def test_watch(ctx):
    b = start_job(ctx, "wordcount.sl")
    produce(b, "text-lines", ["alice bob", "alice"])
    wait_counts(b, "word_counts", {"alice": 2, "bob": 1})
    key_watch = urllib.request.urlopen(b.url + "/v1/tables/word_counts/watch?key=alice&format=lines", timeout=10)
    check(key_watch.headers["Content-Type"].startswith("application/x-ndjson"), "ndjson content type")
    table_watch = urllib.request.urlopen(b.url + "/v1/tables/word_counts/watch", timeout=10)
    check(table_watch.headers["Content-Type"].startswith("text/event-stream"), "SSE content type")
    check_eq(read_events(key_watch, 1, 5), [{"event": "start", "table": "word_counts", "key": "alice"}], "start")
    # Committed after the watches connected:
    produce(b, "text-lines", ["alice carol"])
    ev = read_events(key_watch, 1, WAIT_S)
    check_eq(ev, [{"event": "change", "key": "alice", "value": 3}], "the key watch sees alice's new count")
    # The SSE stream: start, then alice and carol (one commit, or two).
    seen, deadline = {}, time.monotonic() + WAIT_S
    while len(seen) < 2 and time.monotonic() < deadline:
        line = table_watch.readline().decode()
        if line.startswith("data: "):
            e = json.loads(line[6:])
            if e["event"] == "change":
                seen[e["key"]] = e["value"]
    check_eq(seen, {"alice": 3, "carol": 1}, "the table watch sees both changes")
    get(b, "/v1/tables/word_counts/watch?format=xml", expect=400)
    get(b, "/v1/tables/nosuch/watch", expect=404)
    # sluice query --watch prints the changes as JSON lines.
    p = ctx.popen([b.sluice, "query", "word_counts", "--http", b.http, "--watch", "--key", "bob"],
                  stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = json.loads(p.stdout.readline())
    check_eq(first["event"], "start", "sluice query --watch: start event")
    produce(b, "text-lines", ["bob"])
    ev = json.loads(p.stdout.readline())
    check_eq((ev["event"], ev["key"], ev["value"]), ("change", "bob", 2), "sluice query --watch: the change")
    p.terminate()
    check_eq(p.wait(10), 0, "sluice query --watch exits 0 on SIGTERM")
    # Deletions: bob's count cannot go down, but a watch sees what a commit
    # removed.  Not in word_counts; tested on a table source below.
    key_watch.close()
    table_watch.close()
    b.stop()


def test_watch_reports_deletes_of_a_table_source(ctx):
    b = start_job(ctx, "pageviews.sl")
    produce(b, "users", open(os.path.join(EXAMPLES, "pageviews", "input-users.jsonl")).read().splitlines(),
            keyed=True)
    wait_for(lambda: get(b, "/v1/tables/users/keys/dave", expect=None)[0] == 200, WAIT_S, "dave in users")
    w = urllib.request.urlopen(b.url + "/v1/tables/users/watch?format=lines", timeout=10)
    check_eq(read_events(w, 1, 5)[0]["event"], "start", "start")
    # A null value deletes the key of a table (kcat -Z: an empty value is NULL).
    run(["kcat", "-b", b.bootstrap, "-P", "-t", "users", "-K", "\t", "-Z"],
        input=b"dave\t\nerin\t{\"name\":\"Erin\",\"region\":\"eu\"}\n", what="kcat -P users")
    got = read_events(w, 2, WAIT_S)
    check_eq(sorted(got, key=lambda e: e["event"]),
             [{"event": "change", "key": "erin", "value": {"name": "Erin", "region": "eu"}},
              {"event": "delete", "key": "dave"}], "a delete and an insert")
    get(b, "/v1/tables/users/keys/dave", expect=404)
    w.close()
    b.stop()


def test_queries_during_heavy_processing_see_committed_values(ctx):
    """Counts read while 400,000 words flow in never decrease and never
    exceed the final count, and the final state equals the reference."""
    b = start_job(ctx, "wordcount.sl")
    lines = ["hot w%d w%d hot" % (i % 97, i % 89) for i in range(100000)]
    want = word_counts(lines)
    feeder = ctx.popen(["kcat", "-b", b.bootstrap, "-P", "-t", "text-lines", "-X", "acks=all"],
                       stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    th = threading.Thread(target=lambda: feeder.communicate(("\n".join(lines) + "\n").encode()), daemon=True)
    th.start()
    reads, last, samples = 0, 0, []
    deadline = time.monotonic() + 40
    while time.monotonic() < deadline:
        status, _, body = get(b, "/v1/tables/word_counts/keys/hot", expect=None)
        if status == 200:
            v = body["value"]
            check(v >= last, "hot's count went back from %d to %d" % (last, v))
            check(v <= want["hot"], "hot's count %d exceeds the final %d" % (v, want["hot"]))
            if v != last:
                samples.append(v)
            last = v
            reads += 1
            if v == want["hot"]:
                break
        else:
            check_eq(status, 404, "before the first commit: 404")
    th.join(10)
    check_eq(feeder.returncode, 0, "kcat fed every line")
    check_eq(last, want["hot"], "hot's final count")
    check(len(samples) >= 2, "counts were read while input flowed (%d distinct values)" % len(samples))
    wait_counts(b, "word_counts", want)
    print("     %d reads, %d distinct values of hot while processing" % (reads, len(samples)), flush=True)
    b.stop()


def test_server_serves_the_tables_of_every_job(ctx):
    """`sluice server --jobs DIR --http`: one HTTP server for a folder of jobs."""
    import shutil
    jobs = ctx.path("jobs")
    os.makedirs(jobs)
    shutil.copy(os.path.join(EXAMPLES, "wordcount.sl"), jobs)
    shutil.copy(os.path.join(EXAMPLES, "sessions.sl"), jobs)
    b = ctx.broker(command=["server", "--jobs", jobs, "--http", "127.0.0.1:0"])
    m = wait_for(lambda: re.search(r"HTTP server at http://127\.0\.0\.1:(\d+)", b.stderr_text()), 10,
                 "the HTTP server's address")
    b.url = "http://127.0.0.1:%s" % m.group(1)
    wait_for(lambda: "2 job(s)" in b.stderr_text(), 15, "both jobs to start")
    _, _, body = get(b, "/v1/tables")
    check_eq(sorted((t["job"], t["name"], t["kind"]) for t in body["tables"]),
             [("sessions", "sessions", "session"), ("wordcount", "word_counts", "kv")], "tables of both jobs")
    produce(b, "text-lines", ["hello server", "hello"])
    wait_counts(b, "word_counts", {"hello": 2, "server": 1})
    b.stop()


def test_query_cli_usage(ctx):
    sl = ctx.sluice

    def rc_of(args):
        return run([sl] + args, check_rc=False)
    r = rc_of(["query", "--help"])
    check_eq(r.returncode, 0, "--help")
    check(b"Usage: sluice query" in r.stdout, "usage on stdout")
    check_eq(rc_of(["help", "query"]).returncode, 0, "sluice help query")
    for args in [["query"], ["query", "a", "b"], ["query", "t", "--bogus"], ["query", "t", "--limit", "0"],
                 ["query", "t", "--key", "k", "--prefix", "p"], ["query", "t", "--watch", "--prefix", "p"],
                 ["query", "t", "--http", "nocolon"], ["query", "t", "--key"]]:
        r = rc_of(args)
        check_eq(r.returncode, 2, "sluice %s" % " ".join(args))
        check(b"Usage" in r.stderr, "usage on stderr for %s" % args)
    # Nothing listens on this port: a runtime error.
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    r = rc_of(["query", "t", "--http", "127.0.0.1:%d" % port])
    check_eq(r.returncode, 1, "unreachable server")
    # Unknown table on a live server: exit 1 with the server's message.
    b = start_job(ctx, "wordcount.sl")
    r = rc_of(["query", "nosuch", "--http", b.http])
    check_eq(r.returncode, 1, "unknown table")
    check(b"unknown table" in r.stderr, "the server's error is printed: %r" % r.stderr)
    r = rc_of(["run", os.path.join(EXAMPLES, "wordcount.sl"), "--http", "nocolon"])
    check_eq(r.returncode, 2, "sluice run --http without a port")
    # The HTTP port is taken: the job does not start (exit 1).
    r = rc_of(["run", os.path.join(EXAMPLES, "wordcount.sl"), "--data", ctx.path("d2"), "--listen", "127.0.0.1:0",
               "--http", b.http])
    check_eq(r.returncode, 1, "sluice run --http on a port in use")
    check(b"cannot listen" in r.stderr, "says why: %r" % r.stderr[-300:])
    # On a terminal: an aligned table with a row count.
    produce(b, "text-lines", ["alpha beta", "beta"])
    wait_counts(b, "word_counts", {"alpha": 1, "beta": 2})
    import pty
    pid, fd = pty.fork()
    if pid == 0:
        os.execv(sl, [sl, "query", "word_counts", "--http", b.http])
    out = b""
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    _, status = os.waitpid(pid, 0)
    check_eq(os.waitstatus_to_exitcode(status), 0, "sluice query on a terminal")
    lines = out.decode().replace("\r", "").splitlines()
    check_eq(lines, ["key    value", "alpha  1", "beta   2", "(2 rows)"], "the table on a terminal")
    b.stop()


CASES = [
    test_tables_get_and_errors,
    test_range_prefix_reverse_pagination,
    test_windowed_table,
    test_session_table,
    test_watch,
    test_watch_reports_deletes_of_a_table_source,
    test_queries_during_heavy_processing_see_committed_values,
    test_server_serves_the_tables_of_every_job,
    test_query_cli_usage,
]

if __name__ == "__main__":
    run_cases(CASES)
