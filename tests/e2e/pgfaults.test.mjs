// PostgreSQL faults end to end: the server missing at start, and the server
// stopped and started again under load. The test starts its own throwaway
// cluster (tests/pg/cluster.sh) so that it may stop it; it runs once, in the
// SQLite pass (the PostgreSQL pass shares one cluster between all tests).
// What it checks: one clear line and exit 1 when PostgreSQL is missing;
// while it is away every answer is a 503 problem+json with Retry-After
// (never a 500, never a wrong figure) and /readyz says why; once it is
// back, brisk reconnects by itself and no acknowledged write is lost.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import net from 'node:net';
import { PG_URL, startServer, api, brisk, briskRun, tempDir, cleanup } from './lib/harness.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const CLUSTER = path.resolve('tests/pg/cluster.sh');
const haveServer = existsSync('/usr/lib/postgresql') &&
  readdirSync('/usr/lib/postgresql').some((v) => existsSync(`/usr/lib/postgresql/${v}/bin/initdb`));
const skip = PG_URL ? 'runs once, in the SQLite pass (it stops and starts its own cluster)'
  : haveServer ? false : 'PostgreSQL server binaries are not installed (scripts/deps.sh installs them)';

async function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); });
  });
}

describe('PostgreSQL faults', { skip }, () => {
  let pgdir, url, root, env, tok;

  before(() => {
    const out = execFileSync(CLUSTER, ['start'], { encoding: 'utf8' });
    pgdir = out.match(/BRISK_PG_DIR=(\S+)/)[1];
    const base = out.match(/BRISK_TEST_DATABASE_URL=(\S+)/)[1];
    execFileSync('psql', ['-qX', `${base}/postgres`, '-c', 'CREATE DATABASE faults']);
    url = `${base}/faults`;
    root = tempDir();
    env = { ...process.env, DATABASE_URL: url };
    const csv = path.join(root, 'csv');
    brisk(['gen', '--scale', '0.1', '--seed', '5', '--end', '2026-10-31', '--out', csv]);
    for (const k of ['costs', 'sales_orders', 'payments'])
      brisk(['import', k, path.join(csv, `${k}.csv`), '--org', 'acme', '--data', path.join(root, 'data'), '-q'], { env });
    tok = brisk(['token', 'create', '--org', 'acme', '--data', path.join(root, 'data')], { env }).trim();
  });

  after(() => {
    if (pgdir) execFileSync(CLUSTER, ['stop', pgdir]);
    if (root) cleanup(root);
  });

  test('PostgreSQL missing at start: one clear line, exit 1', async () => {
    const port = await freePort();
    const r = briskRun(['serve', '--data', path.join(root, 'nodata'), '--port', '0'],
      { env: { ...process.env, DATABASE_URL: `postgresql://brisk@127.0.0.1:${port}/x` } });
    assert.equal(r.code, 1);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /cannot connect to PostgreSQL \(127\.0\.0\.1:\d+\/x\).*refused/);
  });

  test('restarted under load: 503 + Retry-After while away, reconnects, nothing acknowledged lost', async () => {
    const srv = await startServer(path.join(root, 'data'), [], { DATABASE_URL: url });
    let code, load = [], stop = false, failed = null;
    try {
      // Reference figures of a few periods; the writes below add leads only,
      // so these never change: any other answer would be a wrong figure.
      const periods = [];
      for (let m = 1; m <= 9; m++)
        periods.push(`from=2026-0${m}-01&to=2026-0${m}-28`);
      const want = {};
      for (const p of periods) {
        const r = await api(srv, tok, `/api/v1/overview?${p}`);
        assert.equal(r.status, 200, r.text);
        const d = r.json.data;
        want[p] = [d.cash_in, d.cash_out, d.sales, d.sales_count];
      }
      const seen = { ok: 0, stale: 0, unavailable: 0, other: [] };
      const acked = [];
      let n = 0;
      const check503 = (r, what) => {
        if (r.status !== 503) { seen.other.push(`${what}: ${r.status} ${r.text.slice(0, 200)}`); return; }
        seen.unavailable++;
        if (!r.headers.get('retry-after')) seen.other.push(`${what}: 503 without Retry-After`);
        if (!(r.headers.get('content-type') || '').startsWith('application/problem+json'))
          seen.other.push(`${what}: 503 not problem+json`);
      };
      const reader = async () => {
        while (!stop) {
          const p = periods[n++ % periods.length];
          let r;
          try { r = await api(srv, tok, `/api/v1/overview?${p}`); } catch (e) { seen.other.push(`fetch: ${e}`); continue; }
          if (r.status === 200) {
            // a fresh answer, or the last one marked stale (X-Brisk-Stale)
            // while the store is away: the right figures either way
            const d = r.json.data;
            assert.deepEqual([d.cash_in, d.cash_out, d.sales, d.sales_count], want[p], `overview ${p}`);
            if (r.headers.get('x-brisk-stale')) seen.stale++;
            else seen.ok++;
          } else check503(r, `overview ${p}`);
        }
      };
      const writer = async () => {
        for (let i = 0; !stop; i++) {
          const id = `FAULT-${i}`;
          const body = JSON.stringify({ id, created_at: '2026-10-30T10:00:00', creator: 'Aisha', status: 'new', name: `Lead ${i}` });
          let r;
          try {
            r = await api(srv, tok, '/api/v1/leads', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
          } catch (e) { seen.other.push(`fetch: ${e}`); continue; }
          if (r.status === 200) acked.push(id);
          else check503(r, `POST ${id}`);
        }
      };
      load = [reader(), reader(), writer()];
      // some load on a healthy server first
      for (let i = 0; i < 600 && (seen.ok < 20 || acked.length < 5); i++) await sleep(50);
      execFileSync(CLUSTER, ['pause', pgdir]);
      // while away: /readyz says why, answers are 503s
      let ready;
      for (let i = 0; i < 200; i++) {
        ready = await api(srv, null, '/readyz');
        if (ready.status === 503) break;
        await sleep(50);
      }
      assert.equal(ready.status, 503, ready.text);
      assert.equal(ready.json.store.reachable, false);
      assert.match(ready.json.store.reason, /\S/);
      const during = seen.unavailable + seen.stale;
      for (let i = 0; i < 600 && seen.unavailable + seen.stale < during + 5; i++) await sleep(50);
      assert.ok(seen.unavailable + seen.stale >= during + 5, 'requests were answered while PostgreSQL was away');
      execFileSync(CLUSTER, ['resume', pgdir]);
      // back: brisk reconnects by itself
      const okBefore = seen.ok, ackedBefore = acked.length;
      for (let i = 0; i < 1200 && (seen.ok < okBefore + 20 || acked.length < ackedBefore + 5); i++) await sleep(50);
      stop = true;
      await Promise.all(load);
      assert.deepEqual(seen.other, [], 'every answer was a 200 or a 503 problem+json with Retry-After');
      assert.ok(seen.unavailable > 0, 'writes while away were answered 503');
      assert.ok(seen.ok >= okBefore + 20 && acked.length >= ackedBefore + 5, 'reads and writes succeed again');
      const r = await api(srv, null, '/readyz');
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.store.reason, null);
      // every acknowledged write is there
      const ids = new Set(execFileSync('psql', ['-qtAX', url, '-c', "SELECT id FROM leads WHERE id LIKE 'FAULT-%'"],
        { encoding: 'utf8' }).trim().split('\n'));
      for (const id of acked) assert.ok(ids.has(id), `acknowledged ${id} is stored`);
    } catch (e) {
      failed = e;
    } finally {
      stop = true;
      await Promise.allSettled(load);
      code = await srv.stop();
    }
    if (failed) throw failed;
    assert.equal(code, 0, srv.stderr());
    assert.doesNotMatch(srv.stderr(), /AddressSanitizer|runtime error|LeakSanitizer/);
  });
});
