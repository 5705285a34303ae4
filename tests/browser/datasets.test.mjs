// Data sets in a real browser (issue 13 item 5): an analyst makes one from
// a CSV file (the inferred schema shown beside the first rows, edited, then
// created and imported), opens its page and finds KPIs equal to a sum made
// here from the file (BigInt cents, not the server's), a drawn series, a
// breakdown whose bar filters the page (a chip, the URL, the back button),
// and the rows to the last one; a viewer finds the create and import
// controls disabled, saying why.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { brisk, briskRun, startServer, api, token, tempDir, cleanup } from '../e2e/lib/harness.mjs';
import { launch, signIn as signInAs, screenshot, drawAllCharts } from './lib/browser.mjs';

let root, data, srv, tok, browser, page, csvFile;
let missing = false; // a server without data sets: nothing to test here
const PW = 'datasets-pass-1';

// Order lines over two years: skewed regions (one non-ASCII), a refund
// (negative), a blank category, discounts with two decimals, quantities.
const REGIONS = ['West', 'East', 'Süd', 'North'];
const CATS = ['Furniture', 'Office Supplies', 'Technology', ''];
const lines = [];
function gen() {
  let seed = 42;
  const rnd = () => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648; };
  const rows = ['Order ID,Order Date,Region,Category,Customer Name,Sales,Quantity,Discount'];
  for (let i = 0; i < 1400; i++) {
    const day = new Date(Date.UTC(2024, 0, 1) + Math.floor(rnd() * 730) * 86400000).toISOString().slice(0, 10);
    const region = REGIONS[Math.min(3, Math.floor(rnd() * rnd() * 5))];
    const cat = CATS[Math.floor(rnd() * 4)];
    let cents = BigInt(Math.floor(rnd() * 500000) + 1);
    if (i % 97 === 5) cents = -cents; // a refund
    const qty = 1 + Math.floor(rnd() * 9);
    const disc = Math.floor(rnd() * 5) * 5; // 0.00 .. 0.20
    const sales = (cents < 0n ? '-' : '') + `${(cents < 0n ? -cents : cents) / 100n}.${String((cents < 0n ? -cents : cents) % 100n).padStart(2, '0')}`;
    const customer = `Customer ${i}`;
    rows.push(`O-${1000 + i},${day},${region},${cat},"${customer}",${sales},${qty},0.${String(disc).padStart(2, '0')}`);
    lines.push({ id: `O-${1000 + i}`, day, region, cat, cents, qty, disc: BigInt(disc) });
  }
  return rows.join('\n') + '\n';
}

// $1,234.56 as Intl writes it from the exact decimal string.
function money(c) {
  const neg = c < 0n, a = neg ? -c : c;
  return new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' }).format(`${neg ? '-' : ''}${a / 100n}.${String(a % 100n).padStart(2, '0')}`);
}
const sumOf = (rows) => rows.reduce((s, l) => s + l.cents, 0n);

before(async () => {
  root = tempDir('brisk-datasets-');
  data = path.join(root, 'data');
  csvFile = path.join(root, 'Retail Orders.csv');
  writeFileSync(csvFile, gen());
  const seedFile = path.join(root, 'costs.csv');
  writeFileSync(seedFile, 'date,category,amount\n2026-10-01,rent,100.00\n');
  brisk(['import', 'costs', seedFile, '--org', 'acme', '--data', data, '-q']);
  for (const role of ['viewer', 'analyst']) {
    const r = briskRun(['user', 'add', `acme.${role}`, '--org', 'acme', '--role', role, '--data', data], { input: `${PW}\n` });
    assert.equal(r.code, 0, r.stderr);
  }
  tok = token(data, 'acme');
  srv = await startServer(data);
  const probe = await api(srv, tok, '/api/v1/datasets');
  missing = probe.status !== 200 && 'this server has no data sets (GET /api/v1/datasets answers ' + probe.status + ')';
  browser = await launch();
  page = await browser.page();
  page.setDefaultTimeout(30000);
  page.on('dialog', (d) => d.accept());
});

after(async () => {
  if (browser) await browser.close();
  if (srv) await srv.stop();
  if (root) cleanup(root);
});

function signIn(role) {
  return signInAs(browser, page, srv.base, `acme.${role}`, PW, role);
}

function noProblems() {
  assert.deepEqual(browser.problems.splice(0), [], 'the browser reported errors');
}

