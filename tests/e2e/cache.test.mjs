// The response cache end to end (issue 4): freshness under concurrent writes,
// single-flight, parameter normalisation, L2 on a real redis-server (two
// instances, Redis killed and restarted mid-test), L3 across a restart, the
// stale fallback when the store cannot be read, per-org clearing, warming.
//
// Every block has its own data set and server(s): counters in
// /api/v1/cache/stats are compared before and after, so nothing else may
// run against the same process. Background warming (after start and after
// each write) also computes views; `quiet()` waits for it to finish.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { spawn, execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { writeFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { BIN, dataset, startServer, api, token, operatorToken, cleanup, SQLITE_ONLY } from './lib/harness.mjs';
import { startRedis, redisBinary } from './lib/redis.mjs';

const execFileP = promisify(execFile);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---- helpers ----

// One GET with its cache headers; a server that died on the way is
// reported with its sanitizer output.
async function get(srv, tok, pathq, headers = {}) {
  let r;
  try {
    r = await api(srv, tok, pathq, { headers });
  } catch (e) {
    await sleep(200); // let a crashing server finish its report
    if (srv.child.exitCode !== null || srv.child.signalCode !== null)
      throw new Error(`the server on ${srv.port} died during GET ${pathq}:\n${errTail(srv)}`);
    throw e;
  }
  return {
    status: r.status,
    xcache: r.headers.get('x-cache'),
    etag: r.headers.get('etag'),
    stale: r.headers.get('x-brisk-stale'),
    warning: r.headers.get('warning'),
    text: r.text,
    json: r.json,
    data: r.json?.data,
  };
}

async function ok(srv, tok, pathq) {
  const r = await get(srv, tok, pathq);
  assert.equal(r.status, 200, `${pathq}: ${r.text}`);
  return r;
}

// cash_out of a view answer: overview, dashboard (its overview), cashflow (sum of outflows).
function cashOut(pathq, data) {
  if (pathq.startsWith('/api/v1/dashboard')) return data.overview.cash_out;
  if (pathq.startsWith('/api/v1/cashflow')) return data.buckets.reduce((a, b) => a + b.outflow, 0);
  return data.cash_out;
}

// The interesting part of a server's stderr: a sanitizer report from its
// start, else the tail.
function errTail(s) {
  const e = s.stderr();
  const i = e.search(/==\d+==ERROR: |runtime error: /);
  return i >= 0 ? e.slice(Math.max(0, e.lastIndexOf('\n', i - 300)), i + 2500) : e.slice(-2500);
}

// Stops servers; one that died on its own (or exits non-zero) is reported
// with its stderr.
async function stopAll(...srvs) {
  for (const s of srvs) {
    if (!s) continue;
    const died = s.child.exitCode !== null || s.child.signalCode !== null;
    const code = await s.stop();
    if (died || code !== 0) console.log(`server on ${s.port} ${died ? 'had died' : 'exited'} (${code}):\n${errTail(s)}`);
  }
}

// The cache's statistics are server-wide: an operator's (one per data dir).
const operators = new Map();
async function stats(srv, tok) {
  const data = srv.data;
  if (!operators.has(data)) operators.set(data, operatorToken(data));
  return (await ok(srv, operators.get(data), '/api/v1/cache/stats')).data;
}

// Waits until background warming is over: `computed` unchanged over three
// polls 250 ms apart (at most 30 s).
async function quiet(srv, tok) {
  let last = -1, same = 0;
  const deadline = Date.now() + 30000;
  while (Date.now() < deadline) {
    const s = await stats(srv, tok);
    if (s.computed === last) {
      if (++same >= 3) return s;
    } else {
      same = 0;
      last = s.computed;
    }
    await sleep(250);
  }
  throw new Error('warming never went quiet');
}

