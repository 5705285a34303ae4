// The soak load (run by bench/soak.sh): CONNECTIONS clients in a loop of
// mixed reads (every dashboard view, lists, varying ranges so the cache both
// hits and misses), JSON row writes, small CSV imports, and one
// reconciliation and one export task at a time. Writes reuse a bounded set
// of ids (upserts), so the store stops growing and memory must too. Prints a
// line per minute: requests, 5xx, the server's RSS, the L1 cache, the
// allocator's arenas (brisk_heap_* of /metrics) and open descriptors.
// Exits 1 on any 5xx or a failed task, or when memory (anonymous memory
// besides the L1 cache when its size is known, else anonymous memory) or
// descriptors grow after the warm-up beyond the tolerance (see the verdict
// at the end).
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

// The allocator's figures (brisk_heap_* of /metrics, glibc's mallinfo2):
// in use vs free in the arenas, and large chunks mapped one by one.
async function heap() {
  try {
    const r = await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${opToken || token}` } });
    if (!r.ok) return null;
    const h = {};
    const text = await r.text();
    for (const m of text.matchAll(/^brisk_heap_(\w+) (\S+)$/gm)) h[m[1]] = Number(m[2]);
    // SQLite's page caches: bounded by store.cache_mib per connection
    const pc = text.match(/^brisk_db_page_cache_bytes (\S+)$/m);
    h.page_cache_bytes = pc ? Number(pc[1]) : 0;
    return h.in_use_bytes === undefined ? null : h;
  } catch { return null; }
}

const t0 = Date.now();
const samples = [];
let lastReq = 0;
// Memory is probed every PROBE_MS and each minute reports the median of its
// probes: a single probe catches whatever large answers are in flight at
// that instant (several MiB with 64 connections), which would swamp a 10%
// band; a median keeps what stays. Descriptors: the minute's highest.
const PROBE_MS = 10000;
let probes = [];
async function probe() {
  const p = { ...rss(), fds: fds() };
  const [c, h] = await Promise.all([l1(), heap()]);
  if (h) p.heap = h;
  const pages = h ? h.page_cache_bytes : 0;
  if (c) Object.assign(p, { l1: c.bytes, l1max: c.max_bytes, pages, rest: p.anon - c.bytes - pages });
  probes.push(p);
}
const median = (xs) => { const v = [...xs].sort((x, y) => x - y); return v.length % 2 ? v[v.length >> 1] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2; };
async function sample(minute) {
  await probe();
  const ps = probes;
  probes = [];
  const med = (f) => median(ps.map(f));
  const s = { minute, rss: med((p) => p.rss), anon: med((p) => p.anon), file: med((p) => p.file), fds: Math.max(...ps.map((p) => p.fds)),
    req: stats.req - lastReq, s5xx: stats.s5xx, s429: stats.s429, tasks: stats.tasks.ok, probes: ps.length };
  lastReq = stats.req;
  samples.push(s);
  const c = ps.every((p) => p.l1 !== undefined), h = ps.every((p) => p.heap);
  if (c) Object.assign(s, { l1: med((p) => p.l1), l1max: ps[0].l1max, l1top: Math.max(...ps.map((p) => p.l1)), pages: med((p) => p.pages), rest: med((p) => p.rest) });
  if (h) s.heap = Object.fromEntries(Object.keys(ps[0].heap).map((k) => [k, med((p) => p.heap[k])]));
  const hp = s.heap;
  console.log(`minute ${String(minute).padStart(2)}: ${String(s.req).padStart(7)} requests (${(s.req / 60).toFixed(0)}/s), ` +
    `5xx so far ${s.s5xx}, 429 so far ${s.s429}, tasks done ${s.tasks}, RSS ${mib(s.rss)} MiB ` +
    `(anonymous ${mib(s.anon)}, files ${mib(s.file)})${c ? `, L1 ${mib(s.l1)} of ${mib(s.l1max)} MiB, SQLite page caches ${mib(s.pages)}, anonymous besides the caches ${mib(s.rest)}` : ''}` +
    `${hp ? `, heap arenas ${mib(hp.arena_bytes)} (in use ${mib(hp.in_use_bytes)}, free ${mib(hp.free_bytes)} in ${hp.free_chunks} chunks), mmapped ${mib(hp.mmap_bytes)}` : ''}` +
    `${dbSizes()}, fds ${s.fds} (medians of ${s.probes} probes)`);
}

const mib = (b) => (b / 1048576).toFixed(1);
const r0 = rss();
console.log(`soak: ${CONNS} connections for ${SECONDS} s against ${base} (server pid ${pid}); RSS ${mib(r0.rss)} MiB ` +
  `(anonymous ${mib(r0.anon)}), fds ${fds()} at the start`);
const load = Promise.all([...Array.from({ length: CONNS }, (_, c) => client(c)),
  tasker('match', {}), tasker('export', { entity: 'costs', format: 'csv' })]);
let minute = 0;
const prober = setInterval(() => { if (Date.now() - t0 < (minute + 1) * 60000 - PROBE_MS / 2) probe(); }, PROBE_MS);
const timer = setInterval(() => sample(++minute), 60000);
await sleep(SECONDS * 1000);
stop = true;
clearInterval(timer);
clearInterval(prober);
// the last minute's line (its timer may lose the race with the stop)
if (!samples.length || samples[samples.length - 1].minute * 60 < SECONDS) await sample(+(SECONDS / 60).toFixed(1));
await load;

console.log(`total: ${stats.req} requests in ${((Date.now() - t0) / 1000).toFixed(0)} s; ` +
  Object.entries(stats.byKind).map(([k, v]) => `${k} ${v.n}${v.bad ? ` (${v.bad} bad)` : ''}`).join(', ') +
  `; 5xx ${stats.s5xx}, other 4xx ${stats.s4xx}; tasks ${stats.tasks.ok} succeeded, ${stats.tasks.failed} not`);
for (const e of stats.errors) console.log(`  ${e}`);

// Flat after warm-up: from minute WARMUP on (SOAK_WARMUP_MINUTES, 3), every
// minute's memory must stay within the tolerance (SOAK_RSS_TOLERANCE, 10%)
// of that minute's. The L1 cache fills up to its budget (cache.memory_bytes)
// for as long as the run, by design, and so do SQLite's page caches (up to
// store.cache_mib per connection, as the working set is touched), so with
// their sizes known what must stay flat is the anonymous memory besides
// them (RssAnon - the L1's bytes - the page caches' bytes: the rest of the
// heap, the threads' stacks), and the L1 must stay within its budget;
// without them, RSS and anonymous memory themselves.
// Mapped file pages (brisk.db) are bounded by the file and not judged.
// Descriptors may not grow by more than 8.
let bad = stats.s5xx > 0 || stats.tasks.failed > 0;
const warm = Number(process.env.SOAK_WARMUP_MINUTES || 3);
const after = samples.filter((x) => x.minute >= warm);
if (after.length >= 2) {
  const w = after[0], last = after[after.length - 1];
  const tol = Number(process.env.SOAK_RSS_TOLERANCE || 0.10);
  const pct = (g) => `${g >= 0 ? '+' : ''}${(g * 100).toFixed(1)}%`;
  const known = after.every((x) => x.rest !== undefined);
  const judged = known ? (x) => x.rest : (x) => x.anon;
  const what = known ? 'anonymous memory besides the caches (L1, SQLite pages)' : 'anonymous memory';
  const worst = after.reduce((a, x) => (judged(x) > judged(a) ? x : a));
  const growth = (judged(worst) - judged(w)) / judged(w);
  const live = (x) => (x.heap ? x.heap.in_use_bytes + x.heap.mmap_bytes - (known ? x.l1 + x.pages : 0) : NaN);
  const fdGrowth = Math.max(...after.map((x) => x.fds)) - w.fds;
  console.log(`after warm-up (minute ${w.minute} -> ${last.minute}): ${what} ${mib(judged(w))} MiB at minute ${w.minute}, ` +
    `at most ${mib(judged(worst))} MiB (minute ${worst.minute}, ${pct(growth)}; tolerance +${(tol * 100).toFixed(0)}%), ` +
    `${mib(judged(last))} MiB at the end; RSS ${mib(w.rss)} -> ${mib(last.rss)} MiB` +
    (known ? `, L1 ${mib(w.l1)} -> ${mib(last.l1)} of ${mib(last.l1max)} MiB, SQLite page caches ${mib(w.pages)} -> ${mib(last.pages)} MiB` : '') +
    (w.heap && last.heap ? `; heap in use (arenas and mapped)${known ? ' besides the caches' : ''} ${mib(live(w))} -> ${mib(live(last))} MiB, ` +
      `free in the arenas ${mib(w.heap.free_bytes)} -> ${mib(last.heap.free_bytes)} MiB` : '') +
    `; fds at most ${fdGrowth >= 0 ? '+' : ''}${fdGrowth}`);
  const overBudget = known && after.some((x) => x.l1top > x.l1max * 1.05);
  if (overBudget) console.log(`the L1 went over its ${mib(last.l1max)} MiB budget`);
  const memOk = growth <= tol && !overBudget;
  console.log(`memory: ${memOk ? 'PASS' : 'FAIL'}; descriptors: ${fdGrowth <= 8 ? 'PASS' : 'FAIL'}`);
  if (!memOk || fdGrowth > 8) bad = true;
} else {
  console.log(`memory and descriptors not judged: too short (needs ${warm + 1} minutes)`);
}
console.log(bad ? 'soak: FAILED' : 'soak: ok');
process.exit(bad ? 1 : 0);
