// Reconciliation (DATA.md "Reconciliation", issue 5) over HTTP and the CLI:
// POST /api/v1/match (run, dry run, thresholds), GET /api/v1/match/proposals,
// POST /api/v1/match/{payment_id}/confirm and /reject, POST
// /api/v1/match/manual, GET /api/v1/payments/{id}/explain, and `brisk match`.
//
// One generated data set (scale 0.2) with its truth.csv, imported into
// several organisations of one data directory so that the tests of one
// decision do not disturb the others:
//   acme  default thresholds: the run, its precision against truth.csv,
//         idempotence, the receivables dashboards, explain;
//   prop  auto=0.95: proposals (pagination, confirm, reject, never overridden);
//   man   manual matches and their refusals;
//   dry   a dry run spelled with a switch value other than 1;
//   conc  two runs at once;
//   beta  a second organisation that probes isolation.
// The CLI works on copies of the data directory taken before the server
// starts.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import {
  BIN, dataset, startServer, api, token, brisk, readCsv, cents, tempDir, cleanup, copyStore, storeSql, PG_URL,
} from './lib/harness.mjs';
import { dayNum, ratio } from './lib/expect.mjs';

const AS_OF = '2026-10-31';
let ds, srv, cliRoot;
const tok = {};
let truth, paymentsCsv, invoicesCsv, invoiceById, invoiceByNumber, paymentById;

before(async () => {
  ds = dataset({ scale: 0.2, seed: 7, end: AS_OF, org: 'acme' });
  tok.acme = ds.token;
  for (const org of ['prop', 'man', 'dry', 'conc']) {
    for (const k of ['invoices', 'payments'])
      brisk(['import', k, path.join(ds.csv, `${k}.csv`), '--org', org, '--data', ds.data, '-q']);
    tok[org] = token(ds.data, org);
  }
  tok.beta = token(ds.data, 'beta');
  truth = new Map(readCsv(path.join(ds.csv, 'truth.csv')).map((r) => [r.payment_id, r.invoice_id]));
  paymentsCsv = readCsv(path.join(ds.csv, 'payments.csv'));
  invoicesCsv = readCsv(path.join(ds.csv, 'invoices.csv'));
  invoiceById = new Map(invoicesCsv.map((r) => [r.id, r]));
  invoiceByNumber = new Map(invoicesCsv.map((r) => [r.number, r]));
  paymentById = new Map(paymentsCsv.map((r) => [r.id, r]));
  // Copies for the CLI, before the server opens the store.
  cliRoot = tempDir('brisk-match-cli-');
  copyStore(ds.data, path.join(cliRoot, 'a'));
  copyStore(ds.data, path.join(cliRoot, 'b'));
  srv = await startServer(ds.data);
});

after(async () => {
  if (srv) await srv.stop();
  if (ds) cleanup(ds.root);
  if (cliRoot) cleanup(cliRoot);
});

// ---- helpers ----

const JSONH = { 'content-type': 'application/json' };
const enc = encodeURIComponent;

function problem(r, status, detailRe) {
  assert.equal(r.status, status, `expected ${status}, got ${r.status}: ${r.text}`);
  assert.match(r.headers.get('content-type') || '', /^application\/problem\+json/, `content-type of a ${status}`);
  const j = JSON.parse(r.text);
  assert.equal(j.status, status);
  assert.equal(typeof j.detail, 'string');
  assert.ok(j.detail.length > 0);
  if (detailRe) assert.match(j.detail, detailRe);
  return j;
}

async function get(org, pathq) {
  const r = await api(srv, tok[org], pathq);
  assert.equal(r.status, 200, `GET ${pathq} (${org}): ${r.text}`);
  return r.json.data;
}

const post = (org, pathq, body) => api(srv, tok[org], pathq, {
  method: 'POST',
  ...(body === undefined ? {} : { headers: JSONH, body: typeof body === 'string' ? body : JSON.stringify(body) }),
});

async function run(org, params = '') {
  const r = await post(org, `/api/v1/match${params}`);
  assert.equal(r.status, 200, `POST /api/v1/match${params} (${org}): ${r.text}`);
  const d = r.json.data;
  for (const k of ['payments', 'invoices', 'applied', 'proposed', 'unmatched', 'changed'])
    assert.ok(Number.isInteger(d[k]) && d[k] >= 0, `${k} is a count: ${r.text}`);
  assert.equal(d.applied + d.proposed + d.unmatched, d.payments, 'every payment considered is decided once');
  assert.equal(typeof d.seconds, 'number');
  return d;
}

const explain = (org, id) => api(srv, tok[org], `/api/v1/payments/${enc(id)}/explain`);
async function explainOk(org, id) {
  const r = await explain(org, id);
  assert.equal(r.status, 200, `explain ${id} (${org}): ${r.text}`);
  return r.json.data;
}

// Explanations of many payments, a few requests at a time.
async function explainAll(org, ids, width = 8) {
  const out = new Map();
  let next = 0;
  await Promise.all(Array.from({ length: width }, async () => {
    while (next < ids.length) {
      const id = ids[next++];
      out.set(id, await explainOk(org, id));
    }
  }));
  return out;
}

// A view with its ETag.
async function view(org, pathq) {
  const r = await api(srv, tok[org], pathq);
  assert.equal(r.status, 200, `${pathq}: ${r.text}`);
  const etag = r.headers.get('etag');
  assert.ok(etag, `${pathq} has an ETag`);
  return { data: r.json.data, etag };
}

const receivables = async (org) => ({
  aging: await view(org, `/api/v1/aging?as_of=${AS_OF}`),
  overview: await view(org, `/api/v1/overview?to=${AS_OF}`),
  dso: await view(org, `/api/v1/dso?as_of=${AS_OF}`),
});

// The invoice as the list shows it, found by its number.
async function invoice(org, number) {
  const d = await get(org, `/api/v1/invoices?q=${enc(number)}&limit=1000`);
  const hits = d.items.filter((i) => i.number === number);
  assert.equal(hits.length, 1, `one invoice numbered ${number}`);
  return hits[0];
}

async function allInvoices(org) {
  const items = [];
  let cursor = null;
  do {
    const d = await get(org, `/api/v1/invoices?limit=1000${cursor ? `&cursor=${enc(cursor)}` : ''}`);
    items.push(...d.items);
    cursor = d.next_cursor;
  } while (cursor);
  return items;
}

// Every proposal, following next_cursor; checks the pages on the way.
async function walkProposals(org, limit) {
  const items = [];
  let cursor = null, pages = 0;
  do {
    const q = new URLSearchParams({ limit: String(limit), ...(cursor !== null ? { cursor: String(cursor) } : {}) });
    const d = await get(org, `/api/v1/match/proposals?${q}`);
    assert.ok(Array.isArray(d.proposals));
    assert.ok(d.proposals.length <= limit, 'a page holds at most limit proposals');
    if (d.next_cursor !== null) {
      assert.equal(d.proposals.length, limit, 'a page before the last is full');
      assert.match(d.next_cursor, /^[A-Za-z0-9_-]{40,}$/, `next_cursor is an opaque token: ${d.next_cursor}`);
    }
    items.push(...d.proposals);
    cursor = d.next_cursor;
    assert.ok(++pages < 10000, 'pagination terminates');
  } while (cursor !== null);
  return { items, pages };
}

