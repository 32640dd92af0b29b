"""Shared harness for Sluice's integration tests: the peer is a real
`sluice broker` process on 127.0.0.1 with a temporary data folder, driven by
real Kafka clients (kcat, confluent-kafka, librdkafka, kafkajs).

Run the tests with Debian's /usr/bin/python3 (it has python3-confluent-kafka).
Each test file calls `run_cases(CASES)`: argv[1] is the sluice binary (then
optional case names to run only those); every case gets a temporary folder
and starts its brokers through its Context, which kills them whatever happens
(also when ctest's timeout SIGTERMs the test); broker stderr is captured in a
file and printed when a case fails, and the run ends with the line
"N passed, N failed" and a non-zero exit status on any failure.
SL_IT_KEEP=1 keeps the temporary folders of passing cases too.
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

STARTUP_TIMEOUT_S = 15.0
STOP_TIMEOUT_S = 15.0


class TestFailure(Exception):
    """An assertion about the broker's behaviour did not hold."""


def check(cond, msg):
    if not cond:
        raise TestFailure(msg)


def check_eq(got, want, what):
    if got != want:
        raise TestFailure("%s: got %r, expected %r" % (what, got, want))


def word_counts(lines):
    """The reference of the word-count examples: lower-cased words split on single spaces."""
    c = {}
    for line in lines:
        for w in line.lower().split(" "):
            if w:
                c[w] = c.get(w, 0) + 1
    return c


def wait_for(pred, timeout_s, what, interval_s=0.05):
    """Poll pred() until it returns a true value (returned) or fail after timeout_s."""
    deadline = time.monotonic() + timeout_s
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise TestFailure("timed out after %.1f s waiting for %s" % (timeout_s, what))
        time.sleep(interval_s)


def free_port():
    """A port that was free a moment ago (for a second listener; the broker
    itself is started on port 0 and reports the one it got)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Broker:
    """One `sluice broker` process.  The first start listens on port 0 (the
    kernel picks a free port, read back from the "listening on" log line);
    restarts reuse that port so that clients reconnect to the same address.
    stderr goes to <tmp>/broker.stderr, appended across restarts."""

    def __init__(self, sluice, workdir, settings=None, command=None):
        self.sluice = sluice
        self.command = list(command or ["broker"])  # e.g. ["run", "job.sl"]: the job's embedded broker
        self.workdir = workdir
        self.data = os.path.join(workdir, "data")
        self.log_path = os.path.join(workdir, "broker.stderr")
        self.settings = dict(settings or {})
        self.port = 0
        self.proc = None

    @property
    def bootstrap(self):
        return "127.0.0.1:%d" % self.port

    def start(self):
        check(self.proc is None, "broker already running")
        args = [self.sluice] + self.command + ["--data", self.data, "--listen", "127.0.0.1:%d" % self.port]
        for k, v in self.settings.items():
            args += ["--set", "%s=%s" % (k, v)]
        log = open(self.log_path, "ab")
        log.write(("---- harness: start %s\n" % " ".join(args)).encode())
        log.flush()
        start_at = log.tell()
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
        log.close()
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:
            with open(self.log_path, "rb") as f:
                f.seek(start_at)
                text = f.read().decode("utf-8", "replace")
            m = re.search(r"listening on [^ ]*:(\d+)", text)
            if m:
                self.port = int(m.group(1))
                break
            rc = self.proc.poll()
            if rc is not None:
                self.proc = None
                raise TestFailure("broker exited with status %d before listening" % rc)
            if time.monotonic() >= deadline:
                self.kill()
                raise TestFailure("broker not listening after %.0f s" % STARTUP_TIMEOUT_S)
            time.sleep(0.02)
        # The line is printed just before the loop runs: confirm with a connect.
        wait_for(self._accepts, 5, "the broker to accept connections")
        return self

    def _accepts(self):
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        """SIGTERM and wait for a clean exit (0); SIGKILL after STOP_TIMEOUT_S."""
        if self.proc is None:
            return None
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise TestFailure("broker did not stop within %.0f s of SIGTERM" % STOP_TIMEOUT_S)
        check(rc == 0, "broker exited with status %d on SIGTERM" % rc)
        return rc

    def kill(self):
        """SIGKILL (a crash) and reap."""
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        if proc.poll() is None:
            proc.kill()
        proc.wait()

    def restart(self, crash=False):
        if crash:
            self.kill()
        else:
            self.stop()
        return self.start()

    def stderr_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""


class Context:
    """What a case gets: the sluice path, its temporary folder, and brokers
    started through it (all killed after the case)."""

    def __init__(self, sluice, workdir):
        self.sluice = sluice
        self.workdir = workdir
        self.brokers = []
        self.children = []

    def broker(self, settings=None, start=True, command=None):
        sub = os.path.join(self.workdir, "b%d" % len(self.brokers))
        os.makedirs(sub)
        b = Broker(self.sluice, sub, settings, command)
        self.brokers.append(b)
        return b.start() if start else b

    def path(self, name):
        return os.path.join(self.workdir, name)

    def popen(self, args, **kw):
        """A client process, killed after the case if still running."""
        p = subprocess.Popen(args, **kw)
        self.children.append(p)
        return p

    def cleanup(self):
        for p in self.children:
            if p.poll() is None:
                p.kill()
                p.wait()
        for b in self.brokers:
            b.kill()


def run(args, timeout=60, input=None, check_rc=True, what=None):
    """Run a client command; fail with its stderr when it exits non-zero."""
    try:
        r = subprocess.run(args, input=input, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired:
        raise TestFailure("%s timed out after %d s" % (what or args[0], timeout))
    if check_rc and r.returncode != 0:
        raise TestFailure("%s exited with status %d: %s" % (what or " ".join(args[:4]), r.returncode,
                                                            r.stderr.decode("utf-8", "replace")[-2000:]))
    return r


def _on_sigterm(signum, frame):
    raise SystemExit("killed by signal %d (timeout?)" % signum)


def run_cases(cases, argv=None):
    """Run each case(ctx) with a fresh temp folder; print a summary; exit."""
    argv = sys.argv if argv is None else argv
    if len(argv) < 2:
        sys.stderr.write("usage: %s PATH_TO_SLUICE [CASE...]\n" % argv[0])
        sys.exit(2)
    sluice = os.path.abspath(argv[1])
    if not os.access(sluice, os.X_OK):
        sys.stderr.write("%s: not an executable: %s\n" % (argv[0], sluice))
        sys.exit(2)
    only = set(argv[2:])
    signal.signal(signal.SIGTERM, _on_sigterm)
    passed = failed = 0
    keep = os.environ.get("SL_IT_KEEP") == "1"
    for fn in cases:
        name = fn.__name__
        if only and name not in only:
            continue
        workdir = tempfile.mkdtemp(prefix="sluice-it-")
        ctx = Context(sluice, workdir)
        t0 = time.monotonic()
        ok = False
        try:
            fn(ctx)
            ok = True
        except TestFailure as e:
            print("FAIL %s: %s" % (name, e), flush=True)
        except BaseException as e:  # noqa: B902 (client errors, SystemExit from SIGTERM)
            print("FAIL %s: %s\n%s" % (name, e, traceback.format_exc()), flush=True)
            if isinstance(e, (SystemExit, KeyboardInterrupt)):
                ctx.cleanup()
                _print_broker_logs(ctx)
                raise
        finally:
            ctx.cleanup()
        if ok:
            print("PASS %s (%.1f s)" % (name, time.monotonic() - t0), flush=True)
            passed += 1
        else:
            failed += 1
            _print_broker_logs(ctx)
        if ok and not keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print("     (files kept in %s)" % workdir, flush=True)
    print("%d passed, %d failed" % (passed, failed), flush=True)
    sys.exit(1 if failed else 0)


def _print_broker_logs(ctx):
    for i, b in enumerate(ctx.brokers):
        text = b.stderr_text()
        lines = text.splitlines()
        if len(lines) > 200:
            lines = ["... (%d earlier lines in %s)" % (len(lines) - 200, b.log_path)] + lines[-200:]
        print("---- broker %d stderr ----" % i)
        print("\n".join(lines))
        print("---- end of broker %d stderr ----" % i, flush=True)
