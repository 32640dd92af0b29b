#!/usr/bin/env bash
# Installs the Debian packages Sluice's build and tests need, when missing.
# Idempotent and quiet when everything is present; needs root (or sudo) otherwise.
set -euo pipefail
PKGS=(build-essential cmake pkg-config
      liblmdb-dev libuv1-dev libmsgpack-dev libzstd-dev libcmocka-dev
      zlib1g-dev liblz4-dev libsnappy-dev)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get install -y --no-install-recommends "${missing[@]}" >&2; then
  $SUDO apt-get update >&2
  $SUDO apt-get install -y --no-install-recommends "${missing[@]}" >&2
fi
