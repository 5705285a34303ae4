#!/usr/bin/env bash
# Runs the concurrency tests under ThreadSanitizer against a TSan build
# (make tsan sets one up in build/tsan): a stress program over the LRU
# cache, metrics, the event hub and the admission pool from many threads,
# then end-to-end tests against the TSan server binary: cache (event loops,
# workers, single-flight, L2/L3), tasks (the task pool, the Redis queue),
# limits (admission under concurrent misses, rate limiter state), alerts
# (notify evaluation, outbox delivery, the schedule tick) and import (the
# import writer thread). Every TSan report goes to a file under $out; any report
# not suppressed by tests/tsan.supp fails the run. Ends "N passed, N failed".
# Usage: scripts/tsan.sh [BUILD_DIR] [e2e files...]   (BRISK_TSAN_PG=1: on PostgreSQL)
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build/tsan}
shift || true
e2e=("$@")
[ ${#e2e[@]} -eq 0 ] && e2e=(tests/e2e/cache.test.mjs tests/e2e/tasks.test.mjs tests/e2e/limits.test.mjs
  tests/e2e/alerts.test.mjs tests/e2e/import.test.mjs)
out=$(mktemp -d /tmp/brisk-tsan-XXXXXX)
# exitcode=0: a report must not change how a test ends (the server would die
# under the e2e test and hide which race it was); the reports are counted here.
export TSAN_OPTIONS="suppressions=$PWD/tests/tsan.supp log_path=$out/tsan exitcode=0 second_deadlock_stack=1 history_size=4"
# BRISK_TSAN_PG=1 runs the e2e files on the PostgreSQL of tests/pg/cluster.sh
# (BRISK_TEST_DATABASE_URL set), through the same wrapper as the PG pass.
if [ "${BRISK_TSAN_PG:-0}" = 1 ]; then
  export BRISK_REAL_BIN="$PWD/$build/brisk" BRISK_BIN="$PWD/tests/pg/brisk-pg.sh"
  export BRISK_PG_MARKERS=${BRISK_PG_MARKERS:-$(mktemp -d)}
else
  export BRISK_BIN="$PWD/$build/brisk"
fi
passed=0 failed=0

# The Criterion unit tests cannot run under TSan: Criterion's inheritable
# arena (a huge fixed mapping for its forked workers) collides with TSan's
# shadow memory and aborts before any test ("Could not initialize
# inheritable arena", Snaipe/Criterion#274). tests/tsan/stress.c drives the
# same shared structures from many threads without Criterion.
for t in tsan_stress tsan_lru; do
  bin=$build/tests/tsan/$t
  if [ ! -x "$bin" ]; then echo "  $t: not built"; failed=$((failed + 1)); continue; fi
  if "$bin" >/dev/null; then passed=$((passed + 1)); printf '  %-22s ok\n' "$t"
  else failed=$((failed + 1)); printf '  %-22s FAILED\n' "$t"; fi
done

for f in "${e2e[@]}"; do
  res=$(node --test --test-reporter=tap --test-concurrency=1 "$f" 2>&1)
  p=$(printf '%s\n' "$res" | sed -nE 's/^# pass ([0-9]+)$/\1/p' | tail -n 1)
  n=$(printf '%s\n' "$res" | sed -nE 's/^# fail ([0-9]+)$/\1/p' | tail -n 1)
  printf '%s\n' "$res" | grep -E '^not ok|^ *(error|location):' | head -n 20
  printf '  %-22s %4d passed, %d failed\n' "$(basename "$f")" "${p:-0}" "${n:-1}"
  passed=$((passed + ${p:-0})); failed=$((failed + ${n:-1}))
done

reports=$(cat "$out"/tsan.* 2>/dev/null | grep -c '^WARNING: ThreadSanitizer')
if [ "$reports" -gt 0 ]; then
  echo "== $reports ThreadSanitizer report(s), in $out:"
  cat "$out"/tsan.* | grep -A14 '^WARNING: ThreadSanitizer' | head -n 200
  failed=$((failed + reports))
else
  echo "== no ThreadSanitizer report"
  rm -rf "$out"
fi
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