const sum = (xs) => xs.reduce((s, x) => s + x, 0);
const RULES = ['reference', 'fuzzy_reference', 'amount_customer'];

// ---- acme: a run with the default thresholds ----

describe('a run with the default thresholds (acme)', () => {
  let base, dry, res, expl, applied;

  test('before any run: nothing allocated, the aging total is every open invoice', async () => {
    base = await receivables('acme');
    const open = invoicesCsv.filter((i) => i.status !== 'void' && i.issue_date <= AS_OF && cents(i.amount) > 0);
    assert.deepEqual(base.aging.data.total, { count: open.length, amount: sum(open.map((i) => cents(i.amount))) });
    assert.equal(base.overview.data.outstanding, base.aging.data.total.amount);
    assert.equal(base.dso.data.outstanding, base.aging.data.total.amount);
    const p = await get('acme', '/api/v1/match/proposals');
    assert.deepEqual(p, { proposals: [], next_cursor: null });
    const e = await explainOk('acme', paymentsCsv[1].id);
    assert.equal(e.status, 'unmatched');
    assert.deepEqual(e.allocations, []);
  });

  test('dry_run=1 decides and reports but stores nothing', async () => {
    dry = await run('acme', '?dry_run=1');
    assert.equal(dry.dry_run, true);
    assert.equal(dry.payments, paymentsCsv.length);
    assert.equal(dry.invoices, base.aging.data.total.count, 'open invoices considered');
    assert.ok(dry.applied > 0);
    assert.equal(dry.changed, 0, 'a dry run changes nothing');
    const after = await receivables('acme');
    for (const k of ['aging', 'overview', 'dso']) {
      assert.equal(after[k].etag, base[k].etag, `${k} ETag unchanged by a dry run`);
      assert.deepEqual(after[k].data, base[k].data);
    }
    assert.deepEqual(await get('acme', '/api/v1/match/proposals'), { proposals: [], next_cursor: null });
    for (const p of paymentsCsv.slice(0, 20))
      assert.equal((await explainOk('acme', p.id)).status, 'unmatched', `${p.id} after a dry run`);
    // A second dry run sees the same untouched data.
    const again = await run('acme', '?dry_run=true');
    assert.equal(again.dry_run, true);
    assert.deepEqual({ ...again, seconds: 0 }, { ...dry, seconds: 0 });
  });

  test('POST /api/v1/match applies matches, proposes or leaves the rest, and counts them', async () => {
    res = await run('acme');
    assert.equal(res.dry_run, false);
    assert.equal(res.payments, paymentsCsv.length);
    for (const k of ['invoices', 'applied', 'proposed', 'unmatched'])
      assert.equal(res[k], dry[k], `${k}: the dry run announced what the run did`);
    assert.equal(res.changed, res.applied + res.proposed, 'one allocation written per applied or proposed payment');
    assert.ok(res.applied > 0.9 * res.payments, `most payments applied: ${JSON.stringify(res)}`);
  });

  test('every payment is explained as the run decided; applied ones agree with truth.csv', async (t) => {
    expl = await explainAll('acme', paymentsCsv.map((p) => p.id));
    const by = { applied: [], proposed: [], unmatched: [] };
    for (const [id, e] of expl) {
      assert.ok(by[e.status], `${id}: status ${e.status} after one run`);
      by[e.status].push(id);
    }
    assert.equal(by.applied.length, res.applied, 'applied payments');
    assert.equal(by.proposed.length, res.proposed, 'proposed payments');
    assert.equal(by.unmatched.length, res.unmatched, 'unmatched payments');
    applied = new Map();
    for (const id of by.applied) {
      const e = expl.get(id);
      assert.equal(e.allocations.length, 1, `${id}: one invoice per payment in the basic mode`);
      const a = e.allocations[0];
      assert.equal(a.state, 'applied');
      assert.ok(RULES.includes(a.rule), `${id}: rule ${a.rule}`);
      assert.ok(a.confidence >= 0.75 && a.confidence <= 1, `${id}: confidence ${a.confidence} >= auto`);
      assert.equal(a.amount, cents(paymentById.get(id).amount), `${id}: the whole payment is allocated`);
      assert.equal(a.invoice_number, invoiceById.get(a.invoice_id)?.number, `${id}: invoice number`);
      applied.set(id, a);
    }
    for (const id of by.unmatched) assert.deepEqual(expl.get(id).allocations, []);
    let right = 0;
    for (const [id, a] of applied) if (truth.get(id) === a.invoice_id) right++;
    const precision = right / applied.size;
    const truthPairs = [...truth.values()].filter((v) => v).length;
    t.diagnostic(`applied ${applied.size}, correct ${right}, precision ${(100 * precision).toFixed(2)}%, ` +
      `recall ${(100 * right / truthPairs).toFixed(2)}%, proposed ${res.proposed}, unmatched ${res.unmatched}`);
    assert.ok(precision >= 0.995, `precision ${precision} >= 99.5%`);
  });

  test('proposals list exactly the proposed payments (none or some)', async () => {
    const { items } = await walkProposals('acme', 100);
    assert.equal(items.length, res.proposed);
  });

  // docs/api.md, Conventions: "Every successful GET under /api/v1 answers"
  // {"org","currency","money","data"}.
  test('the GET answers (proposals, explain) come in the documented envelope', async () => {
    for (const pathq of ['/api/v1/match/proposals', `/api/v1/payments/${paymentsCsv[1].id}/explain`]) {
      const r = await api(srv, tok.acme, pathq);
      assert.equal(r.status, 200);
      assert.deepEqual(Object.keys(r.json).sort(), ['currency', 'data', 'minor_units', 'money', 'org'], `${pathq}: ${r.text.slice(0, 120)}`);
      assert.equal(r.json.org, 'acme');
    }
  });

  test('invoices carry the allocations: outstanding and status', async () => {
    const alloc = new Map();
    for (const a of applied.values()) alloc.set(a.invoice_id, (alloc.get(a.invoice_id) || 0) + a.amount);
    const items = await allInvoices('acme');
    assert.equal(items.length, invoicesCsv.length);
    for (const i of items) {
      const paid = alloc.get(i.id) || 0;
      const src = invoiceById.get(i.id);
      assert.equal(i.amount, cents(src.amount));
      assert.ok(paid <= i.amount, `${i.id} is not over-allocated (${paid} > ${i.amount})`);
      // DATA.md: a void invoice is never outstanding.
      assert.equal(i.outstanding, src.status === 'void' ? 0 : i.amount - paid, `${i.id} outstanding`);
      const status = src.status === 'void' ? 'void' : paid === 0 ? 'open' : paid >= i.amount ? 'paid' : 'partial';
      assert.equal(i.status, status, `${i.id} status`);
    }
  });

  test('the receivables dashboards reflect the run at once', async () => {
    const after = await receivables('acme');
    const applied$ = sum([...applied.values()].map((a) => a.amount));
    const items = await allInvoices('acme');
    const open = items.filter((i) => i.status !== 'void' && i.outstanding > 0);
    assert.equal(after.aging.data.total.amount, base.aging.data.total.amount - applied$,
      'aging total drops by exactly the applied allocations');
    assert.equal(after.aging.data.total.count, open.length, 'fully paid invoices leave the aging');
    assert.notEqual(after.aging.etag, base.aging.etag, 'aging ETag changes');
    assert.equal(after.overview.data.outstanding, base.overview.data.outstanding - applied$);
    assert.equal(after.overview.data.open_invoices, open.length);
    assert.notEqual(after.overview.etag, base.overview.etag);
    assert.equal(after.dso.data.outstanding, base.dso.data.outstanding - applied$);
    assert.equal(after.dso.data.invoiced_90d, base.dso.data.invoiced_90d, 'invoicing is not reconciliation');
    assert.notEqual(after.dso.data.dso, base.dso.data.dso, 'dso changes');
    assert.ok(after.dso.data.dso < base.dso.data.dso);
    // The dashboard's widgets agree with the views.
    const dash = await get('acme', `/api/v1/dashboard?to=${AS_OF}`);
    assert.deepEqual(dash.aging, after.aging.data);
    assert.deepEqual(dash.dso, after.dso.data);
  });

  // outstanding(invoice, as_of) = amount - allocations paid up to as_of.
  test('aging, dso and payment behaviour at past dates count the allocations paid by then', async () => {
    const byInvoice = new Map();
    for (const [id, a] of applied) {
      if (!byInvoice.has(a.invoice_id)) byInvoice.set(a.invoice_id, []);
      byInvoice.get(a.invoice_id).push({ amount: a.amount, day: dayNum(paymentById.get(id).date) });
    }
    for (const asOf of ['2025-03-31', '2025-12-31', '2026-06-15', AS_OF]) {
      const A = dayNum(asOf);
      const names = ['current', '1_30', '31_60', '61_90', 'over_90'];
      const buckets = Object.fromEntries(names.map((n) => [n, { count: 0, amount: 0 }]));
      const total = { count: 0, amount: 0 };
      for (const i of invoicesCsv) {
        if (i.status === 'void' || dayNum(i.issue_date) > A) continue;
        const o = cents(i.amount) - sum((byInvoice.get(i.id) || []).filter((x) => x.day <= A).map((x) => x.amount));
        if (o <= 0) continue;
        const late = A - dayNum(i.due_date);
        const k = late <= 0 ? 'current' : late <= 30 ? '1_30' : late <= 60 ? '31_60' : late <= 90 ? '61_90' : 'over_90';
        buckets[k].count++; buckets[k].amount += o;
        total.count++; total.amount += o;
      }
      assert.deepEqual(await get('acme', `/api/v1/aging?as_of=${asOf}`), { as_of: asOf, buckets, total }, `aging at ${asOf}`);
      const invoiced = sum(invoicesCsv.filter((i) => i.status !== 'void' && dayNum(i.issue_date) > A - 90 &&
        dayNum(i.issue_date) <= A).map((i) => cents(i.amount)));
      assert.deepEqual(await get('acme', `/api/v1/dso?as_of=${asOf}`), {
        as_of: asOf, outstanding: total.amount, invoiced_90d: invoiced, dso: invoiced ? ratio(total.amount, 90, invoiced, 1) : null,
      }, `dso at ${asOf}`);
    }
    // Payment behaviour over the invoices fully paid (today), due in range.
    const from = '2025-01-01', to = AS_OF;
    const per = new Map();
    for (const i of invoicesCsv) {
      const allocs = byInvoice.get(i.id) || [];
      if (i.status === 'void' || sum(allocs.map((x) => x.amount)) < cents(i.amount)) continue;
      if (i.due_date < from || i.due_date > to) continue;
      const d = Math.max(...allocs.map((x) => x.day)) - dayNum(i.due_date);
      const c = per.get(i.customer) || { paid: 0, days: 0, late: 0 };
      c.paid++; c.days += d; c.late += d > 0 ? 1 : 0;
      per.set(i.customer, c);
    }
    const bytes = (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b));
    const customers = [...per].sort(([an, a], [bn, b]) => (b.days * a.paid - a.days * b.paid) || bytes(an, bn))
      .map(([customer, c]) => ({
        customer, invoices_paid: c.paid, avg_days_late: ratio(c.days, 1, c.paid, 1), share_late: ratio(c.late, 1, c.paid, 3),
      }));
    assert.ok(customers.length > 0);
    const pb = await get('acme', `/api/v1/payment-behaviour?from=${from}&to=${to}`);
    assert.deepEqual(pb, { from, to, customers });
  });

  test('a second run changes nothing (changed 0, the aging ETag stays)', async () => {
    const before = await receivables('acme');
    const again = await run('acme');
    assert.equal(again.changed, 0, JSON.stringify(again));
    assert.equal(again.applied, 0, 'nothing new to apply');
    assert.equal(again.payments, res.proposed + res.unmatched, 'settled payments are not considered again');
    const after = await receivables('acme');
    for (const k of ['aging', 'overview', 'dso']) {
      assert.equal(after[k].etag, before[k].etag, `${k} ETag unchanged`);
      assert.deepEqual(after[k].data, before[k].data);
    }
    const r304 = await api(srv, tok.acme, `/api/v1/aging?as_of=${AS_OF}`, { headers: { 'if-none-match': before.aging.etag } });
    assert.equal(r304.status, 304);
    const third = await run('acme');
    assert.equal(third.changed, 0);
  });

  test('explain for an applied payment names the invoice, the rule and the confidence', async (t) => {
    for (const rule of RULES) {
      const hit = [...applied].find(([, a]) => a.rule === rule);
      if (!hit) { t.diagnostic(`no payment applied by rule ${rule}`); continue; }
      const [id, a] = hit;
      const e = await explainOk('acme', id);
      const p = paymentById.get(id);
      assert.equal(e.payment.id, id);
      assert.equal(e.payment.amount, cents(p.amount));
      assert.equal(e.payment.date, p.date);
      assert.equal(e.payment.payer, p.payer);
      assert.equal(e.payment.reference, p.reference);
      assert.equal(e.status, 'applied');
      assert.equal(e.allocations.length, 1);
      const inv = invoiceById.get(a.invoice_id);
      assert.deepEqual(e.allocations[0], {
        invoice_id: inv.id, invoice_number: inv.number, amount: cents(p.amount), rule, confidence: a.confidence, state: 'applied',
      });
      assert.ok(!('candidates' in e) && !('decision' in e), 'a settled payment is not scored again');
      if (rule === 'reference') {
        const norm = (s) => s.toLowerCase().replace(/[\s\-_/#]/g, '');
        assert.ok(norm(p.reference).includes(norm(inv.number)), `${id}: the reference contains ${inv.number}`);
      }
    }
  });

  test('explain for an unmatched payment lists candidates with the reasons they were refused', async () => {
    const ids = [...expl].filter(([, e]) => e.status === 'unmatched').map(([id]) => id);
    assert.ok(ids.length > 0, 'the data set has unmatched payments');
    let withCandidates = 0;
    for (const id of ids) {
      const e = await explainOk('acme', id);
      assert.equal(e.status, 'unmatched');
      assert.deepEqual(e.allocations, []);
      assert.equal(e.decision.verdict, 'unmatched', `${id}: a run would leave it unmatched`);
      assert.ok(e.decision.confidence < 0.5, `${id}: confidence ${e.decision.confidence} below review`);
      assert.ok(Array.isArray(e.candidates) && e.candidates.length <= 5);
      if (e.candidates.length) withCandidates++;
      for (const c of e.candidates) {
        const inv = invoiceById.get(c.invoice_id);
        assert.ok(inv, `${id}: candidate ${c.invoice_id} is an invoice of the org`);
        assert.equal(c.number, inv.number);
        assert.ok(c.outstanding > 0, 'candidates are open invoices');
        for (const k of ['reference_exact', 'amount_equal', 'amount_fits', 'date_in_window'])
          assert.equal(typeof c[k], 'boolean', `${id}: ${k}`);
        assert.ok(c.name_similarity >= 0 && c.name_similarity <= 1);
        assert.ok(c.reference_similarity >= 0 && c.reference_similarity <= 1);
        assert.equal(typeof c.refused, 'string', `${id}: candidate ${c.invoice_id} carries a reason`);
        assert.ok(c.refused.length > 0);
      }
    }
    assert.ok(withCandidates > 0, 'some unmatched payment has candidates');
  });

  test('explain of an unknown payment is a 404', async () => {
    problem(await explain('acme', 'NO-SUCH-PAYMENT'), 404, /unknown payment/);
    problem(await explain('acme', 'PAY 000001/x'), 404);
  });
});

// ---- errors of the run ----

describe('POST /api/v1/match refuses bad parameters', () => {
  test('bad thresholds are a 400 and store nothing', async () => {
    const { etag } = await view('dry', `/api/v1/aging?as_of=${AS_OF}`);
    for (const q of ['auto=1.5', 'auto=-0.1', 'auto=abc', 'auto=', 'review=2', 'review=-1', 'review=0.9&auto=0.8',
      'auto=0.4', 'auto=nan', 'review=0.5x']) {
      problem(await post('dry', `/api/v1/match?${q}`), 400);
    }
    problem(await post('dry', '/api/v1/match?threshold=0.5'), 400, /unknown parameter 'threshold'/);
    assert.equal((await view('dry', `/api/v1/aging?as_of=${AS_OF}`)).etag, etag);
    assert.deepEqual(await get('dry', '/api/v1/match/proposals'), { proposals: [], next_cursor: null });
  });

  test('authentication', async () => {
    assert.equal((await api(srv, null, '/api/v1/match', { method: 'POST' })).status, 401);
    assert.equal((await api(srv, null, '/api/v1/match/proposals')).status, 401);
    assert.equal((await api(srv, null, '/api/v1/payments/PAY000002/explain')).status, 401);
    assert.equal((await api(srv, null, '/api/v1/match/PAY000002/reject', { method: 'POST' })).status, 401);
  });

  test('a wrong method is a 405 whose Allow lists the methods that work', async () => {
    const m = async (method, pathq) => {
      const r = await api(srv, tok.dry, pathq, { method });
      return { status: r.status, allow: r.headers.get('allow'), text: r.text };
    };
    let r = await m('GET', '/api/v1/match/PAY000002/confirm');
    assert.equal(r.status, 405);
    assert.equal(r.allow, 'POST');
    r = await m('POST', '/api/v1/payments/PAY000002/explain');
    assert.equal(r.status, 405);
    assert.match(r.allow, /^GET, HEAD$/);
    r = await m('PUT', '/api/v1/match');
    assert.equal(r.status, 405);
    // /api/v1/match is not a collection: GET there is a wrong method, and
    // the Allow header must not advertise it.
    assert.doesNotMatch(r.allow, /GET/, `Allow of /api/v1/match: ${r.allow}`);
    r = await m('GET', '/api/v1/match');
    assert.equal(r.status, 405, `GET /api/v1/match: ${r.text}`);
  });

  // The API's switches (import's dry_run, no_header, ...) are on with 1, true
  // or yes; a match run must not take dry_run=yes for a real run.
  test('dry_run=yes is a dry run too (as for the import switches)', async () => {
    const { etag } = await view('dry', `/api/v1/aging?as_of=${AS_OF}`);
    const r = await post('dry', '/api/v1/match?dry_run=yes');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.data.dry_run, true, `dry_run=yes ran for real: ${r.text}`);
    assert.equal((await view('dry', `/api/v1/aging?as_of=${AS_OF}`)).etag, etag, 'nothing stored');
  });
});

