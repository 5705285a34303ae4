// The soak load (run by bench/soak.sh): CONNECTIONS clients in a loop of
// mixed reads (every dashboard view, lists, varying ranges so the cache both
// hits and misses), JSON row writes, small CSV imports, and one
// reconciliation and one export task at a time. Writes reuse a bounded set
// of ids (upserts), so the store stops growing and memory must too. Prints a
// line per minute: requests, 5xx, the server's RSS and open descriptors.
// Exits 1 on any 5xx or a failed task, or when memory (the heap besides the
// L1 cache when its size is known, else RSS) or descriptors grow in the
// second half of the run (the first is warm-up) beyond the tolerance.
// Usage: node bench/soak.mjs BASE_URL TOKEN SERVER_PID SECONDS CONNECTIONS [OPERATOR_TOKEN [DATA_DIR]]
// (with an operator's token, each minute's line also gives the L1 cache's
// size; with the data directory, the sizes of brisk.db and its WAL)
import { readFileSync, readdirSync, statSync } from 'node:fs';

const [base, token, pid, seconds = '600', conns = '64', opToken, dataDir] = process.argv.slice(2);
const SECONDS = Number(seconds), CONNS = Number(conns);
const H = { authorization: `Bearer ${token}` };
const JSONH = { ...H, 'content-type': 'application/json' };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// VmRSS is anonymous memory (the heap: L1, SQLite's page caches, buffers)
// plus file pages mapped in (brisk.db through mmap, the binary): the second
// is bounded by the files' sizes and the kernel may drop it at any time, so
// growth is judged on both and reported apart.
const status = () => readFileSync(`/proc/${pid}/status`, 'utf8');
const kib = (txt, field) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(txt)[1]) * 1024;
const rss = () => { const t = status(); return { rss: kib(t, 'VmRSS'), anon: kib(t, 'RssAnon'), file: kib(t, 'RssFile') + kib(t, 'RssShmem') }; };
const fds = () => readdirSync(`/proc/${pid}/fd`).length;

const stats = { req: 0, s5xx: 0, s4xx: 0, s429: 0, byKind: {}, tasks: { ok: 0, failed: 0 }, errors: [] };
function note(kind, status, detail) {
  stats.req++;
  const k = (stats.byKind[kind] ||= { n: 0, bad: 0 });
  k.n++;
  if (status >= 500 || status === 0) {
    stats.s5xx++;
    k.bad++;
    if (stats.errors.length < 20) stats.errors.push(`${kind} ${status} ${String(detail).slice(0, 200)}`);
  } else if (status === 429) {
    stats.s429++;
  } else if (status >= 400) {
    stats.s4xx++;
    if (stats.errors.length < 20) stats.errors.push(`${kind} ${status} ${String(detail).slice(0, 200)}`);
  }
}

// A client that honours Retry-After, as a well-behaved one does: after a
// 429 (a rate limit) or a 503 (shed) it waits as long as told before its
// next request. The 503 still counts as a failure of the soak.
async function call(kind, path, opts = {}) {
  try {
    const r = await fetch(base + path, { ...opts, headers: opts.headers || H });
    const text = await r.text();
    note(kind, r.status, r.status >= 400 ? text : '');
    const wait = Number(r.headers.get('retry-after'));
    if ((r.status === 429 || r.status === 503) && wait > 0) await sleep(Math.min(wait, 30) * 1000);
    return { status: r.status, text };
  } catch (e) {
    note(kind, 0, e.cause?.code || e.message);
    return { status: 0, text: '' };
  }
}

