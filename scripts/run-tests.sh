#!/usr/bin/env bash
# Runs every test suite and ends with one line "N passed, N failed" summing them all:
#   unit tests (cmocka), release build and ASan+UBSan build;
#   fuzz corpora replayed once through each libFuzzer target (ASan+UBSan);
#   API tests (pytest, the real server) against the release and the ASan+UBSan binaries;
#   the demo county's report figures; browser tests (tests/e2e) against the release binary.
# Exits non-zero when anything failed. Called by `make test` after everything is built.
set -u
cd "$(dirname "$0")/.."

total_pass=0
total_fail=0
log_dir=build/test-logs
mkdir -p "$log_dir"

record() { # suite passed failed
  printf '%-34s %4d passed, %d failed\n' "$1" "$2" "$3"
  total_pass=$((total_pass + $2))
  total_fail=$((total_fail + $3))
}

export ASAN_OPTIONS="abort_on_error=0:detect_leaks=1:halt_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

run_unit() { # dir label
  local dir=$1 label=$2 pass=0 fail=0
  for t in "$dir"/tests/test_*; do
    [ -x "$t" ] || continue
    local name log
    name=$(basename "$t")
    log="$log_dir/$label-$name.log"
    # cairo 1.16 and fontconfig leak inside themselves (tests/unit/lsan.supp says where); harmless
    # for the release binaries
    LSAN_OPTIONS="suppressions=$PWD/tests/unit/lsan.supp:print_suppressions=0" "$t" >"$log" 2>&1
    local rc=$?
    local p f
    p=$(grep -Eo '\[  PASSED  \] [0-9]+' "$log" | grep -Eo '[0-9]+$' | tail -1)
    f=$(grep -Eo '\[  FAILED  \] [0-9]+' "$log" | grep -Eo '[0-9]+$' | tail -1)
    p=${p:-0}; f=${f:-0}
    if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi # crashed or sanitizer report
    if [ "$f" -ne 0 ]; then
      echo "--- $label $name failed (log: $log)"; tail -30 "$log"
    fi
    pass=$((pass + p)); fail=$((fail + f))
  done
  record "unit ($label)" $pass $fail
}

# Valgrind over the release unit binaries: memory errors and leaks (no sanitizer runtime there).
run_valgrind() {
  local pass=0 fail=0
  for t in build/rel/tests/test_*; do
    [ -x "$t" ] || continue
    local name
    name=$(basename "$t")
    if valgrind -q --leak-check=full --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
        --suppressions=tests/unit/valgrind.supp "$t" >"$log_dir/valgrind-$name.log" 2>&1; then
      pass=$((pass + 1))
    else
      fail=$((fail + 1)); echo "--- valgrind $name failed (log: $log_dir/valgrind-$name.log)"; tail -30 "$log_dir/valgrind-$name.log"
    fi
  done
  record "valgrind (unit binaries)" $pass $fail
}

