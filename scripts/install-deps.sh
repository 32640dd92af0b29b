#!/usr/bin/env bash
# Installs the Debian packages Sluice's build and tests need, when missing,
# and the kafkajs test's node_modules (npm ci from its package-lock.json).
# Idempotent and quiet when everything is present; needs root (or sudo) otherwise.
set -euo pipefail
PKGS=(build-essential cmake pkg-config
      liblmdb-dev libuv1-dev libmsgpack-dev libzstd-dev libcmocka-dev
      zlib1g-dev liblz4-dev libsnappy-dev
      librdkafka-dev kcat python3-confluent-kafka)
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
fi
JS="$(cd "$(dirname "$0")/.." && pwd)/tests/integration/js"
if [ ! -f "$JS/node_modules/kafkajs/package.json" ]; then
  echo "install-deps: npm ci in tests/integration/js" >&2
  (cd "$JS" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi
