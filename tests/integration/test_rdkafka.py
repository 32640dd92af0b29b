#!/usr/bin/python3
"""Integration test: the librdkafka C program rdkafka_test (built by CMake from
rdkafka_test.c) against `sluice broker`, which this driver starts, SIGKILLs
and restarts around it.  The program does the client side and the checks;
this script owns the broker.

usage: /usr/bin/python3 test_rdkafka.py PATH_TO_SLUICE PATH_TO_RDKAFKA_TEST [CASE...]
"""

import os
import random
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import TestFailure, check  # noqa: E402

RDKAFKA_TEST = None  # set from argv[2]


def run_peer(ctx, args, timeout=90):
    out = ctx.path("peer.out")
    with open(out, "ab") as f:
        r = subprocess.run([RDKAFKA_TEST, *args], stdout=f, stderr=subprocess.STDOUT, timeout=timeout)
    text = open(out, "rb").read().decode("utf-8", "replace")
    if r.returncode != 0:
        raise TestFailure("rdkafka_test %s exited %d:\n%s" % (args[0], r.returncode, text[-4000:]))
    return text


def test_idempotent_producer_delivers_each_message_once_across_broker_kills(ctx):
    b = ctx.broker()
    seed = int(os.environ.get("SL_IT_SEED", time.time_ns() % 1000000))
    rnd = random.Random(seed)
    print("     seed %d (SL_IT_SEED to repeat)" % seed, flush=True)
    out_path = ctx.path("peer.out")
    out = open(out_path, "wb")
    seconds = 6
    p = ctx.popen([RDKAFKA_TEST, "idempotent", b.bootstrap, "idem", "30000", str(seconds)], stdout=out,
                  stderr=subprocess.STDOUT)
    out.close()
    harness.wait_for(lambda: b"producing" in open(out_path, "rb").read() or p.poll() is not None, 30,
                     "the producer to start")
    t0 = time.monotonic()
    # Three SIGKILLs at random moments while messages are in flight; the
    # producer retries what was not acknowledged, the restarted broker must
    # recognise the batches it already has (sequence numbers) and not store
    # them twice.
    for at in sorted(rnd.uniform(0.5, seconds - 1.0) for _ in range(3)):
        time.sleep(max(0.0, t0 + at - time.monotonic()))
        check(p.poll() is None, "the producer exited early:\n" + open(out_path, "rb").read().decode()[-3000:])
        b.restart(crash=True)
    try:
        rc = p.wait(120)
    except subprocess.TimeoutExpired:
        raise TestFailure("rdkafka_test idempotent still running after 120 s")
    text = open(out_path, "rb").read().decode("utf-8", "replace")
    check(rc == 0, "rdkafka_test idempotent exited %d:\n%s" % (rc, text[-4000:]))
    check("OK idempotent" in text, "no OK line:\n" + text[-2000:])


def test_group_splits_rebalances_and_resumes_after_restart(ctx):
    b = ctx.broker()
    text = run_peer(ctx, ["group", b.bootstrap, "grp", "rdk-group"])
    check("OK group:" in text, "no OK line:\n" + text[-2000:])
    # A crash, not a clean stop: the commits must already be durable.
    b.restart(crash=True)
    text = run_peer(ctx, ["group-resume", b.bootstrap, "grp", "rdk-group"])
    check("OK group-resume" in text, "no OK line:\n" + text[-2000:])


CASES = [
    test_idempotent_producer_delivers_each_message_once_across_broker_kills,
    test_group_splits_rebalances_and_resumes_after_restart,
]

if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.stderr.write("usage: %s PATH_TO_SLUICE PATH_TO_RDKAFKA_TEST [CASE...]\n" % sys.argv[0])
        sys.exit(2)
    RDKAFKA_TEST = os.path.abspath(sys.argv[2])
    harness.run_cases(CASES, [sys.argv[0], sys.argv[1]] + sys.argv[3:])