run_fuzz_replay() {
  local pass=0 fail=0
  for f in build/fuzz/fuzz_*; do
    [ -x "$f" ] || continue
    local name corpus
    name=$(basename "$f")
    corpus=tests/fuzz/corpus/$name
    if [ -d "$corpus" ] && "$f" "$corpus"/* >"$log_dir/replay-$name.log" 2>&1; then
      pass=$((pass + 1))
    else
      fail=$((fail + 1)); echo "--- fuzz replay $name failed"; tail -30 "$log_dir/replay-$name.log"
    fi
  done
  record "fuzz corpus replay" $pass $fail
}

run_api() { # binary label [test files…]
  local bin=$1 label=$2 log="$log_dir/api-$2.log"
  shift 2
  tests/api/run.sh "$bin" "$@" >"$log" 2>&1
  local rc=$?
  local summary p f e
  summary=$(grep -E '^(=+ )?[0-9]+ (passed|failed|error)' "$log" | tail -1)
  p=$(echo "$summary" | grep -Eo '[0-9]+ passed' | grep -Eo '[0-9]+'); p=${p:-0}
  f=$(echo "$summary" | grep -Eo '[0-9]+ failed' | grep -Eo '[0-9]+'); f=${f:-0}
  e=$(echo "$summary" | grep -Eo '[0-9]+ errors?' | grep -Eo '[0-9]+'); e=${e:-0}
  f=$((f + e))
  if [ $rc -ne 0 ] && [ $f -eq 0 ]; then f=1; fi
  if [ $f -ne 0 ]; then echo "--- api ($label) failures (log: $log)"; grep -E '^(FAILED|ERROR)' "$log" | head -40; tail -60 "$log"; fi
  record "api ($label)" "$p" "$f"
}

# The demo county reproduces the report: every figure of ../shared/spec/cixi-2021-figures.tsv from
# the records scripts/demo_county.py imports, and `sifa stats verify` finds the aggregates equal
# to a recount. One result per spec figure, plus one for the verification.
run_demo_county() {
  local dir log="$log_dir/demo-county.log"
  dir=$(mktemp -d)
  local flags=(--modules_dir modules --indicators_dir indicators --holidays_dir data/holidays --roles_file roles/roles.yaml)
  {
    SIFA_ADMIN_PASSWORD="Demo-County-Pass-2026" /usr/bin/python3 scripts/demo_county.py --sifa ./sifa \
      --db "$dir/demo.db" --key_file "$dir/demo.key" -- "${flags[@]}" &&
      /usr/bin/python3 scripts/check_spec.py --sifa ./sifa --db "$dir/demo.db" --key_file "$dir/demo.key" -- "${flags[@]}"
    echo "check_spec exit $?"
    ./sifa stats verify --db "$dir/demo.db" --key_file "$dir/demo.key" "${flags[@]}" && echo "VERIFY OK"
  } >"$log" 2>&1
  local p f
  p=$(grep -c '^OK ' "$log"); f=$(grep -cE '^(MISMATCH|MISSING) ' "$log")
  if grep -q '^VERIFY OK' "$log"; then p=$((p + 1)); else f=$((f + 1)); fi
  if [ $((p + f)) -le 1 ]; then f=$((f + 1)); fi  # the county was not built at all
  if [ "$f" -ne 0 ]; then echo "--- demo county failures (log: $log)"; grep -vE '^OK ' "$log" | tail -40; fi
  record "demo county (report figures)" "$p" "$f"
  # the browser tests serve a copy of this county
  mkdir -p build/e2e && cp "$dir/demo.db" build/e2e/demo.db && cp "$dir/demo.key" build/e2e/demo.key
  rm -rf "$dir"
}

# Browser tests (tests/e2e, Chromium driven by playwright-core) against the release binary and
# web/dist, over a copy of the demo county the previous suite built.
run_e2e() {
  local log="$log_dir/e2e.log"
  tests/e2e/run.sh ./sifa build/e2e/demo.db build/e2e/demo.key >"$log" 2>&1
  local rc=$? p f
  p=$(grep -Eo '^# pass [0-9]+' "$log" | grep -Eo '[0-9]+$' | tail -1); p=${p:-0}
  f=$(grep -Eo '^# fail [0-9]+' "$log" | grep -Eo '[0-9]+$' | tail -1); f=${f:-0}
  if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  if [ "$f" -ne 0 ]; then echo "--- e2e failures (log: $log)"; grep -E '^not ok|# Subtest|error:|expected|actual' "$log" | head -40; tail -40 "$log"; fi
  record "browser (e2e)" "$p" "$f"
}

if scripts/check-layers.sh >"$log_dir/layers.log" 2>&1; then record "layers" 1 0; else cat "$log_dir/layers.log"; record "layers" 0 1; fi
run_unit build/rel release
run_unit build/asan asan
run_valgrind
run_fuzz_replay
run_api ./sifa release
run_demo_county
run_e2e
run_api build/asan/sifa asan
# Data races: the tests that load the server from many threads, against the TSan build.
TSAN_OPTIONS="halt_on_error=1 report_signal_unsafe=0" \
  run_api build/tsan/sifa tsan tests/api/test_concurrency.py tests/api/test_records_concurrency.py tests/api/test_shutdown.py

echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
