#!/usr/bin/env bash
# Browser tests: serves a copy of the demo county database (built by the demo-county suite, or by
# this script when DEMO_DB is not given) with web/dist on a free loopback port, then runs every
# tests/e2e/*.test.mjs with Node's test runner (TAP output, "# pass N" / "# fail N" at the end).
# usage: tests/e2e/run.sh SIFA_BINARY [DEMO_DB DEMO_KEY] [test files…]
set -u
cd "$(dirname "$0")/../.."
bin=$1; shift
work=$(mktemp -d)
server_pid=
cleanup() { [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
flags=(--modules_dir modules --indicators_dir indicators --holidays_dir data/holidays --roles_file roles/roles.yaml)
export SIFA_E2E_PASSWORD=${SIFA_E2E_PASSWORD:-Demo-County-Pass-2026}
if [ $# -ge 2 ] && [ -f "$1" ]; then
  cp "$1" "$work/demo.db"; cp "$2" "$work/demo.key"; shift 2
else
  SIFA_ADMIN_PASSWORD="$SIFA_E2E_PASSWORD" /usr/bin/python3 scripts/demo_county.py --sifa "$bin" \
    --db "$work/demo.db" --key_file "$work/demo.key" -- "${flags[@]}" >"$work/demo.log" 2>&1 || { cat "$work/demo.log"; exit 1; }
fi
[ -f web/dist/index.html ] || { echo "web/dist is missing: run make web"; exit 1; }
port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$bin" serve --db "$work/demo.db" --key_file "$work/demo.key" "${flags[@]}" --listen "127.0.0.1:$port" \
  --web_root web/dist --files_dir "$work/files" --backup_dir "$work/backups" --access_log "" >"$work/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
export SIFA_E2E_URL="http://127.0.0.1:$port"
files=("$@")
[ ${#files[@]} -eq 0 ] && files=(tests/e2e/*.test.mjs)
node --test --test-reporter=tap "${files[@]}"
rc=$?
if [ $rc -ne 0 ]; then echo "--- server log"; tail -40 "$work/server.log"; fi
exit $rc
