#!/usr/bin/env python3
"""The web page at "/" (engine/web/index.html, compiled into sluice) in
headless Chromium (the peer): once its JavaScript has polled /v1/status, the
DOM shows the job, its state, every node of its topology (drawn as SVG), its
input partitions, the topics, and the table in the query box.

The page is served by a stand-in HTTP server in this test (python's
http.server) with the page's bytes and a /v1/status document that a real
observability run produced (data/status-wordcount.json, written by
test_engine_obs with SL_OBS_STATUS_OUT set).

Usage: /usr/bin/python3 test_web_page.py PATH_TO_SLUICE"""

import http.server
import json
import os
import shutil
import subprocess
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check, run_cases, TestFailure  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PAGE = os.path.join(ROOT, "engine", "web", "index.html")
STATUS = os.path.join(HERE, "data", "status-wordcount.json")


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        p = shutil.which(name)
        if p:
            return p
    raise TestFailure("chromium not installed (scripts/install-deps.sh installs it)")


def serve(routes):
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            path = self.path.split("?")[0]
            if path not in routes:
                self.send_error(404)
                return
            ctype, body = routes[path]
            self.send_response(200)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def dump_dom(ctx, url):
    prof = ctx.path("chromium-profile")
    r = subprocess.run([chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                        "--user-data-dir=" + prof, "--virtual-time-budget=3000", "--dump-dom", url],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    if r.returncode != 0:
        raise TestFailure("chromium exited %d: %s" % (r.returncode, r.stderr.decode()[-1000:]))
    return r.stdout.decode("utf-8", "replace")


def test_page_shows_job_topology_and_lag(ctx):
    status = json.load(open(STATUS))
    job = status["jobs"][0]
    with open(PAGE, "rb") as f:
        page = f.read()
    srv = serve({"/": ("text/html; charset=utf-8", page),
                 "/v1/status": ("application/json", json.dumps(status).encode())})
    try:
        dom = dump_dom(ctx, "http://127.0.0.1:%d/" % srv.server_address[1])
    finally:
        srv.shutdown()
    check('data-job="%s"' % job["name"] in dom, "no card for job %s in the DOM" % job["name"])
    check('class="state running"' in dom, "the job's state badge is missing")
    check("Sub-topology 1" in dom, "the topology's second sub-topology is not drawn")
    for n in job["topology"]["nodes"]:
        label = n["name"] if len(n["name"]) <= 28 else n["name"][:27]
        check(label in dom, "topology node %s is not drawn" % n["name"])
    check(dom.count("<svg") >= 2, "expected the topology and the sparkline as SVG")
    for t in status["broker"]["topics"]:
        check("<td>%s</td>" % t["name"] in dom, "topic %s not listed" % t["name"])
    check('<option value="word_counts">' in dom, "the table is not offered in the query box")
    check('<span id="conn" class="">live</span>' in dom, "the page did not report a live connection")


def test_page_reports_a_lost_server(ctx):
    with open(PAGE, "rb") as f:
        page = f.read()
    srv = serve({"/": ("text/html; charset=utf-8", page)})  # no /v1/status: 404
    try:
        dom = dump_dom(ctx, "http://127.0.0.1:%d/" % srv.server_address[1])
    finally:
        srv.shutdown()
    check('<span id="conn" class="down">disconnected (HTTP 404)</span>' in dom,
          "the page does not say that /v1/status failed")


if __name__ == "__main__":
    run_cases([test_page_shows_job_topology_and_lag, test_page_reports_a_lost_server])