const day = (d) => `2026-${String(1 + (d % 10)).padStart(2, '0')}-${String(1 + (d % 28)).padStart(2, '0')}`;
function readPath(i) {
  const a = day(i % 97), b = '2026-10-31';
  const views = [`/api/v1/overview?from=2026-01-01&to=${b}`, `/api/v1/dashboard?from=2025-11-01&to=${b}&interval=month`,
    `/api/v1/cashflow?from=${a < b ? a : '2026-01-01'}&to=${b}&interval=week`, `/api/v1/top-customers?from=2026-01-01&to=${b}&top=10`,
    '/api/v1/aging', `/api/v1/breakdown?of=costs&by=category&from=2026-01-01&to=${b}`, `/api/v1/leads/summary?from=2026-01-01&to=${b}`, '/api/v1/dso',
    '/api/v1/costs?limit=100', '/api/v1/invoices?status=open&limit=50', `/api/v1/payments?from=${a < b ? a : '2026-01-01'}&limit=50`,
    '/api/v1/match/proposals', '/healthz', `/api/v1/payment-behaviour?from=2025-11-01&to=${b}`];
  return views[i % views.length];
}

function importCsv(i) {
  const rows = ['id,date,category,vendor,amount'];
  for (let j = 0; j < 200; j++) rows.push(`SOAK-I${(i * 200 + j) % 4000},${day(j)},Soak ${j % 7},Vendor ${j % 31},${(j % 900) + 1}.${String(j % 100).padStart(2, '0')}`);
  return rows.join('\n') + '\n';
}

let stop = false, n = 0;
async function client(c) {
  while (!stop) {
    const i = n++;
    const r = i % 20;
    if (r === 5 || r === 15) {
      const id = `SOAK-W${i % 5000}`;
      await call('write', '/api/v1/costs', { method: 'POST', headers: JSONH,
        body: JSON.stringify({ id, date: day(i), category: `Soak ${c % 9}`, vendor: `Client ${c}`, amount: `${(i % 5000) + 1}.50` }) });
    } else if (r === 10 && i % 100 === 10) {
      await call('import', '/api/v1/import/costs', { method: 'POST', headers: { ...H, 'content-type': 'text/csv' }, body: importCsv(i) });
    } else {
      await call('read', readPath(i));
    }
  }
}

// One reconciliation and one export at a time, each started again when done.
async function tasker(kind, params) {
  while (!stop) {
    const r = await call(`task:${kind}`, '/api/v1/tasks', { method: 'POST', headers: JSONH, body: JSON.stringify({ kind, params }) });
    if (r.status !== 202) { await sleep(1000); continue; }
    const id = JSON.parse(r.text).id;
    for (;;) {
      await sleep(500);
      const g = await call('read', `/api/v1/tasks/${id}`);
      if (g.status !== 200) break;
      const t = JSON.parse(g.text);
      if (['succeeded', 'failed', 'cancelled', 'interrupted'].includes(t.status)) {
        if (t.status === 'succeeded') stats.tasks.ok++;
        else { stats.tasks.failed++; stats.errors.push(`${kind} task ${id} ${t.status}: ${t.error}`); }
        if (t.status === 'succeeded' && t.file_name) await call('read', `/api/v1/tasks/${id}/result`);
        break;
      }
    }
    await sleep(2000);
  }
}

// brisk.db and its WAL (a WAL that only grows: checkpoints starved by readers).
const fileMiB = (f) => { try { return (statSync(`${dataDir}/${f}`).size / 1048576).toFixed(1); } catch { return '-'; } };
const dbSizes = () => (dataDir ? `, db ${fileMiB('brisk.db')} MiB, WAL ${fileMiB('brisk.db-wal')} MiB` : '');

// The L1 cache's bytes and budget (null without an operator's token).
async function l1() {
  if (!opToken) return null;
  try {
    const r = await fetch(`${base}/api/v1/cache/stats`, { headers: { authorization: `Bearer ${opToken}` } });
    return r.ok ? (await r.json()).data.l1 : null;
  } catch { return null; }
}

const t0 = Date.now();
const samples = [];
let lastReq = 0;
async function sample(minute) {
  const s = { minute, ...rss(), fds: fds(), req: stats.req - lastReq, s5xx: stats.s5xx, s429: stats.s429, tasks: stats.tasks.ok };
  lastReq = stats.req;
  samples.push(s);
  const c = await l1();
  if (c) Object.assign(s, { l1: c.bytes, l1max: c.max_bytes });
  console.log(`minute ${String(minute).padStart(2)}: ${String(s.req).padStart(7)} requests (${(s.req / 60).toFixed(0)}/s), ` +
    `5xx so far ${s.s5xx}, 429 so far ${s.s429}, tasks done ${s.tasks}, RSS ${mib(s.rss)} MiB ` +
    `(anonymous ${mib(s.anon)}, files ${mib(s.file)})${c ? `, L1 ${mib(c.bytes)} of ${mib(c.max_bytes)} MiB` : ''}${dbSizes()}, fds ${s.fds}`);
}

const mib = (b) => (b / 1048576).toFixed(1);
const r0 = rss();
console.log(`soak: ${CONNS} connections for ${SECONDS} s against ${base} (server pid ${pid}); RSS ${mib(r0.rss)} MiB ` +
  `(anonymous ${mib(r0.anon)}), fds ${fds()} at the start`);
const load = Promise.all([...Array.from({ length: CONNS }, (_, c) => client(c)),
  tasker('match', {}), tasker('export', { entity: 'costs', format: 'csv' })]);
let minute = 0;
const timer = setInterval(() => sample(++minute), 60000);
await sleep(SECONDS * 1000);
stop = true;
clearInterval(timer);
// the last minute's line (its timer may lose the race with the stop)
if (!samples.length || samples[samples.length - 1].minute * 60 < SECONDS) await sample(+(SECONDS / 60).toFixed(1));
await load;

console.log(`total: ${stats.req} requests in ${((Date.now() - t0) / 1000).toFixed(0)} s; ` +
  Object.entries(stats.byKind).map(([k, v]) => `${k} ${v.n}${v.bad ? ` (${v.bad} bad)` : ''}`).join(', ') +
  `; 5xx ${stats.s5xx}, other 4xx ${stats.s4xx}; tasks ${stats.tasks.ok} succeeded, ${stats.tasks.failed} not`);
for (const e of stats.errors) console.log(`  ${e}`);

// Flat after warm-up: the caches (L1 cache.memory_bytes, SQLite's
// store.cache_mib per connection) fill for a while by design, so the first
// half of the run is warm-up; compare its last sample with the run's last.
let bad = stats.s5xx > 0 || stats.tasks.failed > 0;
if (samples.length >= 3) {
  const w = samples[Math.floor((samples.length - 1) / 2)], last = samples[samples.length - 1];
  const growth = (last.rss - w.rss) / w.rss, anonGrowth = (last.anon - w.anon) / w.anon;
  const tol = Number(process.env.SOAK_RSS_TOLERANCE || 0.15);
  const fdGrowth = last.fds - w.fds;
  const pct = (g) => `${g >= 0 ? '+' : ''}${(g * 100).toFixed(1)}%`;
  // With the L1's size known, the cache's own growth up to its budget is
  // not held against the run (at the default 64 MiB it fills for the whole
  // 10 minutes): what must stay flat is the heap besides it, and the L1
  // must stay within its budget.
  const known = w.l1 !== undefined && last.l1 !== undefined;
  const rest = (x) => x.anon - x.l1;
  const restGrowth = known ? (rest(last) - rest(w)) / rest(w) : anonGrowth;
  const overBudget = known && last.l1 > last.l1max * 1.05;
  console.log(`after warm-up (minute ${w.minute} -> ${last.minute}): RSS ${pct(growth)}, anonymous ${pct(anonGrowth)}` +
    (known ? `, anonymous besides the L1 ${mib(rest(w))} -> ${mib(rest(last))} MiB (${pct(restGrowth)}), L1 ${mib(w.l1)} -> ${mib(last.l1)} MiB` : '') +
    ` (tolerance ${tol * 100}%), fds ${fdGrowth >= 0 ? '+' : ''}${fdGrowth}`);
  if (overBudget) console.log(`the L1 holds ${mib(last.l1)} MiB, over its ${mib(last.l1max)} MiB budget`);
  if ((known ? restGrowth > tol : growth > tol || anonGrowth > tol) || overBudget || fdGrowth > 8) bad = true;
} else {
  console.log('too short to judge RSS and descriptors after warm-up (needs 3 minutes)');
}
console.log(bad ? 'soak: FAILED' : 'soak: ok');
process.exit(bad ? 1 : 0);