// The page's loads are numbered: wait for one after n.
async function loadedAfter(n) {
  await page.waitForFunction((k) => Number(document.querySelector('main').dataset.loaded || 0) > k && !document.querySelector('main').hasAttribute('aria-busy'), n);
  return Number(await page.getAttribute('main', 'data-loaded'));
}

async function expectSales(rows, label) {
  const want = sumOf(rows);
  await page.waitForSelector(`[data-kpi="sales"][data-value="${want}"]`);
  assert.equal((await page.textContent('[data-kpi="sales"] .kpi-value')).trim(), money(want), `sales of ${label}`);
  await page.waitForSelector(`[data-kpi="rows"][data-value="${rows.length}"]`);
  const qty = rows.reduce((s, l) => s + l.qty, 0);
  assert.equal((await page.textContent('[data-kpi="quantity"] .kpi-value')).trim(), new Intl.NumberFormat('en-US').format(qty), `quantity of ${label}`);
}

test('an analyst makes a data set from a CSV file: the inferred schema, edited, created and imported', async (t) => {
  if (missing) return t.skip(missing);
  await signIn('analyst');
  // the entry appears once the server answers for data sets
  await page.click('#nav a[data-page="datasets"]');
  await page.waitForSelector('#ds-list p.muted, #ds-table');
  await page.setInputFiles('#ds-file', csvFile);
  assert.equal(await page.inputValue('#ds-name'), 'retail_orders', 'a name from the file name');
  await page.fill('#ds-name', 'orders');
  await page.click('#ds-infer');
  await page.waitForSelector('#ds-def');
  assert.equal(await page.inputValue('#ds-time'), 'Order Date');
  assert.ok(await page.locator('#ds-notes li').count() > 0, 'the server says why it chose');
  assert.ok(await page.locator('#ds-preview tbody tr').count() > 0, 'the first rows as stored');
  const row = (col) => page.locator(`#ds-def tr[data-column="${col}"]`);
  // Every column of the file is offered, the unused ones too.
  assert.equal(await row('Customer Name').locator('select').inputValue(), '', 'a name column is not a dimension');
  assert.match(await row('Order ID').locator('td.sample').textContent(), /^O-1000 · O-1001/, 'a column the server did not choose shows its values as written');
  // The user's edits: Sales is money, Discount a decimal of 2, Quantity an
  // integer, Region and Category dimensions, Order ID the key.
  await row('Sales').locator('select').selectOption('money');
  await row('Quantity').locator('select').selectOption('integer');
  await row('Discount').locator('select').selectOption('decimal');
  await row('Discount').locator('input[type=number]').fill('2');
  await row('Region').locator('select').selectOption('dimension');
  await row('Category').locator('select').selectOption('dimension');
  await row('Order ID').locator('select').selectOption('');
  await row('Order ID').locator('input[id^="ds-key"]').check();
  for (const [col, n] of [['Sales', 'sales'], ['Quantity', 'quantity'], ['Discount', 'discount'], ['Region', 'region'], ['Category', 'category']])
    await row(col).locator('input[type=text]').fill(n);
  await screenshot(page, 'datasets-create');
  await page.click('#ds-create-btn');
  await page.waitForSelector(`.report[data-inserted="${lines.length}"]`);
  assert.equal(await page.getAttribute('.report', 'data-rejected'), '0');
  const { json } = await api(srv, tok, '/api/v1/datasets/orders');
  assert.equal(json.data.rows, lines.length);
  assert.deepEqual(json.data.key, ['Order ID']);
  assert.deepEqual(json.data.measures.map((m) => [m.name, m.type, m.type === 'decimal' ? m.scale : null]),
    [['sales', 'money', null], ['quantity', 'integer', null], ['discount', 'decimal', 2]]);
  await page.locator('#ds-table tr[data-dataset="orders"]').waitFor();
  noProblems();
});

