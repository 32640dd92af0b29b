#!/usr/bin/python3
"""Reference results of the Nexmark queries, independent of Sluice.

Plain Python over the events of `nexmark_gen --jsonl` (one line per event:
{"person":{...}} | {"auction":{...}} | {"bid":{...}}), computing what each
query outputs with the semantics of Flink's nexmark SQL (github.com/nexmark/
nexmark, nexmark-flink/src/main/resources/queries/qN.sql):

  q0  every bid                                   (multiset)
  q1  auction, bidder, price * 0.908, dateTime, extra   (multiset)
  q2  auction, price of bids with auction % 123 == 0    (multiset)
  q3  name, city, state, id: auctions of category 10 joined with their seller,
      a person of OR, ID or CA (a regular join over the whole input: the
      person may come before or after the auction)      (multiset)
  q4  per category, the average over auctions of the highest bid placed
      between the auction's dateTime and expires (both inclusive; auctions
      without such a bid do not count)                  (table: key category)
  q5  per hopping window (10 s, advance 2 s), the auctions with the most bids:
      auction, num                                      (per window)
  q7  per tumbling 10 s window, the bids with the window's highest price:
      auction, price, bidder, dateTime, extra. As in Flink, a bid matches when
      its dateTime is in [window end - 1 ms - 10 s, window end - 1 ms]
                                                        (per window)
  q8  persons who opened an auction in the 10 s tumbling window in which they
      registered: id, name, starttime                   (per window, as a set)

Other output shapes accepted (normalize()): q5 as one row per window with the
list of its top auctions (the latest row of a window counts); q8 without the
window (taken from the person's registration) and with a row per auction.

Windowed queries (q5, q7, q8) are compared window by window (see compare()):
a stream job closes a window only when event time passes its end (plus any
grace), so a bounded input leaves its last windows open, whereas Flink's
bounded run fires them all.

Usage:
  reference.py expected QUERY < events.jsonl     expected records, JSON lines
  reference.py compare QUERY EVENTS OUTPUT       OUTPUT: the job's records, one
                                                 JSON value per line; exit 1
                                                 with the differences if they
                                                 do not match
"""
import collections
import json
import math
import sys

WINDOW = 10_000   # ms: q5's window size, q7's and q8's tumbling windows
HOP = 2_000       # ms: q5's advance
Q3_STATES = ("OR", "ID", "CA")
# Windows ending at least this long before the input's largest timestamp must
# be in a job's output (a job may keep windows open for a grace period up to this).
MAX_GRACE = 10_000

# Output fields compared per query, and the names a job may give them.
FIELDS = {
    "q0": ["auction", "bidder", "price", "channel", "url", "dateTime", "extra"],
    "q1": ["auction", "bidder", "price", "dateTime", "extra"],
    "q2": ["auction", "price"],
    "q3": ["name", "city", "state", "id"],
    "q4": ["category", "avg"],
    "q5": ["auction", "num"],
    "q7": ["auction", "price", "bidder", "dateTime", "extra"],
    "q8": ["id", "name", "starttime"],
}
ALIASES = {
    "avg": ("avg", "average", "avg_price", "final", "price"),
    "num": ("num", "count", "bids"),
    "starttime": ("starttime", "window_start"),
    "id": ("id", "person", "seller"),
}
SET_QUERIES = {"q8"}  # compared as sets (per window): Flink's GROUP BY makes its rows distinct
MODES = {"q0": "multiset", "q1": "multiset", "q2": "multiset", "q3": "multiset", "q4": "table",
         "q5": "windowed", "q7": "windowed", "q8": "windowed"}


def read_events(lines):
    persons, auctions, bids = [], [], []
    for line in lines:
        line = line.strip()
        if not line:
            continue
        ev = json.loads(line)
        if "person" in ev:
            persons.append(ev["person"])
        elif "auction" in ev:
            auctions.append(ev["auction"])
        else:
            bids.append(ev["bid"])
    return persons, auctions, bids


def q0(persons, auctions, bids):
    return [dict(b) for b in bids]


def q1(persons, auctions, bids):
    return [{"auction": b["auction"], "bidder": b["bidder"], "price": b["price"] * 0.908,
             "dateTime": b["dateTime"], "extra": b["extra"]} for b in bids]


def q2(persons, auctions, bids):
    return [{"auction": b["auction"], "price": b["price"]} for b in bids if b["auction"] % 123 == 0]


