#!/usr/bin/env bash
# Soak: a server left running under mixed load, to see that it stays healthy.
#
#   bench/soak.sh BRISK_BINARY          (a release build: make release; or make soak)
#
# Environment: SOAK_SECONDS (default 600), SOAK_CONNECTIONS (64), SCALE (5:
# the data set, generated and imported once into /tmp/brisk-bench-SCALE and
# reused), SOAK_WARMUP_MINUTES (3) and SOAK_RSS_TOLERANCE (0.10: after
# the warm-up every minute's memory must stay within +10% of the warm-up's
# last minute), # SOAK_SERVE_ARGS (more `brisk serve` arguments, e.g. smaller cache budgets:
# "--set cache.memory_bytes=8388608 --set store.cache_mib=4"). Not part of
# `make test` or `make bench` (it takes minutes).
#
# With an ASan build (build/asan/brisk) the server is stopped at the end and
# LeakSanitizer's report of what it still held, if any, is printed: a
# leak fails the run.
#
# bench/soak.mjs drives SOAK_CONNECTIONS clients of mixed reads (every view,
# lists, varying ranges), JSON row writes and small CSV imports (upserts over
# a bounded set of ids, so the store stops growing), with one reconciliation
# and one export task always under way. Prints a line per minute: requests,
# 5xx so far, the server's RSS, the L1 cache, the allocator's arenas (in use,
# free, mmapped: /metrics' brisk_heap_*) and open descriptors, then a
# PASS/FAIL line for memory and descriptors. Fails on any 5xx or failed
# task, or when memory (RSS besides the L1 cache, which may fill up to its
# budget) or descriptors grow after the warm-up.
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
# an operator's token, to read the L1 cache's size each minute (/api/v1/cache/stats)
"$brisk" user add soak-operator --org acme --role operator --no-password --data "$tmp/data" >/dev/null
optoken=$("$brisk" token create --user soak-operator --data "$tmp/data")
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$(cd "$(dirname "$0")/.." && pwd)/tests/lsan.supp:print_suppressions=0}
end=2026-10-31
# shellcheck disable=SC2086 # SOAK_SERVE_ARGS is a list of arguments
bench_serve "$tmp/data" ${SOAK_SERVE_ARGS:-}
echo "soak: $brisk on port $port, scale $scale, load average $(uptime | sed 's/.*load average: //')"
rc=0
node "$(dirname "$0")/soak.mjs" "http://127.0.0.1:$port" "$token" "$pid" "$seconds" "$conns" "$optoken" "$tmp/data" || rc=$?
echo "soak: load average at the end $(uptime | sed 's/.*load average: //')"
if kill -0 "$pid" 2>/dev/null; then
	# a graceful stop, so a sanitizer build reports what was never freed
	kill -TERM "$pid"
	wait "$pid" || { echo "soak: the server exited $? after SIGTERM"; rc=1; }
else
	echo "soak: the server died: $(tail -n 20 "$tmp/serve.err")"
	rc=1
fi
grep -E '\b(ERROR|error)\b' "$tmp/serve.err" | head -n 10 || true
if grep -qE 'ERROR: (LeakSanitizer|AddressSanitizer)|runtime error:' "$tmp/serve.err"; then
	grep -E -A 12 'ERROR: |runtime error:|^SUMMARY' "$tmp/serve.err" | head -n 80
	rc=1
fi
exit $rc
