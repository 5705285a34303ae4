// Users, roles, tokens, sessions and the audit log against a real server.
// The access matrix walks the server's own route table (`brisk routes`), so
// a route added without a rule in src/auth/policy.c fails here: 3
// organisations x 4 roles x every route, plus no token and read-scope
// tokens; nothing is seen or changed across organisations or above a role.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { brisk, briskRun, dataset, startServer, api, cleanup, storeSql } from './lib/harness.mjs';

const ORGS = ['acme', 'beta', 'gamma'];
const ROLES = ['viewer', 'analyst', 'admin', 'operator'];
const RANK = { public: 0, viewer: 1, analyst: 2, admin: 3, operator: 4 };
const PW = 'correct-horse-1';

let ds, srv;
const tok = {};   // tok[org][role]
const user = (org, role) => `${org}.${role}`;

function addUser(org, role, password = PW) {
  const r = briskRun(['user', 'add', user(org, role), '--org', org, '--role', role, '--data', ds.data], { input: password + '\n' });
  assert.equal(r.code, 0, r.stderr);
}

before(async () => {
  ds = dataset({ scale: 0.05, seed: 5, org: 'acme' });
  for (const o of ['beta', 'gamma'])
    for (const k of ['costs', 'payments', 'invoices'])
      brisk(['import', k, path.join(ds.csv, `${k}.csv`), '--org', o, '--data', ds.data, '-q']);
  for (const o of ORGS) {
    tok[o] = {};
    for (const r of ROLES) {
      addUser(o, r);
      tok[o][r] = brisk(['token', 'create', '--user', user(o, r), '--data', ds.data]).trim();
    }
  }
  srv = await startServer(ds.data);
});

after(async () => {
  if (srv) await srv.stop();
  if (ds) cleanup(ds.root);
});

function routes() {
  return brisk(['routes']).trim().split('\n').map((l) => {
    const [method, pattern, auth, name, role] = l.split('\t');
    return { method, pattern, auth, name, role };
  });
}

// A request for the route: parameters that exist in org where it matters.
function request(rt, org) {
  const p = rt.pattern
    .replace('{file}', 'app.js').replace('{kind}', 'costs').replace('{payment_id}', 'nope')
    .replace('{name}', encodeURIComponent(user(org, 'viewer'))).replace('{id}', 'nope');
  const q = rt.name === 'match' ? '?dry_run=1' : '';
  const opts = { method: rt.method };
  if (rt.method === 'POST' || rt.method === 'PUT') {
    opts.body = '{}';
    opts.headers = { 'content-type': 'application/json' };
  }
  return [p + q, opts];
}

// Status only; an event stream is cut once its head arrived.
async function status(t, pathq, opts) {
  const ac = new AbortController();
  const headers = { ...(opts.headers || {}) };
  if (t) headers.authorization = `Bearer ${t}`;
  const res = await fetch(srv.base + pathq, { ...opts, headers, signal: ac.signal });
  if ((res.headers.get('content-type') || '').startsWith('text/event-stream')) ac.abort();
  else await res.text();
  return { status: res.status, type: res.headers.get('content-type') };
}

test('every route has a rule, and brisk routes shows it', () => {
  const rs = routes();
  assert.ok(rs.length > 40);
  for (const r of rs) {
    assert.ok(r.role in RANK, `${r.method} ${r.pattern} (${r.name}) has no rule in src/auth/policy.c`);
    assert.equal(r.auth === 'public', r.role === 'public', `${r.name}: the route's auth flag and its rule disagree`);
  }
  const by = Object.fromEntries(rs.map((r) => [`${r.method} ${r.pattern}`, r.role]));
  assert.equal(by['GET /api/v1/performance'], 'operator');
  assert.equal(by['GET /metrics'], 'operator');
  assert.equal(by['PUT /api/v1/settings'], 'admin');
  assert.equal(by['POST /api/v1/import/{kind}'], 'analyst');
  assert.equal(by['GET /api/v1/dashboard'], 'viewer');
});