// ---- prop: proposals, confirm, reject ----

describe('proposals, confirm and reject (prop, auto=0.95)', () => {
  const T = '?auto=0.95&review=0.5';
  let res, proposals;

  test('a run with a high auto threshold proposes the doubtful matches', async () => {
    res = await run('prop', T);
    assert.ok(res.proposed > 0, `some proposals: ${JSON.stringify(res)}`);
    assert.ok(res.applied > 0);
    assert.equal(res.changed, res.applied + res.proposed);
  });

  test('pagination with the cursor walks every proposal exactly once', async (t) => {
    const small = await walkProposals('prop', 7);
    proposals = small.items;
    assert.equal(proposals.length, res.proposed);
    assert.equal(small.pages, Math.max(1, Math.ceil(res.proposed / 7)), 'as many pages as needed, no empty last one');
    const ids = proposals.map((p) => p.payment_id);
    assert.equal(new Set(ids).size, ids.length, 'no payment twice');
    for (const p of proposals) assert.equal(p.payment_rid, undefined, 'no global row id is shown');
    const big = await walkProposals('prop', 1000);
    assert.deepEqual(big.items, proposals, 'page size does not change the list');
    for (const p of proposals) {
      const src = paymentById.get(p.payment_id);
      assert.ok(src, `${p.payment_id} is a payment`);
      assert.equal(p.amount, cents(src.amount));
      assert.equal(p.date, src.date);
      assert.equal(p.invoice_number, invoiceById.get(p.invoice_id).number);
      assert.ok(RULES.includes(p.rule));
      assert.ok(p.confidence >= 0.5 && p.confidence < 0.95, `${p.payment_id}: confidence ${p.confidence} in [review, auto)`);
      assert.ok(p.amount <= p.outstanding, 'a proposal fits its invoice');
    }
    const right = proposals.filter((p) => truth.get(p.payment_id) === p.invoice_id).length;
    t.diagnostic(`${proposals.length} proposals, ${right} agree with truth.csv`);
    const e = await explainOk('prop', proposals[0].payment_id);
    assert.equal(e.status, 'proposed');
    assert.equal(e.allocations[0].state, 'proposed');
    assert.equal(e.allocations[0].invoice_id, proposals[0].invoice_id);
  });

  test('bad cursor or limit is a 400', async () => {
    for (const q of ['limit=0', 'limit=1001', 'limit=x', 'cursor=abc', 'cursor=-1', 'cursor=', 'page=2'])
      problem(await api(srv, tok.prop, `/api/v1/match/proposals?${q}`), 400);
  });

  test('re-running with the same thresholds keeps the proposals (changed 0)', async () => {
    const { etag } = await view('prop', `/api/v1/aging?as_of=${AS_OF}`);
    const again = await run('prop', T);
    assert.equal(again.changed, 0, JSON.stringify(again));
    assert.equal(again.proposed, res.proposed);
    assert.equal((await view('prop', `/api/v1/aging?as_of=${AS_OF}`)).etag, etag);
    assert.deepEqual((await walkProposals('prop', 1000)).items, proposals);
  });

  let confirmed;
  test('confirm: the invoice\'s outstanding drops by the proposed amount and the aging changes', async () => {
    const p = proposals[0];
    confirmed = p;
    const inv0 = await invoice('prop', p.invoice_number);
    assert.equal(inv0.outstanding, p.outstanding);
    const ag0 = await view('prop', `/api/v1/aging?as_of=${AS_OF}`);
    const r = await post('prop', `/api/v1/match/${enc(p.payment_id)}/confirm`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.data, { payment_id: p.payment_id, decision: 'confirmed' });
    const inv1 = await invoice('prop', p.invoice_number);
    assert.equal(inv1.outstanding, inv0.outstanding - p.amount);
    assert.equal(inv1.status, inv1.outstanding === 0 ? 'paid' : 'partial');
    const ag1 = await view('prop', `/api/v1/aging?as_of=${AS_OF}`);
    assert.notEqual(ag1.etag, ag0.etag, 'aging ETag changes');
    assert.equal(ag1.data.total.amount, ag0.data.total.amount - p.amount);
    const e = await explainOk('prop', p.payment_id);
    assert.equal(e.status, 'confirmed');
    assert.equal(e.allocations.length, 1);
    assert.equal(e.allocations[0].state, 'confirmed');
    assert.equal(e.allocations[0].amount, p.amount);
    const left = (await walkProposals('prop', 1000)).items;
    assert.equal(left.length, proposals.length - 1);
    assert.ok(!left.some((x) => x.payment_id === p.payment_id));
    problem(await post('prop', `/api/v1/match/${enc(p.payment_id)}/confirm`), 409, /no proposed match/);
  });

  test('confirm refusals: unknown payment 404, nothing proposed 409, invoice no longer able to take it 409', async () => {
    problem(await post('prop', '/api/v1/match/NO-SUCH/confirm'), 404, /unknown payment/);
    const appliedId = paymentsCsv.map((p) => p.id).find((id) => !proposals.some((x) => x.payment_id === id));
    problem(await post('prop', `/api/v1/match/${enc(appliedId)}/confirm`), 409);
    // Another payment takes part of a proposal's invoice by hand, leaving
    // less than the proposed amount: the proposal can no longer be confirmed.
    const props = (await walkProposals('prop', 1000)).items;
    const unmatched = [];
    for (const p of paymentsCsv) {
      if (props.some((x) => x.payment_id === p.id)) continue;
      const e = await explainOk('prop', p.id);
      if (e.status === 'unmatched') unmatched.push(p);
      if (unmatched.length >= 20) break;
    }
    let done = false;
    for (const pr of props) {
      const need = pr.outstanding - pr.amount + 1; // leaves amount - 1
      const q = unmatched.find((u) => cents(u.amount) >= need);
      if (!q) continue;
      const m = await post('prop', '/api/v1/match/manual', { payment_id: q.id, invoice_id: pr.invoice_id, amount: need });
      assert.equal(m.status, 200, m.text);
      const inv = await invoice('prop', pr.invoice_number);
      assert.equal(inv.outstanding, pr.amount - 1);
      problem(await post('prop', `/api/v1/match/${enc(pr.payment_id)}/confirm`), 409, /outstanding/);
      const e = await explainOk('prop', pr.payment_id);
      assert.equal(e.status, 'proposed', 'a refused confirm changes nothing');
      done = true;
      break;
    }
    assert.ok(done, 'found a proposal and an unmatched payment to set it up');
  });

  test('a proposal whose invoice was voided meanwhile cannot be confirmed (409)', async () => {
    const props = (await walkProposals('prop', 1000)).items;
    const p = props[Math.floor(props.length / 2)];
    const src = invoiceById.get(p.invoice_id);
    const w = await api(srv, tok.prop, '/api/v1/invoices', {
      method: 'POST', headers: JSONH,
      body: JSON.stringify({ ...Object.fromEntries(Object.entries(src).filter(([, v]) => v !== '')), status: 'void' }),
    });
    assert.equal(w.status, 200, w.text);
    assert.equal(w.json.replaced, 1);
    problem(await post('prop', `/api/v1/match/${enc(p.payment_id)}/confirm`), 409, /void/);
    assert.equal((await explainOk('prop', p.payment_id)).status, 'proposed');
  });

  let rejectedProp, rejectedApplied;
  test('reject a proposal: the payment stays unmatched after later runs, whatever the thresholds', async () => {
    const props = (await walkProposals('prop', 1000)).items;
    const p = props[props.length - 1];
    rejectedProp = p;
    const inv0 = await invoice('prop', p.invoice_number);
    const r = await post('prop', `/api/v1/match/${enc(p.payment_id)}/reject`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.data, { payment_id: p.payment_id, decision: 'rejected' });
    assert.equal((await invoice('prop', p.invoice_number)).outstanding, inv0.outstanding, 'a proposal held nothing');
    assert.equal((await explainOk('prop', p.payment_id)).status, 'rejected');
    const again = await run('prop', T);
    const now = (await walkProposals('prop', 1000)).items;
    assert.ok(!now.some((x) => x.payment_id === p.payment_id), 'not proposed again');
    assert.equal(again.proposed, now.length);
    assert.ok(again.proposed <= props.length - 1);
    // With thresholds that would now apply it, it is still left alone.
    const low = await run('prop', '?auto=0.5&review=0.5');
    assert.ok(low.applied > 0, 'the low threshold applies the other proposals');
    const e = await explainOk('prop', p.payment_id);
    assert.equal(e.status, 'rejected');
    assert.ok(e.allocations.every((a) => a.state === 'rejected'), JSON.stringify(e.allocations));
    assert.equal((await invoice('prop', p.invoice_number)).outstanding, inv0.outstanding);
    // A confirmed payment is not overridden either.
    const c = await explainOk('prop', confirmed.payment_id);
    assert.equal(c.status, 'confirmed');
    assert.equal(c.allocations.length, 1);
  });

  test('reject an applied match: the invoice gets the amount back and later runs leave the payment alone', async () => {
    const ids = paymentsCsv.map((p) => p.id);
    let e, id;
    for (id of ids) {
      e = await explainOk('prop', id);
      if (e.status === 'applied' && e.allocations[0].rule === 'reference') break;
    }
    assert.equal(e.status, 'applied');
    rejectedApplied = id;
    const a = e.allocations[0];
    const inv0 = await invoice('prop', a.invoice_number);
    const ag0 = await view('prop', `/api/v1/aging?as_of=${AS_OF}`);
    const r = await post('prop', `/api/v1/match/${enc(id)}/reject`);
    assert.equal(r.status, 200, r.text);
    const inv1 = await invoice('prop', a.invoice_number);
    assert.equal(inv1.outstanding, inv0.outstanding + a.amount);
    assert.equal(inv1.status, inv1.outstanding === inv1.amount ? 'open' : 'partial');
    const ag1 = await view('prop', `/api/v1/aging?as_of=${AS_OF}`);
    assert.equal(ag1.data.total.amount, ag0.data.total.amount + a.amount);
    assert.notEqual(ag1.etag, ag0.etag);
    await run('prop');
    const e2 = await explainOk('prop', id);
    assert.equal(e2.status, 'rejected');
    assert.ok(e2.allocations.every((x) => x.state === 'rejected'));
    problem(await post('prop', `/api/v1/match/${enc(id)}/confirm`), 409);
  });

  test('reject refusals: unknown payment 404, nothing to reject 409', async () => {
    problem(await post('prop', '/api/v1/match/NO-SUCH/reject'), 404, /unknown payment/);
    for (const p of paymentsCsv) {
      const e = await explainOk('prop', p.id);
      if (e.status !== 'unmatched') continue;
      problem(await post('prop', `/api/v1/match/${enc(p.id)}/reject`), 409, /no match to reject/);
      return;
    }
    assert.fail('no unmatched payment to probe');
  });

  test('the decisions survive: rejected and confirmed payments after all the runs', async () => {
    assert.equal((await explainOk('prop', rejectedProp.payment_id)).status, 'rejected');
    assert.equal((await explainOk('prop', rejectedApplied)).status, 'rejected');
    assert.equal((await explainOk('prop', confirmed.payment_id)).status, 'confirmed');
  });
});

