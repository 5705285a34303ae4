// Data sets (issue 13): a generated file with skew, blanks, negatives,
// non-ASCII, dimension values differing only in case or trailing spaces,
// repeated keys and bad rows, imported into a declared data set; every
// figure of every view checked against an independent computation in JS
// over the same rows; the rollup server and a --naive (reference) server
// byte-equal; ETag/304; idempotent re-imports; invalidation; roles.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { brisk, briskRun, tempDir, token, roleToken, startServer, api, cleanup, until } from './lib/harness.mjs';

// ---- the data ----

function rng(seed) {
  let s = seed >>> 0;
  return () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32; };
}
const DAY = 86400000;
const iso = (ms) => new Date(ms).toISOString().slice(0, 10);
const dayOf = (s) => Date.parse(s + 'T00:00:00Z');

// Region spellings: 'East', 'East  ' (trailing spaces, trimmed to East),
// 'east' (a value of its own: case is kept), non-ASCII ones.
const REGIONS = ['East', 'West', 'North', 'South', 'Zürich', 'São Paulo', 'east', 'East  ', '  West', 'Ōsaka'];
const fmtCents = (c) => (c < 0 ? '-' : '') + String(Math.floor(Math.abs(c) / 100)) + '.' + String(Math.abs(c) % 100).padStart(2, '0');
const fmtScaled = (v, scale) => {
  const a = Math.abs(v), p = 10 ** scale;
  return (v < 0 ? '-' : '') + Math.floor(a / p) + (scale ? '.' + String(a % p).padStart(scale, '0') : '');
};
const csvField = (s) => (/[",\n]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s);

function generate(n, seed) {
  const r = rng(seed);
  const lines = ['Order ID,Order Date,Region,Category,Product,Sales,Quantity,Discount'];
  const bad = [];
  const start = dayOf('2025-01-01');
  for (let i = 0; i < n; i++) {
    // skew: a quarter of the rows on a few days, regions Zipf-like
    const d = r() < 0.25 ? start + Math.floor(r() * 5) * 37 * DAY : start + Math.floor(r() * 546) * DAY;
    const region = REGIONS[Math.min(REGIONS.length - 1, Math.floor(-Math.log(1 - r() * 0.999) * 2.5))];
    const cat = 'C' + String(Math.floor(r() * r() * 30)).padStart(2, '0');
    const prod = r() < 0.05 ? '' : 'Prod ' + Math.floor(r() * 400);
    const sales = r() < 0.03 ? '' : fmtCents(Math.floor((r() - 0.1) * 200000));
    const qty = String(Math.floor(r() * 9) - 1);
    const disc = r() < 0.2 ? '' : fmtScaled(Math.floor(r() * 500), 3);
    // about 2% of the keys repeat an earlier one (the last row wins)
    const id = r() < 0.02 && i > 10 ? 'O' + Math.floor(r() * i) : 'O' + i;
    let row = [id, iso(d), region, cat, prod, sales, qty, disc];
    if (i % 397 === 5) { row[1] = '2025-02-30'; bad.push(lines.length + 1); }
    else if (i % 499 === 7) { row[5] = '12,50'; bad.push(lines.length + 1); }
    else if (i % 613 === 9) { row[6] = '1.5'; bad.push(lines.length + 1); }
    lines.push(row.map(csvField).join(','));
  }
  return { text: lines.join('\n') + '\n', bad };
}

// The model: what the data set should hold, computed from the file alone.
function model(text) {
  const rows = new Map(); // key -> row (first insertion order = rid order)
  const lines = text.trimEnd().split('\n').slice(1);
  for (const line of lines) {
    const f = [];
    let cur = '', q = false;
    for (let i = 0; i < line.length; i++) {
      const c = line[i];
      if (q) { if (c === '"') { if (line[i + 1] === '"') { cur += '"'; i++; } else q = false; } else cur += c; }
      else if (c === '"') q = true; else if (c === ',') { f.push(cur); cur = ''; } else cur += c;
    }
    f.push(cur);
    const [id, date, region, cat, prod, sales, qty, disc] = f;
    if (date === '2025-02-30' || sales === '12,50' || qty === '1.5') continue;
    const cents = (s) => (s === '' ? null : Math.round(Number(s) * 100));
    const row = {
      day: date, region: region.trim(), category: cat.trim(), product: prod.trim(),
      sales: cents(sales), qty: qty === '' ? null : Number(qty), discount: disc === '' ? null : Math.round(Number(disc) * 1000),
    };
    if (rows.has(id)) Object.assign(rows.get(id), row); else rows.set(id, row);
  }
  return [...rows.values()];
}

const MEASURES = ['sales', 'qty', 'discount'];
const SCALE = { sales: 2, qty: 0, discount: 3 };

function agg(rows, withAvg) {
  const out = {};
  for (const m of MEASURES) {
    const v = rows.map((r) => r[m]).filter((x) => x !== null);
    const sum = v.reduce((a, b) => a + b, 0);
    const o = { sum, count: v.length, min: v.length ? Math.min(...v) : null, max: v.length ? Math.max(...v) : null };
    if (withAvg) o.avg = avg(sum, v.length, SCALE[m]);
    out[m] = o;
  }
  return out;
}

function avg(sum, count, scale) {
  if (!count) return null;
  const num = BigInt(sum) * 100n, mag = num < 0n ? -num : num, c = BigInt(count);
  const q = (2n * mag + c) / (2n * c);
  const digits = scale + 2, p = 10n ** BigInt(digits);
  return (num < 0n && q ? '-' : '') + (q / p) + '.' + String(q % p).padStart(digits, '0');
}

function bucket(dayStr, iv) {
  const d = new Date(dayStr + 'T00:00:00Z');
  const y = d.getUTCFullYear(), m = d.getUTCMonth();
  if (iv === 'day') return dayStr;
  if (iv === 'week') return iso(d.getTime() - ((d.getUTCDay() + 6) % 7) * DAY);
  if (iv === 'month') return iso(Date.UTC(y, m, 1));
  if (iv === 'quarter') return iso(Date.UTC(y, m - (m % 3), 1));
  return iso(Date.UTC(y, 0, 1));
}
function nextBucket(b, iv) {
  const d = new Date(b + 'T00:00:00Z');
  const y = d.getUTCFullYear(), m = d.getUTCMonth();
  if (iv === 'day') return iso(d.getTime() + DAY);
  if (iv === 'week') return iso(d.getTime() + 7 * DAY);
  if (iv === 'month') return iso(Date.UTC(y, m + 1, 1));
  if (iv === 'quarter') return iso(Date.UTC(y, m + 3, 1));
  return iso(Date.UTC(y + 1, 0, 1));
}

const inRange = (rows, from, to, f = {}) =>
  rows.filter((r) => r.day >= from && r.day <= to && Object.entries(f).every(([k, v]) => r[k] === v.trim()));
const byteCmp = (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b));

function expectBreakdown(rows, by, m, top) {
  const groups = new Map();
  for (const r of rows) { if (!groups.has(r[by])) groups.set(r[by], []); groups.get(r[by]).push(r); }
  const items = [...groups].map(([value, rs]) => ({ value, rows: rs.length, ...agg(rs, false)[m] }));
  items.sort((a, b) => (b.sum - a.sum) || byteCmp(a.value, b.value));
  const rest = items.slice(top);
  return {
    items: items.slice(0, top),
    other: { values: rest.length, rows: rest.reduce((a, x) => a + x.rows, 0), sum: rest.reduce((a, x) => a + x.sum, 0),
      count: rest.reduce((a, x) => a + x.count, 0) },
  };
}

// ---- the servers ----

const DEF = {
  name: 'orders', title: 'Retail orders',
  time: { column: 'Order Date', grain: 'day' },
  dimensions: [{ name: 'region', column: 'Region' }, { name: 'category', column: 'Category' }, { name: 'product', column: 'Product' }],
  measures: [{ name: 'sales', column: 'Sales', type: 'money' }, { name: 'qty', column: 'Quantity', type: 'integer' },
    { name: 'discount', column: 'Discount', type: 'decimal', scale: 3 }],
  key: ['Order ID'],
};

let root, data, tok, gen, rows, srv, naive;
const JSON_CT = { 'content-type': 'application/json' };

before(async () => {
  root = tempDir('brisk-ds-');
  data = path.join(root, 'data');
  tok = token(data, 'acme');
  gen = generate(4000, 42);
  rows = model(gen.text);
  writeFileSync(path.join(root, 'orders.csv'), gen.text);
  writeFileSync(path.join(root, 'def.json'), JSON.stringify(DEF));
  srv = await startServer(data);
  naive = await startServer(data, ['--naive']);
});

after(async () => {
  for (const s of [srv, naive]) if (s) await s.stop();
  for (const s of [srv, naive]) if (s) assert.doesNotMatch(s.stderr(), /runtime error:|ERROR: AddressSanitizer/);
  if (root) cleanup(root);
});

async function view(s, q, status = 200) {
  // one retry when a kept-alive connection was closed under the request
  // (seen on a loaded machine: 'fetch failed' with the server up)
  const r = await api(s, tok, q).catch((e) => {
    if (e?.message !== 'fetch failed') throw e;
    return api(s, tok, q);
  });
  assert.equal(r.status, status, `${q}: ${r.text}`);
  return r;
}

describe('a data set over a generated file', () => {
  test('create, import with rejections, describe', async () => {
    const c = await api(srv, tok, '/api/v1/datasets', { method: 'POST', body: JSON.stringify(DEF), headers: JSON_CT });
    assert.equal(c.status, 201, c.text);
    assert.equal(c.json.data.name, 'orders');
    assert.equal(c.json.data.rows, 0);
    const again = await api(srv, tok, '/api/v1/datasets', { method: 'POST', body: JSON.stringify(DEF), headers: JSON_CT });
    assert.equal(again.status, 409);
    const imp = await api(srv, tok, '/api/v1/datasets/orders/import', { method: 'POST', body: gen.text });
    assert.equal(imp.status, 200, imp.text);
    assert.equal(imp.json.rejected, gen.bad.length);
    assert.deepEqual(imp.json.rejections.map((x) => x.line), gen.bad.slice(0, 100));
    assert.match(imp.json.rejections.find((x) => x.line === gen.bad[0]).reason, /Order Date|Sales|Quantity/);
    assert.equal(imp.json.inserted + imp.json.replaced + imp.json.rejected, gen.text.trimEnd().split('\n').length - 1);
    assert.equal(imp.json.inserted, rows.length);
    const d = await view(srv, '/api/v1/datasets/orders');
    assert.equal(d.json.data.rows, rows.length);
    const days = rows.map((r) => r.day).sort();
    assert.equal(d.json.data.min_date, days[0]);
    assert.equal(d.json.data.max_date, days.at(-1));
    const list = await view(srv, '/api/v1/datasets');
    assert.deepEqual(list.json.data.items.map((x) => x.name), ['orders']);
  });

  const RANGES = [['2025-01-01', '2026-06-29'], ['2025-02-11', '2025-11-03'], ['2025-12-31', '2026-01-01'], ['2024-01-01', '2024-12-31']];
  const FILTERS = [{}, { region: 'East' }, { region: 'east' }, { region: 'Zürich' }, { product: '' }, { region: 'East', category: 'C00' }];
  const qs = (o) => new URLSearchParams(Object.entries(o).map(([k, v]) => [k, String(v)])).toString();
  const fq = (f) => Object.fromEntries(Object.entries(f).map(([k, v]) => ['f.' + k, v]));

  test('totals for ranges and filters', async () => {
    for (const [from, to] of RANGES)
      for (const f of FILTERS) {
        const q = `/api/v1/datasets/orders/totals?${qs({ from, to, ...fq(f) })}`;
        const got = (await view(srv, q)).json.data;
        const rs = inRange(rows, from, to, f);
        assert.deepEqual(got, { from, to, rows: rs.length, measures: agg(rs, true) }, q);
      }
  });

  test('the trailing spaces of a filter value are dropped like the stored values', async () => {
    const a = (await view(srv, '/api/v1/datasets/orders/totals?f.region=East%20%20')).json.data;
    const b = (await view(srv, '/api/v1/datasets/orders/totals?f.region=East')).json.data;
    assert.deepEqual(a, b);
    assert.ok(a.rows > 0);
  });

  test('series for every interval', async () => {
    for (const iv of ['day', 'week', 'month', 'quarter', 'year'])
      for (const [from, to] of RANGES.slice(0, iv === 'day' ? 4 : 4))
        for (const f of [{}, { region: 'South' }, { region: 'West', category: 'C01' }]) {
          const q = `/api/v1/datasets/orders/series?${qs({ interval: iv, from, to, ...fq(f) })}`;
          const got = (await view(srv, q)).json.data;
          const points = [];
          for (let b = bucket(from, iv); b <= to; b = nextBucket(b, iv)) {
            const e = nextBucket(b, iv);
            const rs = inRange(rows, from, to, f).filter((r) => r.day >= b && r.day < e);
            points.push({ start: b, rows: rs.length, measures: agg(rs, false) });
          }
          assert.deepEqual(got, { interval: iv, from, to, points }, q);
        }
    const one = (await view(srv, '/api/v1/datasets/orders/series?measure=qty&interval=year')).json.data;
    assert.deepEqual(Object.keys(one.points[0].measures), ['qty']);
  });

  test('breakdowns with top N and other', async () => {
    for (const by of ['region', 'category', 'product'])
      for (const m of MEASURES)
        for (const [from, to] of RANGES.slice(0, 3))
          for (const f of [{}, { region: 'West' }]) {
            const q = `/api/v1/datasets/orders/breakdown?${qs({ by, measure: m, top: 5, from, to, ...fq(f) })}`;
            const got = (await view(srv, q)).json.data;
            const e = expectBreakdown(inRange(rows, from, to, f), by, m, 5);
            assert.deepEqual(got, { by, measure: m, from, to, ...e }, q);
          }
  });

  test('pivot of two dimensions', async () => {
    const [from, to] = RANGES[1];
    const q = `/api/v1/datasets/orders/pivot?rows=region&cols=category&measure=sales&top=4&from=${from}&to=${to}`;
    const got = (await view(srv, q)).json.data;
    const rs = inRange(rows, from, to);
    const tops = (k) => expectBreakdown(rs, k, 'sales', 4).items.map((x) => x.value);
    const R = tops('region'), C = tops('category');
    const cells = R.map((a) => C.map((b) => {
      const x = rs.filter((r) => r.region === a && r.category === b);
      return x.length ? agg(x, false).sales.sum : null;
    }));
    assert.deepEqual(got, { measure: 'sales', by: 'region', cols_by: 'category', from, to, rows: R, cols: C, cells });
  });

  test('rows page by page in (day, row) order', async () => {
    const want = rows.map((r, i) => ({ ...r, i })).filter((r) => r.region === 'Zürich')
      .sort((a, b) => (a.day < b.day ? -1 : a.day > b.day ? 1 : a.i - b.i));
    const got = [];
    let cursor = null;
    do {
      const q = `/api/v1/datasets/orders/rows?limit=37&f.region=${encodeURIComponent('Zürich')}&from=2025-01-01&to=2026-12-31${cursor ? '&cursor=' + cursor : ''}`;
      const d = (await view(srv, q)).json.data;
      got.push(...d.items);
      cursor = d.next_cursor;
    } while (cursor);
    assert.equal(got.length, want.length);
    got.forEach((g, k) => {
      const w = want[k];
      assert.deepEqual({ ...g, _id: 0 }, { _id: 0, 'Order Date': w.day, region: w.region, category: w.category, product: w.product,
        sales: w.sales, qty: w.qty, discount: w.discount });
    });
    assert.equal(new Set(got.map((g) => g._id)).size, got.length);
    const forged = await api(srv, tok, '/api/v1/datasets/orders/rows?cursor=AAAA');
    assert.equal(forged.status, 400);
  });

  test('the reference mode answers byte for byte the same', async () => {
    const qsx = [
      'totals', 'totals?f.region=East', 'totals?f.region=East&f.category=C02', 'series?interval=month',
      'series?interval=week&from=2025-03-01&to=2025-07-31&f.region=West', 'series?interval=quarter&f.region=S%C3%A3o%20Paulo',
      'breakdown?by=product&top=20', 'breakdown?by=region&measure=discount&f.category=C03', 'breakdown?by=category&f.category=C01',
      'pivot?rows=category&cols=region', 'rows?limit=50&f.product=',
    ];
    for (const q of qsx) {
      const a = await view(srv, '/api/v1/datasets/orders/' + q), b = await view(naive, '/api/v1/datasets/orders/' + q);
      assert.equal(a.text, b.text, q);
    }
  });

  test('ETag and 304; a write makes the old answer unreachable', async () => {
    const q = '/api/v1/datasets/orders/totals?f.region=North';
    const a = await view(srv, q);
    const etag = a.headers.get('etag');
    assert.ok(etag);
    const nm = await api(srv, tok, q, { headers: { 'if-none-match': etag } });
    assert.equal(nm.status, 304);
    const extra = 'Order ID,Order Date,Region,Category,Product,Sales,Quantity,Discount\nNEW1,2025-05-05,North,C00,P,1.00,1,\n';
    const imp = await api(srv, tok, '/api/v1/datasets/orders/import', { method: 'POST', body: extra });
    assert.equal(imp.json.inserted, 1);
    const b = await view(srv, q);
    assert.notEqual(b.headers.get('etag'), etag);
    assert.equal(b.json.data.rows, a.json.data.rows + 1);
    assert.equal(b.json.data.measures.sales.sum, a.json.data.measures.sales.sum + 100);
    rows.push({ day: '2025-05-05', region: 'North', category: 'C00', product: 'P', sales: 100, qty: 1, discount: null });
  });

  test('importing the same file again changes nothing; a changed row moves its figures and min/max', async () => {
    const before = (await view(srv, '/api/v1/datasets/orders/totals')).json.data;
    const imp = await api(srv, tok, '/api/v1/datasets/orders/import', { method: 'POST', body: gen.text });
    assert.equal(imp.json.inserted, 0);
    assert.deepEqual((await view(srv, '/api/v1/datasets/orders/totals')).json.data, before);
    // the row holding the largest sale gets a small one: max must come down
    const top = rows.reduce((a, r) => (r.sales !== null && (a === null || r.sales > a.sales) ? r : a), null);
    const id = [...gen.text.trimEnd().split('\n')].find((l) => l.includes(fmtCents(top.sales)) && l.includes(top.day)).split(',')[0];
    const change = `Order ID,Order Date,Region,Category,Product,Sales,Quantity,Discount\n${id},${top.day},${csvField(top.region)},${top.category},${top.product},0.01,${top.qty ?? ''},\n`;
    const r2 = await api(srv, tok, '/api/v1/datasets/orders/import', { method: 'POST', body: change });
    assert.equal(r2.json.replaced, 1, r2.text);
    Object.assign(top, { sales: 1, discount: null });
    const got = (await view(srv, '/api/v1/datasets/orders/totals?from=2025-01-01&to=2026-12-31')).json.data;
    assert.deepEqual(got.measures, agg(inRange(rows, '2025-01-01', '2026-12-31'), true));
    const a = await view(srv, '/api/v1/datasets/orders/breakdown?by=region&from=2025-01-01&to=2026-12-31');
    const b = await view(naive, '/api/v1/datasets/orders/breakdown?by=region&from=2025-01-01&to=2026-12-31');
    assert.equal(a.text, b.text);
  });

  test('bad requests say what is wrong', async () => {
    const cases = [
      ['/api/v1/datasets/orders/breakdown', /by/], ['/api/v1/datasets/orders/breakdown?by=nope', /dimension/],
      ['/api/v1/datasets/orders/totals?f.nope=1', /no dimension 'nope'/], ['/api/v1/datasets/orders/series?interval=hour', /interval/],
      ['/api/v1/datasets/orders/series?measure=x', /no measure/], ['/api/v1/datasets/orders/totals?bogus=1', /unknown parameter/],
      ['/api/v1/datasets/orders/series?interval=day&from=1990-01-01&to=2026-01-01', /points/],
    ];
    for (const [q, re] of cases) {
      const r = await api(srv, tok, q);
      assert.equal(r.status, 400, q);
      assert.match(r.json.detail, re, q);
    }
    assert.equal((await api(srv, tok, '/api/v1/datasets/nope/totals')).status, 404);
    const defs = [{}, { ...DEF, name: 'Bad' }, { ...DEF, measures: [{ name: 'x', column: 'X', type: 'float' }] },
      { ...DEF, name: 'x2', dimensions: [{ name: 'a', column: 'Sales' }] }, { ...DEF, name: 'x3', extra: 1 }];
    for (const d of defs) {
      const r = await api(srv, tok, '/api/v1/datasets', { method: 'POST', body: JSON.stringify(d), headers: JSON_CT });
      assert.equal(r.status, 400, JSON.stringify(d));
    }
    const noCol = await api(srv, tok, '/api/v1/datasets/orders/import', { method: 'POST', body: 'A,B\n1,2\n' });
    assert.equal(noCol.status, 422);
    assert.match(noCol.json.detail, /lacks columns/);
    const opt = await api(srv, tok, '/api/v1/datasets/orders/import?map=x%3DA', { method: 'POST', body: gen.text });
    assert.equal(opt.status, 400);
  });

  test('roles: a viewer reads, cannot import or create; an analyst cannot drop', async () => {
    const viewer = roleToken(data, 'acme', 'viewer');
    const analyst = roleToken(data, 'acme', 'analyst');
    assert.equal((await api(srv, viewer, '/api/v1/datasets/orders/totals')).status, 200);
    assert.equal((await api(srv, viewer, '/api/v1/datasets/orders/import', { method: 'POST', body: gen.text })).status, 403);
    assert.equal((await api(srv, viewer, '/api/v1/datasets', { method: 'POST', body: JSON.stringify({ ...DEF, name: 'v' }), headers: JSON_CT })).status, 403);
    assert.equal((await api(srv, analyst, '/api/v1/datasets/orders', { method: 'DELETE' })).status, 403);
    const other = token(data, 'globex');
    assert.equal((await api(srv, other, '/api/v1/datasets/orders/totals')).status, 404);
  });

  test('infer proposes a definition from a file', async () => {
    const r = await api(srv, tok, '/api/v1/datasets/infer?name=guess', { method: 'POST', body: gen.text.split('\n').slice(0, 300).join('\n') });
    assert.equal(r.status, 200, r.text);
    const d = r.json.data.definition;
    assert.equal(d.time.column, 'Order Date');
    // Order ID repeats in this file (2% of the keys): not proposed as the key, and said why
    assert.deepEqual(d.key, []);
    assert.ok(r.json.data.notes.some((n) => n.includes('Order ID')));
    assert.deepEqual(d.measures.map((m) => [m.column, m.type]), [['Sales', 'money'], ['Quantity', 'integer'], ['Discount', 'decimal']]);
    assert.ok(d.dimensions.some((x) => x.column === 'Region'));
    assert.ok(r.json.data.preview.length === 10);
    assert.ok(r.json.data.notes.length > 3);
  });

  // a yearly data set (adoption by sector and year)
  test('year grain: years read as YYYY, series by year, quarter refused', async () => {
    const lines = ['Sector,Year,Firms,Adoption rate'];
    const model = [];
    const r = rng(7);
    for (const sector of ['Manufacturing', 'Retail', 'Finance', 'Energía']) {
      for (let y = 2010; y <= 2023; y++) {
        const firms = Math.floor(r() * 5000), rate = Math.floor(r() * 10000);
        lines.push(`${sector},${y},${firms},${fmtScaled(rate, 4)}`);
        model.push({ sector, year: y, firms, rate });
      }
    }
    const def = { name: 'adoption', time: { column: 'Year', grain: 'year' }, dimensions: [{ name: 'sector', column: 'Sector' }],
      measures: [{ name: 'firms', column: 'Firms', type: 'integer' }, { name: 'rate', column: 'Adoption rate', type: 'decimal', scale: 4 }],
      key: ['Sector', 'Year'] };
    const c = await api(srv, tok, '/api/v1/datasets', { method: 'POST', body: JSON.stringify(def), headers: JSON_CT });
    assert.equal(c.status, 201, c.text);
    const imp = await api(srv, tok, '/api/v1/datasets/adoption/import', { method: 'POST', body: lines.join('\r\n') + '\r\n' });
    assert.equal(imp.json.inserted, model.length, imp.text);
    const s = (await view(srv, '/api/v1/datasets/adoption/series?f.sector=Energ%C3%ADa')).json.data;
    assert.equal(s.interval, 'year', 'the default interval is the grain when coarser than a month');
    assert.equal(s.from, '2010-01-01');
    assert.equal(s.to, '2023-01-01');
    assert.deepEqual(s.points.map((p) => [p.start, p.measures.firms.sum]),
      model.filter((m) => m.sector === 'Energía').map((m) => [`${m.year}-01-01`, m.firms]));
    const t = (await view(srv, '/api/v1/datasets/adoption/totals?from=2015-01-01&to=2019-12-31')).json.data;
    const sel = model.filter((m) => m.year >= 2015 && m.year <= 2019);
    assert.equal(t.rows, sel.length);
    assert.equal(t.measures.rate.sum, sel.reduce((a, m) => a + m.rate, 0));
    assert.equal(t.measures.rate.avg, avg(sel.reduce((a, m) => a + m.rate, 0), sel.length, 4));
    const q = await api(srv, tok, '/api/v1/datasets/adoption/series?interval=quarter');
    assert.equal(q.status, 400);
    const a = await view(srv, '/api/v1/datasets/adoption/breakdown?by=sector&measure=firms');
    const b = await view(naive, '/api/v1/datasets/adoption/breakdown?by=sector&measure=firms');
    assert.equal(a.text, b.text);
  });

  test('the CLI: create from a file, list, describe, import, drop', () => {
    const cli = (args) => briskRun(['dataset', ...args, '--org', 'acme', '--data', data]);
    const def2 = { ...DEF, name: 'orders_cli', key: undefined };
    writeFileSync(path.join(root, 'def2.json'), JSON.stringify(def2));
    assert.equal(cli(['create', '--file', path.join(root, 'def2.json')]).code, 0);
    const imp = cli(['import', 'orders_cli', path.join(root, 'orders.csv'), '-q']);
    assert.equal(imp.code, 0, imp.stderr);
    assert.match(imp.stdout, /inserted/);
    const again = cli(['import', 'orders_cli', path.join(root, 'orders.csv')]);
    assert.match(again.stdout, /^0 inserted/, 'by content: the same file again inserts nothing');
    assert.match(cli(['list']).stdout, /orders_cli/);
    assert.equal(JSON.parse(cli(['describe', 'orders_cli']).stdout).name, 'orders_cli');
    const inf = briskRun(['dataset', 'create', '--infer', path.join(root, 'orders.csv'), '--name', 'x']);
    assert.equal(inf.code, 0, inf.stderr);
    assert.equal(JSON.parse(inf.stdout).time.column, 'Order Date');
    assert.equal(cli(['drop', 'orders_cli']).code, 0);
    assert.equal(cli(['describe', 'orders_cli']).code, 1);
  });

});

// ---- large files: a background task, with progress and cancel ----

describe('an import as a background task', () => {
  const FINAL = ['succeeded', 'failed', 'cancelled', 'interrupted'];
  // one retry when a kept-alive connection was closed under the request
  // (a loaded machine); what is sent again here is idempotent, or said
  const call = (s, t, q, o) => api(s, t, q, o).catch((e) => {
    if (e?.message !== 'fetch failed') throw e;
    return api(s, t, q, o);
  });
  const task = async (s, t, id) => (await call(s, t, `/api/v1/tasks/${id}`)).json;
  const create = async (s, t, name) => {
    const c = await call(s, t, '/api/v1/datasets', { method: 'POST', body: JSON.stringify({ ...DEF, name }), headers: JSON_CT });
    assert.ok(c.status === 201 || c.status === 409, c.text); // 409: the first try went through
  };

  test('?async=1 answers 202 with a task whose result is the import report', async () => {
    const t = token(data, 'bg');
    await create(srv, t, 'big');
    const r = await call(srv, t, '/api/v1/datasets/big/import?async=1', { method: 'POST', body: gen.text });
    assert.equal(r.status, 202, r.text);
    assert.match(r.headers.get('location'), /^\/api\/v1\/tasks\/\d+$/);
    assert.equal(r.json.kind, 'dataset_import');
    const done = await until(async () => { const j = await task(srv, t, r.json.id); return FINAL.includes(j.status) && j; }, 120000, 'the task');
    assert.equal(done.status, 'succeeded', JSON.stringify(done));
    const expect = model(gen.text);
    assert.equal(done.result.inserted, expect.length);
    assert.equal(done.result.rejected, gen.bad.length);
    const tot = (await call(srv, t, '/api/v1/datasets/big/totals')).json.data;
    assert.equal(tot.rows, expect.length);
    assert.deepEqual(tot.measures, agg(expect, true));
    // a data set that does not exist is said at once, not by a failed task
    const no = await call(srv, t, '/api/v1/datasets/nope/import?async=1', { method: 'POST', body: gen.text });
    assert.equal(no.status, 404, no.text);
    const bad = await call(srv, t, '/api/v1/datasets/big/import?async=maybe', { method: 'POST', body: gen.text });
    assert.equal(bad.status, 400, bad.text);
  });

  test('an import into one data set leaves the others cached; its own asked-for views are warmed again', async () => {
    const t = token(data, 'warmorg');
    const op = roleToken(data, 'warmorg', 'operator');
    // warming is over when the count of computed views stays put
    const quiet = async () => {
      let last = -1, same = 0;
      return until(async () => {
        const n = (await call(srv, op, '/api/v1/cache/stats')).json.data.computed;
        same = n === last ? same + 1 : 0;
        last = n;
        return same >= 3;
      }, 60000, 'warming to go quiet');
    };
    const head = 'Order ID,Order Date,Region,Category,Product,Sales,Quantity,Discount\n';
    const put = async (name, id, sales) => {
      const r = await call(srv, t, `/api/v1/datasets/${name}/import`, { method: 'POST', body: `${head}${id},2025-03-03,East,C01,P,${sales},1,\n` });
      assert.equal(r.status, 200, r.text);
    };
    await create(srv, t, 'wa');
    await create(srv, t, 'wb');
    await put('wa', 'W1', '10.00');
    await put('wb', 'W1', '10.00');
    const q = '/api/v1/datasets/wa/totals?from=2025-01-01&to=2025-12-31';
    const a = await call(srv, t, q);
    assert.equal(a.json.data.measures.sales.sum, 1000);
    const etag = a.headers.get('etag');
    await put('wb', 'W2', '5.00');
    const same = await call(srv, t, q, { headers: { 'if-none-match': etag } });
    assert.equal(same.status, 304, 'an import into wb does not touch wa\'s answers');
    await quiet();
    await put('wa', 'W3', '20.00');
    await quiet();
    const c = await call(srv, t, q);
    assert.equal(c.json.data.measures.sales.sum, 3000);
    assert.notEqual(c.headers.get('etag'), etag);
    assert.equal(c.headers.get('x-cache'), 'HIT-L1', 'the view asked before was computed again in the background');
  });

  test('a cancelled import stores nothing', async () => {
    // held at 5 % (BRISK_TEST_TASK_HOLD, a test hook of src/tasks): still
    // running when the cancel comes, however fast the machine is. Its own
    // data: on PostgreSQL the suite's servers share the task queue, and one
    // of them (not held) could claim the task and finish it.
    const own = path.join(root, 'held');
    const s = await startServer(own, [], { BRISK_TEST_TASK_HOLD: 'dataset_import:5' });
    try {
      const t = token(own, 'bgcancel');
      await create(s, t, 'held');
      const r = await call(s, t, '/api/v1/datasets/held/import?async=1', { method: 'POST', body: gen.text });
      assert.equal(r.status, 202, r.text);
      const held = await until(async () => {
        const j = await task(s, t, r.json.id);
        return ((j.status === 'running' && j.progress >= 5) || FINAL.includes(j.status)) && j;
      }, 60000, 'progress');
      assert.equal(held.status, 'running', JSON.stringify(held));
      assert.equal((await call(s, t, `/api/v1/tasks/${r.json.id}`, { method: 'DELETE' })).status < 300, true);
      const done = await until(async () => { const j = await task(s, t, r.json.id); return FINAL.includes(j.status) && j; }, 60000, 'the cancel');
      assert.equal(done.status, 'cancelled', JSON.stringify(done));
      const d = (await call(s, t, '/api/v1/datasets/held')).json.data;
      assert.equal(d.rows, 0);
    } finally {
      await s.stop();
    }
  });
});
