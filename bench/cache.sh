#!/usr/bin/env bash
# The response cache against a static file server (issue 4, Performance).
#
#   bench/cache.sh BRISK_BINARY          (use a release build: make release)
#
# Environment: SCALE (default 20) sizes the data set, generated and imported
# once into /tmp/brisk-bench-SCALE and reused; DURATION (default 10s),
# THREADS (2) and CONNS (32) are wrk's -d, -t and -c; N (20) is the sample
# count of the single-request medians.
#
# 1. brisk serves the warm overview from L1; Debian's nginx (own config, two
#    workers, access_log off, 127.0.0.1) serves the same response bytes as a
#    static file; `wrk --latency` runs against both in the same run.
#    Targets: brisk >= 0.6 x nginx requests/s, brisk's warm p99 <= 2 ms.
# 2. Cold/warm: DELETE /api/v1/cache then one overview request (computed),
#    against one warm request (L1); medians of N.
# 3. L2 hit: two instances on one private redis-server; A computes N
#    distinct views, B (which never saw them) answers each from Redis; the
#    median of B's first requests.
#
# Needs curl, wrk, nginx (apt-get install -y wrk nginx-light curl) and, for
# part 3, redis-server; python3 picks free ports. Prints the load average
# (uptime) next to the figures: the machine may be shared.
set -euo pipefail

brisk=$(readlink -f "${1:?usage: bench/cache.sh BRISK_BINARY}")
scale=${SCALE:-20}
duration=${DURATION:-10s}
threads=${THREADS:-2}
conns=${CONNS:-32}
samples=${N:-20}
end=2026-10-31 # the data's last day; the server's "today" (BRISK_TODAY)

for tool in curl wrk nginx python3; do
	command -v "$tool" >/dev/null 2>&1 || { echo "cache.sh: $tool not found (apt-get install -y wrk nginx-light curl python3)" >&2; exit 1; }
done

tmp=$(mktemp -d /tmp/brisk-cache-bench.XXXXXX)
chmod 755 "$tmp" # nginx workers run as nobody and read the static file
. "$(dirname "$0")/lib/common.sh"

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
load() { uptime | sed 's/.*load average: /load /'; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# ---- the data set, built once per scale ----
bench_dataset "$scale" "$end"
auth="Authorization: Bearer $token"

# Starts brisk in the background (extra args follow); sets $port and $pid.
start_brisk() {
	local log=$tmp/brisk.$RANDOM
	BRISK_TODAY=$end "$brisk" serve --data "$data" --port 0 "$@" >"$log.out" 2>"$log.err" &
	pid=$!
	pids+=("$pid")
	port=
	for _ in $(seq 1 300); do
		port=$(sed -n 's#.*listening on http://[0-9.]*:\([0-9]*\)/.*#\1#p' "$log.out")
		[ -n "$port" ] && break
		kill -0 "$pid" 2>/dev/null || { cat "$log.err" >&2; exit 1; }
		sleep 0.1
	done
	[ -n "$port" ] || { echo "cache.sh: brisk did not start" >&2; cat "$log.err" >&2; exit 1; }
}

# Waits until background warming is over (computed unchanged for 1 s).
quiet() {
	local last=-1 same=0 c
	for _ in $(seq 1 600); do
		c=$(curl -s -H "$auth" "http://127.0.0.1:$1/api/v1/cache/stats" | sed 's/.*"computed":\([0-9]*\).*/\1/')
		if [ "$c" = "$last" ]; then same=$((same + 1)); [ $same -ge 4 ] && return; else same=0; last=$c; fi
		sleep 0.25
	done
}

xcache() { curl -s -o /dev/null -D - -H "$auth" "$1" | tr -d '\r' | sed -n 's/^[Xx]-[Cc]ache: //p'; }
ms() { curl -s -o /dev/null -w '%{time_total}\n' -H "$auth" "$1" | awk '{ printf "%.3f\n", $1 * 1000 }'; }

# wrk summary: "requests/s p50_ms p99_ms errors"
run_wrk() {
	local out
	out=$(wrk -t"$threads" -c"$conns" -d"$duration" --latency "$@")
	echo "$out" >>"$tmp/wrk.log"
	echo "$out" | wrk_summary
}

# ---- 1. warm overview: brisk (L1) against nginx (static file) ----
start_brisk
bport=$port
bpid=$pid
quiet "$bport"
url=http://127.0.0.1:$bport/api/v1/overview
curl -s -o /dev/null -H "$auth" "$url"
hit=$(xcache "$url")
if [ "$hit" != "HIT-L1" ]; then
	echo "cache.sh: the overview is not an L1 hit after warming (X-Cache: $hit)" >&2
	exit 1
fi
mkdir -p "$tmp/www"
# the exact bytes wrk gets: wrk sends no Accept-Encoding, nor does this curl
curl -s -H "$auth" -D "$tmp/brisk.headers" -o "$tmp/www/overview.json" "$url"
chmod 644 "$tmp/www/overview.json"
body_bytes=$(stat -c %s "$tmp/www/overview.json")

nport=$(free_port)
mkdir -p "$tmp/nginx"
cat >"$tmp/nginx/nginx.conf" <<EOF
daemon off;
worker_processes 2;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 1024; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	keepalive_requests 1000000;
	keepalive_timeout 65;
	default_type application/json;
	client_body_temp_path $tmp/nginx/body;
	proxy_temp_path $tmp/nginx/proxy;
	fastcgi_temp_path $tmp/nginx/fastcgi;
	uwsgi_temp_path $tmp/nginx/uwsgi;
	scgi_temp_path $tmp/nginx/scgi;
	server {
		listen 127.0.0.1:$nport;
		root $tmp/www;
	}
}
EOF
nginx -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" 2>"$tmp/nginx/stderr" &
pids+=("$!")
nurl=http://127.0.0.1:$nport/overview.json
for _ in $(seq 1 100); do
	curl -s -o /dev/null "$nurl" && break
	sleep 0.1
