#!/usr/bin/env bash
# Installs what only `make bench` needs: librdkafka (the client of the broker
# load benchmark), Redis (its baseline: redis-server, redis-benchmark) and
# hiredis (the XREAD loop).  Idempotent; needs root or sudo when something is
# missing.
set -euo pipefail
PKGS=(librdkafka-dev redis-server redis-tools libhiredis-dev)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "install-bench-deps: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y --no-install-recommends "${missing[@]}" >&2; then
  $SUDO apt-get update >&2
  $SUDO apt-get install -y --no-install-recommends "${missing[@]}" >&2
fi
# Debian starts a system redis-server on 6379 when installing; the benchmark
# runs its own on a free port and does not need that one.
