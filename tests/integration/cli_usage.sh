#!/usr/bin/env bash
# CLI contract test: drives the sluice binary ($1) as a user would and checks
# exit codes (0 ok, 1 runtime error, 2 usage error), where output goes, and an
# append -> dump -> find-time -> info round trip on a real partition folder.
set -euo pipefail

SLUICE=${1:?usage: cli_usage.sh PATH_TO_SLUICE}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sluice-cli.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

# expect_exit CODE DESCRIPTION -- COMMAND...: run with stdout and stderr in
# $TMP/out and $TMP/err and check the exit code.  Always returns 0 so that one
# failure does not stop the others being reported (set -e).
expect_exit() {
  local want=$1 desc=$2; shift 3
  local got=0
  "$@" >"$TMP/out" 2>"$TMP/err" </dev/null || got=$?
  [ "$got" -eq "$want" ] || fail "$desc: exit $got, expected $want (stderr: $(head -c 300 "$TMP/err"))"
}
expect_in() { # FILE PATTERN DESCRIPTION
  grep -q -- "$2" "$1" || fail "$3: '$2' not found in $(basename "$1"): $(head -c 300 "$1")"
}

# ---- usage and exit codes ----------------------------------------------------
expect_exit 0 "--help" -- "$SLUICE" --help; expect_in "$TMP/out" "Usage: sluice" "--help prints usage on stdout"
expect_exit 0 "help" -- "$SLUICE" help; expect_in "$TMP/out" "Commands:" "help lists commands"
expect_exit 0 "help log" -- "$SLUICE" help log; expect_in "$TMP/out" "find-time" "help log lists subcommands"
expect_exit 0 "version" -- "$SLUICE" version
grep -Eq '^sluice [0-9]+\.[0-9]+\.[0-9]+$' "$TMP/out" || fail "version prints 'sluice X.Y.Z', got: $(cat "$TMP/out")"
expect_exit 0 "--log-level debug version" -- "$SLUICE" --log-level debug version
expect_exit 2 "no command" -- "$SLUICE"
expect_exit 2 "unknown command" -- "$SLUICE" frobnicate; expect_in "$TMP/err" "unknown command" "unknown command message"
[ ! -s "$TMP/out" ] || fail "unknown command wrote to stdout"
expect_exit 2 "bad global flag" -- "$SLUICE" --no-such-flag version
expect_exit 2 "bad --log-level" -- "$SLUICE" --log-level loud version
expect_exit 2 "bad log flag" -- "$SLUICE" log dump --dir "$TMP" --no-such-flag; expect_in "$TMP/err" "no-such-flag" "bad flag is named"
expect_exit 2 "log without subcommand" -- "$SLUICE" log
expect_exit 2 "unknown log subcommand" -- "$SLUICE" log shred
for sub in append dump find-time info; do
  expect_exit 0 "log $sub --help" -- "$SLUICE" log "$sub" --help; expect_in "$TMP/out" "--dir" "log $sub --help shows --dir"
done
expect_exit 2 "log dump without --dir" -- "$SLUICE" log dump; expect_in "$TMP/err" "--dir is required" "missing --dir message"
expect_exit 2 "log append without --dir" -- "$SLUICE" log append
expect_exit 2 "log info without --dir" -- "$SLUICE" log info
expect_exit 2 "find-time without --timestamp" -- "$SLUICE" log find-time --dir "$TMP"
expect_exit 2 "find-time with a bad timestamp" -- "$SLUICE" log find-time --dir "$TMP" --timestamp soon
expect_exit 2 "append with unknown compression" -- "$SLUICE" log append --dir "$TMP/x" --compression brotli
expect_exit 2 "append with --batch 0" -- "$SLUICE" log append --dir "$TMP/x" --batch 0
expect_exit 2 "append with a bad --config" -- "$SLUICE" log append --dir "$TMP/x" --config retention.ms=abc
[ ! -e "$TMP/x" ] || fail "a usage error created the log folder"
expect_exit 1 "dump of a missing dir" -- "$SLUICE" log dump --dir "$TMP/missing"
expect_in "$TMP/err" "missing" "missing-dir message names the folder"
[ ! -e "$TMP/missing" ] || fail "dump of a missing dir created it"
mkdir "$TMP/empty"
expect_exit 1 "dump of a folder without segments" -- "$SLUICE" log dump --dir "$TMP/empty"
expect_in "$TMP/err" "no log segments" "empty-folder message"
[ -z "$(ls -A "$TMP/empty")" ] || fail "dump of an empty folder wrote files into it"