// A GET on its own connection (no pooling): for bursts that must really be
// concurrent.
function rawGet(srv, tok, pathq) {
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: '127.0.0.1', port: srv.port, method: 'GET', path: pathq, agent: false,
      headers: { authorization: `Bearer ${tok}` },
    }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({
        status: res.statusCode, xcache: res.headers['x-cache'], etag: res.headers.etag,
        body: Buffer.concat(chunks).toString('utf8'),
      }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const postJson = (srv, tok, pathq, body) =>
  api(srv, tok, pathq, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

// One cost row through the API; resolves once the commit is acknowledged.
async function postCost(srv, tok, id, date, cents) {
  const r = await postJson(srv, tok, '/api/v1/costs', { id, date, category: 'Rent', amount: cents, vendor: 'cache-test' });
  assert.equal(r.status, 200, `POST cost ${id}: ${r.text}`);
  assert.equal(r.json.inserted + r.json.replaced, 1, r.text);
}

const money = (cents) => `${Math.trunc(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;

// One cost row through `brisk import` in another process, into the data dir
// the server is using; resolves when the process has exited (committed).
async function cliCost(dir, data, org, id, date, cents) {
  const file = path.join(dir, `${id}.csv`);
  writeFileSync(file, `id,date,category,amount,vendor\n${id},${date},Rent,${money(cents)},cache-test\n`);
  const { stdout } = await execFileP(BIN, ['import', 'costs', file, '--org', org, '--data', data]);
  assert.match(stdout, /inserted 1|replaced 1/, stdout);
}

// The stale-fallback tests need a store whose reads fail while the server
// runs. In WAL mode a writer never blocks readers, a `locking_mode=EXCLUSIVE`
// connection cannot get its lock while brisk holds the database open, and
// chmod does not affect open files. What does make every read fail is a
// process holding the WAL-index read-mark locks (bytes 123..127 of the
// -shm file, WAL_READ_LOCK(0..4)): SQLite then retries for about 10 s and
// gives up with SQLITE_PROTOCOL ("locking protocol"). This helper (python3,
// for fcntl) holds those locks until released: a fault injected at the
// file-lock level, nothing in brisk is mocked. Each failed read costs those
// 10 s, so these tests take about a minute.
const SHM_LOCKER = `
import fcntl, os, sys, time
fd = os.open(sys.argv[1] + '-shm', os.O_RDWR)
deadline = time.time() + 20
while True:
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 5, 123, os.SEEK_SET)
        break
    except OSError:
        if time.time() > deadline:
            print('busy', flush=True); sys.exit(1)
        time.sleep(0.005)
print('locked', flush=True)
sys.stdin.read()
`;

function python3() {
  for (const p of ['python3', '/usr/bin/python3']) {
    try {
      execFileSync(p, ['-c', 'import fcntl'], { stdio: 'ignore' });
      return p;
    } catch { /* next */ }
  }
  return null;
}

async function lockStoreReads(dbFile) {
  const py = python3();
  const child = spawn(py, ['-c', SHM_LOCKER, dbFile], { stdio: ['pipe', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      if (out.includes('locked')) resolve();
      if (out.includes('busy')) reject(new Error('could not lock the WAL index'));
    });
    child.on('exit', (c) => reject(new Error(`locker exited ${c}`)));
  });
  return {
    async release() {
      if (child.exitCode !== null) return;
      const done = new Promise((r) => child.on('exit', r));
      child.stdin.end();
      await done;
    },
  };
}

const HAVE_REDIS = redisBinary() !== null;
const HAVE_PY = python3() !== null;

// ---- (a) freshness ----

describe('freshness: no read after a commit returns older figures', () => {
  let ds, srv;
  before(async () => {
    ds = dataset({ scale: 0.2, seed: 11 });
    operators.set(ds.data, operatorToken(ds.data));
    srv = await startServer(ds.data);
  });
  after(async () => {
    await stopAll(srv);
    if (ds) cleanup(ds.root);
  });

  test('concurrent API writes, CLI imports and reads of four views', async () => {
    const VIEWS = [
      '/api/v1/overview',
      '/api/v1/overview?from=2026-10-01&to=2026-10-31',
      '/api/v1/dashboard',
      '/api/v1/cashflow?from=2026-10-01&to=2026-10-31&interval=week',
    ];
    await quiet(srv, ds.token);
    const base = {};
    for (const v of VIEWS) base[v] = cashOut(v, (await ok(srv, ds.token, v)).data);

    let committed = 0; // sum of the writes acknowledged so far
    let issued = 0; // sum of the writes sent so far
    let writersDone = false;
    const violations = [];
    const sources = {};
    let reads = 0;

    const apiWriter = async (w, n) => {
      for (let i = 0; i < n; i++) {
        const cents = 100 + w * 1000 + i;
        issued += cents;
        await postCost(srv, ds.token, `FRESH-A${w}-${i}`, '2026-10-20', cents);
        committed += cents;
      }
    };
    const cliWriter = async (n) => {
      for (let i = 0; i < n; i++) {
        const cents = 50000 + i;
        issued += cents;
        await cliCost(ds.root, ds.data, ds.org, `FRESH-C${i}`, '2026-10-21', cents);
        committed += cents;
      }
    };
    const reader = async (k) => {
      let i = k;
      while (!writersDone) {
        const v = VIEWS[i++ % VIEWS.length];
        const floor = committed; // every write acknowledged before this read starts
        const r = await get(srv, ds.token, v);
        const ceil = issued;
        reads++;
        sources[r.xcache] = (sources[r.xcache] || 0) + 1;
        if (r.status !== 200 || r.stale) {
          violations.push(`${v}: ${r.status} stale=${r.stale} ${r.text.slice(0, 200)}`);
          continue;
        }
        const delta = cashOut(v, r.data) - base[v];
        if (delta < floor || delta > ceil)
          violations.push(`${v}: cash_out moved by ${delta}, expected between ${floor} (committed before the read) and ${ceil} (X-Cache ${r.xcache})`);
      }
    };

    const writers = Promise.all([apiWriter(0, 40), apiWriter(1, 40), cliWriter(6)]).finally(() => { writersDone = true; });
    await Promise.all([writers, reader(0), reader(1), reader(2), reader(3)]);
    assert.deepEqual(violations, [], `${violations.length} of ${reads} reads saw older figures`);
    assert.ok(reads >= 100, `only ${reads} reads ran during the writes`);
    assert.ok((sources['HIT-L1'] || 0) > 0, `no read was an L1 hit: ${JSON.stringify(sources)}`);
    // and after the last write, every view has every write
    for (const v of VIEWS) {
      const r = await ok(srv, ds.token, v);
      assert.equal(cashOut(v, r.data) - base[v], committed, `${v} after the writes`);
    }
    console.log(`freshness: ${reads} reads, X-Cache ${JSON.stringify(sources)}`);
  });
});

// ---- (b) single-flight, (c) normalisation, (g) per-org clearing ----

describe('one instance, memory only', () => {
  let ds, srv, beta;
  before(async () => {
    ds = dataset({ scale: 0.2, seed: 12 });
    operators.set(ds.data, operatorToken(ds.data));
    beta = token(ds.data, 'beta');
    srv = await startServer(ds.data);
    await postCost(srv, beta, 'B-1', '2026-10-02', 12345);
    await quiet(srv, ds.token);
  });
  after(async () => {
    await stopAll(srv);
    if (ds) cleanup(ds.root);
  });

  test('single-flight: 64 concurrent requests for a cold view compute it once', async () => {
    // Several rounds on distinct cold keys: a race between the L1 look-up
    // and joining the in-flight table would show as a second computation.
    const rounds = [
      '/api/v1/overview?from=2025-03-03&to=2025-09-17',
      '/api/v1/dashboard?from=2025-02-02&to=2026-02-01&interval=week&top=7',
      '/api/v1/cashflow?from=2024-11-05&to=2026-10-31&interval=day',
      '/api/v1/breakdown?of=costs&by=vendor&from=2025-01-09&to=2026-01-08&top=33',
      '/api/v1/dashboard?from=2024-12-01&to=2026-10-30&interval=day&top=50',
      '/api/v1/payment-behaviour?from=2025-05-05&to=2026-05-04',
    ];
    for (const pathq of rounds) {
      const cleared = await api(srv, ds.token, '/api/v1/cache', { method: 'DELETE' });
      assert.equal(cleared.status, 200, cleared.text);
      await quiet(srv, ds.token);
      const s0 = await stats(srv, ds.token);
      const rs = await Promise.all(Array.from({ length: 64 }, () => rawGet(srv, ds.token, pathq)));
      const s1 = await stats(srv, ds.token);
      const by = {};
      for (const r of rs) {
        assert.equal(r.status, 200, r.body);
        by[r.xcache] = (by[r.xcache] || 0) + 1;
      }
      assert.equal(s1.computed - s0.computed, 1, `${pathq}: computed rose by ${s1.computed - s0.computed}; X-Cache ${JSON.stringify(by)}`);
      assert.equal(by.MISS, 1, `${pathq}: exactly one MISS: ${JSON.stringify(by)}`);
      for (const k of Object.keys(by)) assert.ok(['MISS', 'COALESCED', 'HIT-L1'].includes(k), `${pathq}: X-Cache ${k}`);
      assert.equal(new Set(rs.map((r) => r.body)).size, 1, 'every answer has the same bytes');
      assert.equal(new Set(rs.map((r) => r.etag)).size, 1, 'and the same ETag');
    }
  });

  test('parameter order, explicit defaults and spelling hit the same entry', async () => {
    const groups = [
      ['/api/v1/overview?from=2026-03-01&to=2026-05-31',
        '/api/v1/overview?to=2026-05-31&from=2026-03-01',
        '/api/v1/overview?from=2026-03-01&to=2026-05-31&as_of=2026-05-31&date=2026-05-31',
        '/api/v1/overview?date=2026-05-31&as_of=2026-05-31&to=2026-05-31&from=2026-03-01',
        '/api/v1/overview?from=2026%2D03%2D01&to=%32026-05-31'],
      ['/api/v1/dashboard?from=2026-01-01&to=2026-06-30',
        '/api/v1/dashboard?top=10&interval=month&to=2026-06-30&from=2026-01-01',
        '/api/v1/dashboard?from=2026-01-01&to=2026-06-30&as_of=2026-06-30&date=2026-06-30&interval=month&top=10',
        '/api/v1/dashboard?from=2026-01-01&to=2026-06-30&top=010'],
      // the defaults themselves: the 365 days ending today (2026-10-31)
      ['/api/v1/cashflow?from=2025-07-01&to=2025-12-31&interval=week',
        '/api/v1/cashflow?interval=week&to=2025-12-31&from=2025-07-01'],
      ['/api/v1/leads/summary?to=2026-04-30&from=2026-04-01',
        '/api/v1/leads/summary?from=2026-04-01&date=2026-04-30&to=2026-04-30'],
      ['/api/v1/breakdown?of=sales&by=status&from=2025-12-01&to=2026-02-28',
        '/api/v1/breakdown?by=status&to=2026-02-28&of=sales&top=10&from=2025-12-01'],
    ];
    for (const g of groups) {
      const first = await ok(srv, ds.token, g[0]);
      assert.equal(first.xcache, 'MISS', `${g[0]} was asked for the first time`);
      for (const p of g.slice(1)) {
        const r = await ok(srv, ds.token, p);
        assert.equal(r.etag, first.etag, `${p} has the ETag of ${g[0]}`);
        assert.equal(r.xcache, 'HIT-L1', `${p} is an L1 hit on the entry of ${g[0]}`);
        assert.equal(r.text, first.text);
      }
    }
    // today's defaults, spelled out, are the entry the warmer filled
    const def = await ok(srv, ds.token, '/api/v1/dashboard');
    const spelled = await ok(srv, ds.token, '/api/v1/dashboard?from=2025-11-01&to=2026-10-31&interval=month&top=10&as_of=2026-10-31&date=2026-10-31');
    assert.equal(spelled.etag, def.etag);
    assert.equal(spelled.xcache, 'HIT-L1');
    // and a different value is a different entry
    const other = await ok(srv, ds.token, '/api/v1/dashboard?from=2026-01-01&to=2026-06-30&top=9');
    assert.notEqual(other.etag, (await ok(srv, ds.token, '/api/v1/dashboard?from=2026-01-01&to=2026-06-30')).etag);
    assert.equal(other.xcache, 'MISS');
  });

  test('DELETE /api/v1/cache clears the caller\'s organisation only', async () => {
    const V = ['/api/v1/overview?from=2026-08-01&to=2026-08-31', '/api/v1/aging?as_of=2026-09-30', '/api/v1/dashboard'];
    for (const t of [ds.token, beta]) for (const v of V) await ok(srv, t, v);
    await quiet(srv, ds.token);
    for (const t of [ds.token, beta]) for (const v of V) assert.equal((await ok(srv, t, v)).xcache, 'HIT-L1', v);
    const before1 = await stats(srv, ds.token);
    const d = await api(srv, ds.token, '/api/v1/cache', { method: 'DELETE' });
    assert.equal(d.status, 200, d.text);
    assert.ok(d.json.data.cleared >= V.length, `cleared ${d.json.data.cleared}`);
    const after1 = await stats(srv, ds.token);
    assert.ok(after1.l1.entries < before1.l1.entries);
    for (const v of V) {
      assert.equal((await ok(srv, beta, v)).xcache, 'HIT-L1', `beta's ${v} survives acme's clear`);
      assert.notEqual((await ok(srv, ds.token, v)).xcache, 'HIT-L1', `acme's ${v} was cleared`);
    }
    await quiet(srv, ds.token);
    const d2 = await api(srv, beta, '/api/v1/cache', { method: 'DELETE' });
    assert.ok(d2.json.data.cleared >= V.length);
    for (const v of V) {
      assert.equal((await ok(srv, ds.token, v)).xcache, 'HIT-L1', `acme's ${v} survives beta's clear`);
      assert.notEqual((await ok(srv, beta, v)).xcache, 'HIT-L1', `beta's ${v} was cleared`);
    }
  });
});

