#!/usr/bin/python3
"""Writes docs/benchmarks.md and docs/benchmarks-nexmark.png (`make bench-report`).

Usage: scripts/bench_report.py RESULTS_DIR DOCS_DIR

RESULTS_DIR is what the last `make bench` left in BUILD/bench-results:
bench.txt (everything scripts/bench.sh printed) and nexmark.json (from
bench/nexmark/run.py bench); a file NOTE there, if any, is quoted at the top.  Each benchmark line that has a baseline becomes a
row "ours | baseline | ratio"; the Nexmark runs a table next to Flink's
published events/s per core, and a gnuplot bar chart of the same.
"""
import datetime
import json
import os
import re
import subprocess
import sys
import tempfile

NUM = r"([0-9]+(?:\.[0-9]+)?)"


def parse_bench_txt(text):
    """[(benchmark, ours label, ours value, baseline label, baseline value, unit)] from bench.txt."""
    rows = []
    lines = text.splitlines()
    context, bench, base = "", "", None
    names = {"bench_log_append": "log append", "bench_log_read": "log read"}
    for line in lines:
        if line and not line.startswith(" "):
            if line.startswith("bench_"):
                bench = names.get(line.split(":")[0], line.split(":")[0])
                context = bench
            else:
                context = "%s, %s" % (bench, line.rstrip(":")) if bench else line.rstrip(":")
            base = None
        m = re.match(r"^\s+(baseline: .*?)\s{2,}" + NUM + r" MB/s", line)
        if m:
            base = (m.group(1), float(m.group(2)))
            continue
        m = re.match(r"^\s+(sluice: .*?)\s{2,}" + NUM + r" MB/s", line)
        if m and base:
            rows.append((context, m.group(1), float(m.group(2)), base[0], base[1], "MB/s"))
            base = None
    # state store: each store variant next to raw LMDB
    raw = re.search(r"^\s+(raw LMDB[^\n]*?)\s{2,}" + NUM + r" updates/s", text, re.M)
    if raw:
        for m in re.finditer(r"^\s+(store API[^\n]*?)\s{2,}" + NUM + r" updates/s", text, re.M):
            rows.append(("state store counter updates", m.group(1), float(m.group(2)), raw.group(1).strip(),
                         float(raw.group(2)), "updates/s"))
    # the engine's runs (word count, windowed count) vs their COST baselines
    for m in re.finditer(r"^(\S[^\n]*)\n\s+(runtime[^\n]*?):\s+[0-9.]+ s\s+" + NUM + r" (\w+)/s[^\n]*\n"
                         r"\s+(baseline[^\n]*?):\s+[0-9.]+ s\s+" + NUM + r" \w+/s", text, re.M):
        name = m.group(1).split(",")[0]
        if "no repartition" in m.group(2):
            name += " (keyed: no repartition)"
        rows.append((name, re.sub(r"\s+", " ", m.group(2)).replace(" ,", ","), float(m.group(3)),
                     re.sub(r"\s+", " ", m.group(5)).strip(), float(m.group(6)), m.group(4) + "/s"))
    # broker vs Redis Streams and librdkafka's mock broker
    def rate(who, what):
        m = re.search(r"^\s+" + re.escape(who) + r"\s+" + what + r"\s+" + NUM, text, re.M)
        return float(m.group(1)) if m else None
    pairs = [("sluice", "produce", "redis streams", "XADD"), ("sluice", "consume", "redis streams", "XREAD"),
             ("sluice", "produce", "librdkafka mock broker", "produce"),
             ("sluice", "consume", "librdkafka mock broker", "consume")]
    for who, what, bwho, bwhat in pairs:
        a, b = rate(who, what), rate(bwho, bwhat)
        if a is not None and b is not None:
            rows.append(("broker load", "%s %s" % (who, what), a, "%s %s" % (bwho, bwhat), b, "records/s"))
    return rows


def fmt(v, unit=""):
    if v is None:
        return "-"
    if unit == "MB/s":
        return "%.1f" % v
    if v >= 1e6:
        return "%.2fM" % (v / 1e6)
    if v >= 1e3:
        return "%.1fk" % (v / 1e3)
    return "%.1f" % v


def machine_now():
    model, n = "unknown", 0
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    n += 1
    except OSError:
        pass
    try:
        mem = subprocess.run(["free", "-h"], stdout=subprocess.PIPE, text=True).stdout.splitlines()[1].split()[1]
    except (OSError, IndexError):
        mem = "unknown"
    return {"cpu": model, "cores": n or os.cpu_count(), "memory": mem}