done
if ! cmp -s <(curl -s "$nurl") "$tmp/www/overview.json"; then
	echo "cache.sh: nginx does not serve the same bytes" >&2
	cat "$tmp/nginx/stderr" "$tmp/nginx/error.log" >&2 || true
	exit 1
fi

echo "== warm overview ($body_bytes body bytes), wrk -t$threads -c$conns -d$duration --latency, scale $scale"
echo "   ($(nproc) cores; load = 1-minute load average before each run, which includes the run before it)"
load_n=$(load)
read -r n_rps n_p50 n_p99 n_err < <(run_wrk "$nurl")
load_b=$(load)
read -r b_rps b_p50 b_p99 b_err < <(run_wrk -H "$auth" "$url")
hit_after=$(xcache "$url")
printf '%-24s %12s %10s %10s %8s   %s\n' server requests/s p50_ms p99_ms errors "load before the run"
printf '%-24s %12s %10s %10s %8s   %s\n' "nginx (static file)" "$n_rps" "$n_p50" "$n_p99" "$n_err" "$load_n"
printf '%-24s %12s %10s %10s %8s   %s\n' "brisk (L1 hit)" "$b_rps" "$b_p50" "$b_p99" "$b_err" "$load_b"
ratio=$(awk -v b="$b_rps" -v n="$n_rps" 'BEGIN { printf "%.2f", (n > 0 ? b / n : 0) }')
verdict() { awk -v v="$1" -v t="$2" -v op="$3" 'BEGIN { print ((op == ">=" ? v >= t : v <= t) ? "met" : "NOT met") }'; }
echo "brisk/nginx requests/s: $ratio (target >= 0.6: $(verdict "$ratio" 0.6 '>='))"
echo "brisk warm p99: $b_p99 ms (target <= 2 ms: $(verdict "$b_p99" 2 '<='))"
echo "X-Cache after the run: $hit_after"
if [ "$b_err" != 0 ] || [ "$n_err" != 0 ]; then
	echo "cache.sh: wrk saw errors or non-2xx answers (see above)" >&2
