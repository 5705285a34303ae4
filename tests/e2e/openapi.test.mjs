// The OpenAPI document (docs/openapi.json, served at /api/v1/openapi.json):
// it names exactly the routes of the server's own table (`brisk routes`),
// with their auth; it is a valid OpenAPI 3.1 document for a real validator
// from npm; and real answers of a running server over generated data match
// the schemas it gives for them (ajv, JSON Schema 2020-12).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Validator } from '@seriousme/openapi-schema-validator';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { brisk, dataset, startServer, api, cleanup, operatorToken, roleToken } from './lib/harness.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const doc = JSON.parse(readFileSync(path.join(root, 'docs/openapi.json'), 'utf8'));
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];

function routeTable() {
  return brisk(['routes']).trim().split('\n').map((l) => {
    const [method, pattern, auth, name, role] = l.split('\t');
    return { method: method.toLowerCase(), pattern, auth, name, role };
  });
}

function documented() {
  const out = [];
  for (const [p, item] of Object.entries(doc.paths))
    for (const m of METHODS) if (item[m]) out.push({ method: m, pattern: p, op: item[m] });
  return out;
}

describe('the document and the route table', () => {
  test('every route is documented and every documented route exists', () => {
    const routes = routeTable();
    assert.ok(routes.length > 30, `brisk routes printed ${routes.length} routes`);
    const have = new Set(routes.map((r) => `${r.method.toUpperCase()} ${r.pattern}`));
    const docd = new Set(documented().map((d) => `${d.method.toUpperCase()} ${d.pattern}`));
    const missing = [...have].filter((k) => !docd.has(k));
    const extra = [...docd].filter((k) => !have.has(k));
    assert.deepEqual(missing, [], `routes missing from docs/openapi.json: ${missing.join(', ')}`);
    assert.deepEqual(extra, [], `docs/openapi.json names routes the server does not have: ${extra.join(', ')}`);
  });

  test('operation ids are the route names and auth matches the table', () => {
    const ops = new Map(documented().map((d) => [`${d.method} ${d.pattern}`, d.op]));
    for (const r of routeTable()) {
      const op = ops.get(`${r.method} ${r.pattern}`);
      assert.equal(op.operationId, r.name, `${r.method} ${r.pattern}`);
      const security = op.security ?? doc.security;
      const pub = Array.isArray(security) && security.length === 0;
      assert.equal(pub, r.auth === 'public', `${r.method} ${r.pattern}: the document says ${pub ? 'public' : 'token'}`);
      if (r.auth === 'token') assert.ok(op.responses['401'], `${r.method} ${r.pattern} lacks its 401`);
      assert.equal(op['x-brisk-role'], r.role, `${r.method} ${r.pattern}: the role of auth/policy.c`);
      if (r.role !== 'public') assert.ok(op.responses['403'], `${r.method} ${r.pattern} lacks its 403`);
    }
  });

  test('info.version is the version of the binary', () => {
    assert.equal(doc.info.version, brisk(['version']).trim().split(' ')[1]);
  });

  test('path parameters are declared for every {name}', () => {
    for (const d of documented()) {
      const names = [...d.pattern.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
      const params = (d.op.parameters || []).map((p) => (p.$ref ? resolve(p.$ref) : p)).filter((p) => p.in === 'path');
      assert.deepEqual(params.map((p) => p.name).sort(), names, `${d.method} ${d.pattern}`);
    }
  });
});

function resolve(ref) {
  assert.ok(ref.startsWith('#/'), `external $ref ${ref}`);
  let node = doc;
  for (const part of ref.slice(2).split('/')) {
    node = node?.[part.replace(/~1/g, '/').replace(/~0/g, '~')];
    assert.ok(node !== undefined, `unresolved $ref ${ref}`);
  }
  return node;
}

describe('the document is valid OpenAPI 3.1', () => {
  test('@seriousme/openapi-schema-validator accepts it', async () => {
    const v = new Validator();
    const res = await v.validate(structuredClone(doc));
    assert.ok(res.valid, JSON.stringify(res.errors, null, 1));
    assert.equal(v.version, '3.1');
  });

  test('every $ref resolves', () => {
    const walk = (n) => {
      if (Array.isArray(n)) n.forEach(walk);
      else if (n && typeof n === 'object') for (const [k, v] of Object.entries(n)) (k === '$ref' ? resolve(v) : walk(v));
    };
    walk(doc);
  });
});

describe('real answers match the document', () => {
  let ds, srv;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(doc, 'openapi.json');
  const templates = Object.keys(doc.paths).map((p) => ({
    p,
    re: new RegExp('^' + p.replace(/[.]/g, '\\.').replace(/\{[^}]+\}/g, '[^/]+') + '$'),
    literal: p.replace(/\{[^}]+\}/g, '').split('/').filter(Boolean).length,
  }));
  // The template the router would pick: the most literal segments win.
  const template = (url) => {
    const pth = url.split('?')[0];
    const hits = templates.filter((t) => t.re.test(pth)).sort((a, b) => b.literal - a.literal);
    assert.ok(hits.length, `no documented path matches ${pth}`);
    return hits[0].p;
  };
  const ptr = (s) => s.replace(/~/g, '~0').replace(/\//g, '~1');
  const checked = new Set();

  async function check(method, url, { tok, body, headers = {} } = {}) {
    const opts = { method: method.toUpperCase(), headers: { ...headers } };
    if (body !== undefined) opts.body = body;
    const res = await api(srv, tok === undefined ? ds.token : tok, url, opts);
    const p = template(url);
    const op = doc.paths[p][method];
    assert.ok(op, `${method} ${p} is not documented`);
    const status = String(res.status);
    assert.ok(op.responses[status], `${method} ${url} answered ${status}, which ${method} ${p} does not document`);
    let resp = op.responses[status];
    let base = `openapi.json#/paths/${ptr(p)}/${method}/responses/${status}`;
    if (resp.$ref) { base = 'openapi.json' + resp.$ref; resp = resolve(resp.$ref); }
    const ctype = (res.headers.get('content-type') || '').split(';')[0];
    if (!resp.content) {
      assert.equal(res.text, '', `${method} ${url}: ${status} documents no body`);
    } else {
      assert.ok(resp.content[ctype], `${method} ${url}: ${status} ${ctype} is not documented (${Object.keys(resp.content)})`);
      if (ctype.endsWith('json')) {
        const validate = ajv.getSchema(`${base}/content/${ptr(ctype)}/schema`);
        assert.ok(validate(res.json), `${method} ${url} (${status}): ${ajv.errorsText(validate.errors)}\n${res.text.slice(0, 400)}`);
      }
    }
    checked.add(`${method} ${p} ${status}`);
    return res;
  }

  before(async () => {
    ds = dataset({ scale: 0.05, seed: 3, end: '2026-10-31', org: 'acme' });
    srv = await startServer(ds.data);
  });
  after(async () => {
    if (srv) await srv.stop();
    if (ds) cleanup(ds.root);
  });

  test('the served document is docs/openapi.json, with an ETag', async () => {
    const res = await api(srv, null, '/api/v1/openapi.json');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type'), /^application\/json/);
    assert.deepEqual(res.json, doc);
    const again = await api(srv, null, '/api/v1/openapi.json', { headers: { 'if-none-match': res.headers.get('etag') } });
    assert.equal(again.status, 304);
  });

  test('service endpoints and views', async () => {
    await check('get', '/healthz', { tok: null });
    await check('get', '/readyz', { tok: null });
    await check('get', '/api/v1/openapi.json', { tok: null });
    for (const u of ['/api/v1/dashboard?from=2026-01-01&to=2026-10-31&top=3', '/api/v1/overview', '/api/v1/cashflow?interval=week',
      '/api/v1/breakdown?of=costs&by=category&top=2', '/api/v1/breakdown?of=sales&by=status', '/api/v1/aging',
      '/api/v1/dso', '/api/v1/top-customers?top=3', '/api/v1/leads/summary', '/api/v1/payment-behaviour'])
      await check('get', u);
  });

  test('collections: lists, writes, imports, deletes', async () => {
    for (const k of ['costs', 'sales_orders', 'invoices', 'payments', 'leads']) await check('get', `/api/v1/${k}?limit=3`);
    const json = { 'content-type': 'application/json' };
    await check('post', '/api/v1/costs', {
      headers: json,
      body: JSON.stringify([{ id: 'OA-1', date: '2026-10-30', category: 'Rent', amount: '46.00' }, { date: 'x', amount: 1 }]),
    });
    await check('post', '/api/v1/costs', { headers: json, body: JSON.stringify({ date: 'nope' }) }); // 422
    await check('post', '/api/v1/costs', { headers: { 'content-type': 'text/plain' }, body: '{}' }); // 415
    await check('post', '/api/v1/import/costs', { body: 'id,date,category,amount\nOA-2,2026-10-01,Rent,5\nOA-3,bad,Rent,1\n' });
    await check('post', '/api/v1/import/costs?async=1', { body: 'id,date,category,amount\nOA-4,2026-10-01,Rent,5\n' });
    await check('delete', '/api/v1/costs/OA-1');
    await check('delete', '/api/v1/costs/OA-1'); // 404
  });

  test('reconciliation, tasks, cache and monitoring', async () => {
    await check('post', '/api/v1/match?dry_run=1');
    await check('post', '/api/v1/match?auto=0.95&review=0.5');
    await check('get', '/api/v1/match/proposals?limit=2');
    const pay = (await api(srv, ds.token, '/api/v1/payments?limit=1')).json.data.items[0].id;
    await check('get', `/api/v1/payments/${encodeURIComponent(pay)}/explain`);
    await check('post', `/api/v1/match/${encodeURIComponent(pay)}/confirm`); // 200 or 409, both documented
    await check('post', '/api/v1/match/manual', { headers: { 'content-type': 'application/json' }, body: '{"payment_id":"NOPE","invoice_id":"X"}' });
    const t = await check('post', '/api/v1/tasks', { headers: { 'content-type': 'application/json' }, body: '{"kind":"refresh"}' });
    await check('get', '/api/v1/tasks?limit=5');
    await check('get', `/api/v1/tasks/${t.json.id}`);
    await check('get', '/api/v1/tasks/999999');
    const op = operatorToken(ds.data, ds.org);
    await check('get', '/api/v1/cache/stats', { tok: op });
    await check('delete', '/api/v1/cache');
    await check('get', '/api/v1/performance', { tok: op });
    await check('get', '/api/v1/performance/slow-queries', { tok: op });
    await check('get', '/api/v1/performance/report', { tok: op });
    await check('get', '/api/v1/alerts', { tok: op });
    await check('get', '/api/v1/alerts'); // 403: an org admin
    await check('get', '/metrics', { tok: op });
    await check('get', '/api/v1/settings');
    await check('put', '/api/v1/settings', { headers: { 'content-type': 'application/json' }, body: '{"opening_balance":"12.50"}' });
    await check('put', '/api/v1/settings', { headers: { 'content-type': 'application/json' }, body: '{"currency":"EUR"}' }); // 409: rows exist
    await check('put', '/api/v1/settings', { headers: { 'content-type': 'application/json' }, body: '{"currency":"XX"}' }); // 400
  });

  test('sessions, users and the audit log', async () => {
    await check('get', '/api/v1/session');
    await check('get', '/api/v1/users');
    await check('post', '/api/v1/users', { headers: { 'content-type': 'application/json' }, body: '{"name":"doc-viewer","role":"viewer","password":"long-enough-1"}' });
    await check('post', '/api/v1/users', { headers: { 'content-type': 'application/json' }, body: '{"name":"doc-viewer","role":"viewer"}' }); // 409
    await check('put', '/api/v1/users/doc-viewer', { headers: { 'content-type': 'application/json' }, body: '{"role":"analyst"}' });
    await check('put', '/api/v1/users/nobody', { headers: { 'content-type': 'application/json' }, body: '{"role":"analyst"}' }); // 404
    await check('get', '/api/v1/audit?limit=3');
    await check('post', '/api/v1/session', { tok: null, headers: { 'content-type': 'application/json' }, body: '{"user":"doc-viewer","password":"long-enough-1"}' });
    await check('post', '/api/v1/session', { tok: null, headers: { 'content-type': 'application/json' }, body: '{"user":"doc-viewer","password":"wrong"}' }); // 401
    await check('delete', '/api/v1/session');
    await check('get', '/api/v1/users', { tok: roleToken(ds.data, ds.org, 'viewer') }); // 403
  });

  test('errors are problem documents as documented', async () => {
    await check('get', '/api/v1/cashflow?interval=hour');
    await check('get', '/api/v1/overview?frm=2026-01-01');
    await check('get', '/api/v1/overview', { tok: null });
    await check('get', '/api/v1/overview', { tok: 'brisk_not_a_token' });
    await check('get', '/api/v1/customers');
    await check('post', '/api/v1/tasks', { headers: { 'content-type': 'application/json' }, body: '{"kind":"nope"}' });
    assert.ok(checked.size >= 40, `only ${checked.size} (route, status) pairs checked`);
  });
});
