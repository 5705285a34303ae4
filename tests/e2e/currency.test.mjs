// Currencies (issue 20 item 13, issue 21 item 3): an organisation's currency
// and opening balance as settings (CLI and API), amounts read and shown in
// the currency's minor units, payments and invoices carrying a currency,
// foreign ones never summed into the organisation's figures.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { BIN, brisk, briskRun, startServer, api, token, tempDir, cleanup } from './lib/harness.mjs';

let root, data, srv;
const tok = {};
const JSONH = { 'content-type': 'application/json' };

function csv(name, text) {
  const f = path.join(root, name);
  writeFileSync(f, text);
  return f;
}

function problem(r, status, re) {
  assert.equal(r.status, status, r.text);
  assert.match(r.headers.get('content-type') || '', /^application\/problem\+json/);
  assert.match(JSON.parse(r.text).detail, re);
}

before(async () => {
  root = tempDir();
  data = path.join(root, 'data');
  // jp: yen, set before its first import; eu: euros with foreign payments
  brisk(['org', 'set', '--org', 'jp', '--currency', 'JPY', '--opening-balance', '100000', '--data', data]);
  brisk(['org', 'set', '--org', 'eu', '--currency', 'eur', '--data', data]);
  brisk(['import', 'payments', csv('jp-pay.csv', 'id,date,payer,amount\np1,2026-10-02,Sato,15000\np2,2026-10-03,Ito,¥2500\n'),
    '--org', 'jp', '--currency', '--data', data, '-q']);
  brisk(['import', 'invoices', csv('eu-inv.csv',
    'id,number,customer,issue_date,due_date,amount,currency\n' +
    'i1,INV-1,Acme,2026-10-01,2026-10-31,100.00,\n' +
    'i2,INV-2,Acme,2026-10-01,2026-10-31,95.00,USD\n' +
    'i3,INV-3,Kuwait Co,2026-10-02,2026-11-01,1.250,KWD\n'), '--org', 'eu', '--data', data, '-q']);
  brisk(['import', 'payments', csv('eu-pay.csv',
    'id,date,payer,amount,currency\n' +
    'p1,2026-10-05,Acme,EUR 40.00,\n' +
    'p2,2026-10-05,Acme,USD 95.00,\n' +
    'p3,2026-10-06,Kuwait Co,1.250,KWD\n' +
    'p4,2026-10-06,Bad,USD 1.00,EUR\n'), '--org', 'eu', '--currency', '--data', data, '-q']);
  for (const o of ['jp', 'eu', 'fresh']) tok[o] = token(data, o);
  srv = await startServer(data);
});

after(async () => {
  if (srv) await srv.stop();
  if (root) cleanup(root);
});