def q3(persons, auctions, bids):
    by_id = {p["id"]: p for p in persons if p["state"] in Q3_STATES}
    out = []
    for a in auctions:
        p = by_id.get(a["seller"])
        if a["category"] == 10 and p is not None:
            out.append({"name": p["name"], "city": p["city"], "state": p["state"], "id": a["id"]})
    return out


def q4(persons, auctions, bids):
    by_id = {a["id"]: a for a in auctions}
    best = {}
    for b in bids:
        a = by_id.get(b["auction"])
        if a is not None and a["dateTime"] <= b["dateTime"] <= a["expires"]:
            if b["price"] > best.get(a["id"], -1):
                best[a["id"]] = b["price"]
    per_cat = collections.defaultdict(list)
    for aid, price in best.items():
        per_cat[by_id[aid]["category"]].append(price)
    return [{"category": c, "avg": sum(v) / len(v)} for c, v in sorted(per_cat.items())]


def q5(persons, auctions, bids):
    counts = collections.defaultdict(collections.Counter)  # window start -> auction -> bids
    for b in bids:
        t = b["dateTime"]
        s = (t // HOP) * HOP
        while s > t - WINDOW:
            counts[s][b["auction"]] += 1
            s -= HOP
    out = []
    for s in sorted(counts):
        top = max(counts[s].values())
        for auction, n in sorted(counts[s].items()):
            if n >= top:
                out.append({"auction": auction, "num": n, "window_start": s, "window_end": s + WINDOW})
    return out


def q7(persons, auctions, bids):
    top = {}
    for b in bids:
        s = (b["dateTime"] // WINDOW) * WINDOW
        top[s] = max(top.get(s, -1), b["price"])
    out = []
    for s, price in sorted(top.items()):
        rowtime = s + WINDOW - 1
        for b in bids:
            if b["price"] == price and rowtime - WINDOW <= b["dateTime"] <= rowtime:
                out.append({"auction": b["auction"], "price": b["price"], "bidder": b["bidder"],
                            "dateTime": b["dateTime"], "extra": b["extra"]})
    return out


def q8(persons, auctions, bids):
    sellers = set()
    for a in auctions:
        sellers.add((a["seller"], (a["dateTime"] // WINDOW) * WINDOW))
    out, seen = [], set()
    for p in persons:
        s = (p["dateTime"] // WINDOW) * WINDOW
        if (p["id"], s) in sellers and (p["id"], s) not in seen:
            seen.add((p["id"], s))
            out.append({"id": p["id"], "name": p["name"], "starttime": s})
    return out


QUERIES = {"q0": q0, "q1": q1, "q2": q2, "q3": q3, "q4": q4, "q5": q5, "q7": q7, "q8": q8}


# ---- comparison ----------------------------------------------------------------------------------

def canon(v):
    """Numbers compare by value to 9 significant digits (ints and integral floats alike)."""
    if isinstance(v, bool) or v is None or isinstance(v, str):
        return v
    if isinstance(v, (int, float)):
        f = float(v)
        if math.isfinite(f) and f == int(f) and abs(f) < 2**53:
            return int(f)
        return float("%.9g" % f)
    return json.dumps(v, sort_keys=True)


def project(query, rec):
    """The compared fields of one output record, or an error string."""
    out = []
    for f in FIELDS[query]:
        for name in ALIASES.get(f, (f,)):
            if name in rec:
                out.append(canon(rec[name]))
                break
        else:
            return None, "missing field %r in %s" % (f, json.dumps(rec))
    return tuple(out), None


def window_of(query, rec):
    """Window start a record belongs to (windowed queries)."""
    if query == "q7":
        return (rec["dateTime"] // WINDOW) * WINDOW
    for name in ("window_start", "starttime"):
        if name in rec:
            return rec[name]
    for name in ("window_end", "endtime"):
        if name in rec:
            return rec[name] - WINDOW
    raise KeyError("no window_start / window_end in %s" % json.dumps(rec))


def window_size(query):
    return WINDOW


def normalize(query, events, outputs):
    """Accepted other shapes of a job's output, brought to Flink's rows.

    q5 as a table of windows, {"window_start", "window_end", "auctions": [ids],
    "num"} (its latest record per window is the result): one row per auction.
    q8 without the window: the window a person registered in (each person
    registers once); compare() takes q8's rows as a set (Flink's GROUP BY makes
    them distinct; a job may emit one per auction)."""
    if query == "q5" and any(isinstance(r, dict) and "auctions" in r for r in outputs):
        last = {}
        for r in outputs:
            if r is not None:
                last[window_of(query, r)] = r
        rows = []
        for w, r in sorted(last.items()):
            for a in r["auctions"]:
                rows.append({"auction": a, "num": r["num"], "window_start": w})
        return rows
    if query == "q8":
        born = {p["id"]: (p["dateTime"] // WINDOW) * WINDOW for p in events[0]}
        rows = []
        for r in outputs:
            if r is None:
                continue
            if not any(n in r for n in ("starttime", "window_start", "window_end", "endtime")) and r.get("id") in born:
                r = dict(r, starttime=born[r["id"]])
            rows.append(r)
        return rows
    return outputs


def compare(query, events, outputs, max_report=10):
    """Problems (a list of strings; empty when the job's output is right).

    outputs: the job's records in log order (dicts; None for a null value)."""
    persons, auctions, bids = events
    expected = QUERIES[query](persons, auctions, bids)
    outputs = normalize(query, events, outputs)
    mode = MODES[query]
    problems = []

    def proj_all(recs):
        res = []
        for r in recs:
            if r is None:
                continue
            p, err = project(query, r)
            if err:
                problems.append(err)
                return None
            res.append(p)
        return res

    if mode == "multiset":
        got, exp = proj_all(outputs), proj_all(expected)
        if got is None:
            return problems[:max_report]
        diff_missing = collections.Counter(exp) - collections.Counter(got)
        diff_extra = collections.Counter(got) - collections.Counter(exp)
        for r in list(diff_missing.elements())[:max_report]:
            problems.append("missing %s" % (r,))
        for r in list(diff_extra.elements())[:max_report]:
            problems.append("unexpected %s" % (r,))
        if diff_missing or diff_extra:
            problems.append("%d expected, %d output, %d missing, %d unexpected" % (
                len(exp), len(got), sum(diff_missing.values()), sum(diff_extra.values())))
    elif mode == "table":
        final = {}
        for r in outputs:
            if r is None:
                continue
            p, err = project(query, r)
            if err:
                return [err]
            raw = next(r[n] for n in ALIASES.get(FIELDS[query][1], (FIELDS[query][1],)) if n in r)
            final[p[0]] = raw  # the value unrounded: compared with a tolerance below
        want = {canon(r["category"]): r["avg"] for r in expected}
        for k in sorted(set(want) | set(final), key=str):
            if k not in final:
                problems.append("missing key %s (expected %s)" % (k, want[k]))
            elif k not in want:
                problems.append("unexpected key %s = %s" % (k, final[k]))
            else:
                g, w = float(final[k]), float(want[k])
                # Flink's AVG of a BIGINT is a BIGINT: a truncated average passes too
                if not (math.isclose(g, w, rel_tol=1e-9) or g == math.floor(w)):
                    problems.append("key %s: %s, expected %s" % (k, final[k], want[k]))
    else:
        max_ts = max([e["dateTime"] for e in persons + auctions + bids], default=0)
        by_w_exp, by_w_got = collections.defaultdict(list), collections.defaultdict(list)
        for r in expected:
            by_w_exp[window_of(query, r)].append(r)
        for r in outputs:
            if r is None:
                continue
            try:
                by_w_got[window_of(query, r)].append(r)
            except KeyError as e:
                return [str(e)]
        for w in sorted(set(by_w_exp) | set(by_w_got)):
            if w in by_w_got:
                got, exp = proj_all(by_w_got[w]), proj_all(by_w_exp.get(w, []))
                if got is None:
                    break
                same = set(got) == set(exp) if query in SET_QUERIES else collections.Counter(got) == collections.Counter(exp)
                if not same:
                    problems.append("window %d: output %s, expected %s" % (w, sorted(got, key=str)[:5],
                                                                            sorted(exp, key=str)[:5]))
            elif w + window_size(query) + MAX_GRACE <= max_ts:
                problems.append("window %d (closed: input reaches %d) missing: expected %s" % (
                    w, max_ts, proj_all(by_w_exp[w])[:5]))
    return problems[:max_report + 2]


def main(argv):
    if len(argv) == 3 and argv[1] == "expected" and argv[2] in QUERIES:
        for r in QUERIES[argv[2]](*read_events(sys.stdin)):
            print(json.dumps(r))
        return 0
    if len(argv) == 5 and argv[1] == "compare" and argv[2] in QUERIES:
        with open(argv[3]) as f:
            events = read_events(f)
        with open(argv[4]) as f:
            outputs = [json.loads(l) for l in f if l.strip()]
        problems = compare(argv[2], events, outputs)
        for p in problems:
            print(p)
        return 1 if problems else 0
    if len(argv) == 2 and argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
