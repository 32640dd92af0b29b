#!/usr/bin/env bash
# Installs the Debian packages a make target needs, when missing.
#   scripts/install-deps.sh          build and tests (make, make test, make demo),
#                                    plus the kafkajs test's node_modules (npm ci)
#   scripts/install-deps.sh bench    + what only `make bench` needs: Redis (the
#                                    broker benchmark's baseline) and hiredis;
#                                    gnuplot-nox (make bench-report's plot)
#   scripts/install-deps.sh fuzz     + clang and its fuzzer/sanitizer runtimes
# Idempotent and quiet when everything is present; needs root (or sudo) otherwise.
set -euo pipefail
PROFILE="${1:-test}"
PKGS=(build-essential cmake pkg-config
      liblmdb-dev libuv1-dev libmsgpack-dev libzstd-dev libcmocka-dev
      zlib1g-dev liblz4-dev libsnappy-dev
      librdkafka-dev kcat python3-confluent-kafka libjansson-dev
      libh2o-dev libcurl4-openssl-dev chromium)
case "$PROFILE" in
  test) ;;
  bench) PKGS+=(redis-server redis-tools libhiredis-dev gnuplot-nox) ;;
  fuzz) PKGS+=(clang libclang-rt-dev) ;;
  *) echo "usage: $0 [test|bench|fuzz]" >&2; exit 2 ;;
esac
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node and npm by command: a node from elsewhere (e.g. one that bundles npm and
# conflicts with Debian's npm package) is fine as it is.
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -ne 0 ]; then
  echo "install-deps: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  if ! $SUDO apt-get install -y --no-install-recommends "${missing[@]}" >&2; then
    $SUDO apt-get update >&2
    $SUDO apt-get install -y --no-install-recommends "${missing[@]}" >&2
  fi
  # Installing redis-server starts a system redis on 6379; the benchmark runs
  # its own on a free port and does not need that one.
fi
JS="$(cd "$(dirname "$0")/.." && pwd)/tests/integration/js"
if [ ! -f "$JS/node_modules/kafkajs/package.json" ]; then
  echo "install-deps: npm ci in tests/integration/js" >&2
  (cd "$JS" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi
