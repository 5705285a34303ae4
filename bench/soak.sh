#!/usr/bin/env bash
# Soak: a server left running under mixed load, to see that it stays healthy.
#
#   bench/soak.sh BRISK_BINARY          (a release build: make release; or make soak)
#
# Environment: SOAK_SECONDS (default 600), SOAK_CONNECTIONS (64), SCALE (5:
# the data set, generated and imported once into /tmp/brisk-bench-SCALE and
# reused), SOAK_RSS_TOLERANCE (0.15: RSS growth allowed in the second half
# of the run; the first half is warm-up while the caches fill). Not part of `make test` or `make bench` (it takes minutes).
#
# bench/soak.mjs drives SOAK_CONNECTIONS clients of mixed reads (every view,
# lists, varying ranges), JSON row writes and small CSV imports (upserts over
# a bounded set of ids, so the store stops growing), with one reconciliation
# and one export task always under way. Prints a line per minute: requests,
# 5xx so far, the server's RSS and open descriptors. Fails on any 5xx or
# failed task, or when RSS or descriptors keep growing in the second half.
set -euo pipefail

brisk=$(readlink -f "${1:?usage: bench/soak.sh BRISK_BINARY}")
seconds=${SOAK_SECONDS:-600}
conns=${SOAK_CONNECTIONS:-64}
scale=${SCALE:-5}
command -v node >/dev/null || { echo "soak.sh: node not found (scripts/deps.sh test)" >&2; exit 1; }

tmp=$(mktemp -d /tmp/brisk-soak.XXXXXX)
. "$(dirname "$0")/lib/common.sh"
bench_dataset "$scale" 2026-10-31

# A copy: the soak writes, the shared bench data set stays as generated.
mkdir -p "$tmp/data"
sqlite3 "$data/brisk.db" ".backup '$tmp/data/brisk.db'"
BRISK_TODAY=2026-10-31 "$brisk" serve --data "$tmp/data" --port 0 >"$tmp/out" 2>"$tmp/err" &
pid=$!
pids+=("$pid")
for _ in $(seq 100); do
	port=$(sed -nE 's|.*listening on http://[0-9.]+:([0-9]+)/.*|\1|p' "$tmp/out")
	[ -n "$port" ] && break
	sleep 0.1
done
[ -n "$port" ] || { echo "soak.sh: the server did not start: $(cat "$tmp/err")" >&2; exit 1; }
echo "soak: $brisk on port $port, scale $scale, load average $(uptime | sed 's/.*load average: //')"
rc=0
node "$(dirname "$0")/soak.mjs" "http://127.0.0.1:$port" "$token" "$pid" "$seconds" "$conns" || rc=$?
kill -0 "$pid" 2>/dev/null || { echo "soak: the server died: $(tail -n 20 "$tmp/err")"; rc=1; }
grep -E '\b(ERROR|error)\b' "$tmp/err" | head -n 10 || true
exit $rc