// ---- man: manual matches ----

describe('manual matches (man)', () => {
  let unmatched, openInvoices;
  const manual = (body) => post('man', '/api/v1/match/manual', body);

  before(async () => {
    await run('man');
    unmatched = [];
    const ex = await explainAll('man', paymentsCsv.map((p) => p.id));
    for (const p of paymentsCsv) if (ex.get(p.id).status === 'unmatched') unmatched.push({ ...p, cents: cents(p.amount) });
    openInvoices = (await allInvoices('man')).filter((i) => i.status === 'open' && i.outstanding > 0);
  });

  let P, I;
  test('an unmatched payment to a larger invoice: 200, the invoice becomes partial', async () => {
    for (const p of unmatched) {
      I = openInvoices.find((i) => i.outstanding > p.cents);
      if (I) { P = p; break; }
    }
    assert.ok(P && I, 'an unmatched payment smaller than some open invoice');
    const ag0 = await view('man', `/api/v1/aging?as_of=${AS_OF}`);
    const r = await manual({ payment_id: P.id, invoice_id: I.id });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.data, { payment_id: P.id, invoice_id: I.id, decision: 'manual' });
    const inv = await invoice('man', I.number);
    assert.equal(inv.outstanding, I.outstanding - P.cents);
    assert.equal(inv.status, 'partial');
    const ag1 = await view('man', `/api/v1/aging?as_of=${AS_OF}`);
    assert.equal(ag1.data.total.amount, ag0.data.total.amount - P.cents);
    assert.notEqual(ag1.etag, ag0.etag);
    const e = await explainOk('man', P.id);
    assert.equal(e.status, 'manual');
    assert.deepEqual(e.allocations, [{
      invoice_id: I.id, invoice_number: I.number, amount: P.cents, rule: 'manual', confidence: 1, state: 'manual',
    }]);
    // Fully allocated now.
    problem(await manual({ payment_id: P.id, invoice_id: I.id, amount: 1 }), 409, /already fully allocated/);
  });

  let Q, J, K;
  test('an amount that pays an invoice in full: status paid; the rest of the payment goes elsewhere', async () => {
    for (const q of unmatched) {
      if (q.id === P.id) continue;
      J = openInvoices.find((i) => i.id !== I.id && i.outstanding < q.cents);
      if (J) { Q = q; break; }
    }
    assert.ok(Q && J);
    const r = await manual({ payment_id: Q.id, invoice_id: J.id, amount: J.outstanding });
    assert.equal(r.status, 200, r.text);
    const inv = await invoice('man', J.number);
    assert.equal(inv.outstanding, 0);
    assert.equal(inv.status, 'paid');
    const left = Q.cents - J.outstanding;
    K = openInvoices.find((i) => i.id !== I.id && i.id !== J.id && i.outstanding >= left);
    problem(await manual({ payment_id: Q.id, invoice_id: K.id, amount: left + 1 }), 409, /exceeds/);
    const r2 = await manual({ payment_id: Q.id, invoice_id: K.id });
    assert.equal(r2.status, 200, r2.text);
    const k = await invoice('man', K.number);
    assert.equal(k.outstanding, K.outstanding - left);
    const e = await explainOk('man', Q.id);
    assert.equal(e.status, 'manual');
    assert.deepEqual(e.allocations.map((a) => [a.invoice_id, a.amount]), [[J.id, J.outstanding], [K.id, left]]);
  });

  test('over-allocation is a 409 and changes nothing', async () => {
    const R = unmatched.filter((u) => u.id !== P.id && u.id !== Q.id).sort((a, b) => b.cents - a.cents)[0];
    const big = openInvoices.find((i) => ![I.id, J.id, K.id].includes(i.id) && i.outstanding > R.cents);
    const small = openInvoices.find((i) => ![I.id, J.id, K.id].includes(i.id) && i.outstanding < R.cents);
    const ag0 = await view('man', `/api/v1/aging?as_of=${AS_OF}`);
    // More than the payment has.
    problem(await manual({ payment_id: R.id, invoice_id: big.id, amount: R.cents + 1 }), 409, /exceeds/);
    // More than the invoice has outstanding.
    problem(await manual({ payment_id: R.id, invoice_id: small.id, amount: small.outstanding + 1 }), 409, /outstanding/);
    // The whole payment (amount omitted) onto a smaller invoice.
    problem(await manual({ payment_id: R.id, invoice_id: small.id }), 409, /outstanding/);
    // An invoice already paid in full.
    problem(await manual({ payment_id: R.id, invoice_id: J.id, amount: 1 }), 409);
    // A void invoice.
    const v = invoicesCsv.find((i) => i.status === 'void');
    problem(await manual({ payment_id: R.id, invoice_id: v.id, amount: 1 }), 409, /void/);
    assert.equal((await view('man', `/api/v1/aging?as_of=${AS_OF}`)).etag, ag0.etag, 'nothing stored');
    assert.equal((await explainOk('man', R.id)).status, 'unmatched');
    assert.equal((await invoice('man', small.number)).outstanding, small.outstanding);
  });

  test('unknown payment or invoice 404, negative amount 422, malformed body 400', async () => {
    const R = unmatched.find((u) => u.id !== P.id && u.id !== Q.id);
    const inv = openInvoices.find((i) => ![I.id, J.id, K.id].includes(i.id));
    problem(await manual({ payment_id: 'NO-SUCH', invoice_id: inv.id, amount: 1 }), 404, /unknown payment/);
    problem(await manual({ payment_id: R.id, invoice_id: 'NO-SUCH', amount: 1 }), 404, /unknown invoice/);
    problem(await manual({ payment_id: R.id, invoice_id: inv.id, amount: -100 }), 422);
    problem(await manual('{"payment_id":'), 400);
    problem(await manual({ payment_id: R.id }), 400);
    problem(await manual({ payment_id: R.id, invoice_id: inv.id, amount: 1.5 }), 400);
    problem(await manual([R.id, inv.id]), 400);
    problem(await post('man', '/api/v1/match/manual?x=1', { payment_id: R.id, invoice_id: inv.id }), 400);
    assert.equal((await explainOk('man', R.id)).status, 'unmatched');
  });

  test('ids with reserved characters work percent-encoded in the path', async () => {
    const id = 'MAN/01 ü?#%';
    const w = await api(srv, tok.man, '/api/v1/payments', {
      method: 'POST', headers: JSONH, body: JSON.stringify({ id, date: '2026-10-01', payer: 'Nobody Known', amount: 1234 }),
    });
    assert.equal(w.status, 200, w.text);
    const inv = openInvoices.find((i) => ![I.id, J.id, K.id].includes(i.id) && i.outstanding > 1234);
    const m = await manual({ payment_id: id, invoice_id: inv.id });
    assert.equal(m.status, 200, m.text);
    assert.equal(m.json.data.payment_id, id);
    const e = await explainOk('man', id);
    assert.equal(e.payment.id, id);
    assert.equal(e.status, 'manual');
    assert.equal((await invoice('man', inv.number)).outstanding, inv.outstanding - 1234);
    const r = await post('man', `/api/v1/match/${enc(id)}/reject`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.data.payment_id, id);
    assert.equal((await explainOk('man', id)).status, 'rejected');
    assert.equal((await invoice('man', inv.number)).outstanding, inv.outstanding, 'undoing a manual match frees the amount');
    problem(await post('man', `/api/v1/match/${enc(id)}/reject`), 409);
    // A rejected payment can still be matched by hand.
    const again = await manual({ payment_id: id, invoice_id: inv.id, amount: 1000 });
    assert.equal(again.status, 200, again.text);
    assert.equal((await explainOk('man', id)).status, 'manual');
    assert.equal((await invoice('man', inv.number)).outstanding, inv.outstanding - 1000);
  });

  test('a later run leaves manual matches alone', async () => {
    const iBefore = await invoice('man', I.number);
    await run('man');
    await run('man', '?auto=0.5&review=0.1');
    assert.equal((await explainOk('man', P.id)).status, 'manual');
    assert.equal((await explainOk('man', Q.id)).allocations.length, 2);
    assert.deepEqual(await invoice('man', I.number), iBefore);
  });
});

