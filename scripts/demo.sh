#!/usr/bin/env bash
# The Sluice demo (`make demo`).  Until the engine exists it exercises the
# broker's partition log through the CLI: append sample lines as zstd batches,
# dump them, look an offset up by time, then simulate a crash (a torn write at
# the end of the active segment, no clean-shutdown marker) and show recovery.
set -euo pipefail

SLUICE=${1:-build/sluice}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SAMPLE=$ROOT/examples/sample-lines.txt
[ -x "$SLUICE" ] || { echo "demo: $SLUICE is not an executable (run 'make' first)" >&2; exit 1; }
SLUICE=$(cd "$(dirname "$SLUICE")" && pwd)/$(basename "$SLUICE")

DATA=$(mktemp -d "${TMPDIR:-/tmp}/sluice-demo.XXXXXX")
trap 'rm -rf "$DATA"' EXIT
P=$DATA/topics/clicks-0 # one partition of a topic "clicks"

if [ -t 1 ]; then BOLD=$'\033[1m' PLAIN=$'\033[0m'; else BOLD='' PLAIN=''; fi
heading() { printf '\n%s== %s%s\n' "$BOLD" "$*" "$PLAIN"; }
hide_tmp() { sed "s|$DATA|\$DATA|g"; }
# Show a command as a user would type it, then run it (stderr folded in so
# the broker's log lines appear where they happen).
show() {
  local line='$ sluice' a
  for a in "$@"; do
    case $a in *[[:space:]]*) line+=" '$a'" ;; *) line+=" $a" ;; esac
  done
  echo "$line" | hide_tmp
}
run() {
  show "$@"
  "$SLUICE" "$@" 2>&1 | hide_tmp
}
now_ms() { date +%s%3N; }

echo "Sluice demo: the partition log (data in a temporary folder, \$DATA)"

heading "1. Append $(wc -l <"$SAMPLE") lines from examples/sample-lines.txt (zstd, 4 records per batch, key = first word)"
head -n 10 "$SAMPLE" >"$DATA/first.txt"
tail -n +11 "$SAMPLE" >"$DATA/rest.txt"
run log append --dir "$P" --compression zstd --batch 4 --key-sep ' ' <"$DATA/first.txt"
sleep 1.1
T=$(now_ms) # every record appended from here on has a timestamp >= T
run log append --dir "$P" --compression zstd --batch 4 --key-sep ' ' <"$DATA/rest.txt"

heading "2. The files of the partition: segment, offset index, time index"
ls -l "$P" | hide_tmp

heading "3. Dump the stored batches and their records"
run log dump --dir "$P" --records

heading "4. Log info"
run log info --dir "$P"

heading "5. Which offset was written first at or after T = $T ms (the second append)?"
run log find-time --dir "$P" --timestamp "$T"

heading "6. Simulate a crash: a torn write at the end of the active segment"
SEG=$(ls "$P"/*.log | sort | tail -n 1)
before=$(stat -c %s "$SEG")
# A killed process never writes the clean-shutdown marker, and its last write
# may have reached the disk only in part: the start of a batch that never was.
rm -f "$P/.clean-shutdown"
printf '\000\000\000\000\000\000\000\024\000\000\001\000torn-write: the rest never hit the disk' >>"$SEG"
echo "appended $(($(stat -c %s "$SEG") - before)) bytes to $(basename "$SEG"): $before -> $(stat -c %s "$SEG") bytes," \
  "and removed the clean-shutdown marker"

heading "7. Reopen: recovery checks every batch of the active segment and truncates the torn tail"
run log info --dir "$P"
echo "$(basename "$SEG") is $(stat -c %s "$SEG") bytes again"

heading "8. Every acknowledged record is still there (last batch shown)"
show log dump --dir "$P" --records --from 19
"$SLUICE" log dump --dir "$P" --records --from 19

heading "9. The same data through the Kafka protocol: sluice broker, produced and consumed with kcat"
if command -v kcat >/dev/null; then
  BLOG="$DATA/broker.log"
  "$SLUICE" broker --data "$DATA/broker" --listen 127.0.0.1:0 2>"$BLOG" &
  BPID=$!
  PORT=""
  for _ in $(seq 1 100); do
    PORT=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$BLOG")
    [ -n "$PORT" ] && break
    sleep 0.05
  done
  echo "\$ sluice broker --data \$DATA/broker --listen 127.0.0.1:0   # listening on port $PORT"
  echo "\$ kcat -P -t clicks -K ' ' -X acks=all -z zstd < examples/sample-lines.txt"
  kcat -b "127.0.0.1:$PORT" -P -t clicks -K ' ' -X acks=all -z zstd <"$ROOT/examples/sample-lines.txt"
  echo "\$ kcat -C -t clicks -e -f 'offset %o  key %k  value %s\\n' | head -5"
  kcat -b "127.0.0.1:$PORT" -C -t clicks -e -q -f 'offset %o  key %k  value %s\n' | head -5
  echo "\$ kill -TERM <broker>   # clean stop: logs synced and closed"
  kill -TERM "$BPID"
  wait "$BPID" || true
else
  echo "(kcat is not installed: scripts/install-deps.sh installs it)"
fi

heading "10. A job: sluice run examples/wordcount.sl, fed and read with kcat"
if command -v kcat >/dev/null; then
  JLOG="$DATA/run.log"
  "$SLUICE" run "$ROOT/examples/wordcount.sl" --data "$DATA/job" --listen 127.0.0.1:0 2>"$JLOG" &
  JPID=$!
  PORT=""
  for _ in $(seq 1 100); do
    PORT=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\).*/\1/p' "$JLOG")
    [ -n "$PORT" ] && grep -q "running" "$JLOG" && break
    sleep 0.05
  done
  echo "\$ sluice run examples/wordcount.sl --data \$DATA/job --listen 127.0.0.1:0   # port $PORT"
  sed -n 's/^[^ ]* [A-Z]* *//p' "$JLOG" | grep -E "^(run|broker): created" | sed 's/^/  log: /'
  echo "\$ cut -d' ' -f2- examples/sample-lines.txt | kcat -P -t text-lines -X acks=all"
  cut -d' ' -f2- "$ROOT/examples/sample-lines.txt" | kcat -b "127.0.0.1:$PORT" -P -t text-lines -X acks=all
  echo "\$ kcat -C -t word-counts -e   # the latest count per word (exactly-once, committed every 100 ms)"
  for _ in $(seq 1 60); do
    OUT=$(kcat -b "127.0.0.1:$PORT" -C -t word-counts -e -q -f '%k %s\n' 2>/dev/null)
    echo "$OUT" | grep -q '"word":"login"' && break
    sleep 0.1
  done
  echo "$OUT" | awk '{ last[$1] = $0 } END { for (k in last) print last[k] }' |
    sed 's/.*"count":\([0-9]*\).*/\1 &/' | sort -k1,1nr -k2 | cut -d' ' -f2- | head -8
  echo "  ... (the most frequent words first)"
  kill -TERM "$JPID"
  wait "$JPID" || true
fi

printf '\nDemo done; removing %s\n' "$DATA"