describe('organisation settings', () => {
  test('CLI: org show names the currency, its decimals and the opening balance in it', () => {
    const out = brisk(['org', 'show', '--org', 'jp', '--data', data]);
    assert.match(out, /currency: JPY \(0 decimal places\)/);
    assert.match(out, /opening_balance: 100000 JPY/);
  });

  test('CLI: bad codes, bad balances and a currency change over rows are refused', () => {
    let r = briskRun(['org', 'set', '--org', 'jp', '--currency', 'XYZ', '--data', data]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /not an ISO 4217 currency code/);
    r = briskRun(['org', 'set', '--org', 'jp', '--opening-balance', '12.50', '--data', data]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /JPY has 0 decimal places/);
    r = briskRun(['org', 'set', '--org', 'jp', '--currency', 'USD', '--data', data]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /already holds 2 rows.*--force/);
    assert.match(brisk(['org', 'show', '--org', 'jp', '--data', data]), /currency: JPY/);
    r = briskRun(['org', 'show', '--org', 'nobody', '--data', data]);
    assert.equal(r.code, 1);
  });

  test('API: GET and PUT /api/v1/settings, validated with problem+json', async () => {
    let r = await api(srv, tok.fresh, '/api/v1/settings');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json.data, { currency: 'USD', minor_units: 2, opening_balance: 0 });
    r = await api(srv, tok.fresh, '/api/v1/settings', { method: 'PUT', headers: JSONH, body: '{"currency":"kwd","opening_balance":"1234.567"}' });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.data, { currency: 'KWD', minor_units: 3, opening_balance: 1234567 });
    assert.equal(r.json.currency, 'KWD');
    assert.equal(r.json.minor_units, 3);
    problem(await api(srv, tok.fresh, '/api/v1/settings', { method: 'PUT', headers: JSONH, body: '{"currency":"EURO"}' }), 400, /ISO 4217/);
    problem(await api(srv, tok.fresh, '/api/v1/settings', { method: 'PUT', headers: JSONH, body: '{"opening_balance":12.5}' }), 400, /never a floating-point/);
    problem(await api(srv, tok.fresh, '/api/v1/settings', { method: 'PUT', headers: JSONH, body: '{"opening_balance":"1.2345"}' }), 400, /KWD has 3 decimal places/);
    problem(await api(srv, tok.fresh, '/api/v1/settings', { method: 'PUT', headers: JSONH, body: '{"colour":"red"}' }), 400, /unknown setting 'colour'/);
    problem(await api(srv, tok.fresh, '/api/v1/settings', { method: 'PUT', headers: JSONH, body: '[1]' }), 400, /must be an object/);
    problem(await api(srv, tok.jp, '/api/v1/settings', { method: 'PUT', headers: JSONH, body: '{"currency":"EUR"}' }), 409, /already holds 2 rows/);
    r = await api(srv, tok.jp, '/api/v1/settings');
    assert.equal(r.json.data.currency, 'JPY');
  });

  test('API: views name the currency and its minor units; a new opening balance shows at once', async () => {
    const q = '/api/v1/overview?from=2026-10-01&to=2026-10-31';
    let r = await api(srv, tok.jp, q);
    assert.equal(r.status, 200);
    assert.equal(r.json.currency, 'JPY');
    assert.equal(r.json.minor_units, 0);
    assert.equal(r.json.data.cash_in, 17500);
    assert.equal(r.json.data.opening_balance, 100000);
    const put = await api(srv, tok.jp, '/api/v1/settings', { method: 'PUT', headers: JSONH, body: '{"opening_balance":"250"}' });
    assert.equal(put.status, 200, put.text);
    r = await api(srv, tok.jp, q);
    assert.equal(r.json.data.opening_balance, 250, 'the cached view must not outlive a settings change');
    assert.equal(r.json.data.closing_balance, 250 + 17500);
  });
});

describe('currency of payments and invoices', () => {
  test('import keeps the code of each row; contradictions are rejected with a reason', () => {
    const r = spawnSync(BIN, ['import', 'payments', path.join(root, 'eu-pay.csv'), '--org', 'eu', '--currency', '--data', data], { encoding: 'utf8' });
    assert.match(r.stdout, /replaced 3, rejected 1/);
    assert.match(r.stderr, /eu-pay.csv:5: rejected: amount 'USD 1.00' is in USD but the row's currency is EUR/);
  });

  test('lists show each row\'s currency, the org\'s by name', async () => {
    const r = await api(srv, tok.eu, '/api/v1/payments?sort=date&limit=10');
    assert.equal(r.status, 200, r.text);
    const got = Object.fromEntries(r.json.data.items.map((p) => [p.id, [p.amount, p.currency]]));
    assert.deepEqual(got, { p1: [4000, 'EUR'], p2: [9500, 'USD'], p3: [1250, 'KWD'] });
    const inv = await api(srv, tok.eu, '/api/v1/invoices?limit=10');
    assert.deepEqual(inv.json.data.items.map((i) => i.currency).sort(), ['EUR', 'KWD', 'USD']);
  });

  test('exports print amounts in each row\'s currency decimals and import back unchanged', () => {
    const out = path.join(root, 'eu-payments.csv');
    brisk(['export', 'payments', '--org', 'eu', '--out', out, '--data', data]);
    const text = readFileSync(out, 'utf8');
    assert.match(text, /^id,date,payer,amount,reference,customer_id,currency\r\n/);
    assert.match(text, /p3,2026-10-06,Kuwait Co,1\.250,,,KWD/);
    assert.match(text, /p1,2026-10-05,Acme,40\.00,,,EUR/);
    const again = brisk(['import', 'payments', out, '--org', 'eu', '--data', data]);
    assert.match(again, /inserted 0, replaced 3, rejected 0/);
  });

  test('org-currency figures never sum other currencies', async () => {
    const r = await api(srv, tok.eu, '/api/v1/overview?from=2026-10-01&to=2026-10-31');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.data.cash_in, 4000);
    const ag = await api(srv, tok.eu, '/api/v1/aging?as_of=2026-10-31');
    assert.equal(ag.json.data.total.amount, 10000);
  });
});
