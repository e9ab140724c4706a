#!/usr/bin/env bash
# Installs the Debian packages sifa needs to build, run and test. Called by `make deps`
# (and so by `make run` and `make test`). Chromium drives the browser tests (tests/e2e). A no-op when every package is already present;
# otherwise it runs apt-get update once, then installs only what is missing.
set -euo pipefail

PACKAGES=(
  build-essential pkg-config clang libclang-rt-dev llvm
  libh2o-evloop-dev libssl-dev libuv1-dev zlib1g-dev
  libjansson-dev libyaml-dev libsqlite3-dev sqlite3 libsodium-dev
  libcmocka-dev libxlsxwriter-dev libzip-dev libcairo2-dev libpango1.0-dev fonts-noto-cjk poppler-utils
  python3 python3-pytest python3-requests
  nginx-light wrk valgrind bc
  openssl curl chromium
)
# The front end builds with Node.js and npm (Debian 12's own 18 and 9, or newer ones already on the
# machine: a nodejs that bundles npm, as NodeSource's does, conflicts with Debian's npm package).
command -v node >/dev/null 2>&1 || PACKAGES+=(nodejs)
command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "setup-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
