#!/usr/bin/python3
"""The Nexmark harness: runs every bench/nexmark/qN.sl present through `sluice run`.

  run.py check       small run of each query compared with reference.py
  run.py throughput  N events generated into a fresh data folder (not timed),
                     then `sluice run --exit-when-caught-up --threads T`: the
                     time from the workers' start until every input record is
                     processed and committed (exactly-once, fsync on)
  run.py latency     `sluice run` serving Kafka clients; nexmark_gen produces at
                     a fixed rate with event time = the time each event is due;
                     nexmark_lat consumes the output topic: latency = receive
                     time - output record timestamp (= the input event's time;
                     a window result's end - 1 ms)
  run.py bench       throughput with 1 and 2 threads, then latency, as `make
                     bench` runs it; writes the results as JSON (--results)

Each run uses a fresh data folder under --dir (default $SL_BENCH_DIR or /tmp),
removed afterwards.  Events/s counts every generated event (persons, auctions
and bids), as Flink's nexmark does; per core = events/s / threads.
"""
import argparse
import glob
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import reference  # noqa: E402

# Flink 1.13, 8 worker cores, RocksDB, exactly-once: "Throughput/Cores" of the
# nexmark README (github.com/nexmark/nexmark, "Nexmark Benchmark Result").
FLINK_PER_CORE = {"q0": 155020, "q1": 157940, "q2": 175210, "q3": 152120, "q4": 34330,
                  "q5": 22140, "q7": 12330, "q8": 146140}

CAUGHT_UP = re.compile(r"caught up after ([0-9.]+) s: (\d+) records in, (\d+) out, (\d+) tasks, (\d+) threads")
DUMP_REC = re.compile(r'^\| offset: (\d+) timestamp: (-?\d+) key: (null|"(?:[^"\\]|\\.)*") '
                      r'value: (null|"(?:[^"\\]|\\.)*")(?: headers: \[.*\])?$')


def log(msg):
    sys.stderr.write(msg + "\n")
    sys.stderr.flush()


JOBS = HERE  # --jobs


def queries(only=None):
    """The qN.sl jobs present, in query order."""
    found = []
    for path in glob.glob(os.path.join(JOBS, "q*.sl")):
        m = re.match(r"q(\d+)\.sl$", os.path.basename(path))
        if m:
            found.append((int(m.group(1)), "q" + m.group(1), path))
    found.sort()
    if only:
        want = set(only.split(","))
        found = [f for f in found if f[1] in want]
    return [(name, path) for _, name, path in found]


def gen_args(a, events, partitions=None, extra=()):
    args = [a.gen, "--events", str(events), "--seed", str(a.seed), "--quiet"]
    if getattr(a, "event_rate", None):
        args += ["--event-rate", str(a.event_rate)]
    if partitions:
        args += ["--partitions", str(partitions)]
    return args + list(extra)


def generate(a, data, events, partitions):
    t0 = time.monotonic()
    subprocess.run(gen_args(a, events, partitions, ["--data", data]), check=True)
    return time.monotonic() - t0


def run_until_caught_up(a, job, data, threads, timeout):
    """`sluice run --exit-when-caught-up`; returns (seconds, records_in, records_out)."""
    cmd = [a.sluice, "--log-level", "warn", "run", job, "--data", data, "--listen", "127.0.0.1:0",
           "--threads", str(threads), "--exit-when-caught-up", "--set", "log.retention.ms=-1",
           # event times are from 2023: stream time must not jump to the wall clock
           # when a task waits for a slower one (results must not depend on timing)
           "--idle-timeout", "0"]
    # A job that fails never catches up: on its first ERROR line, SIGTERM makes
    # sluice run stop and exit with that error.
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lines = []

    def watch():
        for line in p.stderr:
            lines.append(line)
            if " ERROR " in line and p.poll() is None:
                p.send_signal(signal.SIGTERM)
    t = threading.Thread(target=watch, daemon=True)
    t.start()
    try:
        rc = p.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
        rc = "killed after %d s" % timeout
    t.join(10)
    err = "".join(lines)
    m = CAUGHT_UP.search(err)
    if rc != 0 or not m:
        raise RuntimeError("%s failed (exit %s):\n%s" % (" ".join(cmd), rc, err[-2000:]))
    return float(m.group(1)), int(m.group(2)), int(m.group(3))


def decode_dump_string(s):
    if s == "null":
        return None
    return json.loads(re.sub(r"\\x([0-9A-Fa-f]{2})", r"\\u00\1", s))


def read_topic(a, data, topic):
    """Every record of a topic of a (stopped) data folder: [(partition, offset, ts, key, value)]."""
    out = []
    for d in sorted(glob.glob(os.path.join(data, "topics", topic + "-*"))):
        part = d.rsplit("-", 1)[1]
        if not part.isdigit():
            continue
        p = subprocess.run([a.sluice, "log", "dump", "--dir", d, "--records"], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, check=True)
        for line in p.stdout.splitlines():
            if not line.startswith("| offset:"):
                continue
            m = DUMP_REC.match(line)
            if not m:
                raise RuntimeError("cannot parse a record of %s: %s" % (d, line[:300]))
            out.append((int(part), int(m.group(1)), int(m.group(2)), decode_dump_string(m.group(3)),
                            decode_dump_string(m.group(4))))
    return out


def fresh_dir(a, name):
    return tempfile.mkdtemp(prefix="sl-nexmark-%s-" % name, dir=a.dir)


# ---- check -------------------------------------------------------------------------------------

def cmd_check(a):
    qs = queries(a.queries)
    events_txt = subprocess.run(gen_args(a, a.events, extra=["--jsonl"]), stdout=subprocess.PIPE, text=True,
                                check=True).stdout
    events = reference.read_events(events_txt.splitlines())
    failed = []
    for name, job in qs:
        if name not in reference.QUERIES:
            print("check %s: skipped (reference.py has no %s)" % (name, name))
            continue
        data = fresh_dir(a, name)
        try:
            generate(a, data, a.events, 1)
            secs, rin, rout = run_until_caught_up(a, job, data, 1, a.timeout)
            outs = []
            for _, _, _, _, v in read_topic(a, data, "nexmark-" + name):
                outs.append(None if v is None else json.loads(v))
            dlq = read_topic(a, data, "sluice-dlq")
            problems = reference.compare(name, events, outs)
            if not reference.QUERIES[name](*events):  # a check that cannot fail is no check
                problems.append("the reference output is empty: use more --events")
            if dlq:
                problems.append("%d record(s) dead-lettered, first: %s" % (len(dlq), dlq[0][4]))
            status = "ok" if not problems else "MISMATCH"
            print("check %s: %s (%d events, %d output records, mode %s)" % (
                name, status, a.events, len(outs), reference.MODES.get(name, "?")))
            for pr in problems:
                print("  " + pr)
            if problems:
                failed.append(name)
        except Exception as e:  # a job that fails to run is a failed check
            print("check %s: ERROR %s" % (name, e))
            failed.append(name)
        finally:
            shutil.rmtree(data, ignore_errors=True)
        sys.stdout.flush()
    print("check: %d of %d queries match the reference%s" % (
        len(qs) - len(failed), len(qs), (" (failed: %s)" % ", ".join(failed)) if failed else ""))
    return 1 if failed else 0


# ---- throughput --------------------------------------------------------------------------------

def throughput(a, threads):
    results = []
    for name, job in queries(a.queries):
        data = fresh_dir(a, name)
        try:
            gen_s = generate(a, data, a.events, threads)
            secs, rin, rout = run_until_caught_up(a, job, data, threads, max(120, a.events / 2000))
            r = {"query": name, "threads": threads, "events": a.events, "seconds": round(secs, 3),
                 "events_per_s": round(a.events / secs), "per_core": round(a.events / secs / threads),
                 "records_in": rin, "records_out": rout, "generate_seconds": round(gen_s, 3),
                 "flink_per_core": FLINK_PER_CORE.get(name)}
        except Exception as e:
            r = {"query": name, "threads": threads, "events": a.events, "error": str(e)[:500],
                 "flink_per_core": FLINK_PER_CORE.get(name)}
        finally:
            shutil.rmtree(data, ignore_errors=True)
        print_throughput(r)
        results.append(r)
    return results


