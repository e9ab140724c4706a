#!/usr/bin/env bash
# Builds the front end (web/) into web/dist, which `sifa serve` serves: installs the npm packages
# pinned by web/package-lock.json when they are missing or older than the lock file, runs Vite,
# and writes a .gz beside every text asset (sifa sends it to clients that accept gzip).
set -euo pipefail
cd "$(dirname "$0")/../web"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
node node_modules/vite/bin/vite.js build --logLevel warn
find dist -type f \( -name '*.js' -o -name '*.css' -o -name '*.html' -o -name '*.svg' -o -name '*.json' \) \
  -size +1k -exec gzip -9 -k -f {} +