test('the data set\'s page: KPIs equal to the file\'s sums, the series, a breakdown bar filters, the URL keeps it', async (t) => {
  if (missing) return t.skip(missing);
  await page.click('#ds-open');
  await page.waitForURL(/\/datasets\/orders$/);
  let n = await loadedAfter(0);
  await expectSales(lines, 'the whole file');
  // the discount: a decimal summed exactly (hundredths)
  const disc = lines.reduce((s, l) => s + l.disc, 0n);
  assert.equal(await page.getAttribute('[data-kpi="discount"]', 'data-value'), String(disc));
  assert.equal((await page.textContent('[data-kpi="discount"] .kpi-value')).trim(),
    new Intl.NumberFormat('en-US', { minimumFractionDigits: 2 }).format(`${disc / 100n}.${String(disc % 100n).padStart(2, '0')}`));
  await drawAllCharts(page);
  assert.ok(await page.locator('#dsv-series canvas').count() > 0, 'the series is a uPlot chart');
  // The series' buckets add up to the total.
  const buckets = await page.$$eval('#dsv-series .cf-data tbody tr td:nth-child(3)', (tds) => tds.map((t) => Number(t.textContent.replace(/[^\d]/g, ''))));
  assert.equal(buckets.reduce((a, b) => a + b, 0), lines.length);
  // Breakdown by region: the biggest first, values as the file has them.
  const bars = page.locator('#dsv-by-region li.bar-row');
  await bars.first().waitFor();
  const west = lines.filter((l) => l.region === 'West');
  await screenshot(page, 'dataset-page');
  await page.locator('#dsv-by-region li.bar-row[data-value="West"] button.bar-label').click();
  await page.waitForURL(/f\.region=West/);
  n = await loadedAfter(n);
  await page.locator('#dsv-filters .chip[data-filter="region"][data-value="West"]').waitFor();
  await expectSales(west, 'region West');
  // A second filter, on a non-ASCII value? Süd is another region: filter
  // by category instead, then take the region chip away.
  const tech = west.filter((l) => l.cat === 'Technology');
  await page.locator('#dsv-by-category li.bar-row[data-value="Technology"] button.bar-label').click();
  n = await loadedAfter(n);
  await expectSales(tech, 'West and Technology');
  // The rows table: every filtered row, to the last one.
  await page.waitForSelector('#dsv-rows .vt-row[data-row-index="0"]:not(.placeholder)');
  await page.locator('#dsv-rows .vt-body').focus();
  await page.keyboard.press('End');
  await page.waitForSelector('#dsv-rows .vt-wrap[data-done="1"]');
  assert.equal(await page.getAttribute('#dsv-rows .vt-wrap', 'data-rows'), String(tech.length));
  // The state is the URL: a reload shows the same.
  await page.reload();
  n = await loadedAfter(0);
  await expectSales(tech, 'after a reload');
  await page.locator('#dsv-filters .chip[data-filter="region"]').click();
  n = await loadedAfter(n);
  await expectSales(lines.filter((l) => l.cat === 'Technology'), 'Technology');
  await page.goBack();
  n = await loadedAfter(n);
  await expectSales(tech, 'back');
  // The non-ASCII value filters like any other.
  await page.goto(`${srv.base}/datasets/orders?f.region=${encodeURIComponent('Süd')}`);
  n = await loadedAfter(0);
  await expectSales(lines.filter((l) => l.region === 'Süd'), 'Süd');
  // The blank category is a value to filter by too (f.category= in the URL).
  await page.locator('#dsv-by-category li.bar-row[data-value=""] button.bar-label').click();
  await page.waitForURL(/f\.category=(&|$)/);
  n = await loadedAfter(n);
  await page.locator('#dsv-filters .chip[data-filter="category"][data-value=""]').waitFor();
  await expectSales(lines.filter((l) => l.region === 'Süd' && l.cat === ''), 'Süd, blank category');
  // A range: one month of the file.
  await page.goto(`${srv.base}/datasets/orders?from=2024-03-01&to=2024-03-31&interval=day`);
  n = await loadedAfter(0);
  await expectSales(lines.filter((l) => l.day >= '2024-03-01' && l.day <= '2024-03-31'), 'March 2024');
  assert.equal(await page.locator('#dsv-series .cf-data tbody tr').count(), 31, 'a bucket per day');
  noProblems();
});

test('a viewer reads data sets but cannot make one or import into one', async (t) => {
  if (missing) return t.skip(missing);
  await signIn('viewer');
  await page.click('#nav a[data-page="datasets"]');
  await page.waitForSelector('#ds-role');
  for (const sel of ['#ds-file', '#ds-name', '#ds-infer']) {
    assert.equal(await page.isDisabled(sel), true, `${sel} is disabled`);
    assert.match(await page.getAttribute(sel, 'title'), /Your role \(viewer\) cannot do this/);
  }
  assert.equal(await page.isDisabled('#ds-table tr[data-dataset="orders"] button'), true, 'dropping is an admin\'s');
  await page.click('#ds-table a');
  await loadedAfter(0);
  await expectSales(lines, 'for a viewer');
  assert.equal(await page.isDisabled('#dsv-import'), true);
  noProblems();
});