// ---- (d) L2 on a real redis-server ----

describe('L2: two instances on one redis-server', { skip: !HAVE_REDIS && 'redis-server is not installed (apt-get install -y redis-server)' }, () => {
  let ds, redis, A, B;
  before(async () => {
    ds = dataset({ scale: 0.2, seed: 13 });
    operators.set(ds.data, operatorToken(ds.data));
    redis = await startRedis();
    A = await startServer(ds.data, [], { REDIS_URL: redis.url });
    B = await startServer(ds.data, [], { REDIS_URL: redis.url });
    await quiet(A, ds.token);
    await quiet(B, ds.token);
  });
  after(async () => {
    await stopAll(A, B);
    if (redis) await redis.stop();
    if (ds) cleanup(ds.root);
  });

  test('an entry computed by A is an L2 hit on B', async () => {
    for (const v of ['/api/v1/overview?from=2026-04-01&to=2026-04-30', '/api/v1/dashboard?from=2025-06-01&to=2026-05-31&interval=week']) {
      const s0 = await stats(B, ds.token);
      const a = await ok(A, ds.token, v);
      assert.equal(a.xcache, 'MISS');
      const b = await ok(B, ds.token, v);
      assert.equal(b.xcache, 'HIT-L2', v);
      assert.equal(b.etag, a.etag);
      assert.equal(b.text, a.text);
      const s1 = await stats(B, ds.token);
      assert.equal(s1.computed, s0.computed, 'B computed nothing');
      assert.ok(s1.l2.hits > s0.l2.hits);
      assert.equal(s1.l2.up, true);
      // promoted to B's L1
      assert.equal((await ok(B, ds.token, v)).xcache, 'HIT-L1');
    }
  });

  test('a write through A is seen by the next read through B', async () => {
    const views = ['/api/v1/overview?from=2026-10-01&to=2026-10-31', '/api/v1/dashboard', '/api/v1/overview'];
    const base = {};
    for (const v of views) base[v] = cashOut(v, (await ok(B, ds.token, v)).data);
    let sum = 0;
    for (let i = 0; i < 10; i++) {
      const cents = 700 + i;
      await postCost(A, ds.token, `L2W-${i}`, '2026-10-22', cents);
      sum += cents;
      for (const v of views) {
        const r = await ok(B, ds.token, v);
        assert.equal(cashOut(v, r.data) - base[v], sum, `${v} on B after write ${i} through A (X-Cache ${r.xcache})`);
      }
    }
  });

  test('across instances a cold key is computed once (Redis lock)', async () => {
    const v = '/api/v1/dashboard?from=2025-01-15&to=2026-01-14&interval=day&top=20';
    await quiet(A, ds.token);
    await quiet(B, ds.token);
    const a0 = await stats(A, ds.token), b0 = await stats(B, ds.token);
    const rs = await Promise.all(Array.from({ length: 64 }, (_, i) => rawGet(i % 2 ? B : A, ds.token, v)));
    const a1 = await stats(A, ds.token), b1 = await stats(B, ds.token);
    const by = {};
    for (const r of rs) {
      assert.equal(r.status, 200);
      by[r.xcache] = (by[r.xcache] || 0) + 1;
    }
    const n = a1.computed - a0.computed + b1.computed - b0.computed;
    assert.equal(n, 1, `computed ${n} times across A and B; X-Cache ${JSON.stringify(by)}`);
    assert.equal(new Set(rs.map((r) => r.body)).size, 1);
  });

  test('different cold views on two instances do not wait for each other (the Redis lock is per key)', async () => {
    await quiet(A, ds.token);
    await quiet(B, ds.token);
    const a0 = await stats(A, ds.token), b0 = await stats(B, ds.token);
    // 16 distinct keys, 8 asked on each instance, all at once
    const asks = Array.from({ length: 16 }, (_, i) => [i % 2 ? B : A,
      `/api/v1/dashboard?from=2025-${String((i % 12) + 1).padStart(2, '0')}-1${i % 10}&to=2026-10-2${i % 9}&interval=week`]);
    const rs = await Promise.all(asks.map(([s, v]) => rawGet(s, ds.token, v)));
    const a1 = await stats(A, ds.token), b1 = await stats(B, ds.token);
    for (const r of rs) assert.equal(r.status, 200);
    // counted, not timed: a request that found another key's lock taken
    // adds to lock_waits (a loaded machine makes any duration meaningless)
    const waits = a1.l2.lock_waits - a0.l2.lock_waits + b1.l2.lock_waits - b0.l2.lock_waits;
    assert.equal(a1.computed - a0.computed + b1.computed - b0.computed, 16, 'each key computed once');
    assert.equal(waits, 0, 'no request waited for another key\'s computation');
  });

  test('Redis killed mid-test: every request still answers; restarted: L2 comes back', async () => {
    const warm = '/api/v1/top-customers?from=2026-01-01&to=2026-06-30&top=5'; // reads no costs
    await ok(A, ds.token, warm);
    await ok(B, ds.token, warm);
    await redis.kill('SIGKILL');
    // L1 hits, cold keys (L2 read, lock and write all fail), writes, reads of the write
    let sum = 0;
    const base = cashOut('/api/v1/overview?from=2026-09-01&to=2026-09-30',
      (await ok(B, ds.token, '/api/v1/overview?from=2026-09-01&to=2026-09-30')).data);
    const lw0 = (await stats(A, ds.token)).l2.lock_waits + (await stats(B, ds.token)).l2.lock_waits;
    for (let i = 0; i < 8; i++) {
      for (const s of [A, B]) {
        const w = await ok(s, ds.token, warm);
        assert.equal(w.xcache, 'HIT-L1');
        const c = await ok(s, ds.token, `/api/v1/overview?from=2026-01-${String(i + 1).padStart(2, '0')}&to=2026-03-31`);
        assert.ok(['MISS', 'HIT-L1'].includes(c.xcache), c.xcache);
      }
      await postCost(A, ds.token, `DOWN-${i}`, '2026-09-10', 300 + i);
      sum += 300 + i;
      const r = await ok(B, ds.token, '/api/v1/overview?from=2026-09-01&to=2026-09-30');
      assert.equal(r.data.cash_out - base, sum, 'B sees A\'s write with Redis down');
    }
    for (const s of [A, B]) {
      let st;
      for (let i = 0; i < 40; i++) {
        st = await stats(s, ds.token);
        if (!st.l2.up) break;
        await sleep(100);
      }
      assert.equal(st.l2.up, false, `stats show the outage: ${JSON.stringify(st.l2)}`);
      assert.ok(st.l2.outages >= 1, JSON.stringify(st.l2));
      assert.match(s.stderr(), /redis .* is unavailable/, 'the outage is logged');
    }
    // a cold key with Redis down is computed at once: nobody waited on a
    // lock (counted rather than timed)
    const lw1 = (await stats(A, ds.token)).l2.lock_waits + (await stats(B, ds.token)).l2.lock_waits;
    assert.equal(lw1, lw0, 'no request waited for the Redis lock while Redis was down');

    await redis.start();
    const t0 = Date.now();
    for (const [name, s] of [['A', A], ['B', B]]) {
      let st, i = 0;
      while (Date.now() - t0 < 15000) {
        // cold keys make the instance talk to Redis
        await ok(s, ds.token, `/api/v1/overview?from=2025-${String((i % 12) + 1).padStart(2, '0')}-0${(i % 9) + 1}&to=2026-10-${10 + (i % 19)}`);
        i++;
        st = await stats(s, ds.token);
        if (st.l2.up) break;
        await sleep(200);
      }
      assert.equal(st.l2.up, true, `${name}: L2 is back within 15 s of the restart: ${JSON.stringify(st.l2)}`);
      console.log(`L2 ${name} up again ${Date.now() - t0} ms after the restart: ${JSON.stringify(st.l2)}`);
    }
    // and it works: something A computes is served by B from Redis. A
    // worker thread whose connection died with the old server fails once
    // on it before reconnecting, so allow a few attempts.
    let got = null;
    for (let i = 0; i < 10 && got !== 'HIT-L2'; i++) {
      const v = `/api/v1/overview?from=2024-1${i % 3}-0${i + 1 <= 9 ? i + 1 : 9}&to=2025-0${(i % 9) + 1}-15`;
      assert.equal((await ok(A, ds.token, v)).xcache, 'MISS');
      got = (await ok(B, ds.token, v)).xcache;
    }
    assert.equal(got, 'HIT-L2', 'B reads what A computed once Redis is back');
  });
});

