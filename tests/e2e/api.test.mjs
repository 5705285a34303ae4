// The HTTP/JSON API around the figures: errors (RFC 9457 problem+json),
// ETag/304, compression, request ids, keyset pagination and filters, JSON
// writes and deletes, CSV imports, cross-organisation isolation on every
// route, health/readiness/metrics, graceful shutdown.
//
// Organisations in the one data set: `acme` holds the generated data and is
// only read (its lists are checked against the CSV files); `beta` is empty
// and probes isolation; `w` and `imp` take the writes.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import zlib from 'node:zlib';
import { readFileSync } from 'node:fs';
import { dataset, startServer, api, token, operatorToken, tempDir, cleanup } from './lib/harness.mjs';
import * as X from './lib/expect.mjs';

let ds, srv, model;
const tok = {};
const extraDirs = [];

before(async () => {
  ds = dataset({ scale: 0.2, seed: 5, end: '2026-10-31', org: 'acme' });
  tok.acme = ds.token;
  for (const o of ['beta', 'w', 'imp', 'etag', 'httpimp']) tok[o] = token(ds.data, o);
  tok.operator = operatorToken(ds.data);
  model = X.loadModel(ds.csv);
  srv = await startServer(ds.data);
});

after(async () => {
  if (srv) await srv.stop();
  if (ds) cleanup(ds.root);
  for (const d of extraDirs) cleanup(d);
});

// ---- helpers ----

// A raw HTTP/1.1 exchange: no automatic decompression, the body as bytes.
function raw(s, method, pathq, { headers = {}, body } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: s.port, method, path: pathq, headers, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

const auth = (t) => ({ authorization: `Bearer ${t}` });
const JSONH = { 'content-type': 'application/json' };

function problem(r, status, detailRe) {
  assert.equal(r.status, status, `expected ${status}, got ${r.status}: ${r.text}`);
  assert.match(r.headers.get('content-type') || '', /^application\/problem\+json/, `content-type of a ${status}`);
  const j = JSON.parse(r.text);
  assert.equal(j.status, status);
  assert.equal(typeof j.type, 'string');
  assert.ok(j.type.length > 0);
  assert.equal(typeof j.title, 'string');
  assert.ok(j.title.length > 0);
  assert.equal(typeof j.detail, 'string');
  assert.ok(j.detail.length > 0);
  if (detailRe) assert.match(j.detail, detailRe);
  return j;
}

async function ok(t, pathq, opts) {
  const r = await api(srv, t, pathq, opts);
  assert.equal(r.status, 200, `${pathq}: ${r.text}`);
  return r.json.data;
}

const post = (t, pathq, body, headers = JSONH) =>
  api(srv, t, pathq, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body) });
const del = (t, pathq) => api(srv, t, pathq, { method: 'DELETE' });

// Every page of a list, following next_cursor; checks page sizes on the way.
async function walk(t, kind, params = {}) {
  const limit = Number(params.limit || 100);
  const items = [];
  let cursor = null, pages = 0;
  do {
    const q = new URLSearchParams({ ...params, ...(cursor ? { cursor } : {}) });
    const d = await ok(t, `/api/v1/${kind}?${q}`);
    assert.ok(d.items.length <= limit, 'a page holds at most limit rows');
    if (d.next_cursor) assert.equal(d.items.length, limit, 'a page before the last is full');
    items.push(...d.items);
    cursor = d.next_cursor;
    pages++;
    assert.ok(pages < 10000, 'pagination terminates');
  } while (cursor);
  return { items, pages };
}

const lowerAscii = (s) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
const has = (q) => (...fields) => fields.some((f) => f && lowerAscii(f).includes(lowerAscii(q)));

// Rows in the order the server promises: the sort column, then the import
// order (rows were imported in file order), both ways.
function ordered(rows, sort, dateOf, amountOf) {
  const idx = new Map(rows.map((r, i) => [r, i]));
  const key = sort.replace('-', '') === 'date' ? dateOf : amountOf;
  const dir = sort.startsWith('-') ? -1 : 1;
  return [...rows].sort((a, b) => {
    const ka = key(a), kb = key(b);
    if (ka !== kb) return ka < kb ? -dir : dir;
    return (idx.get(a) - idx.get(b)) * dir;
  });
}

const paymentRow = (p) => ({ id: p.id, date: p.date, payer: p.payer, amount: p.amount, reference: p.reference, customer_id: p.customer_id, currency: 'USD' });

// ---- errors ----

describe('errors are problem+json', () => {
  const VIEWS = ['/api/v1/dashboard', '/api/v1/overview', '/api/v1/cashflow', '/api/v1/breakdown?of=costs&by=category',
    '/api/v1/aging', '/api/v1/leads/summary', '/api/v1/top-customers', '/api/v1/dso', '/api/v1/payment-behaviour'];
  const KINDS = ['costs', 'sales_orders', 'invoices', 'payments', 'leads'];

  test('401 without a token and with a bad one, on every /api/v1 route', async () => {
    const calls = [...VIEWS.map((p) => ['GET', p]), ...KINDS.flatMap((k) => [
      ['GET', `/api/v1/${k}`], ['POST', `/api/v1/${k}`], ['DELETE', `/api/v1/${k}/x1`], ['POST', `/api/v1/import/${k}`]])];
    for (const [method, p] of calls) {
      const body = method === 'POST' ? '{}' : undefined;
      const none = await api(srv, null, p, { method, body, headers: JSONH });
      problem(none, 401, /token/);
      assert.match(none.headers.get('www-authenticate') || '', /^Bearer/);
      for (const bad of ['brisk_not-a-real-token', 'x', `${tok.acme}x`]) {
        const r = await api(srv, bad, p, { method, body, headers: JSONH });
        problem(r, 401, /unknown or revoked/);
      }
      // "Basic" or an empty bearer is no token either
      problem(await api(srv, null, p, { method, body, headers: { ...JSONH, authorization: 'Basic YTpi' } }), 401);
      problem(await api(srv, null, p, { method, body, headers: { ...JSONH, authorization: 'Bearer ' } }), 401);
    }
  });

  test('400 for an unknown parameter, naming it, on every route', async () => {
    for (const p of VIEWS) {
      const r = await api(srv, tok.acme, `${p}${p.includes('?') ? '&' : '?'}bogus_param=1`);
      problem(r, 400, /bogus_param/);
    }
    for (const k of KINDS) {
      problem(await api(srv, tok.acme, `/api/v1/${k}?bogus_param=1`), 400, /bogus_param/);
      problem(await post(tok.w, `/api/v1/${k}?bogus_param=1`, {}), 400, /bogus_param/);
      problem(await del(tok.w, `/api/v1/${k}/x1?bogus_param=1`), 400, /bogus_param/);
      problem(await post(tok.w, `/api/v1/import/${k}?bogus_param=1`, 'a,b\n1,2\n', { 'content-type': 'text/csv' }), 400, /bogus_param/);
    }
    // parameters of one view are unknown to another
    problem(await api(srv, tok.acme, '/api/v1/aging?from=2025-01-01'), 400, /'from'/);
    problem(await api(srv, tok.acme, '/api/v1/cashflow?top=3'), 400, /'top'/);
    problem(await api(srv, tok.acme, '/api/v1/overview?interval=day'), 400, /'interval'/);
  });

  test('400 for bad dates, intervals, top, from > to, too long a range', async () => {
    for (const [p, re] of [
      ['/api/v1/overview?from=2025-13-01', /'from'/],
      ['/api/v1/overview?to=2025-02-30', /'to'/],
      ['/api/v1/overview?to=yesterday', /'to'/],
      ['/api/v1/overview?from=20250101', /'from'/],
      ['/api/v1/aging?as_of=2025-1-1', /'as_of'/],
      ['/api/v1/dso?as_of=', /'as_of'/],
      ['/api/v1/leads/summary?date=2025-06-31', /'date'/],
      ['/api/v1/cashflow?interval=hour', /'interval'/],
      ['/api/v1/cashflow?interval=', /'interval'/],
      ['/api/v1/cashflow?interval=Month', /'interval'/],
      ['/api/v1/top-customers?top=0', /'top'/],
      ['/api/v1/top-customers?top=101', /'top'/],
      ['/api/v1/top-customers?top=abc', /'top'/],
      ['/api/v1/breakdown?of=costs&by=category&top=1.5', /'top'/],
      ['/api/v1/dashboard?top=-1', /'top'/],
      ['/api/v1/overview?from=2025-06-02&to=2025-06-01', /after/],
      ['/api/v1/cashflow?from=2026-01-01&to=2025-12-31&interval=day', /after/],
      ['/api/v1/cashflow?from=2000-01-01&to=2026-01-01', /range|days/],
      ['/api/v1/breakdown', /'of'/],
      ['/api/v1/breakdown?of=costs', /'by'/],
      ['/api/v1/breakdown?of=costs&by=status', /costs|status/],
      ['/api/v1/breakdown?of=sales&by=vendor', /sales|vendor/],
      ['/api/v1/breakdown?of=payments&by=payer', /payments/],
      ['/api/v1/overview?from=2025-01-01&from=2025-02-01', /twice/],
      ['/api/v1/overview?from=%zz', /escape/],
    ]) problem(await api(srv, tok.acme, p), 400, re);
  });

  test('400 for bad list parameters: limit, sort, cursor, fields, amounts, dates, filters the entity lacks', async () => {
    const first = await ok(tok.acme, '/api/v1/payments?limit=2');
    const amountCursor = (await ok(tok.acme, '/api/v1/payments?limit=2&sort=amount')).next_cursor;
    for (const [p, re] of [
      ['/api/v1/payments?limit=0', /limit/],
      ['/api/v1/payments?limit=1001', /limit/],
      ['/api/v1/payments?limit=ten', /limit/],
      ['/api/v1/payments?limit=', /limit/],
      ['/api/v1/payments?sort=price', /sort/],
      ['/api/v1/payments?sort=+date', /sort/],
      ['/api/v1/payments?cursor=garbage', /cursor/],
      ['/api/v1/payments?cursor=', /cursor/],
      [`/api/v1/payments?cursor=${first.next_cursor}&sort=amount`, /cursor/], // a cursor of another sort
      [`/api/v1/costs?cursor=${first.next_cursor}`, /cursor/], // a cursor of another collection
      [`/api/v1/payments?cursor=${amountCursor}x`, /cursor/],
      ['/api/v1/payments?fields=nope', /nope/],
      ['/api/v1/payments?fields=date,,amount', /field/],
      ['/api/v1/costs?fields=outstanding', /outstanding/],
      ['/api/v1/payments?min_amount=abc', /min_amount/],
      ['/api/v1/payments?max_amount=1.234', /max_amount/],
      ['/api/v1/payments?from=2025-02-30', /'from'/],
      ['/api/v1/payments?to=soon', /'to'/],
      ['/api/v1/payments?category=Rent', /category/],
      ['/api/v1/payments?status=open', /status/],
      ['/api/v1/costs?status=open', /status/],
      ['/api/v1/costs?creator=Aisha', /creator/],
      ['/api/v1/invoices?vendor=x', /vendor/],
      ['/api/v1/leads?customer=x', /customer/],
      ['/api/v1/sales_orders?category=x', /category/],
      [`/api/v1/payments?q=${'x'.repeat(300)}`, /q/],
    ]) problem(await api(srv, tok.acme, p), 400, re);
  });

  test('404 for an unknown route and an unknown collection', async () => {
    for (const p of ['/api/v2/overview', '/nope', '/api/v1', '/api/v1/leads/summary/x', '/api/v1/costs/x/y']) {
      const j = problem(await api(srv, tok.acme, p), 404);
      assert.ok(j.detail.includes(p) || /no such/.test(j.detail));
    }
    problem(await api(srv, tok.acme, '/api/v1/customers'), 404, /customers/);
    problem(await post(tok.w, '/api/v1/customers', { id: 'x' }), 404, /customers/);
    problem(await del(tok.w, '/api/v1/customers/x'), 404, /customers/);
    problem(await post(tok.w, '/api/v1/import/customers', 'a\n1\n', { 'content-type': 'text/csv' }), 404, /customers/);
  });

  test('405 for a wrong method on a known path', async () => {
    for (const [m, p] of [['PUT', '/api/v1/overview'], ['DELETE', '/api/v1/overview'],
      ['GET', '/api/v1/costs/EXP000001'], ['PUT', '/api/v1/costs'], ['PATCH', '/api/v1/costs/x'],
      ['GET', '/api/v1/import/costs'], ['POST', '/healthz'], ['DELETE', '/metrics']]) {
      const r = await api(srv, tok.w, p, { method: m, headers: JSONH, body: m === 'GET' || m === 'DELETE' ? undefined : '{}' });
      problem(r, 405);
    }
    // POST on a view path: not a collection (404) or not allowed (405), never a write
    const r = await post(tok.w, '/api/v1/dashboard', {});
    assert.ok([404, 405].includes(r.status), r.text);
    problem(r, r.status);
  });

  test('405 names the allowed methods in an Allow header (RFC 9110 15.5.6)', async () => {
    const r = await api(srv, tok.acme, '/api/v1/overview', { method: 'PUT', body: '{}' });
    problem(r, 405);
    assert.match(r.headers.get('allow') || '', /GET/, 'a 405 must carry Allow');
  });

  test('414 for a URL over 8 KB', async () => {
    problem(await api(srv, tok.acme, `/api/v1/overview?from=${'9'.repeat(9000)}`), 414);
    problem(await api(srv, tok.acme, `/api/v1/${'a'.repeat(9000)}`), 414);
  });

  // brisk accepts at most 64 headers (h2o's own parser stops at 100 with a
  // plain 400, so the limit sits below it to be answered properly).
  test('431 for more than 64 request headers', async () => {
    const headers = { ...auth(tok.acme) };
    for (let i = 0; i < 80; i++) headers[`x-filler-${i}`] = 'y';
    const r = await raw(srv, 'GET', '/api/v1/overview', { headers });
    assert.equal(r.status, 431);
    assert.match(r.headers['content-type'], /^application\/problem\+json/);
    assert.equal(JSON.parse(r.body).status, 431);
  });

  test('415 for rows that are not JSON', async () => {
    for (const ct of ['text/csv', 'application/x-www-form-urlencoded', 'text/plain']) {
      const r = await post(tok.w, '/api/v1/costs', '{"date":"2026-01-01","category":"Rent","amount":1}', { 'content-type': ct });
      problem(r, 415, /json/i);
    }
    assert.equal((await ok(tok.w, '/api/v1/costs')).items.length, 0, 'nothing was stored');
  });

  test('400 for a body that is not a row or rows', async () => {
    for (const body of ['', '{"a":', '[]', '42', '"x"', '[1,2]x']) problem(await post(tok.w, '/api/v1/costs', body), 400);
    problem(await post(tok.w, '/api/v1/costs', '{"date":"2026-01-01","date":"2026-01-02"}'), 400, /JSON/);
    problem(await post(tok.w, '/api/v1/import/costs', ''), 400, /empty/);
  });

  test('422 when every row is invalid, a problem+json that still lists the rejections', async () => {
    const r = await post(tok.w, '/api/v1/costs', [{ date: '2026-01-01', category: 'Rent', amount: 1.5 }, { date: 'nope', category: 'x', amount: 1 }]);
    assert.equal(r.status, 422, r.text);
    assert.deepEqual(r.json.rejections.map((x) => x.index), [0, 1], 'rejections by index');
    assert.equal(r.json.inserted, 0);
    problem(r, 422);
    assert.equal((await ok(tok.w, '/api/v1/costs')).items.length, 0, 'nothing was stored');
  });

  test('422 for a CSV the importer cannot read at all', async () => {
    problem(await post(tok.w, '/api/v1/import/costs', 'junk\nmore\n', { 'content-type': 'text/csv' }), 422, /date/);
  });

  test('400 for bad import options', async () => {
    for (const [q, re] of [['delimiter=x', /delimiter/], ['encoding=ebcdic', /encoding/], ['skip=-1', /skip/],
      ['skip=abc', /skip/], ['map=nonsense', /map/], ['set=status', /set/]])
      problem(await post(tok.w, `/api/v1/import/costs?${q}`, 'date,category,amount\n2026-01-01,x,1\n', { 'content-type': 'text/csv' }), 400, re);
  });

  test('every error carries a request id, in the header and the body', async () => {
    const r = await api(srv, tok.acme, '/api/v1/overview?from=bad', { headers: { 'x-request-id': 'err-check-1' } });
    const j = problem(r, 400);
    assert.equal(r.headers.get('x-request-id'), 'err-check-1');
    assert.equal(j.request_id, 'err-check-1');
    assert.equal(j.instance, '/api/v1/overview');
    assert.equal(r.headers.get('etag'), null, 'an error has no ETag');
  });
});

describe('413 on a server with server.max_body=2048', () => {
  let small, dir;
  before(async () => {
    dir = tempDir(); extraDirs.push(dir);
    tok.small = token(`${dir}/data`, 'small');
    small = await startServer(`${dir}/data`, ['--set', 'server.max_body=2048']);
  });
  after(async () => { if (small) await small.stop(); });

  test('a body under the limit is taken', async () => {
    const r = await api(small, tok.small, '/api/v1/costs', { method: 'POST', headers: JSONH,
      body: JSON.stringify({ id: 'ok1', date: '2026-01-01', category: 'Rent', amount: 100 }) });
    assert.equal(r.status, 200, r.text);
  });

  // An oversized body is refused on its Content-Length before it is read:
  // problem+json, and the connection closes (the body was never taken).
  const tooLarge = (r) => {
    assert.equal(r.status, 413, r.text);
    assert.equal(r.headers.get('connection'), 'close');
    assert.equal(r.headers.get('content-type'), 'application/problem+json');
    assert.match(r.json.detail, /max_body/);
  };

  test('JSON rows over the limit: 413, connection closed', async () => {
    const rows = Array.from({ length: 60 }, (_, i) => ({ id: `big${i}`, date: '2026-01-01', category: 'Rent', amount: 100 }));
    const r = await api(small, tok.small, '/api/v1/costs', { method: 'POST', headers: JSONH, body: JSON.stringify(rows) });
    tooLarge(r);
  });

  test('a CSV import over the limit: 413, nothing stored', async () => {
    const csv = 'id,date,category,amount\n' + Array.from({ length: 200 }, (_, i) => `c${i},2026-01-01,Rent,1.00`).join('\n');
    const r = await api(small, tok.small, '/api/v1/import/costs', { method: 'POST', headers: { 'content-type': 'text/csv' }, body: csv });
    tooLarge(r);
    const l = await api(small, tok.small, '/api/v1/costs?q=c1');
    assert.deepEqual(l.json.data.items, []);
  });
});

