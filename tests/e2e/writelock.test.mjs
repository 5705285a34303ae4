// Writes while an import holds the store's single writer (issue 17): the
// import is held mid-way (BRISK_TEST_TASK_HOLD, a test hook of src/tasks),
// so it holds the writer for as long as the test needs on a machine of any
// speed. Reads (a dashboard, by token and by a session whose last-used
// stamp is due) still answer; every write is refused with 503, the reason
// and Retry-After once store.write_wait_ms runs out, never left waiting
// for the import (more writes than the server has workers, then a read:
// without the bound the read would find no worker); a sign-out that could
// not be written says so and the session stands. Once the import ends,
// the same writes go through and the deferred stamp reaches the store.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { dataset, startServer, api, briskRun, storeSql, cleanup, until } from './lib/harness.mjs';

const JSONH = { 'content-type': 'application/json' };
const PW = 'writelock-pass-1';
let ds, srv, cookie, csrf;

// n payment rows with ids PREFIX0..: big enough that 5 % is mid-file.
function bigPayments(n, prefix) {
  const parts = ['id,date,payer,amount,reference\n'];
  for (let i = 0; i < n; i++)
    parts.push(`${prefix}${i},2025-${String(1 + (i % 12)).padStart(2, '0')}-${String(1 + (i % 28)).padStart(2, '0')},` +
      `Payer ${i % 500},${1 + (i % 900)}.${String(i % 100).padStart(2, '0')},REF-${i}\n`);
  return parts.join('');
}

async function signIn(name, password) {
  const res = await fetch(srv.base + '/api/v1/session', { method: 'POST', headers: JSONH,
    body: JSON.stringify({ user: name, password }) });
  const text = await res.text();
  return { status: res.status, headers: res.headers, json: JSON.parse(text),
    cookie: (res.headers.get('set-cookie') || '').split(';')[0] };
}

const withCookie = (pathq, opts = {}) => api(srv, null, pathq, { ...opts, headers: { ...(opts.headers || {}), cookie } });

// A 503 that names the import and says when to come back.
function busy(r, what) {
  assert.equal(r.status, 503, `${what}: ${r.status} ${r.text}`);
  assert.match(r.headers.get('content-type'), /^application\/problem\+json/, what);
  assert.match(r.json.detail, /the store is busy: an import is writing .*retry in about \d+ s/, what);
  const after = Number(r.headers.get('retry-after'));
  assert.ok(Number.isInteger(after) && after >= 1, `${what}: Retry-After ${r.headers.get('retry-after')}`);
}

before(async () => {
  ds = dataset({ scale: 0.05, seed: 17, org: 'acme' });
  const u = briskRun(['user', 'add', 'acme.ana', '--org', 'acme', '--role', 'admin', '--data', ds.data], { input: PW + '\n' });
  assert.equal(u.code, 0, u.stderr);
  // 2 request workers, so a handful of stuck writes would leave reads none
  srv = await startServer(ds.data, ['--set', 'store.write_wait_ms=300', '--set', 'server.workers=2'],
    { BRISK_TEST_TASK_HOLD: 'import:5' });
  const s = await signIn('acme.ana', PW);
  assert.equal(s.status, 200, JSON.stringify(s.json));
  cookie = s.cookie;
  csrf = s.json.data.csrf;
});

after(async () => {
  if (srv) await srv.stop();
  if (ds) cleanup(ds.root);
});

test('an import holding the writer: reads answer, writes are refused with 503 and Retry-After, then go through', async () => {
  // the session's last-used stamp is due (two minutes old), so its next
  // request would write it: that must not wait for the import
  storeSql(ds.data, 'UPDATE sessions SET seen_at = seen_at - 120');
  const stale = Number(storeSql(ds.data, 'SELECT max(seen_at) FROM sessions'));

  const up = await api(srv, ds.token, '/api/v1/import/payments', { method: 'POST', body: bigPayments(40000, 'WL') });
  assert.equal(up.status, 202, up.text);
  const id = up.json.id;
  await until(async () => {
    const t = await api(srv, ds.token, `/api/v1/tasks/${id}`);
    return t.json.status === 'running' && t.json.progress >= 5;
  }, 60000, 'the import to hold the writer');

  // more writes at once than there are workers, each refused in bounded time
  const cost = (n) => api(srv, ds.token, '/api/v1/costs', { method: 'POST', headers: JSONH,
    body: JSON.stringify({ id: `WL-${n}`, date: '2026-10-01', category: 'Test', amount: '1.00' }) });
  const writes = await Promise.all([0, 1, 2, 3, 4, 5].map(cost));
  writes.forEach((w, i) => busy(w, `cost ${i}`));

  // reads: a dashboard by token, and by the session whose stamp is due
  const ov = await api(srv, ds.token, '/api/v1/overview');
  assert.equal(ov.status, 200, ov.text);
  const me = await withCookie('/api/v1/overview');
  assert.equal(me.status, 200, me.text);
  assert.equal(me.json.org, 'acme');

  busy(await api(srv, ds.token, '/api/v1/tokens', { method: 'POST', headers: JSONH, body: JSON.stringify({ label: 'wl' }) }), 'token create');
  busy(await signIn('acme.ana', PW), 'sign-in');
  const second = await api(srv, ds.token, '/api/v1/import/payments', { method: 'POST', body: bigPayments(10, 'WL2-') });
  busy(second, 'a second upload');
  // a sign-out that could not be written says so: the session stands
  busy(await withCookie('/api/v1/session', { method: 'DELETE', headers: { 'x-csrf-token': csrf } }), 'sign-out');
  assert.equal((await withCookie('/api/v1/session')).status, 200, 'still signed in');
  // the refused upload left no file behind: only the held one is spooled
  const spools = readdirSync(path.join(ds.data, 'tasks')).filter((f) => f.startsWith('spool-'));
  assert.equal(spools.length, 1, spools.join(' '));

  // the import ends (cancelled: the hold lets go only at its cancel flag)
  const c = await api(srv, ds.token, `/api/v1/tasks/${id}`, { method: 'DELETE' });
  assert.equal(c.status, 202, c.text);
  await until(async () => (await api(srv, ds.token, `/api/v1/tasks/${id}`)).json.status === 'cancelled', 60000, 'the cancel');

  const ok = await cost(9);
  assert.equal(ok.status, 200, ok.text);
  // its audit entry went in with it; the refused ones have none
  const audit = await api(srv, ds.token, '/api/v1/audit?limit=1000');
  assert.equal(audit.status, 200, audit.text);
  const logged = audit.json.data.filter((e) => e.action === 'write');
  assert.equal(logged.length, 1, JSON.stringify(logged));
  assert.ok(audit.json.data.some((e) => e.action === 'task_cancel'), 'the cancel is logged');
  assert.equal(Number(storeSql(ds.data, "SELECT count(*) FROM costs WHERE id LIKE 'WL-%'")), 1, 'only the write that went through');
  assert.equal((await api(srv, ds.token, '/api/v1/tokens', { method: 'POST', headers: JSONH, body: JSON.stringify({ label: 'wl' }) })).status, 201);
  // the stamp put off during the import reaches the store with the next request
  assert.equal((await withCookie('/api/v1/overview')).status, 200);
  await until(() => Number(storeSql(ds.data, 'SELECT max(seen_at) FROM sessions')) > stale, 20000, 'the deferred stamp');
  const out = await withCookie('/api/v1/session', { method: 'DELETE', headers: { 'x-csrf-token': csrf } });
  assert.equal(out.status, 204, out.text);
  assert.equal((await withCookie('/api/v1/overview')).status, 401, 'signed out');
});