describe('L2: a stalled Redis', { skip: !HAVE_REDIS && 'redis-server is not installed (apt-get install -y redis-server)' }, () => {
  let ds, redis, A;
  before(async () => {
    ds = dataset({ scale: 0.2, seed: 17 });
    operators.set(ds.data, operatorToken(ds.data));
    redis = await startRedis();
    A = await startServer(ds.data, [], { REDIS_URL: redis.url });
    await quiet(A, ds.token);
  });
  after(async () => {
    await stopAll(A);
    if (redis) await redis.stop();
    if (ds) cleanup(ds.root);
  });

  // Redis is frozen (SIGSTOP) for as long as the requests take: it accepts
  // connections and answers nothing. Every request must still be answered
  // while it is frozen (a request that waited on Redis past the cache's
  // timeout would wait until the thaw: the guard below says so instead of
  // hanging), and the timeouts are counted. Nothing here is timed.
  test('a stalled Redis never holds a request: all are answered while it answers nothing', async () => {
    const warm = '/api/v1/aging?as_of=2026-09-30';
    await ok(A, ds.token, warm);
    const s0 = await stats(A, ds.token);
    redis.freeze();
    try {
      for (let i = 0; i < 6; i++) {
        for (const v of [warm, `/api/v1/overview?from=2025-0${i + 1}-11&to=2025-12-24`]) {
          let guard;
          const stuck = new Promise((resolve) => { guard = setTimeout(() => resolve('stuck'), 120000); });
          const r = await Promise.race([ok(A, ds.token, v), stuck]);
          clearTimeout(guard);
          assert.notEqual(r, 'stuck', `${v} waited on the frozen Redis`);
        }
      }
      const s1 = await stats(A, ds.token);
      assert.ok(s1.l2.errors > s0.l2.errors, `the timeouts are counted: ${JSON.stringify(s1.l2)}`);
    } finally {
      redis.thaw();
    }
    // thawed: L2 is used again
    let st;
    for (let i = 0; i < 60; i++) {
      await ok(A, ds.token, `/api/v1/overview?from=2025-0${(i % 9) + 1}-2${i % 10}&to=2025-12-2${i % 7}`);
      st = await stats(A, ds.token);
      if (st.l2.up) break;
      await sleep(250);
    }
    assert.equal(st.l2.up, true, JSON.stringify(st.l2));
  });
});