# ---- append -> dump -> find-time -> info round trip --------------------------
P="$TMP/topic-0"
before=$(($(date +%s) * 1000 - 1000))
printf 'user1:hello world\nuser2:second line\nno key here\nuser1:caf\xc3\xa9 \x01\n' >"$TMP/in1"
got=0
"$SLUICE" log append --dir "$P" --key-sep : --compression zstd --batch 2 <"$TMP/in1" >"$TMP/out" 2>"$TMP/err" || got=$?
[ "$got" -eq 0 ] || fail "append #1 exit $got: $(cat "$TMP/err")"
expect_in "$TMP/err" "appended 4 records, offsets 0..3" "append #1 summary"
[ ! -s "$TMP/out" ] || fail "append wrote to stdout"
after=$(($(date +%s) * 1000 + 1000))
sleep 0.01
seq 1 5 | "$SLUICE" log append --dir "$P" >"$TMP/out" 2>"$TMP/err" || fail "append #2 failed: $(cat "$TMP/err")"
expect_in "$TMP/err" "appended 5 records, offsets 4..8" "append #2 continues the offsets"

expect_exit 0 "dump" -- "$SLUICE" log dump --dir "$P"
[ "$(grep -c '^baseOffset:' "$TMP/out")" -eq 3 ] || fail "dump: expected 3 batches: $(cat "$TMP/out")"
expect_in "$TMP/out" "baseOffset: 0 lastOffset: 1 count: 2 compression: zstd" "dump batch 0"
expect_in "$TMP/out" "baseOffset: 2 lastOffset: 3 count: 2 compression: zstd" "dump batch 2"
expect_in "$TMP/out" "baseOffset: 4 lastOffset: 8 count: 5 compression: none" "dump batch 4"
! grep -q 'crcValid: false' "$TMP/out" || fail "dump reports a bad CRC"

expect_exit 0 "dump --records" -- "$SLUICE" log dump --dir "$P" --records
expect_in "$TMP/out" '| offset: 0 timestamp: [0-9]* key: "user1" value: "hello world"' "record 0"
expect_in "$TMP/out" '| offset: 1 timestamp: [0-9]* key: "user2" value: "second line"' "record 1"
expect_in "$TMP/out" '| offset: 2 timestamp: [0-9]* key: null value: "no key here"' "record 2 (null key)"
expect_in "$TMP/out" '| offset: 3 timestamp: [0-9]* key: "user1" value: "café \\x01"' "record 3 (UTF-8 kept, control byte escaped)"
expect_in "$TMP/out" '| offset: 8 timestamp: [0-9]* key: null value: "5"' "record 8"
[ "$(grep -c '^| offset:' "$TMP/out")" -eq 9 ] || fail "dump --records: expected 9 records"
ts0=$(sed -n 's/^| offset: 0 timestamp: \([0-9]*\) .*/\1/p' "$TMP/out")
ts4=$(sed -n 's/^| offset: 4 timestamp: \([0-9]*\) .*/\1/p' "$TMP/out")
{ [ "$ts0" -ge "$before" ] && [ "$ts0" -le "$after" ]; } || fail "record 0 timestamp $ts0 not within [$before, $after]"

