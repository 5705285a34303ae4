#!/usr/bin/env bash
# Text search (q=) of one organisation against the plain lists of another.
#
#   bench/search.sh BRISK_BINARY          (use a release build: make release)
#
# Environment: SCALE (default 10) sizes the costs of the searching org
# `acme` (generated and imported into a scratch dir each run, about a
# minute at scale 10); the other org `calm` holds scale-1 costs. DURATION (default 10s) per measure; FLOOD (8) connections flood; the
# server runs with THREADS (2) workers and the cache off.
#
# Measures calm's first page of costs (wrk -c1, p50) three times: alone,
# while FLOOD connections search acme with a 3+ character q (the trigram
# index), and while they search with a 2-character q (which cannot use the
# index and walks acme's rows: what every search cost before). Prints the
# p50s and the ratios to the idle baseline of the same run; the search p50s
# of both floods too.
set -euo pipefail

brisk=$(readlink -f "${1:?usage: bench/search.sh BRISK_BINARY}")
scale=${SCALE:-10}
duration=${DURATION:-10s}
flood=${FLOOD:-8}
threads=${THREADS:-2}
end=2026-10-31

command -v wrk >/dev/null 2>&1 || { echo "search.sh: wrk not found (apt-get install -y wrk)" >&2; exit 1; }
tmp=$(mktemp -d /tmp/brisk-search-bench.XXXXXX)
. "$(dirname "$0")/lib/common.sh"

"$brisk" gen --scale "$scale" --seed 42 --end "$end" --out "$tmp/big" >&2
"$brisk" import costs "$tmp/big/costs.csv" --org acme --data "$tmp/data" -q >&2
"$brisk" gen --scale 1 --seed 7 --end "$end" --out "$tmp/csv" >&2
"$brisk" import costs "$tmp/csv/costs.csv" --org calm --data "$tmp/data" -q >&2
calm=$("$brisk" token create --org calm --data "$tmp/data")
acme=$("$brisk" token create --org acme --data "$tmp/data")

BRISK_TODAY=$end "$brisk" serve --data "$tmp/data" --port 0 --threads "$threads" --set cache.memory_bytes=0 \
	>"$tmp/out" 2>"$tmp/err" &
pids+=("$!")
port=
for _ in $(seq 1 600); do
	port=$(sed -n 's#.*listening on http://[0-9.]*:\([0-9]*\)/.*#\1#p' "$tmp/out")
	[ -n "$port" ] && break
	sleep 0.1
done
[ -n "$port" ] || { cat "$tmp/err" >&2; exit 1; }
base=http://127.0.0.1:$port

# p50 in ms of wrk -cN on a URL with a token
p50() {
	wrk -t1 -c"$1" -d"$duration" --timeout 60s --latency -H "Authorization: Bearer $2" "$3" | tee -a "$tmp/wrk.log" |
		awk 'function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
		     /^ +50%/ { p = ms($2) } END { printf "%.3f", p }'
}

plain="$base/api/v1/costs?limit=100"
indexed="$base/api/v1/costs?limit=100&q=coffee"
scan="$base/api/v1/costs?limit=100&q=zq"
for u in "$plain" "$indexed" "$scan"; do
	t=$calm
	[ "$u" = "$plain" ] || t=$acme
	code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $t" "$u")
	[ "$code" = 200 ] || { echo "search.sh: $u answered $code" >&2; exit 1; }
done

idle=$(p50 1 "$calm" "$plain")
under() { # flood URL -> "calm_p50 flood_p50"
	p50 "$flood" "$acme" "$1" >"$tmp/flood" &
	local f=$!
	sleep 1
	local c
	c=$(p50 1 "$calm" "$plain")
	wait "$f"
	echo "$c $(cat "$tmp/flood")"
}
read -r with_index search_index < <(under "$indexed")
read -r with_scan search_scan < <(under "$scan")

echo "== one org's search flood (-c$flood) against another org's plain list (-c1), scale $scale, $threads workers, cache off, $duration each"
printf '%-34s %12s %10s\n' "calm's list page" p50_ms ratio
printf '%-34s %12s %10s\n' "alone" "$idle" 1.00
printf '%-34s %12s %10s\n' "during indexed searches (q=coffee)" "$with_index" "$(awk -v a="$with_index" -v b="$idle" 'BEGIN { printf "%.2f", a / b }')"
printf '%-34s %12s %10s\n' "during scanning searches (q=zq)" "$with_scan" "$(awk -v a="$with_scan" -v b="$idle" 'BEGIN { printf "%.2f", a / b }')"
printf '%-34s %12s\n' "acme's search p50, indexed" "$search_index"
printf '%-34s %12s\n' "acme's search p50, scanning" "$search_scan"