// ---- ETag, 304, writes visible at once ----

describe('ETag and If-None-Match', () => {
  test('a view answers 304 with an empty body to its own ETag', async () => {
    for (const p of ['/api/v1/overview', '/api/v1/dashboard?interval=week', '/api/v1/cashflow?interval=day&from=2026-01-01&to=2026-03-31',
      '/api/v1/aging?as_of=2026-06-30', '/api/v1/breakdown?of=sales&by=customer', '/api/v1/payments?limit=5', '/api/v1/leads/summary']) {
      const a = await raw(srv, 'GET', p, { headers: auth(tok.acme) });
      assert.equal(a.status, 200);
      const etag = a.headers.etag;
      assert.match(etag, /^"[^"]+"$/, `${p}: a strong ETag`);
      const b = await raw(srv, 'GET', p, { headers: { ...auth(tok.acme), 'if-none-match': etag } });
      assert.equal(b.status, 304, p);
      assert.equal(b.body.length, 0, '304 has no body');
      assert.equal(b.headers.etag, etag, '304 repeats the ETag');
      // another tag, or a list holding it, or *
      assert.equal((await raw(srv, 'GET', p, { headers: { ...auth(tok.acme), 'if-none-match': '"other"' } })).status, 200);
      assert.equal((await raw(srv, 'GET', p, { headers: { ...auth(tok.acme), 'if-none-match': `"other", ${etag}` } })).status, 304);
    }
  });

  test('different parameters give different ETags', async () => {
    const e = async (p) => (await raw(srv, 'GET', p, { headers: auth(tok.acme) })).headers.etag;
    const tags = await Promise.all(['/api/v1/cashflow?interval=day', '/api/v1/cashflow?interval=week', '/api/v1/cashflow',
      '/api/v1/cashflow?from=2026-01-01', '/api/v1/breakdown?of=costs&by=category', '/api/v1/breakdown?of=costs&by=vendor',
      '/api/v1/breakdown?of=sales&by=status', '/api/v1/overview', '/api/v1/overview?date=2026-10-01'].map(e));
    assert.equal(new Set(tags).size, tags.length, tags.join(' '));
  });

  test('a write changes the ETag and the figures on the very next request', async () => {
    const t = tok.etag;
    const R = '?from=2026-01-01&to=2026-01-31&interval=week';
    const watch = ['/api/v1/overview' + R.replace('&interval=week', ''), '/api/v1/cashflow' + R, '/api/v1/dashboard' + R,
      '/api/v1/breakdown?of=costs&by=category&from=2026-01-01&to=2026-01-31', '/api/v1/costs'];
    const before = {};
    for (const p of watch) before[p] = await raw(srv, 'GET', p, { headers: auth(t) });
    let total = 0;
    for (const [i, amount] of [[1, 12345], [2, 1]]) {
      const w = await post(t, '/api/v1/costs', { id: `e${i}`, date: '2026-01-14', category: 'Rent', amount });
      assert.equal(w.status, 200, w.text);
      total += amount;
      for (const p of watch) {
        const r = await raw(srv, 'GET', p, { headers: { ...auth(t), 'if-none-match': before[p].headers.etag } });
        assert.equal(r.status, 200, `${p} after write ${i}: not 304`);
        assert.notEqual(r.headers.etag, before[p].headers.etag, `${p}: a new ETag`);
        before[p] = r;
      }
      const ov = JSON.parse(before[watch[0]].body).data;
      assert.equal(ov.cash_out, total, 'the overview shows the write at once');
      assert.equal(ov.net, -total);
      const cf = JSON.parse(before[watch[1]].body).data;
      assert.equal(cf.buckets.find((b) => b.start === '2026-01-12').outflow, total);
      assert.equal(cf.buckets.at(-1).balance, -total);
    }
    // a delete is a write too
    assert.equal((await del(t, '/api/v1/costs/e2')).status, 204);
    const r = await raw(srv, 'GET', watch[0], { headers: { ...auth(t), 'if-none-match': before[watch[0]].headers.etag } });
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.body).data.cash_out, 12345);
    // another org's write does not touch this org's ETag
    assert.equal((await post(tok.imp, '/api/v1/costs', { id: 'other-org', date: '2026-01-14', category: 'Rent', amount: 5 })).status, 200);
    assert.equal((await raw(srv, 'GET', watch[0], { headers: { ...auth(t), 'if-none-match': r.headers.etag } })).status, 304);
    assert.equal((await del(tok.imp, '/api/v1/costs/other-org')).status, 204);
  });

  test('POST answers carry no ETag and are never 304', async () => {
    const r = await raw(srv, 'POST', '/api/v1/costs', { headers: { ...auth(tok.etag), ...JSONH, 'if-none-match': '*' },
      body: JSON.stringify({ id: 'e9', date: '2025-01-01', category: 'Rent', amount: 1 }) });
    assert.equal(r.status, 200);
    assert.equal(r.headers.etag, undefined);
    assert.equal((await del(tok.etag, '/api/v1/costs/e9')).status, 204);
  });
});

// ---- compression, request ids ----

describe('compression', () => {
  const BIG = '/api/v1/payments?limit=200';
  test('gzip over 1 KB: the decoded body equals the identity body', async () => {
    const id = await raw(srv, 'GET', BIG, { headers: auth(tok.acme) });
    assert.equal(id.headers['content-encoding'], undefined);
    assert.ok(id.body.length > 1024);
    const gz = await raw(srv, 'GET', BIG, { headers: { ...auth(tok.acme), 'accept-encoding': 'gzip' } });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.match(gz.headers.vary || '', /accept-encoding/i);
    assert.ok(gz.body.length < id.body.length);
    assert.deepEqual(zlib.gunzipSync(gz.body), id.body);
    assert.equal(gz.headers.etag, id.headers.etag, 'the ETag names the content, whatever the encoding');
    const cf = '/api/v1/cashflow?interval=day&from=2025-01-01&to=2025-12-31';
    const a = await raw(srv, 'GET', cf, { headers: auth(tok.acme) });
    const b = await raw(srv, 'GET', cf, { headers: { ...auth(tok.acme), 'accept-encoding': 'deflate, gzip;q=0.8' } });
    assert.equal(b.headers['content-encoding'], 'gzip');
    assert.deepEqual(zlib.gunzipSync(b.body), a.body);
  });

  test('zstd when accepted (preferred over gzip)', async () => {
    const id = await raw(srv, 'GET', BIG, { headers: auth(tok.acme) });
    for (const ae of ['zstd', 'gzip, zstd', 'br, zstd, gzip']) {
      const z = await raw(srv, 'GET', BIG, { headers: { ...auth(tok.acme), 'accept-encoding': ae } });
      assert.equal(z.headers['content-encoding'], 'zstd', ae);
      assert.deepEqual([...z.body.subarray(0, 4)], [0x28, 0xb5, 0x2f, 0xfd], 'a zstd frame');
      assert.ok(z.body.length < id.body.length);
      if (typeof zlib.zstdDecompressSync === 'function') assert.deepEqual(zlib.zstdDecompressSync(z.body), id.body);
    }
  });

  test('small bodies and errors are not compressed; nothing unasked-for', async () => {
    for (const p of ['/api/v1/payments?limit=1', '/healthz', '/api/v1/dso', '/api/v1/overview?from=bad']) {
      const r = await raw(srv, 'GET', p, { headers: { ...auth(tok.acme), 'accept-encoding': 'gzip, zstd' } });
      assert.ok(r.body.length < 1024, `${p} is small`);
      assert.equal(r.headers['content-encoding'], undefined, p);
      JSON.parse(r.body);
    }
    const r = await raw(srv, 'GET', BIG, { headers: { ...auth(tok.acme), 'accept-encoding': 'br' } });
    assert.equal(r.headers['content-encoding'], undefined);
    JSON.parse(r.body);
  });
});

test('Accept-Encoding with q=0 refuses that coding (RFC 9110 12.5.3)', async () => {
  const r = await raw(srv, 'GET', '/api/v1/payments?limit=200', { headers: { ...auth(tok.acme), 'accept-encoding': 'gzip;q=0, zstd;q=0, identity' } });
  assert.equal(r.headers['content-encoding'], undefined);
});