// ---- (e) L3 on disk across a restart ----

describe('L3: entries survive a restart', () => {
  let ds, srv, dir;
  before(() => {
    ds = dataset({ scale: 0.2, seed: 14 });
    operators.set(ds.data, operatorToken(ds.data));
    dir = path.join(ds.root, 'l3');
  });
  after(async () => {
    await stopAll(srv);
    if (ds) cleanup(ds.root);
  });

  test('the first request after a restart is an L3 hit, and a write still wins over it', async () => {
    const V = ['/api/v1/overview?from=2026-02-01&to=2026-02-28', '/api/v1/breakdown?of=costs&by=category&from=2025-10-01&to=2026-03-31&top=4'];
    // no warming on either server: it reads L3 in the background too (its
    // own views, and again on every outside commit it notices), which would
    // move the hit counts this test reads
    srv = await startServer(ds.data, ['--set', `cache.disk_dir=${dir}`, '--set', 'cache.warm=false']);
    const first = {};
    for (const v of V) {
      first[v] = await ok(srv, ds.token, v);
      assert.equal(first[v].xcache, 'MISS');
    }
    await quiet(srv, ds.token);
    const s = await stats(srv, ds.token);
    assert.equal(s.l3.enabled, true);
    assert.ok(s.l3.writes >= V.length && s.l3.entries >= V.length, JSON.stringify(s.l3));
    assert.ok(readdirSync(dir).filter((f) => f.endsWith('.brc')).length >= V.length);
    await srv.stop();

    srv = await startServer(ds.data, ['--set', 'cache.warm=false'], { BRISK_CACHE_DIR: dir });
    const s0 = await stats(srv, ds.token);
    assert.ok(s0.l3.entries >= V.length, `the restarted server counts the files: ${JSON.stringify(s0.l3)}`);
    for (const v of V) {
      const h0 = (await stats(srv, ds.token)).l3.hits;
      const r = await ok(srv, ds.token, v);
      assert.equal(r.xcache, 'HIT-L3', v);
      assert.equal(r.etag, first[v].etag);
      assert.equal(r.text, first[v].text);
      assert.equal((await stats(srv, ds.token)).l3.hits, h0 + 1);
      assert.equal((await ok(srv, ds.token, v)).xcache, 'HIT-L1', 'promoted to L1');
    }
    // a write makes the disk copy unreachable
    await postCost(srv, ds.token, 'L3-W', '2026-02-14', 4242);
    const r = await ok(srv, ds.token, V[0]);
    assert.notEqual(r.xcache, 'HIT-L3');
    assert.equal(r.data.cash_out, first[V[0]].data.cash_out + 4242);
  });
});

