// Data-level defenses found by an attack on a running server (issue 22):
// bounded amounts and checked totals, opaque ids and cursors across
// organisations, indexed text search, safe exports, clamped periods.
//
// Each organisation here starts empty in one fresh data dir; rows are
// written over the API as an attacker or a careless client would.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, api, token, tempDir, cleanup } from './lib/harness.mjs';

let root, srv;
const tok = {};

before(async () => {
  root = tempDir();
  for (const o of ['bound', 'big', 'a', 'b', 'exp']) tok[o] = token(root, o);
  srv = await startServer(root);
});

after(async () => {
  if (srv) await srv.stop();
  if (root) cleanup(root);
});

const JSONH = { 'content-type': 'application/json' };
const post = (org, kind, body) =>
  api(srv, tok[org], `/api/v1/${kind}`, { method: 'POST', headers: JSONH, body: typeof body === 'string' ? body : JSON.stringify(body) });
const importCsv = (org, kind, csv) =>
  api(srv, tok[org], `/api/v1/import/${kind}`, { method: 'POST', headers: { 'content-type': 'text/csv' }, body: csv });
// A money member read exactly from the raw JSON text (past 2^53 a JS number is not).
const bigMember = (text, name) => {
  const m = new RegExp(`"${name}":(-?\\d+)[,}]`).exec(text);
  assert.ok(m, `${name} is an integer in ${text}`);
  return BigInt(m[1]);
};

describe('item 1: amounts are bounded and totals never overflow', () => {
  test('amount bound: |amount| < 10^15 cents on JSON writes (integer and string) and CSV imports', async () => {
    let r = await post('bound', 'payments', { id: 'P1', date: '2026-10-01', payer: 'X', amount: 1e15 });
    assert.equal(r.status, 422, r.text);
    assert.match(r.json.rejections[0].reason, /amount out of range.*10\^15/);
    r = await post('bound', 'payments', { id: 'P1', date: '2026-10-01', payer: 'X', amount: '-10000000000000.00' });
    assert.equal(r.status, 422, r.text);
    r = await post('bound', 'payments', '{"id":"P1","date":"2026-10-01","payer":"X","amount":9223372036854775807}');
    assert.equal(r.status, 422, r.text);
    r = await post('bound', 'payments', [
      { id: 'P1', date: '2026-10-01', payer: 'X', amount: 999999999999999 },
      { id: 'P2', date: '2026-10-01', payer: 'X', amount: '-9999999999999.99' },
    ]);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.inserted, 2);
    r = await importCsv('bound', 'costs', 'id,date,category,amount\nC1,2026-10-01,Rent,10000000000000.00\nC2,2026-10-01,Rent,5\n');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.inserted, 1);
    assert.equal(r.json.rejections[0].line, 2);
    assert.match(r.json.rejections[0].reason, /amount out of range/);
    // debit/credit: each side fits, the difference must too
    r = api(srv, tok.bound, '/api/v1/import/payments?debit=out&credit=in', {
      method: 'POST', body: 'id,date,payer,out,in\nD1,2026-10-02,Y,999999999999.99,999999999999.99\nD2,2026-10-02,Y,9999999999999.99,-9999999999999.99\n',
    });
    r = await r;
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.inserted, 1);
    assert.match(r.json.rejections[0].reason, /out of range/);
  });

  test('totals: a write that would take an org past 2^62 cents is refused, and sums stay exact integers', async () => {
    const N = 4611; // 4611 x (10^15 - 1) < 2^62 < 4612 x (10^15 - 1)
    const max = 999999999999999;
    const rows = Array.from({ length: N }, (_, i) => ({ id: `B${i}`, date: '2026-10-05', payer: 'Big', amount: max }));
    let r = await post('big', 'payments', rows);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.inserted, N);
    // any kind counts: one more row of any sign is refused, whole, with a reason
    for (const [kind, row] of [
      ['payments', { id: 'B-extra', date: '2026-10-06', payer: 'Big', amount: max }],
      ['costs', { id: 'C-extra', date: '2026-10-06', category: 'Rent', amount: -max }],
    ]) {
      r = await post('big', kind, [row, { ...row, id: `${row.id}2`, amount: 1 }]);
      assert.equal(r.status, 422, r.text);
      assert.match(r.json.detail, /totals would exceed.*nothing was stored/);
    }
    r = await importCsv('big', 'sales_orders', `id,date,customer,status,amount\nS1,2026-10-06,Big,completed,9999999999999.99\n`);
    assert.equal(r.status, 422, r.text);
    assert.match(r.json.detail, /totals would exceed/);
    // delete and re-insert (this once turned a rollup total into a REAL)
    for (let k = 0; k < 3; k++) {
      r = await api(srv, tok.big, '/api/v1/payments/B7', { method: 'DELETE' });
      assert.equal(r.status, 204);
      r = await post('big', 'payments', { id: 'B7', date: '2026-10-05', payer: 'Big', amount: max });
      assert.equal(r.status, 200, r.text);
    }
    r = await api(srv, tok.big, '/api/v1/overview?from=2026-10-01&to=2026-10-31');
    assert.equal(r.status, 200, r.text);
    assert.equal(bigMember(r.text, 'cash_in'), BigInt(N) * BigInt(max));
    assert.equal(bigMember(r.text, 'net'), BigInt(N) * BigInt(max));
    r = await api(srv, tok.big, '/api/v1/cashflow?from=2026-01-01&to=2026-12-31&interval=year');
    assert.equal(r.status, 200, r.text);
    assert.doesNotMatch(r.text, /\d[eE][+-]?\d|\d\.\d/, 'no floating-point total');
    // freeing room lets writes in again
    r = await api(srv, tok.big, '/api/v1/payments/B0', { method: 'DELETE' });
    assert.equal(r.status, 204);
    r = await post('big', 'costs', { id: 'C-extra', date: '2026-10-06', category: 'Rent', amount: -max });
    assert.equal(r.status, 200, r.text);
    r = await api(srv, tok.big, '/api/v1/overview?from=2026-10-01&to=2026-10-31');
    assert.equal(bigMember(r.text, 'cash_in'), BigInt(N - 1) * BigInt(max));
    assert.equal(bigMember(r.text, 'cash_out'), -BigInt(max));
    assert.equal(bigMember(r.text, 'net'), BigInt(N) * BigInt(max));
  });
});