expect_exit 0 "dump --from 4" -- "$SLUICE" log dump --dir "$P" --from 4
[ "$(grep -c '^baseOffset:' "$TMP/out")" -eq 1 ] || fail "dump --from 4: expected one batch: $(cat "$TMP/out")"
expect_exit 0 "dump --max-bytes 1" -- "$SLUICE" log dump --dir "$P" --max-bytes 1
[ "$(grep -c '^baseOffset:' "$TMP/out")" -eq 1 ] || fail "dump --max-bytes 1: expected exactly one batch"
expect_exit 1 "dump --from beyond the end" -- "$SLUICE" log dump --dir "$P" --from 100
expect_in "$TMP/err" "outside the log" "out-of-range message"

expect_exit 0 "find-time 0" -- "$SLUICE" log find-time --dir "$P" --timestamp 0
[ "$(cat "$TMP/out")" = "0" ] || fail "find-time 0: expected 0, got $(cat "$TMP/out")"
expect_exit 0 "find-time of record 4" -- "$SLUICE" log find-time --dir "$P" --timestamp "$ts4"
found=$(cat "$TMP/out")
{ [ "$found" -ge 0 ] && [ "$found" -le 4 ]; } || fail "find-time $ts4: expected an offset <= 4, got $found"
expect_exit 0 "find-time in the future" -- "$SLUICE" log find-time --dir "$P" --timestamp $((after + 3600000))
[ "$(cat "$TMP/out")" = "-1" ] || fail "find-time in the future: expected -1, got $(cat "$TMP/out")"

expect_exit 0 "info" -- "$SLUICE" log info --dir "$P"
expect_in "$TMP/out" "^start offset: *0$" "info start offset"
expect_in "$TMP/out" "^end offset: *9$" "info end offset"
expect_in "$TMP/out" "^segments: *1$" "info segments"
size=$(sed -n 's/^size bytes: *//p' "$TMP/out")
log_size=$(stat -c %s "$P"/00000000000000000000.log 2>/dev/null || echo "(no segment file)")
[ "$size" = "$log_size" ] || fail "info size $size differs from the segment file size $log_size"

# sluice broker: flags are checked before anything is opened or bound.
expect_exit 0 "broker --help" -- "$SLUICE" broker --help; expect_in "$TMP/out" "--listen HOST:PORT" "broker help lists --listen"
expect_exit 0 "help broker" -- "$SLUICE" help broker; expect_in "$TMP/out" "--data DIR" "help broker"
expect_exit 2 "broker bad flag" -- "$SLUICE" broker --no-such-flag; expect_in "$TMP/err" "no-such-flag" "broker bad flag named"
expect_exit 2 "broker bad --listen" -- "$SLUICE" broker --data "$TMP/b" --listen nowhere
expect_in "$TMP/err" "HOST:PORT" "bad --listen message"
expect_exit 2 "broker bad --listen port" -- "$SLUICE" broker --data "$TMP/b" --listen 127.0.0.1:99999
expect_exit 2 "broker unknown --set" -- "$SLUICE" broker --data "$TMP/b" --set no.such.setting=1
expect_in "$TMP/err" "unknown broker setting 'no.such.setting'" "unknown setting named"
expect_exit 2 "broker bad --set value" -- "$SLUICE" broker --data "$TMP/b" --set num.partitions=lots
expect_exit 2 "broker --set without =" -- "$SLUICE" broker --data "$TMP/b" --set num.partitions
printf 'num.partitions=3\nbogus line\n' > "$TMP/bad.properties"
expect_exit 2 "broker bad --config" -- "$SLUICE" broker --data "$TMP/b" --config "$TMP/bad.properties"
expect_in "$TMP/err" "bad.properties:2" "config error names file:line"
expect_exit 2 "broker missing --config" -- "$SLUICE" broker --data "$TMP/b" --config "$TMP/none.properties"
: > "$TMP/afile"
expect_exit 1 "broker data dir is a file" -- "$SLUICE" broker --data "$TMP/afile" --listen 127.0.0.1:0
expect_exit 2 "broker stray argument" -- "$SLUICE" broker extra

