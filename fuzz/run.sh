#!/usr/bin/env bash
# Runs each libFuzzer driver of a fuzz build for a fixed time, from the
# committed seeds plus what earlier runs found (kept in $FUZZ_WORK, default
# /tmp/brisk-fuzz: the committed corpus is never written). Prints one line per
# driver ("fuzz_csv  ok  123456 execs in 10 s") and, for a failure, the
# sanitizer's report and the input saved as $FUZZ_WORK/NAME-crash-*.
# FUZZ_JOBS (2) drivers run at a time. Exit status: the number of drivers
# that failed.
# Usage: fuzz/run.sh BUILD_DIR SECONDS [NAME...]   (NAME: csv, money, ...)
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:?usage: fuzz/run.sh BUILD_DIR SECONDS [NAME...]}
secs=${2:?usage: fuzz/run.sh BUILD_DIR SECONDS [NAME...]}
shift 2
work=${FUZZ_WORK:-/tmp/brisk-fuzz}
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for d in fuzz/fuzz_*.c; do n=$(basename "$d" .c); names+=("${n#fuzz_}"); done
fi
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}:abort_on_error=0
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# Two drivers at a time, one per core (each is single-threaded, so each
# still gets its SECONDS of a core): half the wall time of one after the
# other. Their reports print in the drivers' order once all have run.
jobs=${FUZZ_JOBS:-2}
out_dir=$(mktemp -d)
trap 'rm -rf "$out_dir"' EXIT

run_one() { # name: writes $out_dir/name.line (and .report on failure)
  local n=$1 bin=$build/fuzz/fuzz_$1 out rc execs
  if [ ! -x "$bin" ]; then
    printf '  %-18s FAILED: %s is not built (make fuzz-build)\n' "fuzz_$n" "$bin" >"$out_dir/$n.line"
    return
  fi
  mkdir -p "$work/$n"
  local dict=(); [ -f "fuzz/$n.dict" ] && dict=(-dict="fuzz/$n.dict")
  # -rss_limit_mb: a leak or a runaway allocation fails instead of swapping a
  # shared CI machine; -timeout: one input taking 10 s is a hang.
  out=$("$bin" "${dict[@]}" -max_total_time="$secs" -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 \
        -artifact_prefix="$work/$n-" "$work/$n" "fuzz/corpus/$n" 2>&1)
  rc=$?
  execs=$(printf '%s\n' "$out" | sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' | tail -n 1)
  if [ $rc -eq 0 ]; then
    printf '  %-18s ok  %9s execs in %s s\n' "fuzz_$n" "${execs:-?}" "$secs" >"$out_dir/$n.line"
  else
    printf '%s\n' "$out" | grep -vE '^#[0-9]+|^INFO:' | tail -n 40 >"$out_dir/$n.report"
    printf '  %-18s FAILED after %s execs: replay with %s %s\n' "fuzz_$n" "${execs:-?}" "$bin" \
      "$(ls -t "$work/$n"-* 2>/dev/null | head -n 1)" >"$out_dir/$n.line"
  fi
}

running=0
for n in "${names[@]}"; do
  if [ "$running" -ge "$jobs" ]; then
    wait -n
    running=$((running - 1))
  fi
  run_one "$n" &
  running=$((running + 1))
done
wait

failed=0
for n in "${names[@]}"; do
  [ -f "$out_dir/$n.report" ] && cat "$out_dir/$n.report"
  cat "$out_dir/$n.line"
  grep -q ' ok ' "$out_dir/$n.line" || failed=$((failed + 1))
done
exit $failed