def fmt_rate(v):
    if v is None:
        return "unknown"
    return "%.2fM" % (v / 1e6) if v >= 1e6 else "%.1fk" % (v / 1e3)


def print_throughput(r):
    if "error" in r:
        print("nexmark %-3s threads=%d: ERROR %s" % (r["query"], r["threads"], r["error"].splitlines()[0]))
    else:
        ratio = ("%.2fx" % (r["per_core"] / r["flink_per_core"])) if r["flink_per_core"] else "-"
        print("nexmark %-3s threads=%d: %d events in %.2f s: %s events/s, %s events/s/core "
              "(Flink %s/core: %s)" % (r["query"], r["threads"], r["events"], r["seconds"],
                                       fmt_rate(r["events_per_s"]), fmt_rate(r["per_core"]),
                                       fmt_rate(r["flink_per_core"]), ratio))
    sys.stdout.flush()


def cmd_throughput(a):
    res = throughput(a, a.threads)
    if a.results:
        save(a.results, {"throughput": res})
    return 1 if any("error" in r for r in res) else 0


# ---- latency -----------------------------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=30):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError("sluice run exited with %d" % proc.returncode)
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("sluice run did not listen on %d" % port)


def latency_one(a, name, job, rate):
    data = fresh_dir(a, name)
    port = free_port()
    brokers = "127.0.0.1:%d" % port
    run = subprocess.Popen([a.sluice, "--log-level", "warn", "run", job, "--data", data, "--listen", brokers,
                            "--threads", "1"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    lat = None
    try:
        wait_port(port, run)
        # 10 s windows give a result per window: run long enough for a few
        windowed = reference.MODES.get(name) == "windowed"
        seconds = max(a.seconds, 30) if windowed and a.seconds >= 10 else a.seconds
        events = int(rate * seconds)
        lat = subprocess.Popen([a.lat, "--brokers", brokers, "--topic", "nexmark-" + name,
                                "--idle", "12" if windowed else "2",
                                "--warmup-ms", "1000", "--timeout", str(seconds + 60)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        g = [a.gen, "--brokers", brokers, "--rate", str(rate), "--events", str(events), "--seed", str(a.seed),
             "--quiet"]
        subprocess.run(g, check=True, timeout=seconds * 3 + 60)
        # every result is out one commit interval after the last event: stop the
        # consumer if its --idle has not already (e.g. when there are no results)
        try:
            out, err = lat.communicate(timeout=5)
        except subprocess.TimeoutExpired:
            lat.send_signal(signal.SIGTERM)
            out, err = lat.communicate(timeout=30)
        m = re.search(r"records=(\d+) p50_ms=([0-9.]+) p99_ms=([0-9.]+) max_ms=([0-9.]+)", out)
        if not m:
            raise RuntimeError("nexmark_lat: %s %s" % (out.strip(), err.strip()[-500:]))
        return {"query": name, "rate": rate, "seconds": seconds, "records": int(m.group(1)),
                "p50_ms": float(m.group(2)), "p99_ms": float(m.group(3)), "max_ms": float(m.group(4))}
    except Exception as e:
        return {"query": name, "rate": rate, "error": str(e)[:500]}
    finally:
        if lat and lat.poll() is None:
            lat.kill()
            lat.wait()
        run.send_signal(signal.SIGTERM)
        try:
            run.wait(timeout=60)
        except subprocess.TimeoutExpired:
            run.kill()
            run.wait()
        shutil.rmtree(data, ignore_errors=True)


def print_latency(r):
    if "error" in r:
        print("nexmark %-3s latency at %d events/s: ERROR %s" % (r["query"], r["rate"], r["error"].splitlines()[0]))
    else:
        print("nexmark %-3s latency at %d events/s, 1 thread: p50 %.1f ms, p99 %.1f ms (max %.1f ms, %d results)" % (
            r["query"], r["rate"], r["p50_ms"], r["p99_ms"], r["max_ms"], r["records"]))
    sys.stdout.flush()


def latency(a, max_rates=None):
    res = []
    for name, job in queries(a.queries):
        rate = a.rate
        if max_rates and max_rates.get(name):  # stay below half the measured maximum
            rate = max(100, min(rate, int(max_rates[name] / 2)))
        r = latency_one(a, name, job, rate)
        print_latency(r)
        res.append(r)
    return res


def cmd_latency(a):
    res = latency(a)
    if a.results:
        save(a.results, {"latency": res})
    return 1 if any("error" in r for r in res) else 0


# ---- bench -------------------------------------------------------------------------------------

def machine():
    model, cores = "unknown", os.cpu_count()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = ""
    try:
        mem = subprocess.run(["free", "-h"], stdout=subprocess.PIPE, text=True).stdout.splitlines()[1].split()[1]
    except (OSError, IndexError):
        pass
    return {"cpu": model, "cores": cores, "memory": mem}


def save(path, obj):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=1)
    os.replace(tmp, path)


def cmd_bench(a):
    res = {"machine": machine(), "events": a.events, "seed": a.seed, "throughput": [], "latency": []}
    for t in a.thread_list:
        res["throughput"] += throughput(a, t)
        if a.results:
            save(a.results, res)
    best = {r["query"]: r["events_per_s"] for r in res["throughput"] if r.get("threads") == 1 and "error" not in r}
    if a.seconds > 0:
        res["latency"] = latency(a, best)
    if a.results:
        save(a.results, res)
    bad = [r for r in res["throughput"] + res["latency"] if "error" in r]
    return 1 if bad else 0


def main(argv):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("mode", choices=["check", "throughput", "latency", "bench"])
    p.add_argument("--build", default=os.path.join(HERE, "..", "..", "build"), help="build folder (binaries)")
    p.add_argument("--sluice", help="sluice binary (default BUILD/sluice)")
    p.add_argument("--gen", help="nexmark_gen (default BUILD/bench/nexmark_gen)")
    p.add_argument("--lat", help="nexmark_lat (default BUILD/bench/nexmark_lat)")
    p.add_argument("--queries", help="comma-separated, e.g. q0,q1 (default: every qN.sl present)")
    p.add_argument("--jobs", default=HERE, help="folder of the qN.sl jobs (default: bench/nexmark)")
    p.add_argument("--events", type=int, help="events per run (check: 10000; otherwise 10000000)")
    p.add_argument("--event-rate", type=float,
                   help="events per second of event time (check: 50, so that windows close; else 10000)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=1, help="throughput: worker threads (= partitions)")
    p.add_argument("--thread-list", default="1,2", help="bench: thread counts to run")
    p.add_argument("--rate", type=int, default=10000, help="latency: events/s (bench: at most half the max)")
    p.add_argument("--seconds", type=int, default=10,
                   help="latency: seconds per query (30 for windowed queries when >= 10; bench: 0 skips)")
    p.add_argument("--timeout", type=int, default=120, help="check: seconds per query")
    p.add_argument("--dir", default=os.environ.get("SL_BENCH_DIR", "/tmp"), help="parent of the data folders")
    p.add_argument("--results", help="write the results as JSON to this file")
    a = p.parse_args(argv[1:])
    if a.threads < 1 or (a.events is not None and a.events < 1) or a.rate < 1 or a.seconds < 0:
        p.error("--threads, --events and --rate must be positive")
    try:
        a.thread_list = [int(t) for t in a.thread_list.split(",")]
    except ValueError:
        p.error("--thread-list expects e.g. 1,2")
    a.sluice = a.sluice or os.path.join(a.build, "sluice")
    a.gen = a.gen or os.path.join(a.build, "bench", "nexmark_gen")
    a.lat = a.lat or os.path.join(a.build, "bench", "nexmark_lat")
    global JOBS
    JOBS = a.jobs
    if not queries(a.queries):
        p.error("no qN.sl job in %s%s" % (a.jobs, " among " + a.queries if a.queries else ""))
    if a.events is None:
        a.events = 10000 if a.mode == "check" else 10_000_000
    if a.event_rate is None and a.mode == "check":
        a.event_rate = 50
    for b in (a.sluice, a.gen) + ((a.lat,) if a.mode in ("latency", "bench") else ()):
        if not os.access(b, os.X_OK):
            p.error("%s is not built" % b)
    return {"check": cmd_check, "throughput": cmd_throughput, "latency": cmd_latency, "bench": cmd_bench}[a.mode](a)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