test('x-request-id on every response; a plain client id is echoed, anything else replaced', async () => {
  const seen = new Set();
  for (const p of ['/healthz', '/api/v1/overview', '/nope']) {
    const r = await raw(srv, 'GET', p, { headers: auth(tok.acme) });
    assert.match(r.headers['x-request-id'] || '', /^[A-Za-z0-9_-]+$/, p);
    seen.add(r.headers['x-request-id']);
  }
  assert.equal(seen.size, 3, 'ids are unique');
  for (const id of ['abc-123_XYZ', 'a', 'x'.repeat(39)]) {
    const r = await raw(srv, 'GET', '/api/v1/overview', { headers: { ...auth(tok.acme), 'x-request-id': id } });
    assert.equal(r.headers['x-request-id'], id);
  }
  for (const id of ['has space', 'semi;colon', 'x'.repeat(40), 'ünï', '<script>']) {
    const r = await raw(srv, 'GET', '/api/v1/overview', { headers: { ...auth(tok.acme), 'x-request-id': Buffer.from(id).toString('latin1') } });
    assert.notEqual(r.headers['x-request-id'], id);
    assert.match(r.headers['x-request-id'], /^[A-Za-z0-9_-]+$/);
  }
});

// ---- lists: pagination, sort, fields, filters ----

describe('lists', () => {
  test('payments rows are the CSV rows, money in cents', async () => {
    const { items } = await walk(tok.acme, 'payments', { limit: 1000 });
    const byId = new Map(items.map((r) => [r.id, r]));
    assert.equal(byId.size, model.payments.length);
    for (const p of model.payments) assert.deepStrictEqual(byId.get(p.id), paymentRow(p));
  });

  for (const limit of [100, 1000]) {
    test(`keyset pagination, limit=${limit}: every payment exactly once, in order`, async () => {
      const { items, pages } = await walk(tok.acme, 'payments', { limit });
      assert.equal(pages, Math.ceil(model.payments.length / limit));
      assert.equal(new Set(items.map((r) => r.id)).size, items.length, 'no row twice');
      const want = ordered(model.payments, '-date', (p) => p.date, (p) => p.amount).map((p) => p.id);
      assert.deepStrictEqual(items.map((r) => r.id), want);
    });
  }

  for (const sort of ['amount', '-amount', 'date', '-date']) {
    test(`sort=${sort}: every row once, in order (ties by import order)`, async () => {
      const { items } = await walk(tok.acme, 'payments', { sort, limit: 250 });
      const want = ordered(model.payments, sort, (p) => p.date, (p) => p.amount).map((p) => p.id);
      assert.deepStrictEqual(items.map((r) => r.id), want);
      for (let i = 1; i < items.length; i++) {
        const k = sort.replace('-', '');
        const cmp = items[i - 1][k] < items[i][k] ? -1 : items[i - 1][k] > items[i][k] ? 1 : 0;
        assert.ok(sort.startsWith('-') ? cmp >= 0 : cmp <= 0, `ordered at ${i}`);
      }
    });
  }

  test('deep pages: a cursor is stateless and page N is what the order says', async () => {
    const want = ordered(model.payments, '-amount', (p) => p.date, (p) => p.amount).map((p) => p.id);
    let cursor = null;
    const cursors = [];
    for (let page = 0; page < 18; page++) {
      const d = await ok(tok.acme, `/api/v1/payments?sort=-amount&limit=100${cursor ? `&cursor=${cursor}` : ''}`);
      assert.deepStrictEqual(d.items.map((r) => r.id), want.slice(page * 100, page * 100 + 100), `page ${page}`);
      cursors.push(cursor);
      cursor = d.next_cursor;
    }
    // a deep page read again, later, and with another page size
    const again = await ok(tok.acme, `/api/v1/payments?sort=-amount&limit=100&cursor=${cursors[15]}`);
    assert.deepStrictEqual(again.items.map((r) => r.id), want.slice(1500, 1600));
    const small = await ok(tok.acme, `/api/v1/payments?sort=-amount&limit=7&cursor=${cursors[15]}`);
    assert.deepStrictEqual(small.items.map((r) => r.id), want.slice(1500, 1507));
    // the same cursor with a filter narrows what comes after it
    const f = await ok(tok.acme, `/api/v1/payments?sort=-amount&limit=1000&cursor=${cursors[15]}&min_amount=100`);
    const amt = new Map(model.payments.map((p) => [p.id, p.amount]));
    assert.deepStrictEqual(f.items.map((r) => r.id), want.slice(1500).filter((id) => amt.get(id) >= 10000).slice(0, 1000));
  });

  test('fields= selects columns; id is always there', async () => {
    for (const [kind, fields, keys] of [
      ['payments', 'date,amount', ['id', 'date', 'amount']],
      ['payments', 'amount,date', ['id', 'date', 'amount']],
      ['payments', 'id', ['id']],
      ['payments', 'reference', ['id', 'reference']],
      ['costs', 'category,vendor,description', ['id', 'category', 'vendor', 'description']],
      ['invoices', 'outstanding', ['id', 'outstanding']],
      ['invoices', 'number,amount,outstanding', ['id', 'number', 'amount', 'outstanding']],
      ['sales_orders', 'status', ['id', 'status']],
      ['leads', 'created_at,value', ['id', 'created_at', 'value']],
    ]) {
      const d = await ok(tok.acme, `/api/v1/${kind}?fields=${fields}&limit=50`);
      assert.ok(d.items.length > 0);
      for (const it of d.items) assert.deepStrictEqual(Object.keys(it), keys, `${kind} fields=${fields}`);
    }
    // the values are those of the full row
    const full = await ok(tok.acme, '/api/v1/payments?limit=20');
    const part = await ok(tok.acme, '/api/v1/payments?limit=20&fields=payer');
    assert.deepStrictEqual(part.items, full.items.map((r) => ({ id: r.id, payer: r.payer })));
    assert.equal(part.next_cursor, full.next_cursor);
  });

  test('every row has exactly its entity columns (DATA.md names)', async () => {
    const cols = {
      costs: ['id', 'date', 'category', 'amount', 'vendor', 'description'],
      sales_orders: ['id', 'date', 'customer', 'status', 'amount'],
      invoices: ['id', 'number', 'customer', 'issue_date', 'due_date', 'amount', 'customer_id', 'status', 'currency', 'outstanding'],
      payments: ['id', 'date', 'payer', 'amount', 'reference', 'customer_id', 'currency'],
      leads: ['id', 'created_at', 'creator', 'status', 'name', 'mobile', 'source', 'followup_date', 'value'],
    };
    for (const [k, c] of Object.entries(cols)) {
      const d = await ok(tok.acme, `/api/v1/${k}?limit=3`);
      for (const it of d.items) assert.deepStrictEqual(Object.keys(it).sort(), [...c].sort(), `${k}: ${JSON.stringify(it)}`);
    }
  });

  // Each filter against the same filter over the CSV, full walk, exact order.
  const F = {
    payments: { rows: () => model.payments, date: (p) => p.date, amount: (p) => p.amount, text: (p) => [p.id, p.payer, p.reference, p.customer_id] },
    costs: { rows: () => model.costs, date: (c) => c.date, amount: (c) => c.amount, text: (c) => [c.id, c.category, c.vendor, c.description] },
    sales_orders: { rows: () => model.sales, date: (s) => s.date, amount: (s) => s.amount, text: (s) => [s.id, s.customer] },
    invoices: { rows: () => model.invoices, date: (i) => i.issue_date, amount: (i) => i.amount, text: (i) => [i.id, i.number, i.customer, i.customer_id] },
    leads: { rows: () => model.leads, date: (l) => l.created_at.slice(0, 10), amount: (l) => l.value ?? 0, text: (l) => [l.id, l.name, l.creator, l.mobile, l.source] },
  };
  const mostCommon = (rows, f) => {
    const m = new Map();
    for (const r of rows) m.set(f(r), (m.get(f(r)) || 0) + 1);
    return [...m.entries()].sort((a, b) => b[1] - a[1])[0][0];
  };

  const CASES = () => [
    ['payments', { from: '2025-03-01', to: '2025-05-31' }, (p) => p.date >= '2025-03-01' && p.date <= '2025-05-31'],
    ['payments', { from: '2026-10-31' }, (p) => p.date >= '2026-10-31'],
    ['payments', { to: '2024-11-30' }, (p) => p.date <= '2024-11-30'],
    ['payments', { customer: mostCommon(model.payments, (p) => p.payer) }, (p) => p.payer === mostCommon(model.payments, (x) => x.payer)],
    ['payments', { min_amount: '1000', max_amount: '5000.50' }, (p) => p.amount >= 100000 && p.amount <= 500050],
    ['payments', { min_amount: '0.01', max_amount: '99.99', sort: 'amount' }, (p) => p.amount >= 1 && p.amount <= 9999],
    ['payments', { q: 'inv' }, (p) => has('inv')(...F.payments.text(p))],
    ['payments', { q: 'INTEREST', from: '2025-01-01', sort: '-amount' }, (p) => p.date >= '2025-01-01' && has('interest')(...F.payments.text(p))],
    ['payments', { q: 'no such text anywhere' }, () => false],
    ['costs', { category: 'Rent' }, (c) => c.category === 'Rent'],
    ['costs', { category: 'Meals & Entertainment', from: '2026-01-01' }, (c) => c.category === 'Meals & Entertainment' && c.date >= '2026-01-01'],
    ['costs', { vendor: mostCommon(model.costs, (c) => c.vendor) }, (c) => c.vendor === mostCommon(model.costs, (x) => x.vendor)],
    ['costs', { q: 'coffee', sort: 'amount' }, (c) => has('coffee')(...F.costs.text(c))],
    ['costs', { category: 'rent' }, () => false], // equality filters are exact
    ['sales_orders', { status: 'cancelled' }, (s) => s.status === 'cancelled'],
    ['sales_orders', { customer: mostCommon(model.sales, (s) => s.customer), status: 'completed' },
      (s) => s.customer === mostCommon(model.sales, (x) => x.customer) && s.status === 'completed'],
    ['sales_orders', { min_amount: '10000', sort: '-amount' }, (s) => s.amount >= 1000000],
    ['invoices', { status: 'void' }, (i) => i.status === 'void'],
    ['invoices', { from: '2025-07-01', to: '2025-07-31', customer: mostCommon(model.invoices, (i) => i.customer) },
      (i) => i.issue_date >= '2025-07-01' && i.issue_date <= '2025-07-31' && i.customer === mostCommon(model.invoices, (x) => x.customer)],
    ['invoices', { q: 'inv-2025-0001' }, (i) => has('inv-2025-0001')(...F.invoices.text(i))],
    ['leads', { creator: 'Aisha', status: 'won' }, (l) => l.creator === 'Aisha' && l.status === 'won'],
    ['leads', { from: '2026-01-01', to: '2026-01-31' }, (l) => l.created_at.slice(0, 10) >= '2026-01-01' && l.created_at.slice(0, 10) <= '2026-01-31'],
    ['leads', { max_amount: '0', sort: 'amount' }, (l) => (l.value ?? 0) <= 0],
    ['leads', { q: 'whatsapp' }, (l) => has('whatsapp')(...F.leads.text(l))],
  ];

  test('every filter (from, to, category, status, customer, creator, vendor, min/max amount, q) against the CSV', async () => {
    for (const [kind, params, pred] of CASES()) {
      const f = F[kind];
      const sort = params.sort || '-date';
      const want = ordered(f.rows().filter(pred), sort, f.date, f.amount).map((r) => r.id);
      const { items } = await walk(tok.acme, kind, { ...params, limit: 1000, fields: 'id' });
      assert.deepStrictEqual(items.map((r) => r.id), want, `${kind} ${JSON.stringify(params)}`);
      if (!(params.q === 'no such text anywhere' || params.category === 'rent')) assert.ok(want.length > 0, `${kind} ${JSON.stringify(params)} selects something`);
    }
  });

  test('leads rows: created_at as written (T for the space), optional fields null', async () => {
    const { items } = await walk(tok.acme, 'leads', { limit: 1000, fields: 'created_at,followup_date,value,creator,status' });
    const byId = new Map(items.map((r) => [r.id, r]));
    for (const l of model.leads) {
      const r = byId.get(l.id);
      assert.equal(r.created_at, l.created_at.replace(' ', 'T'), l.id);
      assert.equal(r.followup_date, l.followup_date, l.id);
      assert.equal(r.value, l.value, l.id);
    }
  });

  test('invoices: outstanding is the full amount before any reconciliation', async () => {
    const { items } = await walk(tok.acme, 'invoices', { limit: 1000 });
    const byId = new Map(items.map((r) => [r.id, r]));
    for (const i of model.invoices) {
      const r = byId.get(i.id);
      assert.equal(r.amount, i.amount);
      assert.equal(r.status, i.status);
      assert.equal(r.outstanding, i.status === 'void' ? r.outstanding : i.amount, i.id);
    }
  });
});

