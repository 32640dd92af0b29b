#!/usr/bin/env python3
"""The web page at "/" (engine/web/index.html, compiled into sluice) in
headless Chromium (the peer): served by `sluice server` running the word
count fed by kcat, once its JavaScript has polled /v1/status the DOM shows
the job, its state, every node of its topology (drawn as SVG), its input
partitions with their offsets, the topics, and the table in the query box.
When /v1/status fails (a stand-in server without it: python's http.server)
the page says it is disconnected.

Usage: /usr/bin/python3 test_web_page.py PATH_TO_SLUICE"""

import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import check, check_eq, run, run_cases, wait_for, TestFailure  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
PAGE = os.path.join(ROOT, "engine", "web", "index.html")


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
    """The page as `sluice server` serves it (the bytes compiled into the
    binary), with a word-count job fed by kcat."""
    jobs = ctx.path("jobs")
    os.makedirs(jobs)
    shutil.copy(os.path.join(ROOT, "examples", "wordcount.sl"), jobs)
    b = ctx.broker(command=["server", "--jobs", jobs, "--http", "127.0.0.1:0"])
    m = wait_for(lambda: re.search(r"HTTP server at http://(127\.0\.0\.1:\d+)", b.stderr_text()), 10, "the HTTP line")
    base = "http://" + m.group(1)
    run(["kcat", "-b", b.bootstrap, "-P", "-t", "text-lines", "-X", "acks=all"], input=b"to be or not to be\n" * 50)

    def caught_up():
        st = json.loads(urllib.request.urlopen(base + "/v1/status", timeout=5).read())
        job = st["jobs"][0] if st["jobs"] else None
        return st if job and job["lag"] == 0 and job["records_in"] == 50 + 300 else None
    status = wait_for(caught_up, 20, "the job to process the 50 lines")
    page = urllib.request.urlopen(base + "/", timeout=5).read()
    check_eq(page, open(PAGE, "rb").read(), "the page served is engine/web/index.html")
    dom = dump_dom(ctx, base + "/")
    job = status["jobs"][0]
    check('data-job="wordcount"' in dom, "no card for the job in the DOM")
    check('class="state running"' in dom, "the job's state badge is missing")
    check("Sub-topology 1" in dom, "the topology's second sub-topology is not drawn")
    for n in job["topology"]["nodes"]:
        label = n["name"] if len(n["name"]) <= 28 else n["name"][:27]
        check(label in dom, "topology node %s is not drawn" % n["name"])
    check(dom.count("<svg") >= 2, "expected the topology and the sparkline as SVG")
    check(re.search(r"<td>text-lines</td><td class=\"num\">0</td><td class=\"num\">50</td>"
                    r"<td class=\"num\">50</td><td class=\"num\">0</td>", dom),
          "task 0_0 reads text-lines partition 0: committed 50, end 50, lag 0")
    for t in status["broker"]["topics"]:
        check("<td>%s</td>" % t["name"] in dom, "topic %s not listed" % t["name"])
    check('<option value="word_counts">' in dom, "the table is not offered in the query box")
    check('<span id="conn" class="">live</span>' in dom, "the page did not report a live connection")

    # The query box, through a query link: a key, then a prefix scan.
    dom = dump_dom(ctx, base + "/#table=word_counts&key=be")
    m = re.search(r'<pre id="qout" class="">(.*?)</pre>', dom, re.S)
    check(m, "the query box shows no answer")
    answer = m.group(1)
    check("GET /v1/tables/word_counts/keys/be\nHTTP 200" in answer, "the key query and its status: " + answer)
    check('"value": 100' in answer, "be was counted 100 times: " + answer)
    dom = dump_dom(ctx, base + "/#table=word_counts&prefix=t")
    answer = re.search(r'<pre id="qout" class="">(.*?)</pre>', dom, re.S).group(1)
    check('"key": "to"' in answer and '"value": 100' in answer and '"key": "or"' not in answer,
          "the prefix scan finds 'to' and not 'or': " + answer)


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