fi

# ---- 2. cold/warm ----
cold_url="$url"
: >"$tmp/cold" && : >"$tmp/warm"
for _ in $(seq 1 "$samples"); do
	curl -s -o /dev/null -X DELETE -H "$auth" "http://127.0.0.1:$bport/api/v1/cache"
	ms "$cold_url" >>"$tmp/cold"
	ms "$cold_url" >>"$tmp/warm"
done
cold=$(median <"$tmp/cold")
warm=$(median <"$tmp/warm")
echo
echo "== overview, one request each (curl, new connection), median of $samples   ($(load))"
printf '%-40s %10s\n' measurement ms
printf '%-40s %10s\n' "cold (DELETE /api/v1/cache, computed)" "$cold"
printf '%-40s %10s\n' "warm (L1 hit)" "$warm"
echo "cold/warm: $(awk -v c="$cold" -v w="$warm" 'BEGIN { printf "%.1f", (w > 0 ? c / w : 0) }')x"
kill "$bpid" 2>/dev/null || true
wait "$bpid" 2>/dev/null || true

# ---- 3. L2 hit latency ----
echo
if ! command -v redis-server >/dev/null 2>&1; then
	echo "== L2: skipped (redis-server not installed: apt-get install -y redis-server)"
	exit 0
fi
rport=$(free_port)
redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no --daemonize no --loglevel warning \
	>"$tmp/redis.log" 2>&1 &
pids+=("$!")
for _ in $(seq 1 100); do
	[ "$(redis-cli -p "$rport" ping 2>/dev/null || true)" = PONG ] && break
	sleep 0.1
done
start_brisk --set "cache.redis_url=redis://127.0.0.1:$rport"
aport=$port
start_brisk --set "cache.redis_url=redis://127.0.0.1:$rport"
cport=$port
quiet "$aport"
quiet "$cport"
# "ms X-Cache" of one request
tx() {
	curl -s -o /dev/null -D "$tmp/h" -w '%{time_total}\n' -H "$auth" "$1" | awk '{ printf "%.3f", $1 * 1000 }'
	printf ' %s\n' "$(tr -d '\r' <"$tmp/h" | sed -n 's/^[Xx]-[Cc]ache: //p')"
}
: >"$tmp/l2" && : >"$tmp/l1" && : >"$tmp/computed"
bad=0 notl2=
for i in $(seq 1 "$samples"); do
	q="/api/v1/overview?from=2025-$(printf %02d $(((i - 1) % 12 + 1)))-$(printf %02d $(((i - 1) / 12 + 1)))&to=2026-10-30" # never a warmed (default) key
	read -r t x < <(tx "http://127.0.0.1:$aport$q") # A computes and fills Redis
	echo "$t" >>"$tmp/computed"
	read -r t x < <(tx "http://127.0.0.1:$cport$q") # B's first request for it
	if [ "$x" = HIT-L2 ]; then echo "$t" >>"$tmp/l2"; else bad=$((bad + 1)) && notl2="$notl2 $x"; fi
	read -r t x < <(tx "http://127.0.0.1:$cport$q")
	echo "$t" >>"$tmp/l1"
done
echo "== L2 (redis-server on 127.0.0.1), $samples distinct overviews, median ms   ($(load))"
printf '%-40s %10s\n' measurement ms
printf '%-40s %10s\n' "computed on A (first request)" "$(median <"$tmp/computed")"
printf '%-40s %10s\n' "L2 hit on B (empty L1)" "$(median <"$tmp/l2")"
printf '%-40s %10s\n' "L1 hit on B (next request)" "$(median <"$tmp/l1")"
[ "$bad" = 0 ] || echo "cache.sh: $bad of $samples first requests on B were not HIT-L2 (X-Cache:$notl2; a Redis command over cache.redis_timeout_ms counts as a miss)" >&2
