// The dashboard views against an independent JavaScript computation over
// the generated CSV files (tests/e2e/lib/expect.mjs), exact to the cent, for
// several ranges and every interval; the same checks against a second
// server in --naive (reference) mode on the same data; /api/v1/dashboard
// equal to the individual views.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { dataset, startServer, api, cleanup } from './lib/harness.mjs';
import * as X from './lib/expect.mjs';

const RANGES = [
  { name: 'a whole year', from: '2025-01-01', to: '2025-12-31' },
  { name: 'a single day', from: '2026-03-17', to: '2026-03-17' },
  { name: 'mid-week to mid-month', from: '2025-06-18', to: '2025-09-14' },
  { name: 'across a year boundary', from: '2025-11-20', to: '2026-02-10' },
  { name: 'before any data', from: '2023-03-01', to: '2023-08-31' },
  { name: 'straddling the first data', from: '2024-10-15', to: '2024-12-10' },
  { name: 'all the data', from: '2024-11-01', to: '2026-10-31' },
];
const AS_OF = ['2024-10-31', '2024-12-15', '2025-06-30', '2025-12-31', '2026-10-31', '2027-02-28'];
// Defaults: to = today (BRISK_TODAY=2026-10-31), from = to - 364.
const DEFAULT = { from: '2025-11-01', to: '2026-10-31' };

let ds, model;
const servers = {};

before(async () => {
  ds = dataset({ scale: 0.3, seed: 11, end: '2026-10-31' });
  model = X.loadModel(ds.csv);
  servers.rollup = await startServer(ds.data);
  servers.naive = await startServer(ds.data, ['--naive']);
});

after(async () => {
  // (the exit status on SIGTERM is checked in api.test.mjs)
  for (const s of Object.values(servers)) await s.stop();
  if (ds) cleanup(ds.root);
  for (const s of Object.values(servers))
    assert.doesNotMatch(s.stderr(), /runtime error:|ERROR: AddressSanitizer/, 'no sanitizer report while serving');
});

async function view(srv, pathq) {
  const r = await api(srv, ds.token, pathq);
  assert.equal(r.status, 200, `${pathq}: ${r.text}`);
  assert.equal(r.json.org, ds.org);
  assert.equal(r.json.money, 'integer minor units (cents)');
  assert.equal(typeof r.json.currency, 'string');
  return r.json.data;
}

const qs = (o) => new URLSearchParams(Object.entries(o).filter(([, v]) => v !== undefined)).toString();

// A sanity check on the model itself, so a vacuous data set cannot pass.
test('the generated data set covers the ranges', () => {
  assert.ok(model.costs.length > 2000 && model.payments.length > 2000 && model.sales.length > 2000);
  assert.ok(model.leads.some((l) => l.created_at.length > 19), 'some timestamps carry an offset');
  assert.ok(model.invoices.some((i) => i.status === 'void'));
  assert.ok(model.sales.some((o) => o.status === 'cancelled'));
});