// ---- JSON writes, deletes, CSV imports ----

describe('writes', () => {
  const t = () => tok.w;
  const one = async (id) => (await ok(t(), `/api/v1/costs?q=${encodeURIComponent(id)}&limit=1000`)).items.filter((r) => r.id === id);
  const cashOut = async () => (await ok(t(), '/api/v1/overview?from=2020-01-01&to=2026-12-31')).cash_out;

  test('POST one row as an object, money as integer cents', async () => {
    const r = await post(t(), '/api/v1/costs', { id: 'w1', date: '2026-02-01', category: 'Rent', amount: 123456, vendor: 'Landlord' });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual({ ...r.json, seconds: 0 }, { inserted: 1, replaced: 0, rejected: 0, rejections: [], rejections_truncated: false, warnings: [], seconds: 0 });
    assert.deepStrictEqual(await one('w1'), [{ id: 'w1', date: '2026-02-01', category: 'Rent', amount: 123456, vendor: 'Landlord', description: '' }]);
    assert.equal(await cashOut(), 123456);
  });

  test('POST an array; decimal strings and integer cents; a float is refused with its index', async () => {
    const r = await post(t(), '/api/v1/costs', [
      { id: 'w2', date: '2026-02-02', category: 'Fuel', amount: '12.50' },
      { id: 'w3', date: '2026-02-03', category: 'Fuel', amount: '0.07' },
      { id: 'w4', date: '2026-02-03', category: 'Fuel', amount: 12.5 },
      { id: 'w5', date: '2026-02-04', category: 'Fuel', amount: -250 },
      { id: 'w6', date: '2026-02-04', category: 'Fuel', amount: '1.005' },
      { id: 'w7', date: '2026-02-04', category: 'Fuel', amount: '1,50' },
      { id: 'w8', date: '2026-02-04', category: 'Fuel' },
      { id: 'w9', date: '2026-02-04', category: 'Fuel', amount: 1, colour: 'red' },
    ]);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.inserted, 3);
    assert.equal(r.json.rejected, 5);
    assert.deepEqual(r.json.rejections.map((x) => x.index), [2, 4, 5, 6, 7]);
    assert.match(r.json.rejections[0].reason, /floating|integer cents/);
    assert.match(r.json.rejections[3].reason, /amount/);
    assert.match(r.json.rejections[4].reason, /colour/);
    assert.deepStrictEqual((await one('w2'))[0].amount, 1250);
    assert.deepStrictEqual((await one('w3'))[0].amount, 7);
    assert.deepStrictEqual((await one('w5'))[0].amount, -250);
    for (const id of ['w4', 'w6', 'w7', 'w8', 'w9']) assert.deepEqual(await one(id), [], `${id} not stored`);
    assert.equal(await cashOut(), 123456 + 1250 + 7 - 250);
  });

  test('POST every kind, read it back', async () => {
    const rows = {
      sales_orders: [{ id: 's1', date: '2026-03-01', customer: 'Zeta Ltd', status: 'completed', amount: '100.00' }, { date: '2026-03-02', customer: 'Zeta Ltd', status: 'cancelled', amount: 999 }],
      invoices: [{ id: 'i1', number: 'INV-W-1', customer: 'Zeta Ltd', issue_date: '2026-03-01', due_date: '2026-03-31', amount: '250.00' }],
      payments: [{ id: 'p1', date: '2026-03-05', payer: 'ZETA LTD', amount: 25000, reference: 'INV-W-1' }],
      leads: [{ id: 'l1', created_at: '2026-03-01 09:30:00', creator: 'Wendy', status: 'new', followup_date: '2026-03-10', value: '500.00' }],
    };
    for (const [k, body] of Object.entries(rows)) {
      const r = await post(t(), `/api/v1/${k}`, body);
      assert.equal(r.status, 200, `${k}: ${r.text}`);
      assert.equal(r.json.inserted, body.length);
    }
    assert.deepStrictEqual((await ok(t(), '/api/v1/invoices')).items,
      [{ id: 'i1', number: 'INV-W-1', customer: 'Zeta Ltd', issue_date: '2026-03-01', due_date: '2026-03-31', amount: 25000, customer_id: '', status: 'open', currency: 'USD', outstanding: 25000 }]);
    const so = (await ok(t(), '/api/v1/sales_orders')).items;
    assert.equal(so.length, 2);
    assert.ok(so.every((s) => typeof s.id === 'string' && s.id.length > 0), 'the server assigns an id');
    const ov = await ok(t(), '/api/v1/overview?from=2026-03-01&to=2026-03-31&date=2026-03-10');
    assert.equal(ov.sales, 10000);
    assert.equal(ov.sales_count, 1);
    assert.equal(ov.cash_in, 25000);
    assert.equal(ov.followups_due, 1);
    const lead = (await ok(t(), '/api/v1/leads?fields=created_at,value,followup_date')).items;
    assert.deepStrictEqual(lead, [{ id: 'l1', created_at: '2026-03-01T09:30:00', followup_date: '2026-03-10', value: 50000 }]);
    const sum = await ok(t(), '/api/v1/leads/summary?from=2026-03-01&to=2026-03-31&date=2026-03-10');
    assert.deepStrictEqual(sum.creators, [{ creator: 'Wendy', created: 1, by_status: { new: 1, contacted: 0, qualified: 0, proposal: 0, won: 0, lost: 0 }, followups_due: 1, overdue_followups: 0 }]);
  });

  test('the importer\'s validation applies to JSON rows', async () => {
    const r = await post(t(), '/api/v1/sales_orders', [
      { date: '2026-03-01', customer: 'X', status: 'lost', amount: 1 },
      { date: '2026-02-30', customer: 'X', status: 'pending', amount: 1 },
      { date: '2026-03-01', customer: '', status: 'pending', amount: 1 },
      { date: '2026-03-01', customer: 'X', status: 'pending', amount: 'abc' },
      { date: '2026-03-01', customer: 'X', status: 'pending', amount: 1, id: 17 },
      'not an object',
    ]);
    assert.equal(r.status, 422, r.text);
    assert.equal(r.json.rejected, 6);
    assert.deepEqual(r.json.rejections.map((x) => x.index), [0, 1, 2, 3, 4, 5]);
    assert.match(r.json.rejections[0].reason, /status/);
    assert.match(r.json.rejections[2].reason, /customer/);
    assert.match(r.json.rejections[4].reason, /id/);
  });

  test('replacing by id changes the row and the figures', async () => {
    const before = await cashOut();
    const r = await post(t(), '/api/v1/costs', { id: 'w1', date: '2026-02-01', category: 'Rent', amount: '1000.00' });
    assert.equal(r.status, 200);
    assert.equal(r.json.replaced, 1);
    assert.equal(r.json.inserted, 0);
    assert.deepStrictEqual(await one('w1'), [{ id: 'w1', date: '2026-02-01', category: 'Rent', amount: 100000, vendor: '', description: '' }]);
    assert.equal(await cashOut(), before - 123456 + 100000);
    // moving the row to another day and category moves it in the views
    await post(t(), '/api/v1/costs', { id: 'w1', date: '2025-12-31', category: 'Office', amount: '1000.00' });
    const bd = await ok(t(), '/api/v1/breakdown?of=costs&by=category&from=2026-01-01&to=2026-12-31');
    assert.ok(!bd.items.some((i) => i.key === 'Rent'), JSON.stringify(bd.items));
    const bd25 = await ok(t(), '/api/v1/breakdown?of=costs&by=category&from=2025-12-31&to=2025-12-31');
    assert.deepStrictEqual(bd25.items, [{ key: 'Office', count: 1, amount: 100000 }]);
  });

  test('DELETE by id: 204 with no body, then 404; the figures follow', async () => {
    const before = await cashOut();
    const r = await raw(srv, 'DELETE', '/api/v1/costs/w1', { headers: auth(t()) });
    assert.equal(r.status, 204);
    assert.equal(r.body.length, 0);
    assert.deepEqual(await one('w1'), []);
    assert.equal(await cashOut(), before - 100000);
    problem(await del(t(), '/api/v1/costs/w1'), 404, /w1/);
    problem(await del(t(), '/api/v1/costs/never-was'), 404);
    for (const k of ['sales_orders', 'invoices', 'payments', 'leads']) {
      const id = { sales_orders: 's1', invoices: 'i1', payments: 'p1', leads: 'l1' }[k];
      assert.equal((await del(t(), `/api/v1/${k}/${id}`)).status, 204, k);
      problem(await del(t(), `/api/v1/${k}/${id}`), 404);
    }
    const ov = await ok(t(), '/api/v1/overview?from=2026-03-01&to=2026-03-31&date=2026-03-10');
    assert.equal(ov.sales, 0);
    assert.equal(ov.cash_in, 0);
    assert.equal(ov.followups_due, 0);
  });

  test('DELETE an id that needs escaping in the path (space, %, ?, #)', async () => {
    for (const id of ['a b', '50%', 'what?', 'no#1', 'Müller-1']) {
      assert.equal((await post(t(), '/api/v1/costs', { id, date: '2026-02-01', category: 'X', amount: 1 })).status, 200);
      assert.equal((await del(t(), `/api/v1/costs/${encodeURIComponent(id)}`)).status, 204, id);
      assert.deepEqual(await one(id), [], id);
    }
  });

  test('DELETE an id holding a slash (INV/2025/001-style ids are text too)', async () => {
    const id = 'INV/2025/001';
    assert.equal((await post(t(), '/api/v1/costs', { id, date: '2026-02-01', category: 'X', amount: 1 })).status, 200);
    const r = await del(t(), `/api/v1/costs/${encodeURIComponent(id)}`);
    assert.equal(r.status, 204, `DELETE /api/v1/costs/INV%2F2025%2F001: ${r.text}`);
    assert.deepEqual(await one(id), []);
  });

  test('POST /api/v1/import/{kind}: counts, rejections with line numbers, replacing on re-import', async () => {
    const csv = [
      'id,date,category,amount,vendor',
      'm1,2026-04-01,Rent,100.00,Landlord',
      'm2,2026-13-01,Rent,5,Landlord', // line 3: bad date
      'm3,2026-04-02,,5,', // line 4: no category
      '',
      'm4,2026-04-03,Fuel,12.345,Shell', // line 6: 3 decimals
      '"m5","2026-04-04","Travel, local","7.5","A ""quoted"" vendor"',
      'm6,2026-04-05,Fuel,abc,Shell', // line 8
    ].join('\r\n') + '\r\n';
    const r = await post(tok.imp, '/api/v1/import/costs', csv, { 'content-type': 'text/csv' });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.inserted, 2);
    assert.equal(r.json.replaced, 0);
    assert.equal(r.json.rejected, 4);
    assert.deepEqual(r.json.rejections.map((x) => x.line), [3, 4, 6, 8]);
    assert.match(r.json.rejections[0].reason, /date/);
    assert.match(r.json.rejections[1].reason, /category/);
    const rows = (await ok(tok.imp, '/api/v1/costs?sort=date')).items;
    assert.deepStrictEqual(rows, [
      { id: 'm1', date: '2026-04-01', category: 'Rent', amount: 10000, vendor: 'Landlord', description: '' },
      { id: 'm5', date: '2026-04-04', category: 'Travel, local', amount: 750, vendor: 'A "quoted" vendor', description: '' },
    ]);
    const again = await post(tok.imp, '/api/v1/import/costs', csv, { 'content-type': 'text/csv' });
    assert.equal(again.json.inserted, 0);
    assert.equal(again.json.replaced, 2);
    assert.equal((await ok(tok.imp, '/api/v1/overview?from=2026-04-01&to=2026-04-30')).cash_out, 10750, 're-import is idempotent');
  });

  test('import options: delimiter=; decimal_comma=1, thousands, skip, no_header+map, set, date_format, dry_run', async () => {
    const imp = (q, body) => post(tok.imp, `/api/v1/import/costs?${q}`, body, { 'content-type': 'text/csv' });
    let r = await imp('delimiter=%3B&decimal_comma=1', 'id;date;category;amount\no1;2026-05-01;Rent;1234,56\no2;2026-05-02;Rent;-0,5\n');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.inserted, 2);
    r = await imp('delimiter=;&decimal_comma=1&thousands=.', 'id;date;category;amount\no3;2026-05-03;Rent;1.234,56\n');
    assert.equal(r.json.inserted, 1, r.text);
    // without the option the same amount is refused
    r = await imp('delimiter=;', 'id;date;category;amount\no4;2026-05-03;Rent;1234,56\n');
    assert.equal(r.json.rejected, 1, r.text);
    r = await imp('delimiter=tab&skip=2&date_format=%25d%2F%25m%2F%25Y', 'exported by Bank\nAccount 123\nid\tdate\tcategory\tamount\no5\t06/05/2026\tFees\t3.00\n');
    assert.equal(r.json.inserted, 1, r.text);
    r = await imp('no_header=1&map=' + encodeURIComponent('id=1,date=2,amount=3') + '&set=category=Bank', 'o6,2026-05-07,4.00\n');
    assert.equal(r.json.inserted, 1, r.text);
    r = await imp('dry_run=1', 'id,date,category,amount\no7,2026-05-08,Rent,1.00\n');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(await ok(tok.imp, '/api/v1/costs?q=o7'), { items: [], next_cursor: null }, 'a dry run stores nothing');
    const got = Object.fromEntries((await ok(tok.imp, '/api/v1/costs?from=2026-05-01&to=2026-05-31&limit=50')).items.map((x) => [x.id, [x.date, x.category, x.amount]]));
    assert.deepStrictEqual(got, {
      o1: ['2026-05-01', 'Rent', 123456], o2: ['2026-05-02', 'Rent', -50], o3: ['2026-05-03', 'Rent', 123456],
      o5: ['2026-05-06', 'Fees', 300], o6: ['2026-05-07', 'Bank', 400],
    });
  });

  test('issue 20 options over HTTP: negate, sign_column, default, allow_duplicate_ids; warnings; a stop before any write', async () => {
    const imp = (q, body) => post(tok.imp, `/api/v1/import/payments?${q}`, body, { 'content-type': 'text/csv' });
    let r = await imp('negate=1', 'id,date,payer,amount\nn1,2026-06-01,Card,12.50\n');
    assert.equal(r.json.inserted, 1, r.text);
    assert.deepEqual(r.json.warnings, []);
    r = await imp('sign_column=Type&negative_values=DR', 'id,date,payer,amount,Type\nn2,2026-06-01,A,5.00,DR\nn3,2026-06-01,B,5.00,CR\n');
    assert.equal(r.json.inserted, 2, r.text);
    r = await imp('default=' + encodeURIComponent('payer=Unknown'), 'id,date,payer,amount\nn4,2026-06-02,,1.00\n');
    assert.equal(r.json.inserted, 1, r.text);
    const dup = 'id,date,payer,amount\nn5,2026-06-03,A,1.00\nn5,2026-06-03,A,2.00\n';
    problem(await imp('', dup), 422, /repeat the id of the row just above.*allow-duplicate-ids/);
    r = await imp('allow_duplicate_ids=1', dup);
    assert.equal(r.json.inserted, 1, r.text);
    assert.match(r.json.warnings[0], /repeat an id/);
    problem(await imp('date_format=' + encodeURIComponent('%m/%d/%Y'), 'id,date,payer,amount\nn6,13/02/2026,A,1.00\n'), 422, /use --date-format %d\/%m\/%Y/);
    problem(await imp('set=payer%3DX&map=payer%3DWho', 'id,date,Who,amount\n'), 400, /both give 'payer'/);
    const items = Object.fromEntries((await ok(tok.imp, '/api/v1/payments?from=2026-06-01&to=2026-06-30&limit=50')).items.map((x) => [x.id, [x.payer, x.amount]]));
    assert.deepStrictEqual(items, { n1: ['Card', -1250], n2: ['A', -500], n3: ['B', 500], n4: ['Unknown', 100], n5: ['A', 200] });
  });

  test('import of every kind of the generated files over HTTP equals the CLI import', async () => {
    const o = tok.httpimp;
    for (const k of ['costs', 'sales_orders', 'invoices', 'payments', 'leads']) {
      const r = await post(o, `/api/v1/import/${k}`, readFileSync(`${ds.csv}/${k}.csv`, 'utf8'), { 'content-type': 'text/csv' });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.rejected, 0);
    }
    for (const p of ['/api/v1/dashboard?from=2025-01-01&to=2026-10-31', '/api/v1/leads/summary', '/api/v1/breakdown?of=costs&by=vendor&top=100']) {
      const a = await ok(tok.acme, p), b = await ok(o, p);
      assert.deepStrictEqual(b, a, p);
    }
  });
});