def plot(nx, png):
    """Bar chart: events/s per core per query, ours (1 and 2 threads) and Flink's; False without gnuplot."""
    by_q = {}
    for r in nx.get("throughput", []):
        d = by_q.setdefault(r["query"], {"flink": r.get("flink_per_core")})
        if "error" not in r:
            d[r["threads"]] = r["per_core"]
    if not by_q:
        return False
    qs = sorted(by_q, key=lambda q: int(q[1:]))
    with tempfile.TemporaryDirectory() as tmp:
        dat = os.path.join(tmp, "nexmark.dat")
        with open(dat, "w") as f:
            for q in qs:
                d = by_q[q]
                f.write("%s %s %s %s\n" % (q, d.get(1, "NaN"), d.get(2, "NaN"), d["flink"] or "NaN"))
        gp = """set terminal pngcairo size 900,480 noenhanced font ',10'
set output '%s'
set title 'Nexmark: events/s per core (%s events; Flink: published, 8 cores, Flink 1.13)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set boxwidth 0.9
set logscale y
set yrange [1000:*]
set ylabel 'events/s per core (log scale)'
set grid ytics
set key top right
plot '%s' using 2:xtic(1) title 'Sluice, 1 thread', '' using 3 title 'Sluice, 2 threads', '' using 4 title 'Flink (published)'
""" % (png, "{:,}".format(nx.get("events", 0)), dat)
        try:
            p = subprocess.run(["gnuplot"], input=gp, text=True, stderr=subprocess.PIPE)
        except OSError:
            return False
        if p.returncode != 0:
            # pngcairo may be missing: the plain png terminal is always there
            p = subprocess.run(["gnuplot"], input=gp.replace("pngcairo", "png"), text=True, stderr=subprocess.PIPE)
        if p.returncode != 0:
            sys.stderr.write(p.stderr)
        return p.returncode == 0