// ---- isolation ----

describe('cross-organisation isolation (beta against acme and prop)', () => {
  test('beta cannot confirm, reject, explain or manually match another organisation\'s payments', async () => {
    const props = (await walkProposals('prop', 1000)).items;
    const acmeApplied = paymentsCsv.find((p) => truth.get(p.id));
    const before = {
      acme: await explainOk('acme', acmeApplied.id),
      prop: props.length ? await explainOk('prop', props[0].payment_id) : null,
      aging: (await view('acme', `/api/v1/aging?as_of=${AS_OF}`)).etag,
      paging: (await view('prop', `/api/v1/aging?as_of=${AS_OF}`)).etag,
    };
    const targets = [acmeApplied.id, ...(props.length ? [props[0].payment_id] : [])];
    for (const id of targets) {
      problem(await explain('beta', id), 404);
      problem(await post('beta', `/api/v1/match/${enc(id)}/confirm`), 404);
      problem(await post('beta', `/api/v1/match/${enc(id)}/reject`), 404);
      problem(await post('beta', '/api/v1/match/manual',
        { payment_id: id, invoice_id: invoicesCsv[0].id, amount: 1 }), 404);
    }
    assert.deepEqual((await get('beta', '/api/v1/match/proposals')).proposals, []);
    assert.deepEqual(await explainOk('acme', acmeApplied.id), before.acme);
    if (props.length) assert.deepEqual(await explainOk('prop', props[0].payment_id), before.prop);
    assert.equal((await view('acme', `/api/v1/aging?as_of=${AS_OF}`)).etag, before.aging);
    assert.equal((await view('prop', `/api/v1/aging?as_of=${AS_OF}`)).etag, before.paging);
  });

  test('beta\'s run does not touch acme, even with payments naming acme\'s open invoices', async () => {
    const open = (await allInvoices('acme')).filter((i) => i.status === 'open' && i.outstanding > 0).slice(0, 3);
    assert.equal(open.length, 3);
    const rows = open.map((i, k) => ({
      id: `B-PAY-${k}`, date: i.issue_date, payer: i.customer, amount: i.outstanding, reference: i.number,
    }));
    const w = await api(srv, tok.beta, '/api/v1/payments', { method: 'POST', headers: JSONH, body: JSON.stringify(rows) });
    assert.equal(w.status, 200, w.text);
    const ag0 = await view('acme', `/api/v1/aging?as_of=${AS_OF}`);
    const r = await run('beta');
    assert.equal(r.payments, 3);
    assert.equal(r.invoices, 0, 'beta has no invoices');
    assert.equal(r.applied + r.proposed, 0);
    const ag1 = await view('acme', `/api/v1/aging?as_of=${AS_OF}`);
    assert.equal(ag1.etag, ag0.etag);
    assert.deepEqual(ag1.data, ag0.data);
    for (const i of open) assert.equal((await invoice('acme', i.number)).outstanding, i.outstanding);
    // And beta cannot allocate its own payment to acme's invoice.
    problem(await post('beta', '/api/v1/match/manual', { payment_id: 'B-PAY-0', invoice_id: open[0].id }), 404,
      /unknown invoice/);
    const e = await explainOk('beta', 'B-PAY-0');
    assert.equal(e.status, 'unmatched');
    assert.deepEqual(e.candidates, [], 'no candidates from another organisation');
  });
});