test('the access matrix: 3 orgs x 4 roles x every route, no token, read-scope tokens', async () => {
  const bad = [];
  let n = 0;
  for (const rt of routes()) {
    const need = RANK[rt.role];
    for (const org of ORGS) {
      const [pq, opts] = request(rt, org);
      const anon = await status(null, pq, opts);
      n++;
      if (need > 0 ? anon.status !== 401 : anon.status === 401 || anon.status === 403)
        bad.push(`${rt.method} ${pq} without a token: ${anon.status}`);
      for (const role of ROLES) {
        const got = await status(tok[org][role], pq, opts);
        n++;
        const allowed = RANK[role] >= need;
        if (allowed ? got.status === 401 || got.status === 403 : got.status !== 403)
          bad.push(`${rt.method} ${pq} as ${org} ${role}: ${got.status} (needs ${rt.role})`);
      }
    }
  }
  assert.deepEqual(bad, [], bad.join('\n'));
  assert.ok(n >= 3 * 5 * 40, `${n} requests`);
});

test('a read-scope token may read what its role may, and change nothing', async () => {
  const rd = brisk(['token', 'create', '--user', user('beta', 'admin'), '--scope', 'read', '--data', ds.data]).trim();
  const bad = [];
  for (const rt of routes()) {
    if (rt.role === 'public') continue;
    const [pq, opts] = request(rt, 'beta');
    const got = await status(rd, pq, opts);
    const write = rt.method !== 'GET';
    const allowed = !write && RANK.admin >= RANK[rt.role];
    if (allowed ? got.status === 401 || got.status === 403 : got.status !== 403)
      bad.push(`${rt.method} ${pq}: ${got.status}`);
  }
  assert.deepEqual(bad, [], bad.join('\n'));
});

