// Two instances on one PostgreSQL and no Redis (issue 11 item 4): a cold
// dashboard asked of both at once is computed once (the key's advisory
// lock; the other instance reads the answer from the store's shared cache
// table); the
// store is the task queue (pending tasks polled, each claimed under a
// session advisory lock that dies with its process), so every task is
// claimed exactly once whichever instance recorded it, and a task whose
// instance is SIGKILLed is taken over by the other and finished, every row
// once; a write acknowledged by one instance is in the next read through
// the other. Runs in the PostgreSQL pass: both instances are brisk-pg.sh
// over one data dir, hence one database of the pass's cluster.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { dataset, startServer, api, storeSql, cleanup, operatorToken, PG_URL } from './lib/harness.mjs';

const skip = PG_URL ? false : 'runs in the PostgreSQL pass of scripts/test.sh (on unless BRISK_TEST_PG=0): it needs a shared PostgreSQL store';
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const FINAL = ['succeeded', 'failed', 'cancelled', 'interrupted'];
const roots = [];
after(() => roots.forEach(cleanup));

async function waitFor(what, fn, ms = 180000) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

function bigPayments(n, prefix) {
  const lines = ['id,date,payer,amount,reference'];
  for (let i = 0; i < n; i++)
    lines.push(`${prefix}${i},2026-0${1 + (i % 9)}-${String(1 + (i % 28)).padStart(2, '0')},Payer ${i % 977} Ltd,${(i % 5000) + 1}.${String(i % 100).padStart(2, '0')},REF-${i}`);
  return lines.join('\n') + '\n';
}

// A GET on its own connection: bursts that are really concurrent.
function rawGet(srv, tok, pathq) {
  return new Promise((resolve, reject) => {
    const req = http.get(srv.base + pathq, { agent: false, headers: { authorization: `Bearer ${tok}` } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, xcache: res.headers['x-cache'] }));
    });
    req.on('error', reject);
  });
}

// The instance a task's owner ("host:pid:nonce") names.
const pidOf = (owner) => Number(owner.split(':')[1]);

test('two instances, one PostgreSQL, no Redis: fresh reads, tasks once, a dead instance\'s task taken over', { skip, timeout: 900000 }, async () => {
  const ds = dataset({ scale: 0.05, seed: 11 });
  roots.push(ds.root);
  const sql = (q) => storeSql(ds.data, q);
  const noRedis = { REDIS_URL: '' };
  // no background warming: the counts of computed answers are the test's
  const opts = ['--set', 'tasks.workers=1', '--set', 'cache.warm=false'];
  const servers = [await startServer(ds.data, opts, noRedis), await startServer(ds.data, opts, noRedis)];
  const [a, b] = servers;
  try {
    // Writes through a, reads through b at once.
    const q = '/api/v1/overview?from=2026-10-01&to=2026-10-31';
    let cashOut = (await api(b, ds.token, q)).json.data.cash_out;
    for (let i = 1; i <= 5; i++) {
      const w = await api(a, ds.token, '/api/v1/costs', {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: `INST-${i}`, date: '2026-10-20', category: 'Rent', amount: 100 * i }),
      });
      assert.equal(w.status, 200, w.text);
      cashOut += 100 * i;
      const o = await api(b, ds.token, q);
      assert.equal(o.status, 200, o.text);
      assert.equal(o.json.data.cash_out, cashOut, `write ${i} acknowledged by a, read through b`);
    }

    // A cold key asked of both at once: computed once, in all.
    const op = operatorToken(ds.data);
    const stats = async (s) => (await api(s, op, '/api/v1/cache/stats')).json.data;
    const v = '/api/v1/dashboard?from=2025-01-15&to=2026-01-14&interval=day&top=20';
    const a0 = await stats(a), b0 = await stats(b);
    assert.equal(a0.l2.enabled, true, `the store's shared tier: ${JSON.stringify(a0.l2)}`);
    const rs = await Promise.all(Array.from({ length: 32 }, (_, i) => rawGet(i % 2 ? b : a, ds.token, v)));
    const a1 = await stats(a), b1 = await stats(b);
    const by = {};
    for (const r of rs) {
      assert.equal(r.status, 200);
      by[r.xcache] = (by[r.xcache] || 0) + 1;
    }
    const n = a1.computed - a0.computed + b1.computed - b0.computed;
    assert.equal(n, 1, `computed ${n} times across a and b; X-Cache ${JSON.stringify(by)}`);
    assert.ok(by['HIT-L2'] >= 1, `the other instance read it from the shared tier: ${JSON.stringify(by)}`);

    // Tasks recorded on both instances: each runs once, on either.
    const ids = [];
    for (let i = 0; i < 8; i++) {
      const s = i % 2 ? b : a;
      const r = await api(s, ds.token, `/api/v1/import/payments?async=1`, {
        method: 'POST', headers: { 'content-type': 'text/csv' }, body: bigPayments(200, `ONCE${i}-`),
      });
      assert.equal(r.status, 202, r.text);
      ids.push(r.json.id);
    }
    for (const id of ids) {
      const t = await waitFor(`task ${id}`, async () => {
        const j = (await api(a, ds.token, `/api/v1/tasks/${id}`)).json;
        return FINAL.includes(j.status) && j;
      });
      assert.equal(t.status, 'succeeded', JSON.stringify(t));
      assert.equal(t.attempts, 1, `claimed once: ${JSON.stringify(t)}`);
    }
    for (let i = 0; i < 8; i++)
      assert.equal(Number(sql(`SELECT count(*) FROM payments WHERE id LIKE 'ONCE${i}-%'`)), 200, `import ${i}: every row once`);
    const owners = sql("SELECT DISTINCT owner FROM tasks WHERE kind = 'import' AND status = 'succeeded'").split('\n');
    console.log(`instances: 8 imports ran on ${new Set(owners.map(pidOf)).size} instance(s)`);

    // An import running on a is SIGKILLed: b takes it over and finishes it.
    const rows = 150000;
    const sub = await api(a, ds.token, '/api/v1/import/payments?async=1', {
      method: 'POST', headers: { 'content-type': 'text/csv' }, body: bigPayments(rows, 'KILL'),
    });
    assert.equal(sub.status, 202, sub.text);
    const id = sub.json.id;
    const owner = await waitFor('the import to run', () => sql("SELECT owner FROM tasks WHERE status = 'running' AND kind = 'import'") || null);
    const victim = pidOf(owner) === a.child.pid ? a : b;
    const survivor = victim === a ? b : a;
    const exited = new Promise((r) => victim.child.once('exit', r));
    victim.child.kill('SIGKILL');
    await exited;
    servers.splice(servers.indexOf(victim), 1); // gone: nothing to stop
    const done = await waitFor('the task to finish on the other instance', async () => {
      const j = (await api(survivor, ds.token, `/api/v1/tasks/${id}`)).json;
      return FINAL.includes(j.status) && j;
    }, 600000);
    assert.equal(done.status, 'succeeded', JSON.stringify(done));
    assert.equal(done.attempts, 2, `run again once: ${JSON.stringify(done)}`);
    const finisher = sql("SELECT owner FROM tasks WHERE kind = 'import' ORDER BY id DESC LIMIT 1");
    assert.equal(pidOf(finisher), survivor.child.pid, 'finished by the other instance');
    assert.equal(Number(sql("SELECT count(*) FROM payments WHERE id LIKE 'KILL%'")), rows, 'every row once');
  } finally {
    for (const s of servers) await s.stop();
  }
});
