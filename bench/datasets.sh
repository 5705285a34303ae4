#!/usr/bin/env bash
# Data sets (issue 13): 1M rows with dimensions of 10, 100 and 10,000 values
# and two measures (money, integer) over two years.
#  - import rows/s of `brisk dataset import` against `brisk import
#    sales_orders` of the same rows (id, date, customer, amount) in the same
#    run: the target is >= 0.8x;
#  - uncached two-year monthly series with one filter: p50 <= 5 ms;
#  - breakdown of the 10,000-value dimension over a year: p50 <= 20 ms
#    (uncached: each request differs by `top`); also over a ragged range;
#  - the server's peak RSS < 200 MB.
# usage: bench/datasets.sh BRISK_BINARY   (ROWS=1000000, BENCH_DIR=/tmp/brisk-bench-datasets, N=200 requests each)
set -euo pipefail
bin=$(readlink -f "${1:-build/release/brisk}")
rows=${ROWS:-1000000}
n=${N:-200}
work=${BENCH_DIR:-/tmp/brisk-bench-datasets}
mkdir -p "$work"
csv="$work/ds-$rows.csv" so="$work/so-$rows.csv"
if [ ! -f "$so" ]; then
  echo "generating $rows rows into $work"
  python3 - "$rows" "$csv" "$so" <<'PY'
import random, sys, datetime
n, ds, so = int(sys.argv[1]), sys.argv[2], sys.argv[3]
r = random.Random(42)
start = datetime.date(2025, 1, 1)
days = [(start + datetime.timedelta(d)).isoformat() for d in range(730)]
with open(ds, 'w') as a, open(so, 'w') as b:
    a.write('Order ID,Order Date,Region,Category,Customer,Sales,Quantity\n')
    b.write('id,date,customer,status,amount\n')
    for i in range(n):
        d = days[r.randrange(730)]
        cust = 'Customer %05d' % int(r.paretovariate(1.2) * 37 % 10000)
        cents = r.randrange(-5000, 500000)
        amt = '%s%d.%02d' % ('-' if cents < 0 else '', abs(cents) // 100, abs(cents) % 100)
        a.write('O%d,%s,Region %d,Category %02d,%s,%s,%d\n' % (i, d, r.randrange(10), r.randrange(100), cust, amt, r.randrange(1, 20)))
        b.write('O%d,%s,%s,completed,%s\n' % (i, d, cust, amt))
PY
fi
cat > "$work/def.json" <<'JSON'
{"name":"orders","time":{"column":"Order Date","grain":"day"},
 "dimensions":[{"name":"region","column":"Region"},{"name":"category","column":"Category"},{"name":"customer","column":"Customer"}],
 "measures":[{"name":"sales","column":"Sales","type":"money"},{"name":"qty","column":"Quantity","type":"integer"}],
 "key":["Order ID"]}
JSON
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
timed() { /usr/bin/time -o "$work/time.txt" -f '%e %M' "$@" >/dev/null 2>"$work/err.txt" || { cat "$work/err.txt"; exit 1; }; cat "$work/time.txt"; }
if [ -z "${SKIP_IMPORT:-}" ]; then # SKIP_IMPORT=1: query the store of the last run again
rm -rf "$work/data"
read -r be bm < <(timed "$bin" import sales_orders "$so" --org bench --data "$work/data" -q)
"$bin" dataset create --file "$work/def.json" --org bench --data "$work/data" >/dev/null
read -r de dm < <(timed "$bin" dataset import orders "$csv" --org bench --data "$work/data" -q)
printf 'import %d rows: built-in sales_orders %.1f s (%.0f rows/s, RSS %.0f MB); data set %.1f s (%.0f rows/s, RSS %.0f MB); ratio %.2f (target >= 0.8)\n' \
  "$rows" "$be" "$(echo "$rows / $be" | bc -l)" "$(echo "$bm / 1024" | bc -l)" "$de" "$(echo "$rows / $de" | bc -l)" \
  "$(echo "$dm / 1024" | bc -l)" "$(echo "$be / $de" | bc -l)"
fi
tok=$("$bin" token create --org bench --data "$work/data")
port=$((20000 + RANDOM % 20000))
"$bin" serve --data "$work/data" --port "$port" >"$work/serve.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
python3 - "$port" "$tok" "$n" "$pid" <<'PY'
import http.client, sys, time, datetime, os
port, tok, n, pid = int(sys.argv[1]), sys.argv[2], int(sys.argv[3]), sys.argv[4]
def cpu():  # the server's user + system CPU seconds: a figure a loaded machine disturbs less
    f = open('/proc/%s/stat' % pid).read().rsplit(')', 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf('SC_CLK_TCK')
c = http.client.HTTPConnection('127.0.0.1', port)
def run(name, paths, target):
    t = []
    c0 = cpu()
    for p in paths:
        s = time.perf_counter()
        c.request('GET', p, headers={'Authorization': 'Bearer ' + tok})
        r = c.getresponse(); body = r.read()
        t.append((time.perf_counter() - s) * 1000)
        assert r.status == 200, (p, r.status, body[:200])
        assert r.getheader('X-Cache') in ('MISS', None), (p, r.getheader('X-Cache'))
    t.sort()
    print('%-58s p50 %6.2f ms  p95 %6.2f ms  server CPU %5.2f ms/request  (target p50 <= %s ms, %d requests)' % (
        name, t[len(t) // 2], t[int(len(t) * .95)], (cpu() - c0) * 1000 / len(t), target, len(t)))
base = '/api/v1/datasets/orders/'
d0 = datetime.date(2025, 1, 1)
# distinct from dates (and filter values) so that every request misses the cache
run('series, 2 years monthly, one filter (uncached)',
    [base + 'series?interval=month&from=%s&to=%s&f.region=Region%%20%d' % (d0 + datetime.timedelta(k % 28), datetime.date(2026, 12, 31) - datetime.timedelta(k // 28), k % 10) for k in range(n)], 5)
run('breakdown by customer (10,000 values), year 2025 (uncached)',
    [base + 'breakdown?by=customer&from=2025-01-01&to=2025-12-31&top=%d' % (k % 1000 + 1) for k in range(n)], 20)
run('breakdown by customer, ragged 365 days (uncached)',
    [base + 'breakdown?by=customer&from=%s&to=%s' % (d0 + datetime.timedelta(3 + k), d0 + datetime.timedelta(367 + k)) for k in range(n)], '-')
run('totals, all data, one filter (uncached)',
    [base + 'totals?from=%s&to=2026-12-31&f.category=Category%%20%02d' % (d0 + datetime.timedelta(k % 30), k % 100) for k in range(n)], '-')
PY
echo "server peak RSS: $(awk '/VmHWM/ {printf "%.0f MB", $2/1024}' /proc/$pid/status) (target < 200 MB)"
