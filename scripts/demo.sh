#!/usr/bin/env bash
# The Sluice demo (`make demo`): start `sluice server` on free ports with a
# temporary data folder and one job (examples/live_pageviews.sl), generate
# sample data (users and page views), produce it with `sluice produce`, wait
# until the job has processed and committed all of it, print a few output
# records, query the job's state over HTTP and check the answer against the
# generated data, print where the web page is, then stop the server cleanly.
# Needs nothing running: every port is chosen by the kernel.
set -euo pipefail

SLUICE=${1:-build/sluice}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
[ -x "$SLUICE" ] || { echo "demo: $SLUICE is not an executable (run 'make' first)" >&2; exit 1; }
SLUICE=$(cd "$(dirname "$SLUICE")" && pwd)/$(basename "$SLUICE")
USERS=${DEMO_USERS:-40}
VIEWS=${DEMO_VIEWS:-20000}
KEEP=${DEMO_KEEP_RUNNING:-0} # 1: leave the server running until Ctrl-C (to browse the web page)

DATA=$(mktemp -d "${TMPDIR:-/tmp}/sluice-demo.XXXXXX")
SPID=""
cleanup() {
  if [ -n "$SPID" ] && kill -0 "$SPID" 2>/dev/null; then
    kill -TERM "$SPID" 2>/dev/null || true
    wait "$SPID" 2>/dev/null || true
  fi
  rm -rf "$DATA"
}
trap cleanup EXIT

if [ -t 1 ]; then BOLD=$'\033[1m' PLAIN=$'\033[0m'; else BOLD='' PLAIN=''; fi
heading() { printf '\n%s== %s%s\n' "$BOLD" "$*" "$PLAIN"; }
say() { printf '$ %s\n' "$*"; }
fail() { echo "demo: $*" >&2; echo "---- server log ----" >&2; tail -n 30 "$DATA/server.log" >&2; exit 1; }

echo "Sluice demo: a job over page views and users, in one process with the broker"
echo "(temporary data folder \$DATA = $DATA)"

heading "1. Generate sample data: $USERS users in 4 regions, $VIEWS page views (1 in 10 by unknown users)"
awk -v n="$USERS" 'BEGIN {
  split("eu us apac latam", region, " ");
  split("Ada Ben Cleo Dan Eva Finn Gus Hana Ivo Jun", first, " ");
  for (i = 1; i <= n; i++)
    printf "{\"user\":\"u%02d\",\"name\":\"%s %d\",\"region\":\"%s\"}\n", i, first[(i - 1) % 10 + 1], i, region[(i - 1) % 4 + 1];
}' >"$DATA/users.jsonl"
awk -v n="$VIEWS" -v users="$USERS" 'BEGIN {
  srand(7);
  split("/ /pricing /docs /docs/dsl /blog /signup /checkout", page, " ");
  for (i = 1; i <= n; i++) {
    u = int(rand() * (users + users / 9)) + 1; # users beyond $USERS are unknown
    printf "{\"user\":\"u%02d\",\"page\":\"%s\",\"ts\":%d}\n", u, page[int(rand() * 7) + 1], 1700000000000 + i * 250;
  }
}' >"$DATA/views.jsonl"
head -n 2 "$DATA/users.jsonl"
head -n 2 "$DATA/views.jsonl"
# What the job must find, computed here from the files: views per region.
awk -F'"' 'NR == FNR { region[$4] = $12; next } ($4 in region) { n[region[$4]]++ } END { for (r in n) print r, n[r] }' \
  "$DATA/users.jsonl" "$DATA/views.jsonl" | sort >"$DATA/expected-regions.txt"

heading "2. Start the server: broker + HTTP + the jobs of a folder"
mkdir -p "$DATA/jobs"
cp "$ROOT/examples/live_pageviews.sl" "$DATA/jobs/"
say "sluice server --data \$DATA/data --jobs \$DATA/jobs --listen 127.0.0.1:0 --http 127.0.0.1:0"
"$SLUICE" server --data "$DATA/data" --jobs "$DATA/jobs" --listen 127.0.0.1:0 --http 127.0.0.1:0 \
  --status-interval 2 2>"$DATA/server.log" &
SPID=$!
KAFKA="" HTTP=""
for _ in $(seq 1 200); do
  KAFKA=$(sed -n 's/.*listening on \(127.0.0.1:[0-9]*\).*/\1/p' "$DATA/server.log" | head -n 1)
  HTTP=$(sed -n 's|.*HTTP server at http://\(127.0.0.1:[0-9]*\).*|\1|p' "$DATA/server.log" | head -n 1)
  [ -n "$KAFKA" ] && [ -n "$HTTP" ] && grep -q "job live_pageviews (.*) running" "$DATA/server.log" && break
  kill -0 "$SPID" 2>/dev/null || fail "the server exited"
  sleep 0.05
