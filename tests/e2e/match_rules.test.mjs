// Reconciliation the way a bookkeeper works (issue 15) over HTTP and the
// CLI, on tiny hand-written files: a payment for several invoices, an
// overpayment's credit spent on a later invoice, a fee written off, a
// payer spelling learned from a confirmation, the organisation's rules and
// their history, aliases listed and removed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { brisk, briskRun, startServer, api, token, tempDir, cleanup } from './lib/harness.mjs';

let root, data, srv, tok;

const INV = 'id,number,customer,customer_id,issue_date,due_date,amount,status\n';
const PAY = 'id,date,payer,amount,reference,customer_id\n';

function load(kind, body) {
  const f = path.join(root, `${kind}-${Math.random().toString(36).slice(2)}.csv`);
  writeFileSync(f, body);
  brisk(['import', kind, f, '--org', 'acme', '--data', data, '-q']);
}

async function run() {
  const r = await api(srv, tok, '/api/v1/match', { method: 'POST' });
  assert.equal(r.status, 200, r.text);
  return r.json.data;
}

async function explain(id) {
  const r = await api(srv, tok, `/api/v1/payments/${id}/explain`);
  assert.equal(r.status, 200, r.text);
  return r.json.data;
}

before(async () => {
  root = tempDir('brisk-match15-');
  data = path.join(root, 'data');
  load('invoices', INV +
    'A,INV-0101,Kowalski Bau GmbH,,2025-03-01,2025-03-31,100.00,open\n' +
    'B,INV-0102,Kowalski Bau GmbH,,2025-03-05,2025-04-04,250.50,open\n' +
    'C,INV-0103,Nordlicht Optik AG,,2025-01-10,2025-02-09,120.00,open\n' +
    'D,INV-0104,Nordlicht Optik AG,,2025-01-20,2025-02-19,310.25,open\n' +
    'E,INV-0105,Nordlicht Optik AG,,2025-02-01,2025-03-03,89.90,open\n' +
    'F,INV-0106,Sato Trading,,2025-01-10,2025-02-09,100.00,open\n' +
    'G,INV-0107,Lumen Labs,,2025-01-10,2025-02-09,1000.00,open\n' +
    'H,INV-0108,Johnson Smith Trading Ltd,,2025-01-10,2025-02-09,300.00,open\n' +
    'J,INV-0109,Johnson Smith Trading Ltd,,2025-02-10,2025-03-12,410.00,open\n');
  load('payments', PAY +
    'P1,2025-04-02,KOWALSKI BAU,350.50,INV-0101 INV-0102,\n' +
    'P2,2025-03-05,Nordlicht Optik,400.15,Thank you,\n' +
    'P3,2025-02-01,SATO TRADING,130.00,INV-0106,\n' +
    'P4,2025-02-05,LUMEN LABS,992.50,INV-0107,\n' +
    'P5,2025-02-01,JST HOLDING,300.00,,\n');
  tok = token(data, 'acme');
  srv = await startServer(data);
});

after(async () => {
  if (srv) await srv.stop();
  if (root) cleanup(root);
});

test('one payment settles the invoices its reference names, or a set adding up to it', async () => {
  const r = await run();
  assert.ok(r.applied >= 4, JSON.stringify(r));
  const p1 = await explain('P1');
  assert.equal(p1.status, 'applied');
  assert.deepEqual(p1.allocations.map((a) => [a.invoice_id, a.amount, a.rule]),
    [['A', 10000, 'batch_reference'], ['B', 25050, 'batch_reference']]);
  assert.equal(p1.batch.rule, 'batch_reference');
  assert.deepEqual(p1.batch.set, ['INV-0101', 'INV-0102']);
  const p2 = await explain('P2');
  assert.deepEqual(p2.allocations.map((a) => a.invoice_id).sort(), ['D', 'E']);
  assert.equal(p2.batch.rule, 'batch_amount');
  assert.match(p2.batch.why, /amount equals the total/);
});

test('an overpayment leaves a credit that a later invoice of the customer uses', async () => {
  const p3 = await explain('P3');
  assert.equal(p3.credit, 3000);
  load('invoices', INV + 'K,INV-0110,Sato Trading,,2025-02-15,2025-03-15,50.00,open\n');
  await run();
  const after = await explain('P3');
  assert.equal(after.credit, undefined);
  assert.deepEqual(after.allocations.map((a) => [a.invoice_id, a.amount, a.rule]),
    [['F', 10000, 'reference'], ['K', 3000, 'credit']]);
  const k = await api(srv, tok, '/api/v1/invoices?q=INV-0110');
  assert.equal(k.status, 200, k.text);
});