// ---- (f) stale fallback when the store cannot be read ----

describe('stale fallback: the store fails for reads', { skip: SQLITE_ONLY || (!HAVE_PY && 'python3 (for fcntl locks on the WAL index) is not installed') }, () => {
  let ds, srv, lock;
  before(async () => {
    ds = dataset({ scale: 0.2, seed: 15 });
    operators.set(ds.data, operatorToken(ds.data));
    // no warming: it would recompute the views after the outside commit
    // before the lock, and there would be nothing stale left to serve
    srv = await startServer(ds.data, ['--threads', '1', '--set', 'cache.warm=false']);
    await quiet(srv, ds.token);
  });
  after(async () => {
    if (lock) await lock.release();
    await stopAll(srv);
    if (ds) cleanup(ds.root);
  });

  // A commit by another process that the server has not looked at yet, then
  // the store becomes unreadable. The server cannot know the new data
  // versions; what it must not do is answer the pre-commit figures as a
  // fresh hit.
  test('a commit the server could not see is never answered with older figures as fresh', async () => {
    const V = '/api/v1/overview?from=2026-07-01&to=2026-07-31';
    const tok = token(ds.data, ds.org); // a fresh token: looked up (and cached) by the next request
    const before1 = await ok(srv, tok, V);
    await cliCost(ds.root, ds.data, ds.org, 'STALE-1', '2026-07-15', 77777);
    lock = await lockStoreReads(path.join(ds.data, 'brisk.db'));
    // The view waits on the locked store (up to the busy timeout, 5 s) on a
    // worker; the one event loop (--threads 1) must answer /healthz
    // meanwhile, so /healthz's answer comes before the view's. A moment
    // lets the view reach its worker first; should the machine be so slow
    // that the view ends before /healthz is even asked, the probe is
    // repeated (a loop that waited on the store would lose every time).
    let r, health, healthFirst = false;
    for (let attempt = 0; attempt < 3 && !healthFirst; attempt++) {
      let viewDone = false;
      const pending = get(srv, tok, V).finally(() => { viewDone = true; });
      await sleep(300);
      health = await api(srv, null, '/healthz');
      healthFirst = !viewDone;
      r = await pending;
    }
    await lock.release();
    lock = null;
    console.log(`locked store: ${V} answered ${r.status} X-Cache ${r.xcache} stale=${r.stale} cash_out=${r.data?.cash_out} ` +
      `(before the commit ${before1.data.cash_out}); /healthz answered ${healthFirst ? 'before' : 'after'} it`);
    const problems = [];
    if (r.status === 200 && r.stale !== 'true' && r.data.cash_out !== before1.data.cash_out + 77777)
      problems.push(`answered ${r.xcache} without X-Brisk-Stale, with the figures from before a committed write ` +
        `(cash_out ${r.data.cash_out}, committed ${before1.data.cash_out + 77777})`);
    if (health.status !== 200 || !healthFirst)
      problems.push(`/healthz (${health.status}) was answered after the view that waited on the store: the event loop waited on the store`);
    // once the store reads again, the figures are the new ones
    const after1 = await ok(srv, tok, V);
    if (after1.data.cash_out !== before1.data.cash_out + 77777 || after1.stale !== null)
      problems.push(`after the lock: cash_out ${after1.data.cash_out}, stale=${after1.stale}`);
    assert.deepEqual(problems, []);
  });

  test('a view whose data changed is answered from its last copy, marked stale', async () => {
    const V = '/api/v1/overview?from=2026-06-01&to=2026-06-30';
    const tok0 = token(ds.data, ds.org);
    const good = await ok(srv, tok0, V);
    assert.equal(good.stale, null);
    // a commit by another process, then any view request makes the server
    // read the new data versions: V's key now misses
    await cliCost(ds.root, ds.data, ds.org, 'STALE-2', '2026-06-15', 55555);
    const tok = token(ds.data, ds.org);
    await ok(srv, tok, '/api/v1/aging?as_of=2026-06-30');
    const s0 = await stats(srv, tok);
    lock = await lockStoreReads(path.join(ds.data, 'brisk.db'));
    const r = await get(srv, tok, V);
    await lock.release();
    lock = null;
    console.log(`locked store: ${V} answered ${r.status} X-Cache ${r.xcache} stale=${r.stale}: ${r.text.slice(0, 160)}`);
    assert.equal(r.status, 200, `the last good copy, not ${r.status}: ${r.text}`);
    assert.equal(r.xcache, 'STALE');
    assert.equal(r.stale, 'true');
    assert.match(r.warning || '', /^110 /);
    assert.equal(r.data.cash_out, good.data.cash_out, 'the last good copy');
    const s1 = await stats(srv, tok);
    assert.equal(s1.stale_served, s0.stale_served + 1);
    assert.ok(s1.compute_errors > s0.compute_errors);
    // the store reads again: fresh figures, not marked
    const fresh = await ok(srv, tok, V);
    assert.equal(fresh.stale, null);
    assert.equal(fresh.data.cash_out, good.data.cash_out + 55555);
  });
});