// ---- isolation between organisations ----

describe('cross-organisation isolation', () => {
  const A = () => tok.acme, B = () => tok.beta;
  const empty = { costs: [], sales: [], invoices: [], payments: [], leads: [] };
  const firstIds = {};
  let aDash;

  before(async () => {
    for (const k of ['costs', 'sales_orders', 'invoices', 'payments', 'leads'])
      firstIds[k] = (await ok(A(), `/api/v1/${k}?limit=1&sort=date`)).items[0];
    aDash = (await api(srv, A(), '/api/v1/dashboard?from=2024-11-01&to=2026-10-31')).text;
  });

  test('every view of the empty org is zero, whatever A holds', async () => {
    for (const [from, to] of [['2025-01-01', '2025-12-31'], ['2024-11-01', '2026-10-31']]) {
      assert.deepStrictEqual(await ok(B(), `/api/v1/dashboard?from=${from}&to=${to}`), X.dashboard(empty, from, to));
      assert.deepStrictEqual(await ok(B(), `/api/v1/overview?from=${from}&to=${to}`), X.overview(empty, from, to));
      for (const iv of X.INTERVALS)
        assert.deepStrictEqual(await ok(B(), `/api/v1/cashflow?from=${from}&to=${to}&interval=${iv}`), X.cashflow(empty, from, to, iv));
      for (const [of, by] of [['costs', 'category'], ['costs', 'vendor'], ['sales', 'status'], ['sales', 'customer']])
        assert.deepStrictEqual(await ok(B(), `/api/v1/breakdown?of=${of}&by=${by}&from=${from}&to=${to}`), X.breakdown(empty, of, by, from, to));
      assert.deepStrictEqual(await ok(B(), `/api/v1/top-customers?from=${from}&to=${to}`), X.topCustomers(empty, from, to));
      assert.deepStrictEqual(await ok(B(), `/api/v1/leads/summary?from=${from}&to=${to}`), X.leadsSummary(empty, from, to));
      assert.deepStrictEqual(await ok(B(), `/api/v1/aging?as_of=${to}`), X.aging(empty, to));
      assert.deepStrictEqual(await ok(B(), `/api/v1/dso?as_of=${to}`), X.dso(empty, to));
      assert.deepStrictEqual(await ok(B(), `/api/v1/payment-behaviour?from=${from}&to=${to}`), { from, to, customers: [] });
    }
    const env = await api(srv, B(), '/api/v1/overview');
    assert.equal(env.json.org, 'beta');
  });

  test('every list of the empty org is empty, whatever the filter', async () => {
    for (const k of ['costs', 'sales_orders', 'invoices', 'payments', 'leads']) {
      const id = firstIds[k].id;
      for (const q of ['', `q=${id}`, 'sort=amount', 'sort=-amount&limit=1000', 'from=2000-01-01&to=2100-01-01', 'fields=id'])
        assert.deepStrictEqual(await ok(B(), `/api/v1/${k}?${q}`), { items: [], next_cursor: null }, `${k}?${q}`);
    }
    // A's cursor does not open A's rows to B: it is sealed for A, B gets a 400
    const cur = (await ok(A(), '/api/v1/payments?limit=5')).next_cursor;
    problem(await api(srv, B(), `/api/v1/payments?limit=5&cursor=${cur}`), 400, /invalid cursor/);
  });

  test('B cannot delete A\'s rows, and cannot tell them from ids that never existed', async () => {
    for (const k of ['costs', 'sales_orders', 'invoices', 'payments', 'leads']) {
      const id = firstIds[k].id;
      const r = problem(await del(B(), `/api/v1/${k}/${id}`), 404);
      const n = problem(await del(B(), `/api/v1/${k}/${id}zz`), 404);
      assert.equal(r.detail.replace(id, 'ID'), n.detail.replace(`${id}zz`, 'ID'), 'the same answer as for an unknown id');
      const still = (await ok(A(), `/api/v1/${k}?limit=1&sort=date`)).items[0];
      assert.deepStrictEqual(still, firstIds[k], `A's ${k} row is still there`);
    }
  });

  test('B writing rows with A\'s ids creates B\'s own rows and leaves A\'s alone', async () => {
    const rows = {
      costs: { date: '2026-01-02', category: 'Hijack', amount: 1 },
      sales_orders: { date: '2026-01-02', customer: 'Hijack', status: 'completed', amount: 1 },
      invoices: { number: 'H-1', customer: 'Hijack', issue_date: '2026-01-02', due_date: '2026-01-03', amount: 1 },
      payments: { date: '2026-01-02', payer: 'Hijack', amount: 1 },
      leads: { created_at: '2026-01-02', creator: 'Hijack', status: 'new' },
    };
    for (const [k, row] of Object.entries(rows)) {
      const id = firstIds[k].id;
      const r = await post(B(), `/api/v1/${k}`, { id, ...row });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.inserted, 1, `${k}: B's row is new to B`);
      assert.equal(r.json.replaced, 0, `${k}: nothing of A replaced`);
      const csv = Object.keys(row).concat('id').join(',') + '\n' + Object.values(row).concat(id).join(',') + '\n';
      const im = await post(B(), `/api/v1/import/${k}`, csv, { 'content-type': 'text/csv' });
      assert.equal(im.status, 200, im.text);
      assert.equal(im.json.replaced, 1, `${k}: the import replaces B's own row`);
      assert.deepStrictEqual((await ok(A(), `/api/v1/${k}?limit=1&sort=date`)).items[0], firstIds[k], `A's ${k} row unchanged`);
      assert.equal((await ok(B(), `/api/v1/${k}`)).items.length, 1);
    }
    assert.equal((await api(srv, A(), '/api/v1/dashboard?from=2024-11-01&to=2026-10-31')).text, aDash, 'A\'s figures unchanged');
    for (const k of Object.keys(rows)) assert.equal((await del(B(), `/api/v1/${k}/${firstIds[k].id}`)).status, 204);
    for (const k of Object.keys(rows))
      assert.deepStrictEqual((await ok(A(), `/api/v1/${k}?limit=1&sort=date`)).items[0], firstIds[k], `A's ${k} row survives B's delete`);
    assert.equal((await api(srv, A(), '/api/v1/dashboard?from=2024-11-01&to=2026-10-31')).text, aDash);
  });

  test('A\'s ETag is no good to B', async () => {
    for (const p of ['/api/v1/overview', '/api/v1/dashboard', '/api/v1/payments']) {
      const a = await raw(srv, 'GET', p, { headers: auth(A()) });
      const b = await raw(srv, 'GET', p, { headers: { ...auth(B()), 'if-none-match': a.headers.etag } });
      assert.equal(b.status, 200, p);
      assert.equal(JSON.parse(b.body).org, 'beta');
    }
  });
});