test('nothing is seen or changed across organisations', async () => {
  // a row only acme has
  const w = await api(srv, tok.acme.analyst, '/api/v1/costs', {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: '{"id":"only-acme","date":"2026-01-05","amount":"9.99","category":"secret"}' });
  assert.equal(w.status, 200, w.text);
  for (const org of ['beta', 'gamma']) {
    const l = await api(srv, tok[org].operator, '/api/v1/costs?q=only-acme');
    assert.equal(l.status, 200);
    assert.equal(l.json.data.items.length, 0, `${org} sees acme's row`);
    const d = await api(srv, tok[org].operator, '/api/v1/costs/only-acme', { method: 'DELETE' });
    assert.equal(d.status, 404, `${org} deleted acme's row: ${d.text}`);
    const u = await api(srv, tok[org].admin, `/api/v1/users/${user('acme', 'viewer')}`, {
      method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"disabled":true}' });
    assert.equal(u.status, 404, `${org} changed acme's user: ${u.text}`);
    const us = await api(srv, tok[org].admin, '/api/v1/users');
    assert.ok(us.json.data.every((x) => x.name.startsWith(`${org}.`) || x.name.startsWith(`${org}-`)), JSON.stringify(us.json.data));
    const au = await api(srv, tok[org].admin, '/api/v1/audit?limit=1000');
    assert.ok(!au.text.includes('only-acme') && !au.text.includes('acme.'), `${org}'s audit log shows acme`);
  }
  const still = await api(srv, tok.acme.viewer, '/api/v1/costs?q=only-acme');
  assert.equal(still.json.data.items.length, 1);
  // task ids are sealed per org: acme's task is nobody else's
  const t = await api(srv, tok.acme.analyst, '/api/v1/tasks', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"kind":"refresh"}' });
  assert.equal(t.status, 202, t.text);
  const other = await api(srv, tok.beta.operator, `/api/v1/tasks/${t.json.id}`);
  assert.equal(other.status, 404);
});

test('roles cannot be raised above one\'s own; an admin manages its org\'s users', async () => {
  const mk = (t, body) => api(srv, t, '/api/v1/users', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal((await mk(tok.gamma.admin, { name: 'gamma.op2', role: 'operator' })).status, 403);
  assert.equal((await mk(tok.gamma.analyst, { name: 'gamma.x', role: 'viewer' })).status, 403);
  const ok = await mk(tok.gamma.admin, { name: 'gamma.new', role: 'analyst', password: 'another-pass-1' });
  assert.equal(ok.status, 201, ok.text);
  assert.equal((await mk(tok.gamma.admin, { name: 'gamma.new', role: 'viewer' })).status, 409);
  assert.equal((await mk(tok.gamma.admin, { name: 'gamma.short', role: 'viewer', password: 'short' })).status, 400);
  const up = await api(srv, tok.gamma.admin, '/api/v1/users/gamma.operator', {
    method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"disabled":true}' });
  assert.equal(up.status, 403, 'an admin cannot disable an operator');
});

test('tokens: expiry and revocation; a disabled user\'s tokens stop working', async () => {
  const t = brisk(['token', 'create', '--org', 'gamma', '--expires', '1h', '--label', 'soon', '--data', ds.data]).trim();
  assert.equal((await api(srv, t, '/api/v1/overview')).status, 200);
  storeSql(ds.data, "UPDATE tokens SET expires_at = 1000 WHERE label = 'soon'");
  await until('the expired token to be refused', async () => (await api(srv, t, '/api/v1/overview')).status === 401);
  assert.match(brisk(['token', 'list', '--org', 'gamma', '--data', ds.data]), /soon .* expired/);
  assert.equal(briskRun(['token', 'create', '--org', 'gamma', '--expires', '2001-01-01', '--data', ds.data]).code, 2);
  assert.equal(briskRun(['token', 'create', '--org', 'gamma', '--expires', 'tomorrow', '--data', ds.data]).code, 2);

  const r = brisk(['token', 'create', '--org', 'gamma', '--label', 'gone', '--data', ds.data]).trim();
  assert.equal((await api(srv, r, '/api/v1/overview')).status, 200);
  const id = storeSql(ds.data, "SELECT id FROM tokens WHERE label = 'gone'");
  brisk(['token', 'revoke', id, '--data', ds.data]);
  // another process revoked it: the server's cache forgets within 5 s
  await until('the revoked token to be refused', async () => (await api(srv, r, '/api/v1/overview')).status === 401);

  const v = brisk(['token', 'create', '--user', user('gamma', 'viewer'), '--data', ds.data]).trim();
  assert.equal((await api(srv, v, '/api/v1/overview')).status, 200);
  brisk(['user', 'disable', user('gamma', 'viewer'), '--data', ds.data]);
  await until('the disabled user\'s token to be refused', async () => (await api(srv, v, '/api/v1/overview')).status === 401);
  brisk(['user', 'enable', user('gamma', 'viewer'), '--data', ds.data]);
  await until('the enabled user\'s token to work again', async () => (await api(srv, v, '/api/v1/overview')).status === 200);
});

test('tokens over HTTP: an admin lists, creates and revokes its organisation\'s tokens', async () => {
  const post = (t, body) => api(srv, t, '/api/v1/tokens', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const made = await post(tok.beta.admin, { user: user('beta', 'viewer'), scope: 'read', expires: '1h', label: 'http-made' });
  assert.equal(made.status, 201, made.text);
  const { id, token } = made.json.data;
  assert.match(token, /^brisk_[A-Za-z0-9_-]{40,}$/);
  assert.deepEqual({ ...made.json.data, id: 0, token: '' },
    { id: 0, token: '', user: 'beta.viewer', scope: 'read', label: 'http-made' });
  // it works as its user, with its scope
  const ov = await api(srv, token, '/api/v1/overview');
  assert.equal(ov.status, 200);
  assert.equal(ov.json.org, 'beta');
  assert.equal((await api(srv, token, '/api/v1/costs/x', { method: 'DELETE' })).status, 403, 'scope read');

  const list = await api(srv, tok.beta.admin, '/api/v1/tokens');
  assert.equal(list.status, 200);
  const mine = list.json.data.find((x) => x.id === id);
  assert.equal(mine.user, 'beta.viewer');
  assert.equal(mine.state, 'active');
  assert.match(mine.expires, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.ok(!list.text.includes(token), 'a token is never shown again');
  assert.ok(list.json.data.every((x) => x.user.startsWith('beta')), 'only its own organisation\'s tokens');
  const other = await api(srv, tok.gamma.admin, '/api/v1/tokens');
  assert.ok(!other.json.data.some((x) => x.id === id), 'gamma does not see beta\'s token');

  // the caller's own by default; refused: above one's role, another org's user, bad fields
  const own = await post(tok.beta.admin, { label: 'own' });
  assert.equal(own.status, 201, own.text);
  assert.equal(own.json.data.user, 'beta.admin');
  assert.equal(own.json.data.scope, 'write');
  assert.equal((await post(tok.beta.admin, { user: user('beta', 'operator') })).status, 403);
  assert.equal((await post(tok.beta.admin, { user: user('acme', 'viewer') })).status, 404);
  assert.equal((await post(tok.beta.admin, { user: 'no.such' })).status, 404);
  assert.equal((await post(tok.beta.admin, { scope: 'admin' })).status, 400);
  assert.equal((await post(tok.beta.admin, { expires: 'soon' })).status, 400);
  assert.equal((await post(tok.beta.admin, { expires: '2001-01-01' })).status, 400);
  assert.equal((await post(tok.beta.admin, { colour: 'red' })).status, 400);
  assert.equal((await post(tok.beta.analyst, {})).status, 403);

  // revoke: another org's id is a 404; revoked at once in this server
  const del = (t, tid) => api(srv, t, `/api/v1/tokens/${tid}`, { method: 'DELETE' });
  assert.equal((await del(tok.gamma.admin, id)).status, 404);
  assert.equal((await api(srv, token, '/api/v1/overview')).status, 200, 'still works');
  assert.equal((await del(tok.beta.admin, 'x1')).status, 404);
  const opTok = (await api(srv, tok.beta.admin, '/api/v1/tokens')).json.data.find((x) => x.user === 'beta.operator');
  assert.equal((await del(tok.beta.admin, opTok.id)).status, 403, 'an admin cannot revoke an operator\'s token');
  assert.equal((await del(tok.beta.admin, id)).status, 204);
  assert.equal((await api(srv, token, '/api/v1/overview')).status, 401);
  const after = (await api(srv, tok.beta.admin, '/api/v1/tokens')).json.data.find((x) => x.id === id);
  assert.equal(after.state, 'revoked');
  const au = await api(srv, tok.beta.admin, '/api/v1/audit?limit=50');
  const acts = au.json.data.map((e) => `${e.user} ${e.action} ${e.target}`);
  assert.ok(acts.includes('beta.admin token_create http-made'), acts.join('\n'));
  assert.ok(acts.includes(`beta.admin token_revoke token ${id} http-made`), acts.join('\n'));
  // the CLI shows the same state
  assert.match(brisk(['token', 'list', '--org', 'beta', '--data', ds.data]), /http-made .* revoked/);
  const bad = briskRun(['token', 'revoke', 'abc', '--data', ds.data]);
  assert.equal(bad.code, 2);
});

async function until(what, fn, ms = 20000) {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`timed out waiting for ${what}`);
}

async function signIn(name, password) {
  const res = await fetch(srv.base + '/api/v1/session', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user: name, password }) });
  const json = await res.json();
  const cookie = (res.headers.get('set-cookie') || '').split(';')[0];
  return { status: res.status, json, setCookie: res.headers.get('set-cookie'), cookie };
}

const withCookie = (s, pathq, opts = {}) => api(srv, null, pathq, { ...opts, headers: { ...(opts.headers || {}), cookie: s.cookie } });

test('sign-in: a session cookie (HttpOnly, SameSite=Strict), one answer for every failure', async () => {
  const s = await signIn(user('beta', 'analyst'), PW);
  assert.equal(s.status, 200, JSON.stringify(s.json));
  assert.match(s.setCookie, /^brisk_session=[A-Za-z0-9_-]{40,}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
  assert.doesNotMatch(s.setCookie, /Secure/, 'plain HTTP: no Secure flag');
  assert.deepEqual({ ...s.json.data, csrf: undefined },
    { user: 'beta.analyst', org: 'beta', role: 'analyst', scope: 'write', via: 'session', csrf: undefined });
  const me = await withCookie(s, '/api/v1/session');
  assert.equal(me.json.data.csrf, s.json.data.csrf);
  assert.equal((await withCookie(s, '/api/v1/overview')).json.org, 'beta');
  assert.equal((await withCookie(s, '/api/v1/users')).status, 403, 'an analyst is no admin');

  const wrong = await signIn(user('beta', 'analyst'), 'wrong-password');
  const nobody = await signIn('no.such.user', 'wrong-password');
  assert.equal(wrong.status, 401);
  assert.equal(nobody.status, 401);
  assert.equal(wrong.json.detail, nobody.json.detail, 'nothing tells which user names exist');
  assert.equal(wrong.setCookie, null);
  const tokOnly = await signIn('beta-admin', 'anything-at-all');
  assert.equal(tokOnly.status, 401, 'a user without a password cannot sign in');
});

test('CSRF: a signed-in browser\'s writes need the session\'s token; bearer calls do not', async () => {
  const s = await signIn(user('beta', 'admin'), PW);
  const put = (headers) => withCookie(s, '/api/v1/settings', {
    method: 'PUT', headers: { 'content-type': 'application/json', ...headers }, body: '{"opening_balance":"1.00"}' });
  const none = await put({});
  assert.equal(none.status, 403);
  assert.match(none.json.detail, /CSRF/);
  assert.equal((await put({ 'x-csrf-token': 'x'.repeat(43) })).status, 403);
  assert.equal((await put({ 'x-csrf-token': s.json.data.csrf })).status, 200);
  const b = await api(srv, tok.beta.admin, '/api/v1/settings', {
    method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{"opening_balance":"2.00"}' });
  assert.equal(b.status, 200);
  // a GET needs none
  assert.equal((await withCookie(s, '/api/v1/settings')).status, 200);
});

test('sessions end: sign-out, idle and absolute expiry, a new password, a disabled user', async () => {
  const a = await signIn(user('gamma', 'analyst'), PW);
  const out = await withCookie(a, '/api/v1/session', { method: 'DELETE', headers: { 'x-csrf-token': a.json.data.csrf } });
  assert.equal(out.status, 204);
  assert.match(out.headers.get('set-cookie'), /^brisk_session=; .*Max-Age=0/);
  assert.equal((await withCookie(a, '/api/v1/overview')).status, 401);

  const idle = await signIn(user('gamma', 'analyst'), PW);
  assert.equal((await withCookie(idle, '/api/v1/overview')).status, 200);
  storeSql(ds.data, `UPDATE sessions SET seen_at = seen_at - 1801`);
  assert.equal((await withCookie(idle, '/api/v1/overview')).status, 401, 'idle 30 min');

  const old = await signIn(user('gamma', 'analyst'), PW);
  storeSql(ds.data, `UPDATE sessions SET created_at = created_at - 43201`);
  assert.equal((await withCookie(old, '/api/v1/overview')).status, 401, 'signed in over 12 h ago');

  const pw = await signIn(user('gamma', 'analyst'), PW);
  assert.equal(briskRun(['user', 'passwd', user('gamma', 'analyst'), '--data', ds.data], { input: 'a-new-password-2\n' }).code, 0);
  assert.equal((await withCookie(pw, '/api/v1/overview')).status, 401, 'a new password ends sessions');
  assert.equal((await signIn(user('gamma', 'analyst'), PW)).status, 401);
  const fresh = await signIn(user('gamma', 'analyst'), 'a-new-password-2');
  assert.equal(fresh.status, 200);
  brisk(['user', 'disable', user('gamma', 'analyst'), '--data', ds.data]);
  assert.equal((await withCookie(fresh, '/api/v1/overview')).status, 401, 'a disabled user is signed out');
  assert.equal((await signIn(user('gamma', 'analyst'), 'a-new-password-2')).status, 401);
});

test('the audit log: who changed what and when, for admins, and brisk audit', async () => {
  const imp = await api(srv, tok.beta.analyst, '/api/v1/import/costs', {
    method: 'POST', headers: { 'content-type': 'text/csv' }, body: 'id,date,amount,category\naud-1,2026-01-02,3.00,x\n' });
  assert.equal(imp.status, 200, imp.text);
  const del = await api(srv, tok.beta.analyst, '/api/v1/costs/aud-1', { method: 'DELETE' });
  assert.equal(del.status, 204);
  const failed = await api(srv, tok.beta.viewer, '/api/v1/costs/aud-1', { method: 'DELETE' });
  assert.equal(failed.status, 403);
  const a = await api(srv, tok.beta.admin, '/api/v1/audit?limit=50');
  assert.equal(a.status, 200);
  const acts = a.json.data.map((e) => `${e.user} ${e.action} ${e.target}`);
  assert.ok(acts.includes('beta.analyst import POST /api/v1/import/costs'), acts.join('\n'));
  assert.ok(acts.includes('beta.analyst delete DELETE /api/v1/costs/aud-1'), acts.join('\n'));
  assert.ok(!acts.some((x) => x.startsWith('beta.viewer delete')), 'a refused call changed nothing');
  assert.ok(acts.some((x) => /^cli:\S+ user_add beta\.viewer$/.test(x)), acts.join('\n'));
  for (const e of a.json.data) assert.match(e.at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  const ids = a.json.data.map((e) => e.id);
  assert.deepEqual(ids, [...ids].sort((x, y) => y - x), 'newest first');
  const p1 = await api(srv, tok.beta.admin, '/api/v1/audit?limit=2');
  const p2 = await api(srv, tok.beta.admin, `/api/v1/audit?limit=2&before=${p1.json.next_before}`);
  assert.equal(p2.json.data[0].id, ids[2]);
  assert.equal((await api(srv, tok.beta.admin, '/api/v1/audit?limit=0')).status, 400);
  assert.equal((await api(srv, tok.beta.analyst, '/api/v1/audit')).status, 403);
  const cli = brisk(['audit', '--org', 'beta', '--limit', '5', '--data', ds.data]);
  assert.match(cli, /beta\.analyst\s+delete\s+DELETE \/api\/v1\/costs\/aud-1/);
});

test('brisk user: usage errors are clear', () => {
  const r1 = briskRun(['user', 'add', 'x', '--org', 'acme', '--role', 'boss', '--data', ds.data]);
  assert.equal(r1.code, 2);
  assert.match(r1.stderr, /unknown role 'boss'/);
  const r2 = briskRun(['user', 'add', 'bad name', '--org', 'acme', '--role', 'viewer', '--data', ds.data]);
  assert.equal(r2.code, 2);
  const r3 = briskRun(['user', 'add', 'acme.viewer', '--org', 'beta', '--role', 'viewer', '--data', ds.data], { input: PW + '\n' });
  assert.equal(r3.code, 1);
  assert.match(r3.stderr, /exists already/);
  const r4 = briskRun(['user', 'add', 'shorty', '--org', 'acme', '--role', 'viewer', '--data', ds.data], { input: 'short\n' });
  assert.equal(r4.code, 2);
  assert.match(r4.stderr, /at least 8/);
  const l = brisk(['user', 'list', '--org', 'acme', '--data', ds.data]);
  assert.match(l, /acme\.operator\s+operator\s+active/);
  assert.match(l, /acme-admin\s+admin\s+tokens only/);
});
