// brisk migrate --to postgresql://...: an embedded store copied into a real
// PostgreSQL (tests/pg/cluster.sh), verified by brisk and independently
// here (sqlite3 and psql), re-run safely, one organisation alone, and the
// same figures served from both stores. Runs in the SQLite pass only (it
// brings its own cluster); skipped with the reason where PostgreSQL is not
// installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { api, cleanup, startServer, tempDir } from './lib/harness.mjs';
import { REAL_BIN as BIN, pgSkip, psql, startCluster } from './lib/pgcluster.mjs';

const skip = pgSkip();
if (skip) console.log(`migrate.test: skipped: ${skip}`);

const sqlite = (data, q) => execFileSync('sqlite3', [path.join(data, 'brisk.db'), q], { encoding: 'utf8' }).trim();
const env0 = { ...process.env };
delete env0.DATABASE_URL;
function run(args, env = {}) {
  try {
    const stdout = execFileSync(BIN, args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], env: { ...env0, ...env } });
    return { code: 0, stdout, stderr: '' };
  } catch (e) {
    return { code: e.status, stdout: e.stdout?.toString() ?? '', stderr: e.stderr?.toString() ?? '' };
  }
}
const must = (args, env) => {
  const r = run(args, env);
  assert.equal(r.code, 0, `brisk ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

// count and cent sums of every entity of org slug, the same query on both
function figures(q, slug) {
  const org = `(SELECT id FROM orgs WHERE slug = '${slug}')`;
  const parts = [['costs', 'amount'], ['sales_orders', 'amount'], ['invoices', 'amount'], ['payments', 'amount'],
    ['leads', 'value']].map(([t, c]) => `SELECT '${t}', count(*), coalesce(sum(${c}), 0) FROM ${t} WHERE org = ${org}`);
  parts.push(`SELECT 'allocations', count(*), coalesce(sum(amount), 0) FROM allocations WHERE org = ${org}`);
  parts.push(`SELECT 'outstanding', count(*), coalesce(sum(outstanding), 0) FROM invoices WHERE org = ${org}`);
  parts.push(`SELECT 'open_recv', coalesce(sum(cnt), 0), coalesce(sum(total), 0) FROM open_recv WHERE org = ${org}`);
  return q(parts.join(' UNION ALL ') + ' ORDER BY 1');
}

test('migrate: a SQLite store into PostgreSQL, verified, re-run, one org', { skip, timeout: 600000 }, async () => {
  const pg = startCluster();
  const root = tempDir();
  const servers = [];
  try {
    const base = pg.url;
    psql(`${base}/postgres`, 'CREATE DATABASE whole');
    psql(`${base}/postgres`, 'CREATE DATABASE one');
    const data = path.join(root, 'data');
    const csv = path.join(root, 'csv');
    must(['gen', '--scale', '0.05', '--seed', '5', '--end', '2026-10-31', '--out', csv]);
    for (const k of ['costs', 'sales_orders', 'invoices', 'payments', 'leads'])
      must(['import', k, path.join(csv, `${k}.csv`), '--org', 'acme', '--data', data, '-q']);
    must(['match', '--org', 'acme', '--data', data]);
    must(['import', 'costs', path.join(csv, 'costs.csv'), '--org', 'beta', '--data', data, '-q']);
    must(['org', 'set', '--org', 'beta', '--opening-balance', '1234.56', '--data', data]);
    const tok = must(['token', 'create', '--org', 'acme', '--data', data]).trim();
    assert.ok(Number(sqlite(data, "SELECT count(*) FROM allocations")) > 0, 'the reconciliation allocated payments');

    // usage and errors
    assert.equal(run(['migrate', '--help']).code, 0);
    assert.match(run(['migrate', '--help']).stdout, /--to/);
    let r = run(['migrate', '--data', data]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--to postgresql:\/\/\.\.\. is required/);
    r = run(['migrate', '--to', 'mysql://x/y', '--data', data]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /postgresql:\/\/ URL/);
    r = run(['migrate', '--to', `${base}/whole`, '--data', path.join(root, 'nothing')]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no embedded store at .*nothing\/brisk\.db/);
    r = run(['migrate', '--to', `${base}/whole`, '--data', data, '--org', 'nosuch']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no organisation 'nosuch'/);

    // the whole store; DATABASE_URL does not redirect the source
    const out = must(['migrate', '--to', `${base}/whole`, '--data', data], { DATABASE_URL: `${base}/one` });
    assert.match(out, /verified: every count and sum is equal \(2 organisations/);
    assert.match(out, /organisation acme/);
    assert.match(out, /^ {2}costs +\d+ +\d+ +-?\d+ +-?\d+ {2}equal$/m);
    assert.doesNotMatch(out, /DIFFERENT/);
    const pgq = (db) => (q) => psql(`${base}/${db}`, q);
    for (const slug of ['acme', 'beta'])
      assert.equal(figures(pgq('whole'), slug), figures((q) => sqlite(data, q), slug), `${slug}: the same figures`);
    assert.equal(psql(`${base}/one`, "SELECT count(*) FROM pg_tables WHERE tablename = 'orgs'"), '0', 'nothing went to DATABASE_URL');

    // again: the same target, nothing doubled
    const again = must(['migrate', '--to', `${base}/whole`, '--data', data]);
    assert.match(again, /verified/);
    assert.equal(figures(pgq('whole'), 'acme'), figures((q) => sqlite(data, q), 'acme'));
    assert.equal(psql(`${base}/whole`, 'SELECT count(*) FROM orgs'), '2');

    // one organisation into another database
    const one = must(['migrate', '--to', `${base}/one`, '--org', 'beta', '--data', data]);
    assert.match(one, /verified: every count and sum is equal \(1 organisation;/);
    assert.equal(psql(`${base}/one`, 'SELECT slug FROM orgs'), 'beta');
    assert.equal(figures(pgq('one'), 'beta'), figures((q) => sqlite(data, q), 'beta'));

    // the same answers from the PostgreSQL copy (the token came along)
    const q = '/api/v1/overview?from=2026-01-01&to=2026-10-31';
    const a = await startServer(data, [], { DATABASE_URL: '' });
    servers.push(a);
    const b = await startServer(path.join(root, 'data-pg'), [], { DATABASE_URL: `${base}/whole` });
    servers.push(b);
    const fromLite = await api(a, tok, q);
    const fromPg = await api(b, tok, q);
    assert.equal(fromLite.status, 200);
    assert.equal(fromPg.status, 200, fromPg.text);
    assert.deepEqual(fromPg.json.data, fromLite.json.data);
    const aging = '/api/v1/aging?as_of=2026-10-31';
    assert.deepEqual((await api(b, tok, aging)).json.data, (await api(a, tok, aging)).json.data);
    // a write on the copy gets a fresh row id (the sequences moved past the copied ones)
    const w = await api(b, tok, '/api/v1/costs', {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ id: 'AFTER-MIGRATE', date: '2026-10-30', category: 'Rent', amount: 500 }),
    });
    assert.equal(w.status, 200, w.text);
  } finally {
    for (const s of servers) await s.stop();
    pg.stop();
    cleanup(root);
  }
});