for (const mode of ['rollup', 'naive']) {
  describe(`views (${mode} mode)`, () => {
    const srv = () => servers[mode];

    for (const R of RANGES) {
      test(`cashflow, every interval: ${R.name} ${R.from}..${R.to}`, async () => {
        for (const interval of X.INTERVALS) {
          const got = await view(srv(), `/api/v1/cashflow?${qs({ from: R.from, to: R.to, interval })}`);
          const want = X.cashflow(model, R.from, R.to, interval);
          assert.deepStrictEqual(got, want, `cashflow ${interval} ${R.from}..${R.to}`);
          // structural properties, stated separately for clearer failures
          assert.equal(got.buckets[0].start, R.from, 'first bucket clipped to from');
          assert.equal(got.buckets.at(-1).end, R.to, 'last bucket clipped to to');
          for (let i = 1; i < got.buckets.length; i++)
            assert.equal(got.buckets[i].start, X.addDays(got.buckets[i - 1].end, 1), 'buckets are contiguous');
        }
      });

      test(`overview: ${R.name}`, async () => {
        const got = await view(srv(), `/api/v1/overview?${qs({ from: R.from, to: R.to })}`);
        assert.deepStrictEqual(got, X.overview(model, R.from, R.to));
      });

      test(`breakdowns and top customers: ${R.name}`, async () => {
        for (const [of, by] of [['costs', 'category'], ['costs', 'vendor'], ['sales', 'status'], ['sales', 'customer']]) {
          for (const top of [undefined, 1, 3, 100]) {
            const got = await view(srv(), `/api/v1/breakdown?${qs({ of, by, from: R.from, to: R.to, top })}`);
            const want = X.breakdown(model, of, by, R.from, R.to, top ?? 10);
            assert.deepStrictEqual(got, want, `breakdown ${of} by ${by} top ${top}`);
            assert.equal(got.items.reduce((a, e) => a + e.amount, 0) + got.other.amount, got.total.amount);
          }
        }
        for (const top of [undefined, 1, 5, 100]) {
          const got = await view(srv(), `/api/v1/top-customers?${qs({ from: R.from, to: R.to, top })}`);
          assert.deepStrictEqual(got, X.topCustomers(model, R.from, R.to, top ?? 10), `top-customers top ${top}`);
        }
      });

      test(`leads summary: ${R.name}`, async () => {
        for (const date of [undefined, '2026-10-31', '2025-06-30', R.from]) {
          const got = await view(srv(), `/api/v1/leads/summary?${qs({ from: R.from, to: R.to, date })}`);
          assert.deepStrictEqual(got, X.leadsSummary(model, R.from, R.to, date ?? R.to), `leads summary date ${date}`);
        }
      });
    }

    test('overview with as_of and date apart from to', async () => {
      for (const [from, to, asOf, date] of [
        ['2025-01-01', '2025-12-31', '2025-06-30', '2025-03-03'],
        ['2026-10-01', '2026-10-31', '2024-10-31', '2026-11-05'],
      ]) {
        const got = await view(srv(), `/api/v1/overview?${qs({ from, to, as_of: asOf, date })}`);
        assert.deepStrictEqual(got, X.overview(model, from, to, { asOf, date }));
      }
    });

    test('defaults: the 365 days ending today, month buckets, as_of = date = to', async () => {
      const { from, to } = DEFAULT;
      assert.deepStrictEqual(await view(srv(), '/api/v1/overview'), X.overview(model, from, to));
      assert.deepStrictEqual(await view(srv(), '/api/v1/cashflow'), X.cashflow(model, from, to, 'month'));
      assert.deepStrictEqual(await view(srv(), '/api/v1/breakdown?of=costs&by=category'),
        X.breakdown(model, 'costs', 'category', from, to));
      assert.deepStrictEqual(await view(srv(), '/api/v1/top-customers'), X.topCustomers(model, from, to));
      assert.deepStrictEqual(await view(srv(), '/api/v1/leads/summary'), X.leadsSummary(model, from, to));
      assert.deepStrictEqual(await view(srv(), '/api/v1/aging'), X.aging(model, to));
      assert.deepStrictEqual(await view(srv(), '/api/v1/dso'), X.dso(model, to));
      // only `to` given: from = to - 364
      assert.deepStrictEqual(await view(srv(), '/api/v1/overview?to=2025-12-31'),
        X.overview(model, '2025-01-01', '2025-12-31'));
    });

    test('aging and dso at several as_of dates (no reconciliation: every non-void invoice owed in full)', async () => {
      for (const asOf of AS_OF) {
        const ag = await view(srv(), `/api/v1/aging?as_of=${asOf}`);
        assert.deepStrictEqual(ag, X.aging(model, asOf), `aging as_of ${asOf}`);
        const d = await view(srv(), `/api/v1/dso?as_of=${asOf}`);
        assert.deepStrictEqual(d, X.dso(model, asOf), `dso as_of ${asOf}`);
      }
    });

    test('dashboard equals the individual views for the same parameters', async () => {
      for (const p of [
        {},
        { from: '2025-06-18', to: '2025-09-14', interval: 'week', top: '3', as_of: '2025-08-31', date: '2025-07-01' },
        { from: '2025-11-20', to: '2026-02-10', interval: 'quarter' },
        { from: '2023-03-01', to: '2023-08-31', interval: 'day' },
      ]) {
        const dash = await view(srv(), `/api/v1/dashboard?${qs(p)}`);
        const R = { from: p.from, to: p.to };
        const asOf = p.as_of ?? p.to, date = p.date;
        const ind = {
          overview: await view(srv(), `/api/v1/overview?${qs({ ...R, as_of: p.as_of, date })}`),
          cashflow: await view(srv(), `/api/v1/cashflow?${qs({ ...R, interval: p.interval })}`),
          costs_by_category: await view(srv(), `/api/v1/breakdown?${qs({ of: 'costs', by: 'category', ...R, top: p.top })}`),
          sales_by_status: await view(srv(), `/api/v1/breakdown?${qs({ of: 'sales', by: 'status', ...R, top: p.top })}`),
          aging: await view(srv(), `/api/v1/aging?${qs({ as_of: asOf })}`),
          top_customers: await view(srv(), `/api/v1/top-customers?${qs({ ...R, top: p.top })}`),
          dso: await view(srv(), `/api/v1/dso?${qs({ as_of: asOf })}`),
        };
        assert.deepStrictEqual(dash, ind, `dashboard ${qs(p)}`);
        const from = p.from ?? DEFAULT.from, to = p.to ?? DEFAULT.to;
        assert.deepStrictEqual(dash, X.dashboard(model, from, to, {
          interval: p.interval ?? 'month', asOf: p.as_of ?? to, date: p.date ?? to, top: p.top ? Number(p.top) : 10,
        }));
      }
    });
  });
}

// The rollup answers must equal the reference byte for byte, including
// parameters no test above chose: random ranges, every interval.
test('rollup mode == naive mode, byte for byte, on random ranges', async () => {
  let seed = 12345;
  const rnd = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n; };
  const lo = X.dayNum('2024-09-01'), span = X.dayNum('2026-12-31') - lo;
  for (let i = 0; i < 25; i++) {
    const a = lo + rnd(span), b = Math.min(a + rnd(800), lo + span);
    const from = X.dayStr(a), to = X.dayStr(b), interval = X.INTERVALS[i % 5];
    for (const p of [
      `/api/v1/cashflow?${qs({ from, to, interval })}`,
      `/api/v1/dashboard?${qs({ from, to, interval, top: String(1 + rnd(12)) })}`,
      `/api/v1/leads/summary?${qs({ from, to, date: X.dayStr(lo + rnd(span)) })}`,
      `/api/v1/breakdown?${qs({ of: 'costs', by: 'vendor', from, to })}`,
      `/api/v1/breakdown?${qs({ of: 'sales', by: 'customer', from, to })}`,
      `/api/v1/aging?as_of=${to}`,
    ]) {
      const f = await api(servers.rollup, ds.token, p), n = await api(servers.naive, ds.token, p);
      assert.equal(f.status, 200, `${p}: ${f.text}`);
      assert.equal(f.text, n.text, p);
    }
    const cf = await view(servers.rollup, `/api/v1/cashflow?${qs({ from, to, interval })}`);
    assert.deepStrictEqual(cf, X.cashflow(model, from, to, interval), `cashflow ${interval} ${from}..${to}`);
  }
});
