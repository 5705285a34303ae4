#!/usr/bin/env bash
# PostgreSQL against its own bulk load and against SQLite, same run, same
# data. Usage: bench/pg.sh BRISK_BIN [SCALE] (default 100: 1M cost rows).
#   1. import rows/s: `brisk import costs` into PostgreSQL vs `psql \copy` of
#      the same CSV into an untyped (all text) table: target >= 0.5x.
#   2. uncached two-year overview p50: PostgreSQL vs SQLite (cache off):
#      target <= 2x. Warm (cached) p50 on both for reference.
# Starts a throwaway cluster (tests/pg/cluster.sh); prints one line per
# figure and the ratios.
set -euo pipefail
cd "$(dirname "$0")/.."
brisk=$(realpath "${1:?usage: bench/pg.sh BRISK_BIN [SCALE]}")
scale=${2:-100}
tmp=$(mktemp -d)
source bench/lib/common.sh

pgenv=$(tests/pg/cluster.sh start)
eval "$pgenv"
pg_stop() { tests/pg/cluster.sh stop "$BRISK_PG_DIR"; bench_cleanup; }
trap pg_stop EXIT
base=$BRISK_TEST_DATABASE_URL
psql -qX "$base/postgres" -c "CREATE DATABASE brisk" -c "CREATE DATABASE raw"
url=$base/brisk

csv=$tmp/csv
"$brisk" gen --scale "$scale" --seed 42 --end 2026-10-31 --out "$csv" >/dev/null
rows=$(($(wc -l <"$csv/costs.csv") - 1))
echo "data: $rows cost rows (scale $scale)"

# 1. the bulk-load baseline: psql \copy into a table of text columns
psql -qX "$base/raw" -c "CREATE TABLE costs_raw(id text, date text, category text, amount text, vendor text, description text)"
t0=$(date +%s.%N)
psql -qX "$base/raw" -c "\\copy costs_raw FROM '$csv/costs.csv' WITH (FORMAT csv, HEADER true)"
t1=$(date +%s.%N)
copy_rps=$(python3 -c "print(round($rows / ($t1 - $t0)))")
echo "psql \\copy (untyped): $copy_rps rows/s"

imp() { # store-args... -> rows/s from the summary line
	"$brisk" import costs "$csv/costs.csv" --org acme "$@" | sed -nE 's/.*\(([0-9]+) rows\/s\).*/\1/p'
}
pg_rps=$(DATABASE_URL=$url imp --data "$tmp/pgdata")
echo "brisk import, PostgreSQL: $pg_rps rows/s"
lite_rps=$(env -u DATABASE_URL "$brisk" import costs "$csv/costs.csv" --org acme --data "$tmp/lite" |
	sed -nE 's/.*\(([0-9]+) rows\/s\).*/\1/p')
echo "brisk import, SQLite: $lite_rps rows/s"

# 2. the two-year overview, uncached and warm, on each store
p50() { # URL TOKEN N -> median seconds of N requests (each must answer 200)
	for _ in $(seq "$3"); do
		curl -s -o /dev/null -w '%{http_code} %{time_total}\n' -H "authorization: Bearer $2" "$1"
	done | awk '$1 != 200 {print "bench/pg.sh: a request answered " $1 > "/dev/stderr"; exit 1} {print $2}' |
		sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}
serve_p50() { # label cache-bytes env... -> prints p50
	local label=$1 bytes=$2
	shift 2
	local dir=$tmp/pgdata
	[ "$label" = sqlite ] && dir=$tmp/lite
	local tok
	tok=$(env "$@" "$brisk" token create --org acme --data "$dir")
	# a file per run: the previous run's line must never be read for this one
	local out=$tmp/serve-$label-$bytes.out
	env "$@" "$brisk" serve --data "$dir" --port 0 --set cache.memory_bytes="$bytes" --set cache.warm=false \
		>"$out" 2>"$tmp/serve.err" &
	local pid=$!
	pids+=("$pid")
	local port=""
	for _ in $(seq 300); do
		port=$(sed -nE 's/.*listening on http:\/\/[0-9.]+:([0-9]+)\/.*/\1/p' "$out")
		[ -n "$port" ] && break
		sleep 0.1
	done
	local u="http://127.0.0.1:$port/api/v1/overview?from=2024-11-01&to=2026-10-31"
	p50 "$u" "$tok" 3 >/dev/null # connections, statements prepared
	p50 "$u" "$tok" 61
	kill "$pid"
	wait "$pid" 2>/dev/null || true
}
pg_cold=$(serve_p50 pg 0 DATABASE_URL="$url")
lite_cold=$(serve_p50 sqlite 0 DATABASE_URL=)
pg_warm=$(serve_p50 pg 67108864 DATABASE_URL="$url")
lite_warm=$(serve_p50 sqlite 67108864 DATABASE_URL=)
echo "overview 2 years, uncached p50: PostgreSQL ${pg_cold}s, SQLite ${lite_cold}s"
echo "overview 2 years, cached p50: PostgreSQL ${pg_warm}s, SQLite ${lite_warm}s"
python3 - "$pg_rps" "$copy_rps" "$pg_cold" "$lite_cold" <<'EOF'
import sys
pg, copy, pc, lc = map(float, sys.argv[1:])
print(f"import PostgreSQL / psql \\copy: {pg / copy:.2f}x (target >= 0.5)")
print(f"uncached overview PostgreSQL / SQLite: {pc / lc:.2f}x (target <= 2)")
EOF