# sluice explain / check: DSL job files.
EX="$(cd "$(dirname "$0")/../.." && pwd)/examples"
expect_exit 0 "explain wordcount" -- "$SLUICE" explain "$EX/wordcount.sl"
expect_in "$TMP/out" "Sub-topology 1" "explain shows the repartitioned sub-topology"
expect_in "$TMP/out" "store word_counts" "explain names the store"
expect_exit 0 "explain pageviews" -- "$SLUICE" explain "$EX/pageviews.sl"
expect_in "$TMP/out" "join" "explain shows the join"
expect_exit 0 "check pageviews" -- "$SLUICE" check "$EX/pageviews.sl"; expect_in "$TMP/out" ": ok$" "check says ok"
printf 'stream s from topic "t" format json;\ntable x = s | count;\n' > "$TMP/bad.sl"
expect_exit 2 "explain a bad job" -- "$SLUICE" explain "$TMP/bad.sl"
expect_in "$TMP/err" "bad.sl:2:15: error: " "job error as file:line:col"
expect_in "$TMP/err" "^ *\\^$" "job error has a caret line"
expect_exit 2 "check a bad job" -- "$SLUICE" check "$TMP/bad.sl"
expect_exit 1 "explain a missing file" -- "$SLUICE" explain "$TMP/none.sl"
expect_exit 2 "explain without a file" -- "$SLUICE" explain
expect_exit 2 "explain with a flag" -- "$SLUICE" explain --verbose
expect_exit 0 "explain --help" -- "$SLUICE" explain --help
expect_exit 0 "run --help" -- "$SLUICE" run --help; expect_in "$TMP/out" "--threads N" "run help lists --threads"
expect_exit 2 "run without a job" -- "$SLUICE" run
expect_exit 2 "run bad --threads" -- "$SLUICE" run "$EX/wordcount.sl" --threads many
expect_exit 2 "run bad flag" -- "$SLUICE" run "$EX/wordcount.sl" --frobnicate
expect_exit 2 "run a bad job" -- "$SLUICE" run "$TMP/bad.sl" --data "$TMP/rd"

# topics / produce / consume / server: help and usage errors (no broker needed;
# tests/integration/test_ops_cli.py runs them against one).
for cmd in topics produce consume server; do
  expect_exit 0 "$cmd --help" -- "$SLUICE" $cmd --help; expect_in "$TMP/out" "Usage: sluice $cmd" "$cmd --help"
  expect_exit 0 "help $cmd" -- "$SLUICE" help $cmd; expect_in "$TMP/out" "Usage: sluice $cmd" "help $cmd"
  expect_exit 2 "$cmd bad flag" -- "$SLUICE" $cmd --frobnicate; expect_in "$TMP/err" "frobnicate" "$cmd names the bad flag"
done
expect_exit 2 "topics unknown subcommand" -- "$SLUICE" topics shred
expect_exit 2 "topics create without a name" -- "$SLUICE" topics create
expect_exit 2 "topics create 0 partitions" -- "$SLUICE" topics create t --partitions 0
expect_exit 2 "topics create bad --config" -- "$SLUICE" topics create t --config nokey
expect_exit 2 "topics describe --partitions" -- "$SLUICE" topics describe t --partitions 2
expect_exit 2 "produce without a topic" -- "$SLUICE" produce
expect_exit 2 "consume without a topic" -- "$SLUICE" consume
expect_exit 2 "consume bad --max" -- "$SLUICE" consume t --max -3
expect_exit 2 "server with an argument" -- "$SLUICE" server extra
expect_exit 2 "server bad --http" -- "$SLUICE" server --http nowhere
expect_exit 2 "run bad --status-interval" -- "$SLUICE" run "$EX/wordcount.sl" --status-interval soon
expect_exit 1 "server without its jobs folder" -- "$SLUICE" server --data "$TMP/sd" --jobs "$TMP/no-such-folder"

if [ "$failures" -ne 0 ]; then
  echo "cli_usage: $failures check(s) failed" >&2
  exit 1
fi
echo "cli_usage: all checks passed"
