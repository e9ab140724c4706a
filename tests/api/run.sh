#!/usr/bin/env bash
# Runs the API test suite against one sifa binary: tests/api/run.sh [path/to/sifa [test files…]]
# (default ./sifa and every test).
# Paths are relative to the repository root. Exits with pytest's status.
set -u
cd "$(dirname "$0")/../.."
export PYTHONDONTWRITEBYTECODE=1
export SIFA_BIN="${1:-./sifa}"
shift || true
if [ ! -x "$SIFA_BIN" ]; then
  echo "run.sh: $SIFA_BIN is not an executable (build it with make)" >&2
  exit 2
fi
if [ $# -eq 0 ]; then set -- tests/api; fi
exec /usr/bin/python3 -m pytest -q -p no:cacheprovider "$@"
