#!/usr/bin/env bash
# Import throughput: brisk import vs the sqlite3 shell's .import into an
# equally indexed table, on the same CSV files, in the same run.
# usage: bench/import.sh BRISK_BINARY     (SCALE=100 by default: 1M rows per entity)
set -euo pipefail
bin=$(readlink -f "${1:-build/release/brisk}")
scale=${SCALE:-100}
work=${BENCH_DIR:-/tmp/brisk-bench-import}
mkdir -p "$work"
csv="$work/csv-$scale"
if [ ! -f "$csv/leads.csv" ]; then
  echo "generating scale $scale into $csv"
  "$bin" gen --scale "$scale" --seed 42 --end 2026-10-31 --out "$csv" >/dev/null
fi
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-13s %10s %12s %12s %12s %10s\n' entity rows "brisk s" "brisk rows/s" "peak RSS MB" "sqlite3 s"

# The baseline gets what brisk's schema has for the entity: the unique
# (org, id) index and the date index, plus the same pragmas.
declare -A cols=(
  [costs]="id,date,category,amount,vendor,description"
  [sales_orders]="id,date,customer,status,amount"
  [invoices]="id,number,customer,customer_id,issue_date,due_date,amount,status"
  [payments]="id,date,payer,amount,reference,customer_id"
  [leads]="id,created_at,creator,status,name,mobile,source,followup_date,value")
declare -A datecol=([costs]=date [sales_orders]=date [invoices]=issue_date [payments]=date [leads]=created_at)

total_rows=0 total_brisk=0 total_sqlite=0
for k in costs sales_orders invoices payments leads; do
  rm -rf "$work/data"
  tv=$( { /usr/bin/time -f '%e %M' "$bin" import "$k" "$csv/$k.csv" --data "$work/data" -q >"$work/out.txt"; } 2>&1 | tail -n 1)
  secs=${tv% *}; rss_kb=${tv#* }
  rows=$(sed -nE 's/.*inserted ([0-9]+).*/\1/p' "$work/out.txt")
  rm -f "$work/base.db"
  header=$(head -n 1 "$csv/$k.csv")
  sqlite3 "$work/base.db" "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;
    CREATE TABLE t($(echo "$header" | sed 's/,/ TEXT,/g') TEXT);
    CREATE UNIQUE INDEX t_id ON t(id); CREATE INDEX t_date ON t(${datecol[$k]});" >/dev/null
  st=$( { /usr/bin/time -f '%e' sqlite3 "$work/base.db" ".mode csv" ".import --skip 1 $csv/$k.csv t"; } 2>&1 | tail -n 1)
  printf '%-13s %10s %12s %12.0f %12.1f %10s\n' "$k" "$rows" "$secs" "$(echo "$rows / $secs" | bc -l)" \
    "$(echo "$rss_kb / 1024" | bc -l)" "$st"
  total_rows=$((total_rows + rows))
  total_brisk=$(echo "$total_brisk + $secs" | bc -l)
  total_sqlite=$(echo "$total_sqlite + $st" | bc -l)
done
printf 'all: brisk %.0f rows/s, sqlite3 shell %.0f rows/s (ratio %.2f); target >= 500000 rows/s, RSS < 100 MB\n' \
  "$(echo "$total_rows / $total_brisk" | bc -l)" "$(echo "$total_rows / $total_sqlite" | bc -l)" \
  "$(echo "$total_sqlite / $total_brisk" | bc -l)"
rm -rf "$work/data" "$work/base.db"
