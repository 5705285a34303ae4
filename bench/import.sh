#!/usr/bin/env bash
# Import throughput (issue 14 item 1): brisk import (validation, upsert,
# indexes, rollups, open receivables) against the sqlite3
# shell's .import of the same CSV into an untyped table without indexes,
# for each of the five entities, in the same run, on the same files.
# usage: bench/import.sh BRISK_BINARY
#   SCALE=100 (default): 1M rows per entity; SCALE=10: 100k
#   BENCH_DIR=/tmp/brisk-bench-import: where the CSV files and stores go
# Each side runs RUNS times (default 1) and keeps its fastest run. Ratios
# are given by elapsed time (the target: >= 1.0) and by CPU time (user +
# sys), which a machine loaded by other work disturbs less.
# An import of 10000+ rows commits without the text-search index (searches
# scan the rows not indexed yet); `brisk index` then brings it up to date,
# as a server does in the background: its time is the "index s" column,
# outside the ratio.
set -euo pipefail
bin=$(readlink -f "${1:-build/release/brisk}")
scale=${SCALE:-100}
runs=${RUNS:-1}
work=${BENCH_DIR:-/tmp/brisk-bench-import}
mkdir -p "$work"
csv="$work/csv-$scale"
if [ ! -f "$csv/leads.csv" ]; then
  echo "generating scale $scale into $csv"
  "$bin" gen --scale "$scale" --seed 42 --end 2026-10-31 --out "$csv" >/dev/null
fi
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); sqlite3 $(sqlite3 --version | cut -d' ' -f1)"
echo "brisk: $bin import KIND FILE --data DIR -q (fresh store each run)"
echo "sqlite3: sqlite3 DB .mode csv '.import --skip 1 FILE t' (t: every column untyped, no index, WAL)"
printf '%-13s %8s %9s %10s %8s %9s %10s %7s %7s %8s\n' entity rows "brisk s" "brisk r/s" "RSS MB" "sqlite s" "sqlite r/s" ratio "cpu rt" "index s"

# run CMD...: prints "elapsed cpu maxrss_kb" of the fastest of $runs runs
best() {
  local out best_e="" best_c="" best_m=0
  for _ in $(seq "$runs"); do
    "$prepare"
    /usr/bin/time -o "$work/time.txt" -f '%e %U %S %M' "$@" >/dev/null 2>"$work/err.txt"
    out=$(tail -n 1 "$work/time.txt")
    read -r e u s m <<<"$out"
    c=$(echo "$u + $s" | bc -l)
    if [ -z "$best_e" ] || (( $(echo "$e < $best_e" | bc -l) )); then best_e=$e; best_c=$c; fi
    (( m > best_m )) && best_m=$m
  done
  echo "$best_e $best_c $best_m"
}

total_rows=0 total_brisk=0 total_sqlite=0
for k in costs sales_orders invoices payments leads; do
  prepare_brisk() { rm -rf "$work/data"; }
  prepare=prepare_brisk
  read -r be bc bm < <(best "$bin" import "$k" "$csv/$k.csv" --data "$work/data" -q)
  rows=$(sqlite3 "$work/data/brisk.db" "SELECT count(*) FROM $k")
  /usr/bin/time -o "$work/time.txt" -f '%e' "$bin" index --data "$work/data" -q 2>"$work/err.txt"
  ie=$(tail -n 1 "$work/time.txt")
  header=$(head -n 1 "$csv/$k.csv")
  prepare_sqlite() {
    rm -f "$work/base.db" "$work/base.db-wal" "$work/base.db-shm"
    sqlite3 "$work/base.db" "PRAGMA journal_mode=WAL; CREATE TABLE t($header);" >/dev/null
  }
  prepare=prepare_sqlite
  read -r se sc _ < <(best sqlite3 "$work/base.db" ".mode csv" ".import --skip 1 $csv/$k.csv t")
  # both stored every row (the files are valid)
  base_rows=$(sqlite3 "$work/base.db" "SELECT count(*) FROM t")
  [ "$base_rows" = "$rows" ] || { echo "$k: brisk stored $rows rows, sqlite3 $base_rows"; cat "$work/err.txt"; exit 1; }
  printf '%-13s %8s %9.2f %10.0f %8.1f %9.2f %10.0f %7.2f %7.2f %8.2f\n' "$k" "$rows" "$be" "$(echo "$rows / $be" | bc -l)" \
    "$(echo "$bm / 1024" | bc -l)" "$se" "$(echo "$rows / $se" | bc -l)" "$(echo "$se / $be" | bc -l)" \
    "$(echo "$sc / $bc" | bc -l)" "$ie"
  total_rows=$((total_rows + rows))
  total_brisk=$(echo "$total_brisk + $be" | bc -l)
  total_sqlite=$(echo "$total_sqlite + $se" | bc -l)
done
printf 'all: brisk %.0f rows/s, sqlite3 shell %.0f rows/s (ratio %.2f); target: ratio >= 1.0 per entity, RSS <= 100 MB\n' \
  "$(echo "$total_rows / $total_brisk" | bc -l)" "$(echo "$total_rows / $total_sqlite" | bc -l)" \
  "$(echo "$total_sqlite / $total_brisk" | bc -l)"
rm -rf "$work/data" "$work/base.db" "$work/base.db-wal" "$work/base.db-shm"
