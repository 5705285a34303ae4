#!/usr/bin/env bash
# What business alert rules cost the writes they watch (issue #16).
#
#   bench/alerts.sh BRISK_BINARY          (use a release build: make release)
#
# Two servers side by side over the same data (SCALE, default 10: about
# 100k costs): one without rules, one with RULES (default 100) rules on the
# org, over every figure (none fires: the cost measured is evaluation, not
# delivery). Alternately for each (ROUNDS times, default 3), in one run:
#   - a sync import of costs.csv through POST /api/v1/import/costs
#     (the same file each round, its ids prefixed by the round: all new rows)
#   - WRITES (default 300) single-row POST /api/v1/costs, one at a time
# Prints the medians per server and the ratios (target: import +<5 %,
# single-row write +<1 ms), and how long one evaluation of all the rules
# takes (from `brisk alert check`).
set -euo pipefail

brisk=$(readlink -f "${1:?usage: bench/alerts.sh BRISK_BINARY}")
scale=${SCALE:-10}
rules=${RULES:-100}
rounds=${ROUNDS:-3}
writes=${WRITES:-300}
end=2026-10-31
tmp=$(mktemp -d /tmp/brisk-alerts-bench.XXXXXX)
. "$(dirname "$0")/lib/common.sh"

"$brisk" gen --scale "$scale" --seed 42 --end "$end" --out "$tmp/csv" >&2
rows=$(($(wc -l <"$tmp/csv/costs.csv") - 1))

start() { # DIR -> port in $port, pid appended
	"$brisk" serve --data "$1" --port 0 --set tasks.async_import_bytes=4g --set server.max_body=4g \
		--set notify.tick_seconds=3600 >"$1.out" 2>"$1.err" &
	pids+=($!)
	for _ in $(seq 100); do
		port=$(sed -nE 's/.*listening on http:\/\/[0-9.]+:([0-9]+)\/.*/\1/p' "$1.out")
		[ -n "$port" ] && return 0
		sleep 0.1
	done
	echo "alerts.sh: the server in $1 did not start: $(cat "$1.err")" >&2
	exit 1
}

for side in plain rules; do
	d=$tmp/$side
	for k in invoices payments; do "$brisk" import "$k" "$tmp/csv/$k.csv" --org acme --data "$d" -q >&2; done
	echo "$("$brisk" token create --org acme --data "$d")" >"$d.token"
done
figs=($("$brisk" alert figures --org acme --data "$tmp/rules" | awk '{print $1}'))
for i in $(seq "$rules"); do
	f=${figs[$((i % ${#figs[@]}))]}
	"$brisk" alert add --org acme --data "$tmp/rules" --figure "$f" --op '<' --threshold -999999999 \
		--name "rule $i" >/dev/null
done
t0=$(date +%s%N)
"$brisk" alert check --org acme --data "$tmp/rules" >/dev/null
eval_ms=$(( ($(date +%s%N) - t0) / 1000000 ))

start "$tmp/plain"; port_plain=$port
start "$tmp/rules"; port_rules=$port

node - "$tmp" "$rounds" "$writes" "$port_plain" "$port_rules" "$rows" <<'JS'
const [tmp, rounds, writes, pPlain, pRules, rows] = process.argv.slice(2);
const fs = require('fs');
const lines = fs.readFileSync(`${tmp}/csv/costs.csv`, 'utf8').trimEnd().split('\n');
const csvOf = (r) => [lines[0], ...lines.slice(1).map((l) => `r${r}-${l}`)].join('\n') + '\n';
const tok = { plain: fs.readFileSync(`${tmp}/plain.token`, 'utf8').trim(), rules: fs.readFileSync(`${tmp}/rules.token`, 'utf8').trim() };
const port = { plain: pPlain, rules: pRules };
const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };
const res = { plain: { imp: [], w: [] }, rules: { imp: [], w: [] } };
(async () => {
  for (let r = 0; r < Number(rounds); r++) {
    for (const side of ['plain', 'rules']) {
      const h = { authorization: `Bearer ${tok[side]}` };
      let t = performance.now();
      const body0 = csvOf(r);
      t = performance.now();
      const imp = await fetch(`http://127.0.0.1:${port[side]}/api/v1/import/costs`, { method: 'POST', headers: { ...h, 'content-type': 'text/csv' }, body: body0 });
      const body = await imp.text();
      if (imp.status !== 200) throw new Error(`import: ${imp.status} ${body.slice(0, 300)}`);
      res[side].imp.push(performance.now() - t);
      for (let i = 0; i < Number(writes); i++) {
        t = performance.now();
        const w = await fetch(`http://127.0.0.1:${port[side]}/api/v1/costs`, { method: 'POST', headers: { ...h, 'content-type': 'application/json' },
          body: JSON.stringify({ id: `w${r}-${i}`, date: '2026-10-30', category: 'Bench', amount: 100 + i }) });
        await w.text();
        if (w.status !== 200) throw new Error(`write: ${w.status}`);
        res[side].w.push(performance.now() - t);
      }
    }
  }
  const ip = med(res.plain.imp), ir = med(res.rules.imp), wp = med(res.plain.w), wr = med(res.rules.w);
  console.log(`import of ${rows} costs (sync, median of ${rounds}): no rules ${(ip / 1000).toFixed(2)} s, with rules ${(ir / 1000).toFixed(2)} s: ${(((ir / ip) - 1) * 100).toFixed(1)} % (target < 5 %)`);
  console.log(`single-row write (median of ${res.plain.w.length}): no rules ${wp.toFixed(3)} ms, with rules ${wr.toFixed(3)} ms: ${(wr - wp).toFixed(3)} ms added (target < 1 ms)`);
})().catch((e) => { console.error(e.message); process.exit(1); });
JS
echo "one evaluation of all $rules rules (brisk alert check, whole process): $eval_ms ms; load $(uptime | sed 's/.*load average: \([^,]*\),.*/\1/')"