test('a fee short of the invoice is written off with its reason', async () => {
  const p4 = await explain('P4');
  assert.equal(p4.allocations[0].amount, 99250);
  assert.equal(p4.allocations[0].writeoff, 750);
  assert.equal(p4.allocations[0].writeoff_reason, 'fees');
});

test('a manual match teaches the payer spelling; aliases are listed and removed', async () => {
  let r = await api(srv, tok, '/api/v1/match/manual', {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ payment_id: 'P5', invoice_id: 'H' }),
  });
  assert.equal(r.status, 200, r.text);
  r = await api(srv, tok, '/api/v1/match/aliases');
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.data.aliases.map((a) => [a.spelling, a.customer]), [['JST HOLDING', 'Johnson Smith Trading Ltd']]);
  load('payments', PAY + 'P6,2025-03-01,JST Holding,410.00,,\n');
  await run();
  const p6 = await explain('P6');
  assert.equal(p6.status, 'applied');
  assert.equal(p6.allocations[0].invoice_id, 'J');
  assert.equal(p6.learned.customer, 'Johnson Smith Trading Ltd');
  r = await api(srv, tok, '/api/v1/match/aliases?payer=JST%20HOLDING', { method: 'DELETE' });
  assert.equal(r.status, 200, r.text);
  r = await api(srv, tok, '/api/v1/match/aliases?payer=JST%20HOLDING', { method: 'DELETE' });
  assert.equal(r.status, 404, r.text);
  r = await api(srv, tok, '/api/v1/match/aliases', { method: 'DELETE' });
  assert.equal(r.status, 400, r.text);
});

test('a manual match teaches the payer account; the account beats a namesake', async () => {
  // The bank file names the other party's account "IBAN": detected as
  // payer_account and stored without spaces, in upper case.
  load('invoices', INV +
    'M,INV-0120,Quantum Paper GmbH,,2025-03-01,2025-03-31,77.00,open\n' +
    'N,INV-0121,Quantum Paper GmbH,,2025-04-01,2025-05-01,88.00,open\n' +
    'O,INV-0122,Lumen Labs,,2025-04-01,2025-05-01,88.00,open\n');
  const f = path.join(root, 'bank-iban.csv');
  writeFileSync(f, 'Transaction ID;Buchungstag;Auftraggeber / Begünstigter;Verwendungszweck;IBAN;Betrag\n' +
    'P7;05.04.2025;QP HANDELSKONTOR;Danke;de89 3704 0044 0532 0130 00;77,00\n' +
    'P7b;16.04.2025;Kiosk Nord;Miete;NL91 ABNA 0417 1643 00;5,00\n');
  brisk(['import', 'payments', f, '--detect', '--org', 'acme', '--data', data, '-q']);
  await run();
  let p7 = await explain('P7');
  assert.equal(p7.payment.payer_account, 'DE89370400440532013000');
  assert.equal(p7.status, 'unmatched');
  let r = await api(srv, tok, '/api/v1/match/manual', {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ payment_id: 'P7', invoice_id: 'M' }),
  });
  assert.equal(r.status, 200, r.text);
  r = await api(srv, tok, '/api/v1/match/aliases');
  assert.deepEqual(r.json.data.accounts.map((a) => [a.account, a.customer]),
    [['DE89370400440532013000', 'Quantum Paper GmbH']]);
  // Another payment from that account, under a namesake's name: the
  // learned account names the customer, the spelling does not tie with it.
  load('payments', 'id,date,payer,amount,reference,payer_account\n' +
    'P8,2025-04-20,LUMEN LABS,88.00,,DE89370400440532013000\n');
  await run();
  const p8 = await explain('P8');
  assert.equal(p8.status, 'applied', JSON.stringify(p8));
  assert.equal(p8.allocations[0].invoice_id, 'N');
  assert.equal(p8.learned.customer, 'Quantum Paper GmbH');
  assert.equal(p8.learned.by, 'account');
  // The same account and spelling confirmed for another customer (a
  // holding paying for two firms): the alias names neither any more.
  load('payments', 'id,date,payer,amount,reference,payer_account\n' +
    'P8b,2025-04-21,QP HANDELSKONTOR,88.00,,DE89370400440532013000\n');
  r = await api(srv, tok, '/api/v1/match/manual', {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ payment_id: 'P8b', invoice_id: 'O' }),
  });
  assert.equal(r.status, 200, r.text);
  r = await api(srv, tok, '/api/v1/match/aliases');
  assert.deepEqual(r.json.data.accounts.map((a) => [a.account, a.customer]), [['DE89370400440532013000', '']]);
  assert.deepEqual(r.json.data.aliases.map((a) => [a.spelling, a.customer]), [['QP HANDELSKONTOR', '']]);
  // Forgotten by the account as written on a statement.
  r = await api(srv, tok, '/api/v1/match/aliases?payer=DE89%203704%200044%200532%200130%2000', { method: 'DELETE' });
  assert.equal(r.status, 200, r.text);
  r = await api(srv, tok, '/api/v1/match/aliases?payer=QP%20HANDELSKONTOR', { method: 'DELETE' });
  assert.equal(r.status, 200, r.text);
  r = await api(srv, tok, '/api/v1/match/aliases');
  assert.deepEqual(r.json.data, { aliases: [], accounts: [] });
  // An account no bank writes is refused with the reason.
  const bad = path.join(root, 'bank-long.csv');
  writeFileSync(bad, 'id,date,payer,amount,payer_account\nP9,2025-04-05,X,1.00,' + 'A'.repeat(80) + '\n');
  const res = briskRun(['import', 'payments', bad, '--org', 'acme', '--data', data]);
  assert.match(res.stdout + res.stderr, /payer_account is 80 bytes long/);
});