done
[ -n "$KAFKA" ] && [ -n "$HTTP" ] || fail "the server did not start"
echo "Kafka protocol on $KAFKA, HTTP on $HTTP"
sed -n 's/^[^ ]* [A-Z]* *\(server: job .*\)/  log: \1/p' "$DATA/server.log"

heading "3. Produce the data with sluice produce (keyed by the user field)"
say "sluice produce users --key-field user < users.jsonl"
"$SLUICE" produce users --key-field user --bootstrap "$KAFKA" <"$DATA/users.jsonl"
sleep 0.5 # the users table is loaded before the views that look it up arrive
say "sluice produce page-views --key-field user < views.jsonl"
"$SLUICE" produce page-views --key-field user --bootstrap "$KAFKA" <"$DATA/views.jsonl"

heading "4. Wait until the job has processed and committed every view"
start=$(date +%s%N)
for _ in $(seq 1 600); do
  STATUS=$(curl -sf "http://$HTTP/v1/status" || true)
  LAG=$(printf '%s' "$STATUS" | sed -n 's/.*"name":"live_pageviews".*"lag":\([0-9]*\),"commit_latency_ms".*/\1/p')
  IN=$(printf '%s' "$STATUS" | sed -n 's/.*"name":"live_pageviews".*"records_in":\([0-9]*\),"records_out".*/\1/p')
  # every view is read once by the join and once by views_per_user's repartition
  [ "${LAG:-1}" = 0 ] && [ "${IN:-0}" -ge "$((2 * VIEWS))" ] && break
  sleep 0.1
done
[ "${LAG:-1}" = 0 ] || fail "the job did not catch up (lag ${LAG:-?})"
echo "caught up in $(( ($(date +%s%N) - start) / 1000000 )) ms: lag 0, $IN records processed"
grep "status: live_pageviews" "$DATA/server.log" | tail -n 1 | sed 's/^[^ ]* [A-Z]* */  log: /'

heading "5. A few output records (sluice consume)"
say "sluice consume enriched-views --from-beginning --max 3"
"$SLUICE" consume enriched-views --from-beginning --max 3 --bootstrap "$KAFKA"
say "sluice consume views-per-region --from-beginning --exit | tail -n 4   # latest count per region"
"$SLUICE" consume views-per-region --from-beginning --exit --bootstrap "$KAFKA" | tail -n 4

heading "6. Query the job's state (the committed table, over HTTP)"
REGION=eu
WANT=$(awk -v r="$REGION" '$1 == r { print $2 }' "$DATA/expected-regions.txt")
if "$SLUICE" help query >/dev/null 2>&1; then
  say "sluice query views_per_region --key $REGION"
  ANSWER=$("$SLUICE" query views_per_region --key "$REGION" --http "$HTTP")
else
  say "curl http://$HTTP/v1/tables/views_per_region/keys/$REGION"
  ANSWER=$(curl -sf "http://$HTTP/v1/tables/views_per_region/keys/$REGION")
fi
echo "$ANSWER"
GOT=$(printf '%s' "$ANSWER" | sed -n 's/.*"value":\([0-9]*\).*/\1/p')
[ "$GOT" = "$WANT" ] || fail "views_per_region[$REGION] is '$GOT', the generated data says $WANT"
echo "= $WANT views from region $REGION, as counted from the generated data"
say "curl 'http://$HTTP/v1/tables/views_per_user?prefix=u0&limit=3'"
curl -sf "http://$HTTP/v1/tables/views_per_user?prefix=u0&limit=3"
echo

heading "7. Watch it live"
echo "web page:   http://$HTTP/   (jobs, topology, throughput, lag, table queries)"
echo "metrics:    http://$HTTP/metrics   status: http://$HTTP/v1/status"
curl -sf "http://$HTTP/metrics" | grep -E '^sluice_(job_records_in_total|job_lag_records|topic_records_in_total\{topic="page-views"\})' || true
if [ "$KEEP" = 1 ]; then
  echo "The server keeps running (DEMO_KEEP_RUNNING=1): press Ctrl-C to stop it."
  trap 'echo' INT
  wait "$SPID" || true
fi

heading "8. Stop the server cleanly (SIGTERM: every job commits, the broker syncs its logs)"
kill -TERM "$SPID"
wait "$SPID" && echo "server stopped (exit status 0)"
SPID=""
printf '\nDemo done; removing %s\n' "$DATA"