// ---- concurrent runs ----

describe('concurrent runs (conc)', () => {
  test('two runs at once apply each payment once and never over-allocate an invoice', async () => {
    const [a, b] = await Promise.all([post('conc', '/api/v1/match'), post('conc', '/api/v1/match')]);
    const ok = [a, b].filter((r) => r.status === 200).map((r) => r.json.data);
    for (const r of [a, b]) assert.ok(r.status === 200 || r.status === 503, `${r.status}: ${r.text}`);
    assert.ok(ok.length >= 1, 'at least one run went through');
    const applied = sum(ok.map((d) => d.applied));
    const again = await run('conc');
    assert.equal(again.changed, 0);
    const ex = await explainAll('conc', paymentsCsv.map((p) => p.id));
    const settled = [...ex.values()].filter((e) => e.status === 'applied');
    assert.equal(settled.length, applied, 'the runs together applied what the explanations show');
    for (const e of settled) assert.equal(e.allocations.length, 1, `${e.payment.id}: one allocation`);
    const paid = new Map();
    for (const e of settled) paid.set(e.allocations[0].invoice_id, (paid.get(e.allocations[0].invoice_id) || 0) + e.allocations[0].amount);
    for (const i of await allInvoices('conc')) {
      assert.ok(i.outstanding >= 0, `${i.id} over-allocated: ${i.outstanding}`);
      assert.equal(i.outstanding, i.status === 'void' ? 0 : i.amount - (paid.get(i.id) || 0), `${i.id}`);
    }
  });
});