// ---- health, readiness, metrics ----

test('/healthz and /readyz need no token', async () => {
  const h = await api(srv, null, '/healthz');
  assert.equal(h.status, 200);
  assert.deepEqual(h.json, { status: 'ok' });
  const r = await api(srv, null, '/readyz');
  assert.equal(r.status, 200);
  assert.equal(r.json.status, 'ready');
  assert.equal(r.json.store.reachable, true);
  assert.ok(r.json.store.schema_version >= 1);
  const idx = await api(srv, null, '/');
  assert.equal(idx.status, 200);
  assert.match(idx.headers.get('content-type'), /text\/html/);
});

test('/metrics: Prometheus text with a latency histogram per route', async () => {
  await ok(tok.acme, '/api/v1/overview');
  await ok(tok.acme, '/api/v1/payments?limit=1');
  await api(srv, tok.acme, '/api/v1/overview?bogus=1');
  const m = await api(srv, tok.operator, '/metrics');
  assert.equal(m.status, 200);
  assert.match(m.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  assert.match(m.text, /^# TYPE brisk_http_request_duration_seconds histogram$/m);
  for (const [route, code] of [['overview', '200'], ['list', '200'], ['overview', '400']]) {
    const esc = `route="${route}",code="${code}"`;
    assert.match(m.text, new RegExp(`^brisk_http_request_duration_seconds_bucket\\{${esc},le="\\+Inf"\\} [1-9]\\d*$`, 'm'), esc);
    assert.match(m.text, new RegExp(`^brisk_http_request_duration_seconds_count\\{${esc}\\} [1-9]\\d*$`, 'm'), esc);
    assert.match(m.text, new RegExp(`^brisk_http_request_duration_seconds_sum\\{${esc}\\} [0-9.e+-]+$`, 'm'), esc);
  }
  // every sample line is well formed
  for (const line of m.text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    assert.match(line, /^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? [-+0-9.eENaIf]+$/, line);
  }
});

test('HEAD answers like GET without a body', async () => {
  const g = await raw(srv, 'GET', '/api/v1/overview', { headers: auth(tok.acme) });
  const h = await raw(srv, 'HEAD', '/api/v1/overview', { headers: auth(tok.acme) });
  assert.equal(h.status, 200);
  assert.equal(h.body.length, 0);
  assert.equal(h.headers.etag, g.headers.etag);
});

// ---- crashes found by probing (each on its own server, so one crash does
// not take the other tests down) ----

describe('leads: requests that must not crash the server', () => {
  let probe;
  before(async () => { probe = await startServer(ds.data); });
  after(async () => { if (probe) await probe.stop(); });
  const alive = async () => (await api(probe, null, '/healthz').catch(() => ({ status: 0 }))).status === 200;

  test('GET /api/v1/leads?fields=<unknown> is a 400, not a crash', async () => {
    const r = await api(probe, tok.acme, '/api/v1/leads?fields=bogus').catch((e) => ({ status: 0, text: String(e) }));
    assert.ok(await alive(), 'the server survives');
    problem(r, 400, /bogus/);
  });

  test('POST /api/v1/leads with an unknown field rejects the row, not the server', async () => {
    if (!(await alive())) { probe = await startServer(ds.data); }
    const r = await api(probe, tok.w, '/api/v1/leads', { method: 'POST', headers: JSONH,
      body: JSON.stringify({ created_at: '2026-01-01', creator: 'Z', status: 'new', colour: 'red' }) }).catch((e) => ({ status: 0, text: String(e) }));
    assert.ok(await alive(), 'the server survives');
    assert.equal(r.status, 422, r.text);
  });
});

// ---- graceful shutdown ----

test('SIGTERM while a request is in flight: the response arrives and the process exits 0', async () => {
  const dir = tempDir(); extraDirs.push(dir);
  const t = token(`${dir}/data`, 'shut');
  const s = await startServer(`${dir}/data`);
  const N = 15000; // under 1 MiB: a larger body becomes a background task (202)
  let csv = 'id,date,category,amount,vendor,description\n';
  for (let i = 0; i < N; i++) csv += `g${i},2026-0${1 + (i % 9)}-1${i % 10},Cat${i % 17},${i % 1000}.${String(i % 100).padStart(2, '0')},Vendor ${i % 31},row ${i}\n`;
  let sent = 0, answered = 0;
  const res = await new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: s.port, method: 'POST', path: '/api/v1/import/costs',
      headers: { ...auth(t), 'content-type': 'text/csv', 'content-length': Buffer.byteLength(csv) }, agent: false }, (r) => {
      const chunks = [];
      r.on('data', (c) => chunks.push(c));
      r.on('end', () => { answered = performance.now(); resolve({ status: r.statusCode, body: Buffer.concat(chunks).toString() }); });
    });
    req.on('error', reject);
    req.on('finish', () => setTimeout(() => { sent = performance.now(); s.child.kill('SIGTERM'); }, 50));
    req.end(csv);
  });
  assert.ok(sent > 0 && answered > sent, 'the signal came while the request was in flight');
  assert.equal(res.status, 200, res.body);
  assert.equal(JSON.parse(res.body).inserted, N);
  const code = await new Promise((r) => (s.child.exitCode !== null ? r(s.child.exitCode) : s.child.on('exit', (c, sig) => r(c ?? sig))));
  assert.equal(code, 0, `exit status 0 after SIGTERM; stderr:\n${s.stderr().slice(-2500)}`);
  // the import was committed
  const again = await startServer(`${dir}/data`);
  try {
    const ov = await api(again, t, '/api/v1/breakdown?of=costs&by=category&from=2026-01-01&to=2026-12-31');
    assert.equal(ov.json.data.total.count, N);
  } finally { await again.stop(); }
});

