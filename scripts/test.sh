#!/usr/bin/env bash
# Runs every test suite against one build directory and ends with the plain
# line "N passed, N failed". Usage: scripts/test.sh BUILD_DIR
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/asan}
export BRISK_BIN="$PWD/$build/brisk"
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$PWD/tests/lsan.supp:print_suppressions=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p tests/artifacts
passed=0 failed=0
declare -a failures=()

# PostgreSQL (on unless BRISK_TEST_PG=0): one throwaway cluster
# (tests/pg/cluster.sh) for the PostgreSQL unit tests (test_pgstore) and
# the second end-to-end pass below. It needs Debian's postgresql package
# (scripts/deps.sh test installs it); a cluster that cannot start counts
# as a failure, not a skip.
pg=${BRISK_TEST_PG:-1}
pg_url=""
if [ "$pg" != 0 ]; then
  if pgenv=$(tests/pg/cluster.sh start); then
    eval "$pgenv"
    pg_url=$BRISK_TEST_DATABASE_URL
    unset BRISK_TEST_DATABASE_URL # the SQLite pass must not see it
    marks=$(mktemp -d)
    trap 'tests/pg/cluster.sh stop "$BRISK_PG_DIR"; rm -rf "$marks"' EXIT
    export BRISK_TEST_PG_URL=$pg_url
  else
    failures+=("postgresql (cannot start a test cluster)")
    failed=$((failed + 1))
  fi
fi

echo "== unit tests ($build)"
for t in "$build"/tests/unit/test_*; do
  [ -f "$t" ] && [ -x "$t" ] || continue
  name=$(basename "$t")
  out=$("$t" --jobs 2 2>&1)
  rc=$?
  # Criterion: "[====] Synthesis: Tested: 12 | Passing: 12 | Failing: 0 | Crashing: 0"
  line=$(printf '%s\n' "$out" | grep -E 'Synthesis: Tested' | tail -n 1)
  p=$(printf '%s' "$line" | sed -nE 's/.*Passing: ([0-9]+).*/\1/p')
  f=$(printf '%s' "$line" | sed -nE 's/.*Failing: ([0-9]+).*/\1/p')
  c=$(printf '%s' "$line" | sed -nE 's/.*Crashing: ([0-9]+).*/\1/p')
  p=${p:-0}; f=${f:-0}; c=${c:-0}
  if { [ -z "$line" ] || [ $rc -ne 0 ]; } && [ $((f + c)) -eq 0 ]; then f=1; fi
  passed=$((passed + p)); failed=$((failed + f + c))
  if [ $((f + c)) -gt 0 ]; then
    failures+=("$name")
    printf '%s\n' "$out" | grep -vE '^\[----\] +$' | tail -n 40
  fi
  printf '  %-22s %4d passed, %d failed\n' "$name" "$p" $((f + c))
done

run_node_suite() { # title, glob
  local title=$1; shift
  local files=("$@")
  [ -e "${files[0]}" ] || return 0
  echo "== $title"
  local out rc p f t0=$SECONDS
  out=$(node --test --test-reporter=tap --test-concurrency=1 "${files[@]}" 2>&1)
  rc=$?
  p=$(printf '%s\n' "$out" | sed -nE 's/^# pass ([0-9]+)$/\1/p' | tail -n 1)
  f=$(printf '%s\n' "$out" | sed -nE 's/^# fail ([0-9]+)$/\1/p' | tail -n 1)
  p=${p:-0}; f=${f:-0}
  if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
  if [ "$f" -gt 0 ]; then
    failures+=("$title")
    # each failing test's own block (from its "not ok" line to the "..."
    # that closes its details), not the passing subtests around it
    printf '%s\n' "$out" | awk '/^ *not ok /{p=1} p{print} p && /^ *\.\.\.$/{p=0}' | head -n 200
  fi
  printf '%s\n' "$out" | grep -E '^(ok|not ok) ' | sed 's/^/  /'
  echo "  ($title: $((SECONDS - t0)) s)"
  passed=$((passed + p)); failed=$((failed + f))
}

# The fuzz drivers, 10 s each, when a fuzz build is given (make test does).
if [ -n "${FUZZ_BUILD:-}" ]; then
  echo "== fuzz ($FUZZ_BUILD, ${FUZZ_SECONDS:-10} s each)"
  out=$(fuzz/run.sh "$FUZZ_BUILD" "${FUZZ_SECONDS:-10}")
  nf=$?
  printf '%s\n' "$out"
  np=$(printf '%s\n' "$out" | grep -cE '^  fuzz_[a-z_]+ +ok ')
  passed=$((passed + np)); failed=$((failed + nf))
  [ $nf -gt 0 ] && failures+=("fuzz")
else
  echo "== fuzz: skipped (FUZZ_BUILD not set; make test sets it, or: make fuzz)"
fi

run_node_suite "end-to-end tests" tests/e2e/*.test.mjs
run_node_suite "browser tests" tests/browser/*.test.mjs

# The end-to-end suite again on PostgreSQL: a throwaway cluster, one
# database per data dir (tests/pg/brisk-pg.sh). On by default;
# BRISK_TEST_PG=0 skips it (a quicker local run). The
# browser tests run in the SQLite pass only: they drive the web UI, whose
# data comes through the same API the end-to-end files check on both.
if [ "$pg" != 0 ]; then
  if [ -n "$pg_url" ]; then
    export BRISK_TEST_DATABASE_URL=$pg_url
    export BRISK_REAL_BIN=$BRISK_BIN BRISK_BIN="$PWD/tests/pg/brisk-pg.sh" BRISK_PG_MARKERS=$marks
    run_node_suite "end-to-end tests on PostgreSQL" tests/e2e/*.test.mjs
    echo "  (browser tests: in the SQLite pass only; they test the UI, whose data comes through the API both passes check)"
    export BRISK_BIN=$BRISK_REAL_BIN
  fi
else
  echo "== end-to-end tests on PostgreSQL: skipped (BRISK_TEST_PG=0; CI runs them)"
fi

if [ ${#failures[@]} -gt 0 ]; then
  echo "failed suites: ${failures[*]}"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
