#!/usr/bin/env bash
# The API without the response cache: what a computation costs.
#
#   bench/api.sh BRISK_BINARY          (use a release build: make release)
#
# Environment: SCALE (default 100: about a million rows per entity) sizes
# the data set, generated and imported once into /tmp/brisk-bench-SCALE and
# reused (that takes a few minutes at scale 100); DURATION (default 10s),
# THREADS (1) and CONNS (1) are wrk's -d, -t and -c: one connection measures
# the latency of one request, not queueing; DEPTH (500) is how many pages of
# 100 rows the list benchmark walks before it measures.
#
# Two servers run side by side with cache.memory_bytes=0 (no cache at all):
# the normal one and `--naive` (views computed from base tables, the
# reference). For each, wrk --latency on 127.0.0.1 measures:
#   - the overview over two years                 (target p50 <= 10 ms)
#   - the cash flow by day over two years          (target p50 <= 20 ms)
#   - a list page of 100 costs, first and DEPTH pages deep, following
#     next_cursor to get there                     (target p50 <= 5 ms)
# and then each server's peak RSS (VmHWM)         (target < 200 MB).
# Prints one table; the load average (uptime) is printed with each figure.
set -euo pipefail

brisk=$(readlink -f "${1:?usage: bench/api.sh BRISK_BINARY}")
scale=${SCALE:-100}
duration=${DURATION:-10s}
threads=${THREADS:-1}
conns=${CONNS:-1}
depth=${DEPTH:-500}
end=2026-10-31 # the data's last day; the server's "today" (BRISK_TODAY)
from2y=2024-11-01 # two years ending on $end

for tool in curl wrk; do
	command -v "$tool" >/dev/null 2>&1 || { echo "api.sh: $tool not found (apt-get install -y wrk curl)" >&2; exit 1; }
done

tmp=$(mktemp -d /tmp/brisk-api-bench.XXXXXX)
. "$(dirname "$0")/lib/common.sh"

load() { uptime | sed 's/.*load average: \([^,]*\),.*/\1/'; }

# ---- the data set, built once per scale ----
bench_dataset "$scale" "$end"
auth="Authorization: Bearer $token"

# Starts brisk with the cache off (extra args follow); sets $port and $pid.
start_brisk() {
	local log=$tmp/brisk.$RANDOM
	BRISK_TODAY=$end "$brisk" serve --data "$data" --port 0 --set cache.memory_bytes=0 "$@" >"$log.out" 2>"$log.err" &
	pid=$!
	pids+=("$pid")
	port=
	for _ in $(seq 1 600); do
		port=$(sed -n 's#.*listening on http://[0-9.]*:\([0-9]*\)/.*#\1#p' "$log.out")
		[ -n "$port" ] && break
		kill -0 "$pid" 2>/dev/null || { cat "$log.err" >&2; exit 1; }
		sleep 0.1
	done
	[ -n "$port" ] || { echo "api.sh: brisk did not start" >&2; exit 1; }
}

# "requests/s p50_ms p99_ms errors"
run_wrk() {
	local out
	out=$(wrk -t"$threads" -c"$conns" -d"$duration" --timeout 60s --latency -H "$auth" "$1")
	echo "$out" >>"$tmp/wrk.log"
	echo "$out" | wrk_summary
}

# The cursor DEPTH pages of 100 costs deep (following next_cursor).
deep_cursor() {
	local base=$1 cursor= page
	for _ in $(seq 1 "$depth"); do
		page=$(curl -s -H "$auth" "$base/api/v1/costs?limit=100${cursor:+&cursor=$cursor}")
		cursor=$(printf '%s' "$page" | sed -n 's/.*"next_cursor":"\([^"]*\)".*/\1/p')
		[ -n "$cursor" ] || { echo "api.sh: the list ended before $depth pages" >&2; exit 1; }
	done
	printf '%s' "$cursor"
}

start_brisk
nport=$port
npid=$pid
start_brisk --naive
rport=$port
rpid=$pid

declare -A url
url[overview]="/api/v1/overview?from=$from2y&to=$end"
url[cashflow_day]="/api/v1/cashflow?from=$from2y&to=$end&interval=day"
url[list_first]="/api/v1/costs?limit=100"

results=$tmp/results
: >"$results"
for mode in normal naive; do
	if [ $mode = normal ]; then p=$nport; else p=$rport; fi
	base=http://127.0.0.1:$p
	deep="/api/v1/costs?limit=100&cursor=$(deep_cursor "$base")"
	for name in overview cashflow_day list_first list_deep; do
		if [ $name = list_deep ]; then u=$deep; else u=${url[$name]}; fi
		code=$(curl -s -o "$tmp/body" -w '%{http_code}' -H "$auth" "$base$u")
		[ "$code" = 200 ] || { echo "api.sh: $u answered $code: $(head -c 300 "$tmp/body")" >&2; exit 1; }
		l=$(load)
		read -r rps p50 p99 err < <(run_wrk "$base$u")
		echo "$mode $name $rps $p50 $p99 $err $l" >>"$results"
	done
done
hwm() { awk '/VmHWM/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }
n_rss=$(hwm "$npid")
r_rss=$(hwm "$rpid")

echo "== brisk API, cache off, scale $scale, wrk -t$threads -c$conns -d$duration --latency on 127.0.0.1; list pages 100 rows, deep = $depth pages in"
printf '%-14s %-8s %10s %10s %10s %8s %6s  %-10s %s\n' view mode req/s p50_ms p99_ms errors load target verdict
target() { case $1 in overview) echo 10;; cashflow_day) echo 20;; list_*) echo 5;; esac; }
while read -r mode name rps p50 p99 err l; do
	t=$(target "$name")
	v=-
	[ "$mode" = normal ] && v=$(awk -v a="$p50" -v t="$t" 'BEGIN { print (a <= t ? "met" : "NOT met") }')
	printf '%-14s %-8s %10s %10s %10s %8s %6s  %-10s %s\n' "$name" "$mode" "$rps" "$p50" "$p99" "$err" "$l" "p50<=${t}ms" "$v"
done <"$results"
printf '%-14s %-8s %10s MB   target < 200 MB: %s\n' "peak RSS" normal "$n_rss" "$(awk -v a="$n_rss" 'BEGIN { print (a < 200 ? "met" : "NOT met") }')"
printf '%-14s %-8s %10s MB\n' "peak RSS" naive "$r_rss"