def main(argv):
    if len(argv) != 3 or argv[1] in ("-h", "--help"):
        sys.stderr.write(__doc__)
        return 0 if len(argv) == 2 else 2
    res_dir, docs = argv[1], argv[2]
    txt_path, nx_path = os.path.join(res_dir, "bench.txt"), os.path.join(res_dir, "nexmark.json")
    text = open(txt_path).read() if os.path.exists(txt_path) else ""
    nx = json.load(open(nx_path)) if os.path.exists(nx_path) else {}
    if not text and not nx:
        sys.stderr.write("bench_report: no results in %s (run make bench)\n" % res_dir)
        return 1
    when = datetime.datetime.fromtimestamp(os.path.getmtime(txt_path if text else nx_path),
                                           datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    mach = nx.get("machine") or machine_now()
    png_name = "benchmarks-nexmark.png"
    have_plot = plot(nx, os.path.join(docs, png_name)) if nx else False

    out = []
    w = out.append
    w("# Benchmarks\n")
    w("Generated by `make bench-report` from the results of `make bench` of %s (files in "
      "`build/bench-results/`); do not edit by hand.\n" % when)
    note_path = os.path.join(res_dir, "NOTE")
    if os.path.exists(note_path):  # e.g. a run at reduced sizes
        w("**Note:** %s\n" % open(note_path).read().strip())
    w("## Machine\n")
    w("- CPU: %s, %s logical cores (`/proc/cpuinfo`)" % (mach["cpu"], mach["cores"]))
    w("- Memory: %s (`free -h`)" % mach["memory"])
    w("- Shared: other processes may have been running; every figure and its baseline come from the same "
      "run, back to back.\n")
    w("## Commands\n")
    w("```")
    w("make bench          # scripts/bench.sh build: every benchmark, output kept in build/bench-results/")
    w("make bench-report   # this page and its plot (runs make bench first when there are no results)")
    w("/usr/bin/python3 bench/nexmark/run.py check                       # Nexmark correctness vs reference.py")
    w("/usr/bin/python3 bench/nexmark/run.py throughput --events 10000000 --threads 1")
    w("/usr/bin/python3 bench/nexmark/run.py latency --rate 10000 --seconds 10")
    w("```\n")
    rows = parse_bench_txt(text)
    if rows:
        w("## Every figure next to its baseline\n")
        w("| benchmark | ours | value | baseline | value | ours / baseline |")
        w("|---|---|---:|---|---:|---:|")
        for bench, ol, ov, bl, bv, unit in rows:
            w("| %s | %s | %s %s | %s | %s %s | %.2f |" % (bench, ol, fmt(ov, unit), unit, bl, fmt(bv, unit), unit,
                                                         ov / bv if bv else float("nan")))
        w("")
    if nx:
        w("## Nexmark\n")
        w("Each query of `bench/nexmark/qN.sl` on %s events of the Nexmark generator (`bench/nexmark/nexmark_gen`, "
          "seed %s), written into a fresh data folder beforehand (its topics keep their pages in the page cache, "
          "`page.cache.tail.bytes=-1`, so the job reads its input from memory as a job keeping up with a live "
          "topic does; outputs are written with the defaults), then `sluice run --exit-when-caught-up "
          "--threads T` (exactly-once, commits every 100 ms with fsync; T partitions per topic). Time: from the "
          "workers' start until every input record is processed and committed. Events/s counts every event of the "
          "stream (persons, auctions and bids), as Flink's nexmark does; per core = events/s / T. Flink: the "
          "published `Throughput/Cores` of github.com/nexmark/nexmark (Flink 1.13, 8 worker cores, RocksDB, "
          "exactly-once, 100M events).\n" % ("{:,}".format(nx.get("events", 0)), nx.get("seed", 0)))
        thr = {}
        for r in nx.get("throughput", []):
            thr.setdefault(r["query"], {})[r["threads"]] = r
        lat = {r["query"]: r for r in nx.get("latency", [])}
        w("| query | 1 thread: events/s | 2 threads: events/s | per core, 1 thread | per core, 2 threads | "
          "Flink per core | ours / Flink (1 thread) | p50 latency | p99 latency | at events/s | latency samples |")
        w("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for q in sorted(set(thr) | set(lat), key=lambda q: int(q[1:])):
            t1, t2, l = thr.get(q, {}).get(1, {}), thr.get(q, {}).get(2, {}), lat.get(q, {})
            flink = (t1 or t2).get("flink_per_core")

            def ev(r):
                return "error" if "error" in r else fmt(r.get("events_per_s"))
            ratio = "%.2f" % (t1["per_core"] / flink) if flink and t1.get("per_core") else "-"
            # issue 8's targets, on one thread: Flink's figure per core, and q0 at least 1M events/s
            target = max(flink or 0, 1_000_000 if q == "q0" else 0)
            if t1.get("per_core") and target:
                ratio += " (target %s: %s)" % (fmt(target), "met" if t1["per_core"] >= target else "missed")
            w("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                q, ev(t1), ev(t2), fmt(t1.get("per_core")), fmt(t2.get("per_core")),
                fmt(flink) if flink else "unknown", ratio,
                ("%.1f ms" % l["p50_ms"]) if "p50_ms" in l else ("error" if "error" in l else "-"),
                ("%.1f ms" % l["p99_ms"]) if "p99_ms" in l else ("error" if "error" in l else "-"),
                fmt(l.get("rate")), l.get("records", "-")))
        w("")
        errs = [r for r in nx.get("throughput", []) + nx.get("latency", []) if "error" in r]
        for r in errs:
            w("- %s%s: %s" % (r["query"], " (%d threads)" % r["threads"] if "threads" in r else " (latency)",
                               r["error"].splitlines()[0][:300]))
        if errs:
            w("")
        if have_plot:
            w("![Nexmark events/s per core, Sluice next to Flink](%s)\n" % png_name)
        w("Latency: `sluice run` serves Kafka clients while `nexmark_gen --brokers --rate R` produces with "
          "librdkafka at R events/s, each event's time (and record timestamp) being the moment it is due, so a "
          "producer that falls behind counts against us. `nexmark_lat` reads the output topic (long-poll fetches) "
          "and takes, per result, receive time minus its timestamp - the input event's time (a window result: "
          "window end - 1 ms, so its latency includes waiting for an event past the window's end). The first "
          "second is skipped as warm-up. The rate is the same for every query: at most 10,000 events/s and at "
          "most half of the query's measured 1-thread maximum. Correctness (`run.py check`, in ctest as "
          "`test_nexmark`): each query on 10,000 events compared with `bench/nexmark/reference.py` "
          "(bench/nexmark/README.md lists the comparison per query).\n")
    if text:
        w("## Full output of the last `make bench`\n")
        w("```")
        w(text.rstrip())
        w("```")
    with open(os.path.join(docs, "benchmarks.md"), "w") as f:
        f.write("\n".join(out) + "\n")
    print("bench_report: wrote %s%s" % (os.path.join(docs, "benchmarks.md"),
                                        (" and " + os.path.join(docs, png_name)) if have_plot else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