test('rules per organisation: read, change, refuse nonsense, keep the history', async () => {
  let r = await api(srv, tok, '/api/v1/match/rules');
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.data.writeoff_max, 1000);
  assert.equal(r.json.data.rules.batch_amount, true);
  r = await api(srv, tok, '/api/v1/match/rules', {
    method: 'PUT', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ writeoff_max: '5.00', rules: { batch_amount: false } }),
  });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.data.writeoff_max, 500);
  assert.equal(r.json.data.rules.batch_amount, false);
  for (const bad of [{ auto_threshold: 2 }, { rules: { reference: false } }, { colour: 'blue' },
    { review_threshold: 0.9, auto_threshold: 0.8 }]) {
    r = await api(srv, tok, '/api/v1/match/rules', {
      method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(bad),
    });
    assert.equal(r.status, 422, `${JSON.stringify(bad)}: ${r.text}`);
  }
  r = await api(srv, tok, '/api/v1/match/rules/history');
  assert.equal(r.status, 200, r.text);
  const ch = r.json.data.changes;
  assert.equal(ch.length, 1);
  assert.equal(ch[0].before.writeoff_max, 1000);
  assert.equal(ch[0].after.writeoff_max, 500);
  // The audit log has the change too, once, with what changed (the
  // refused ones changed nothing and are not there).
  r = await api(srv, tok, '/api/v1/audit?limit=1000');
  assert.equal(r.status, 200, r.text);
  const puts = r.json.data.filter((e) => e.action === 'match_rules_put');
  assert.equal(puts.length, 1, JSON.stringify(r.json.data));
  assert.match(puts[0].detail, /writeoff_max: 1000 -> 500/);
  assert.match(puts[0].detail, /rules\.batch_amount: true -> false/);
  // Another organisation has its own rules.
  const other = token(data, 'other');
  r = await api(srv, other, '/api/v1/match/rules');
  assert.equal(r.json.data.writeoff_max, 1000);
});

test('the command line shows and changes the same rules and aliases', async () => {
  await srv.stop();
  srv = null;
  let out = brisk(['match', '--rules', '--org', 'acme', '--data', data]);
  assert.equal(JSON.parse(out).writeoff_max, 500);
  out = brisk(['match', '--set-rules', '{"days_after_due": 120}', '--org', 'acme', '--data', data]);
  assert.equal(JSON.parse(out).days_after_due, 120);
  const bad = briskRun(['match', '--set-rules', '{"days_after_due": -1}', '--org', 'acme', '--data', data]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /days_after_due/);
  const hist = JSON.parse(brisk(['match', '--rules-history', '--org', 'acme', '--data', data]));
  assert.equal(hist.changes.length, 2);
  assert.match(hist.changes[0].actor, /^cli:/);
  const log = brisk(['audit', '--org', 'acme', '--data', data]);
  assert.match(log, /cli:\S*\s+match_rules_put\s+match rules\s+days_after_due: \d+ -> 120/);
  const aliases = JSON.parse(brisk(['match', '--aliases', '--org', 'acme', '--data', data]));
  assert.deepEqual(aliases.aliases, []);
  const gone = briskRun(['match', '--forget-alias', 'nobody', '--org', 'acme', '--data', data]);
  assert.notEqual(gone.code, 0);
});