// ---- CLI ----

describe('brisk match (CLI)', () => {
  const HEADER = 'payment_id,invoice_id,amount_allocated,rule,confidence,decision';
  const summary = (out) => {
    const m = /applied (\d+), proposed (\d+), unmatched (\d+)/.exec(out);
    assert.ok(m, `summary line: ${out}`);
    const p = /: (\d+) payments against (\d+) open invoices/.exec(out);
    return { payments: +p[1], invoices: +p[2], applied: +m[1], proposed: +m[2], unmatched: +m[3] };
  };
  const data = () => path.join(cliRoot, 'a');
  // Runs brisk; {code, stdout, stderr}; no sanitizer report either way.
  const cli = (args) => {
    const r = spawnSync(BIN, args, { encoding: 'utf8' });
    assert.doesNotMatch(r.stderr, /runtime error:|ERROR: AddressSanitizer|ERROR: LeakSanitizer/, r.stderr);
    return { code: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const ok = (args) => {
    const r = cli(args);
    assert.equal(r.code, 0, `brisk ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  let dryRows, dryOut;
  test('--dry-run --report writes the documented columns and stores nothing', () => {
    const rep = path.join(cliRoot, 'dry.csv');
    const out = ok(['match', '--org', 'acme', '--data', data(), '--dry-run', '--report', rep, '-q']);
    assert.match(out, /dry run: nothing stored/);
    dryOut = summary(out);
    assert.equal(dryOut.payments, paymentsCsv.length);
    const text = readFileSync(rep, 'utf8');
    assert.equal(text.split('\n')[0], HEADER);
    dryRows = readCsv(rep);
    assert.equal(dryRows.length, paymentsCsv.length, 'one row per payment');
    // Nothing stored: the next dry run sees every payment again.
    const again = summary(ok(['match', '--org', 'acme', '--data', data(), '--dry-run', '-q']));
    assert.deepEqual(again, dryOut);
  });

  test('--report: every decision, with amounts, rules and confidences as documented', () => {
    const rep = path.join(cliRoot, 'real.csv');
    const out = summary(ok(['match', '--org', 'acme', '--data', data(), '--report', rep, '-q']));
    assert.deepEqual(out, dryOut, 'the dry run announced the run');
    const rows = readCsv(rep);
    assert.deepEqual(rows, dryRows, 'the dry run reported the same decisions');
    const count = { applied: 0, proposed: 0, unmatched: 0 };
    let right = 0;
    for (const r of rows) {
      assert.deepEqual(Object.keys(r), HEADER.split(','));
      const p = paymentById.get(r.payment_id);
      assert.ok(p, `${r.payment_id} is a payment`);
      assert.ok(r.decision in count, `decision ${r.decision}`);
      count[r.decision]++;
      assert.match(r.confidence, /^[01]\.\d{3}$/);
      if (r.decision === 'unmatched') {
        assert.equal(r.invoice_id, '');
        assert.equal(r.amount_allocated, '');
      } else {
        assert.ok(invoiceById.has(r.invoice_id), `${r.invoice_id} is an invoice`);
        assert.equal(cents(r.amount_allocated), cents(p.amount));
        assert.match(r.amount_allocated, /^\d+\.\d{2}$/);
        assert.ok(RULES.includes(r.rule), `rule ${r.rule}`);
        const c = Number(r.confidence);
        assert.ok(r.decision === 'applied' ? c >= 0.75 : c >= 0.5 && c < 0.75);
        if (r.decision === 'applied' && truth.get(r.payment_id) === r.invoice_id) right++;
      }
    }
    assert.deepEqual(count, { applied: out.applied, proposed: out.proposed, unmatched: out.unmatched });
    assert.ok(right / count.applied >= 0.995, `CLI precision ${right}/${count.applied}`);
    const again = summary(ok(['match', '--org', 'acme', '--data', data(), '-q']));
    assert.equal(again.applied, 0);
    assert.equal(again.payments, out.proposed + out.unmatched);
  });

  test('the CLI and the API decide alike on the same data', async () => {
    // The CLI runs above blocked this thread for seconds (longer on
    // PostgreSQL): let fetch's keep-alive timers run first, or it reuses a
    // socket the server closed as idle meanwhile ("fetch failed").
    await new Promise((r) => setTimeout(r, 50));
    const rows = readCsv(path.join(cliRoot, 'real.csv')).filter((r) => r.decision === 'applied');
    const sample = rows.filter((_, i) => i % 25 === 0);
    for (const r of sample) {
      const e = await explainOk('acme', r.payment_id);
      assert.equal(e.status, 'applied', r.payment_id);
      assert.equal(e.allocations[0].invoice_id, r.invoice_id, r.payment_id);
      assert.equal(e.allocations[0].rule, r.rule, r.payment_id);
      assert.equal(e.allocations[0].confidence, Number(r.confidence), r.payment_id);
    }
  });

  test('bad options are a usage error; an unknown organisation fails', () => {
    const d = path.join(cliRoot, 'b');
    assert.equal(cli(['match', '--data', d, '--org', 'acme', '--auto', '2']).code, 2);
    assert.equal(cli(['match', '--data', d, '--org', 'acme', '--review', '0.9', '--auto', '0.8']).code, 2);
    assert.equal(cli(['match', '--data', d, '--org', 'acme', '--threads', '0']).code, 2);
    assert.notEqual(cli(['match', '--data', d, '--org', 'nobody', '-q']).code, 0);
    const bad = cli(['match', '--data', d, '--org', 'acme', '-q', '--report', path.join(cliRoot, 'no', 'dir', 'r.csv')]);
    assert.equal(bad.code, 1);
    // None of these stored anything.
    const s = summary(ok(['match', '--data', d, '--org', 'acme', '--dry-run', '-q']));
    assert.equal(s.payments, paymentsCsv.length);
    assert.ok(!existsSync(path.join(cliRoot, 'no')));
  });
});

describe('allocations name rows that exist (foreign keys; per statement on PostgreSQL)', () => {
  test('an allocation naming a missing invoice is refused; a deleted payment or invoice takes its allocations', () => {
    const d = path.join(cliRoot, 'fk');
    const inv = path.join(cliRoot, 'fk-invoices.csv');
    const pay = path.join(cliRoot, 'fk-payments.csv');
    writeFileSync(inv, 'id,number,customer,customer_id,issue_date,due_date,amount,status\n' +
      'I1,INV-2025-000001,Acme Ltd,C1,2025-01-01,2025-01-31,100.00,open\n' +
      'I2,INV-2025-000002,Bolt Ltd,C2,2025-01-02,2025-02-01,250.00,open\n');
    writeFileSync(pay, 'id,date,payer,amount,reference,customer_id\n' +
      'P1,2025-01-10,Acme Ltd,100.00,INV-2025-000001,C1\nP2,2025-01-11,Bolt Ltd,250.00,INV-2025-000002,C2\n');
    brisk(['import', 'invoices', inv, '--org', 'fk', '--data', d, '-q']);
    brisk(['import', 'payments', pay, '--org', 'fk', '--data', d, '-q']);
    brisk(['match', '--data', d, '--org', 'fk', '-q']);
    const fk = PG_URL ? '' : 'PRAGMA foreign_keys=ON;'; // the sqlite3 shell's default is off
    const n = (where) => Number(storeSql(d, `SELECT count(*) FROM allocations a WHERE ${where}`));
    assert.equal(n('true'), 2);
    assert.throws(() => storeSql(d, `${fk}INSERT INTO allocations(org, payment, invoice, amount, pay_date, rule, ` +
      'confidence, state) SELECT org, payment, invoice + 1000, 1, pay_date, rule, confidence, state FROM allocations'),
    /foreign key/i);
    assert.equal(n('true'), 2);
    storeSql(d, `${fk}DELETE FROM payments WHERE id = 'P1'`);
    assert.equal(n('true'), 1);
    storeSql(d, `${fk}DELETE FROM invoices WHERE id = 'I2'`);
    assert.equal(n('true'), 0);
  });
});

test('the server ran clean: no sanitizer report, exit 0 on SIGTERM', async () => {
  const code = await srv.stop();
  assert.doesNotMatch(srv.stderr(), /runtime error:|ERROR: AddressSanitizer|ERROR: LeakSanitizer/, srv.stderr().slice(-3000));
  assert.equal(code, 0, srv.stderr().slice(-2000));
});