// ---- (h) warming ----

describe('warming after an import', () => {
  let ds, srv;
  before(async () => {
    ds = dataset({ scale: 0.2, seed: 16 });
    operators.set(ds.data, operatorToken(ds.data));
    srv = await startServer(ds.data);
    await quiet(srv, ds.token);
  });
  after(async () => {
    await stopAll(srv);
    if (ds) cleanup(ds.root);
  });

  const WARMED = ['/api/v1/dashboard', '/api/v1/overview', '/api/v1/cashflow?interval=month&from=2025-11-01&to=2026-10-31', '/api/v1/aging'];

  test('after an import through the API, the first views are L1 hits with the new figures', async () => {
    const asked = '/api/v1/overview?from=2026-05-01&to=2026-10-31'; // remembered demand
    const a0 = await ok(srv, ds.token, asked);
    assert.equal(a0.xcache, 'MISS');
    const base = (await ok(srv, ds.token, '/api/v1/overview?from=2025-11-01&to=2026-10-31')).data.cash_out;
    const s0 = await quiet(srv, ds.token);
    const r = await api(srv, ds.token, '/api/v1/import/costs', {
      method: 'POST', headers: { 'content-type': 'text/csv' },
      body: 'id,date,category,amount\nWARM-1,2026-10-05,Rent,55.55\n',
    });
    assert.equal(r.status, 200, r.text);
    const s1 = await quiet(srv, ds.token);
    assert.ok(s1.computed >= s0.computed + WARMED.length, `warming computed ${s1.computed - s0.computed} views`);
    for (const v of WARMED) {
      const w = await ok(srv, ds.token, v);
      assert.equal(w.xcache, 'HIT-L1', `${v} was warmed`);
    }
    assert.equal((await ok(srv, ds.token, '/api/v1/dashboard')).data.overview.cash_out, base + 5555);
    const a1 = await ok(srv, ds.token, asked);
    assert.equal(a1.xcache, 'HIT-L1', 'a combination users asked for is re-warmed');
    assert.equal(a1.data.cash_out, a0.data.cash_out + 5555);
  });

  test('after `brisk import` from the CLI while the server runs, the dashboard is warmed too', async () => {
    const base = (await ok(srv, ds.token, '/api/v1/overview?from=2025-11-01&to=2026-10-31&date=2026-10-30')).data.cash_out;
    const s0 = await quiet(srv, ds.token);
    await cliCost(ds.root, ds.data, ds.org, 'WARM-CLI', '2026-10-06', 4444);
    // give a background warmer ample time; nothing asks for the dashboard meanwhile
    await sleep(3000);
    const s1 = await quiet(srv, ds.token);
    const d = await ok(srv, ds.token, '/api/v1/dashboard');
    assert.equal(d.data.overview.cash_out, base + 4444, 'fresh figures in any case');
    assert.equal(d.xcache, 'HIT-L1',
      `the dashboard's first request after a CLI import was ${d.xcache}; warming computed ${s1.computed - s0.computed} views in 3 s after the import`);
  });
});