// The body still arriving when the signal comes (half sent, the rest after
// the server has seen SIGTERM): the stop must not cut a request it has begun
// to read. Sequenced by events (the signal, then the rest), not by timing.
test('SIGTERM while an upload is still arriving: it is read, run and answered', async () => {
  const dir = tempDir(); extraDirs.push(dir);
  const t = token(`${dir}/data`, 'slow');
  const s = await startServer(`${dir}/data`);
  const N = 2000;
  let csv = 'id,date,category,amount,vendor,description\n';
  for (let i = 0; i < N; i++) csv += `s${i},2026-03-1${i % 10},Cat${i % 7},${i % 500}.25,Vendor ${i % 13},row ${i}\n`;
  const body = Buffer.from(csv);
  const half = body.length >> 1;
  const res = await new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: s.port, method: 'POST', path: '/api/v1/import/costs',
      headers: { ...auth(t), 'content-type': 'text/csv', 'content-length': body.length }, agent: false }, (r) => {
      const chunks = [];
      r.on('data', (c) => chunks.push(c));
      r.on('end', () => resolve({ status: r.statusCode, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.write(body.subarray(0, half), () => {
      // the rest goes once the server has logged that it is stopping
      const onErr = (d) => {
        if (!/serve: stopping/.test(String(d))) return;
        s.child.stderr.off('data', onErr);
        req.end(body.subarray(half));
      };
      s.child.stderr.on('data', onErr);
      s.child.kill('SIGTERM');
    });
  });
  assert.equal(res.status, 200, res.body);
  assert.equal(JSON.parse(res.body).inserted, N);
  const code = await new Promise((r) => (s.child.exitCode !== null ? r(s.child.exitCode) : s.child.on('exit', (c, sig) => r(c ?? sig))));
  assert.equal(code, 0, s.stderr().slice(-2000));
});

test('SIGTERM on an idle server with keep-alive connections: exits promptly with 0', async () => {
  const dir = tempDir(); extraDirs.push(dir);
  const t = token(`${dir}/data`, 'idle');
  const s = await startServer(`${dir}/data`);
  const agent = new http.Agent({ keepAlive: true });
  await new Promise((res) => http.get({ host: '127.0.0.1', port: s.port, path: '/api/v1/overview', headers: auth(t), agent }, (r) => { r.resume(); r.on('end', res); }));
  const code = await s.stop();
  agent.destroy();
  // an idle connection the stop did not expire at once would be left open
  // past the loop's last round, and the server says so as it exits
  assert.doesNotMatch(s.stderr(), /connections still open at exit/, 'no waiting for keep-alive timeouts');
  assert.notEqual(code, null);
  assert.doesNotMatch(s.stderr(), /runtime error:|ERROR: AddressSanitizer/);
});

test('no sanitizer reports from the main server', async () => {
  assert.doesNotMatch(srv.stderr(), /runtime error:|ERROR: AddressSanitizer/);
});
