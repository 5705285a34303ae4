// The web dashboard in a real browser (Debian's chromium through
// playwright-core) against a real brisk over generated data: sign-in, KPIs
// equal to the API's, the range picker, CSV upload with progress, the
// payments table to its last row, keyboard use, phone width, no console
// errors, and a screenshot of every page in tests/artifacts/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { dataset, startServer, api, cleanup, operatorToken, briskRun } from '../e2e/lib/harness.mjs';
import { launch, screenshot, drawAllCharts } from './lib/browser.mjs';

let ds, srv, browser, page;
const PW = 'browser-pass-1';

before(async () => {
  ds = dataset({ scale: 0.2 });
  ds.op = operatorToken(ds.data); // every page, Performance included
  for (const [name, role] of [['acme.viewer', 'viewer'], ['acme.analyst', 'analyst']]) {
    const r = briskRun(['user', 'add', name, '--org', 'acme', '--role', role, '--data', ds.data], { input: `${PW}\n` });
    assert.equal(r.code, 0, r.stderr);
  }
  srv = await startServer(ds.data);
  browser = await launch();
  page = await browser.page();
  page.setDefaultTimeout(20000);
});

after(async () => {
  if (browser) await browser.close();
  if (srv) await srv.stop();
  if (ds) cleanup(ds.root);
});

// Opens a page of the app, signed in (the token rides in the fragment, as
// in the link brisk demo prints), so each test stands on its own.
async function open(pathq) {
  await page.goto(srv.base + pathq + '#token=' + ds.op);
}

function noProblems() {
  assert.deepEqual(browser.problems.splice(0), [], 'the browser reported errors');
}

// Exact: Intl formats the decimal string, as the page does.
function money(cents, currency) {
  const neg = cents < 0;
  const s = String(Math.abs(cents)).padStart(3, '0');
  return new Intl.NumberFormat('en-US', { style: 'currency', currency }).format((neg ? '-' : '') + s.slice(0, -2) + '.' + s.slice(-2));
}

const MONEY_KPIS = ['cash_in', 'cash_out', 'net', 'sales', 'closing_balance', 'outstanding', 'overdue'];

async function expectKpis(query = '') {
  const { json } = await api(srv, ds.token, '/api/v1/dashboard' + query);
  const o = json.data.overview;
  for (const k of [...MONEY_KPIS, 'open_leads']) {
    const sel = `[data-kpi="${k}"][data-value="${o[k]}"]`;
    await page.waitForSelector(sel);
    const text = (await page.textContent(`[data-kpi="${k}"] .kpi-value`)).trim();
    assert.equal(text, k === 'open_leads' ? new Intl.NumberFormat('en-US').format(o[k]) : money(o[k], json.currency), k);
  }
  for (const k of ['cash_in', 'cash_out', 'net', 'sales']) {
    const change = await page.getAttribute(`[data-kpi="${k}"]`, 'data-change');
    assert.equal(change, o.change[k] === null ? '' : String(o.change[k]), `change of ${k}`);
  }
  return json;
}

test('sign-in: a pasted token is checked, kept for the tab only, and opens the Overview', async () => {
  await page.goto(srv.base + '/');
  await page.waitForSelector('form.signin');
  await screenshot(page, 'signin');
  await page.click('#use-token');
  await page.waitForSelector('form.signin[data-mode="token"]');
  await page.fill('#token', 'brisk_not-a-real-token');
  await page.click('form.signin button[type=submit]');
  await page.waitForSelector('.signin-error:has-text("not accepted")');
  // The refusal itself is the one error the browser may log here.
  const refused = browser.problems.splice(0);
  assert.ok(refused.length <= 1 && refused.every((p) => p.includes('401')), refused.join('\n'));
  await page.fill('#token', ds.token);
  await page.click('form.signin button[type=submit]');
  await page.waitForSelector('[data-kpi="cash_in"][data-value]');
  assert.equal(await page.evaluate(() => sessionStorage.getItem('brisk.token')), ds.token);
  assert.equal(await page.evaluate(() => localStorage.length), 0, 'nothing in localStorage');
  await page.click('#signout');
  await page.waitForSelector('form.signin');
  assert.equal(await page.evaluate(() => sessionStorage.getItem('brisk.token')), null);
  noProblems();
});

// Signs in through the form with a user name and password, from a tab
// that holds no token.
async function signIn(name, password) {
  await page.goto(srv.base + '/');
  await page.evaluate(() => sessionStorage.clear());
  await page.goto(srv.base + '/');
  await page.waitForSelector('form.signin[data-mode="password"]');
  await page.fill('#user', name);
  await page.fill('#password', password);
  await page.click('form.signin button[type=submit]');
}

test('sign-in with a user name and password: an HttpOnly session cookie that survives a reload; sign-out ends it', async () => {
  await signIn('acme.analyst', 'not-the-password');
  await page.waitForSelector('.signin-error:has-text("Wrong user name or password")');
  browser.problems.splice(0); // the refused sign-in is logged as a 401
  await page.fill('#password', PW);
  await page.click('form.signin button[type=submit]');
  await page.waitForSelector('[data-kpi="cash_in"][data-value]');
  assert.equal(await page.textContent('#who'), 'acme.analyst (analyst)');
  assert.equal(await page.evaluate(() => sessionStorage.length), 0, 'no token kept: the cookie is the session');
  assert.equal(await page.evaluate(() => document.cookie), '', 'the page script cannot read the cookie');
  const cookies = await browser.context.cookies(srv.base);
  const c = cookies.find((x) => x.name === 'brisk_session');
  assert.ok(c && c.httpOnly && c.sameSite === 'Strict' && !c.secure, JSON.stringify(cookies));
  assert.equal(await page.locator('#nav a[data-page="performance"]').count(), 0, 'monitoring is the operator\'s');
  await page.reload();
  await page.waitForSelector('[data-kpi="cash_in"][data-value]');
  // an analyst's write from the page carries the session's CSRF token
  await page.click('#nav a[data-page="imports"]');
  await page.waitForSelector('#imp-file');
  assert.equal(await page.isDisabled('form.import-form button[type=submit]'), false);
  await page.click('#signout');
  await page.waitForSelector('form.signin');
  const after = await browser.context.cookies(srv.base);
  assert.ok(!after.some((x) => x.name === 'brisk_session' && x.value), 'the cookie is cleared');
  // the old cookie is dead on the server too
  const r = await api(srv, null, '/api/v1/session', { headers: { cookie: `brisk_session=${c.value}` } });
  assert.equal(r.status, 401);
  await page.reload();
  await page.waitForSelector('form.signin');
  noProblems();
});

test('a viewer sees the controls that change data disabled, and why', async () => {
  await signIn('acme.viewer', PW);
  await page.waitForSelector('[data-kpi="cash_in"][data-value]');
  assert.equal(await page.textContent('#who'), 'acme.viewer (viewer)');
  await page.click('#nav a[data-page="imports"]');
  await page.waitForSelector('#imp-role');
  for (const sel of ['#imp-kind', '#imp-file', '#imp-dry', 'form.import-form button[type=submit]'])
    assert.equal(await page.isDisabled(sel), true, `${sel} is disabled`);
  assert.match(await page.textContent('#imp-role'), /Your role \(viewer\) cannot import/);
  await screenshot(page, 'imports-viewer');
  await page.click('#nav a[data-page="receivables"]');
  await page.waitForSelector('#aging[data-loaded]');
  const review = page.locator('[data-tab="proposals"]');
  if (await review.count()) {
    await review.click();
    const buttons = page.locator('td.actions button');
    await page.waitForSelector('#panel-proposals p.muted');
    for (let i = 0; i < await buttons.count(); i++) assert.equal(await buttons.nth(i).isDisabled(), true);
  }
  // what the page would not offer, the server refuses anyway
  const csrf = await page.evaluate(async () => (await (await fetch('/api/v1/session')).json()).data.csrf);
  const refused = await page.evaluate(async (t) => (await fetch('/api/v1/costs/x', { method: 'DELETE', headers: { 'X-CSRF-Token': t } })).status, csrf);
  assert.equal(refused, 403);
  browser.problems.splice(0); // that refusal is logged
  await page.click('#signout');
  await page.waitForSelector('form.signin');
  noProblems();
});

test('sign-in through the #token= link that brisk demo prints; the token leaves the address bar', async () => {
  await page.goto(`${srv.base}/#token=${ds.token}`);
  await page.waitForSelector('[data-kpi="cash_in"][data-value]');
  assert.equal(new URL(page.url()).hash, '');
  noProblems();
});

test('KPI values equal the API figures, to the cent, with the change against the previous period', async () => {
  await open('/');
  const json = await expectKpis();
  // KPIs come first; every chart is drawn once scrolled into view.
  await drawAllCharts(page);
  const buckets = await page.locator('#chart-cashflow table.cf-data tbody tr').count();
  assert.equal(buckets, json.data.cashflow.buckets.length);
  const costs = await page.locator('#chart-costs .bar-row').count();
  assert.equal(costs, json.data.costs_by_category.items.length + (json.data.costs_by_category.other.count ? 1 : 0));
  const aging = await page.locator('#chart-aging .col-value').allTextContents();
  assert.equal(aging.length, 5);
  const top = await page.locator('#chart-top .bar-label').allTextContents();
  assert.deepEqual(top, json.data.top_customers.items.map((i) => i.customer));
  const marks = await page.evaluate(() => performance.getEntriesByType('mark').map((m) => m.name));
  assert.ok(marks.includes('brisk:kpis') && marks.includes('brisk:charts-drawn'), marks.join());
  const file = await screenshot(page, 'overview-before-upload');
  if (process.env.UPDATE_DOCS_SCREENSHOT) {
    mkdirSync('docs', { recursive: true });
    copyFileSync(file, 'docs/overview.png');
  }
  noProblems();
});

test('coming back to a page revalidates with If-None-Match: the server answers 304 and nothing is recomputed', async () => {
  await open('/');
  await page.waitForSelector('[data-kpi="cash_in"][data-value]');
  await page.click('#nav a[data-page="leads"]');
  await page.waitForSelector('#leads-summary table');
  const answer = page.waitForResponse((r) => r.url().includes('/api/v1/dashboard'));
  await page.click('#nav a[data-page="overview"]');
  const r = await answer;
  assert.equal(r.status(), 304);
  assert.ok((r.request().headers()['if-none-match'] || '').length > 2, 'the request carried the ETag');
  await page.waitForSelector('main[data-page="overview"] [data-kpi="cash_in"][data-value]');
  await expectKpis();
  noProblems();
});

test('errors are said in plain words, from the problem+json detail', async () => {
  await open('/?from=2026-06-01&to=2026-01-01');
  const box = page.locator('main .error[role=alert]');
  await box.waitFor();
  assert.match(await box.textContent(), /Could not load the dashboard\. 'from' is after 'to'\./);
  assert.equal(await box.locator('button').textContent(), 'Try again');
  // The refused call is the one thing the browser may log here.
  const logged = browser.problems.splice(0);
  assert.ok(logged.every((p) => p.includes('400')), logged.join('\n'));
});

test('changing the range updates the KPIs, the charts and the URL; the back button restores them', async () => {
  await open('/');
  await expectKpis();
  const before = page.url();
  await page.fill('#range-from', '2026-01-01');
  await page.fill('#range-to', '2026-06-30');
  await page.waitForURL(/from=2026-01-01&to=2026-06-30/);
  await expectKpis('?from=2026-01-01&to=2026-06-30');
  await page.selectOption('#range-interval', 'week');
  await page.waitForURL(/interval=week/);
  const { json } = await api(srv, ds.token, '/api/v1/dashboard?from=2026-01-01&to=2026-06-30&interval=week');
  await page.waitForFunction((n) => document.querySelectorAll('#chart-cashflow table.cf-data tbody tr').length === n, json.data.cashflow.buckets.length);
  // The URL is shareable: a fresh load of it shows the same.
  const shared = page.url();
  await page.goto(shared);
  await expectKpis('?from=2026-01-01&to=2026-06-30&interval=week');
  await page.goBack(); // to the range before the interval change
  await page.waitForURL((u) => !u.search.includes('interval='));
  await page.goBack();
  await page.waitForURL((u) => u.href === before);
  await expectKpis();
  // Back on the server's default range, which the picker shows.
  const { json: def } = await api(srv, ds.token, '/api/v1/overview');
  assert.equal(await page.inputValue('#range-to'), def.data.to);
  assert.equal(await page.inputValue('#range-from'), def.data.from);
  noProblems();
});

test('the payments table scrolls to its last row (keyset pages, virtual rows)', async () => {
  const { json: dash } = await api(srv, ds.token, '/api/v1/dashboard');
  const { from, to } = dash.data.overview;
  // Every payment of the range, through the API, for the expected last row.
  let cursor = null, n = 0, last = null;
  do {
    const { json } = await api(srv, ds.token, `/api/v1/payments?from=${from}&to=${to}&limit=1000${cursor ? '&cursor=' + cursor : ''}`);
    n += json.data.items.length;
    if (json.data.items.length) last = json.data.items[json.data.items.length - 1];
    cursor = json.data.next_cursor;
  } while (cursor);
  assert.ok(n > 1000, `enough payments for several pages (${n})`);
  await open('/receivables?tab=payments');
  await page.waitForSelector('#panel-payments .vt-row[data-row-index="0"]:not(.placeholder)');
  const body = page.locator('#panel-payments .vt-body');
  await body.focus();
  await page.keyboard.press('End');
  await page.waitForSelector('#panel-payments .vt-wrap[data-done="1"]');
  assert.equal(await page.getAttribute('#panel-payments .vt-wrap', 'data-rows'), String(n));
  const row = page.locator(`#panel-payments .vt-row[data-row-index="${n - 1}"]:not(.placeholder)`);
  await row.waitFor({ state: 'visible' });
  assert.ok((await row.textContent()).includes(last.id), 'the last row is the API\'s last payment');
  assert.equal(await page.getAttribute(`#panel-payments .vt-row[data-row-index="${n - 1}"]`, 'aria-selected'), 'true');
  // The DOM holds only the rows on screen, not the thousands loaded.
  assert.ok(await page.locator('#panel-payments .vt-row').count() < 80);
  await screenshot(page, 'receivables-payments-end');
  noProblems();
});

test('keyboard: skip link, navigation, tabs and table rows work without a mouse', async () => {
  await open('/');
  await page.waitForSelector('[data-kpi="cash_in"][data-value]');
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.className), 'skip');
  let found = false;
  for (let i = 0; i < 10 && !found; i++) {
    await page.keyboard.press('Tab');
    found = await page.evaluate(() => document.activeElement.dataset.page === 'receivables');
  }
  assert.ok(found, 'Tab reaches the Receivables link');
  await page.keyboard.press('Enter');
  await page.waitForURL(/\/receivables/);
  await page.focus('#tab-invoices');
  await page.keyboard.press('ArrowRight');
  await page.waitForURL(/tab=payments/);
  assert.equal(await page.getAttribute('#tab-payments', 'aria-selected'), 'true');
  await page.waitForSelector('#panel-payments .vt-row[data-row-index="0"]:not(.placeholder)');
  await page.focus('#panel-payments .vt-body');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  await page.waitForSelector('#panel-payments .vt-row.active[data-row-index="1"]');
  noProblems();
});

test('a CSV upload shows its progress, then the report, then the new numbers', async () => {
  const { json: was } = await api(srv, ds.token, '/api/v1/dashboard');
  const rows = 40000;
  const lines = ['id,date,payer,amount,reference'];
  for (let i = 0; i < rows; i++) lines.push(`WEBTEST${String(i).padStart(6, '0')},2026-10-${String(1 + (i % 28)).padStart(2, '0')},Browser Test Ltd,12.34,upload test ${i}`);
  const dir = path.join(ds.root, 'upload');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, 'payments.csv');
  writeFileSync(file, lines.join('\n') + '\n');

  await open('/imports');
  await page.selectOption('#imp-kind', 'payments');
  await page.setInputFiles('#imp-file', file);
  await page.click('.import-form button[type=submit]');
  await page.waitForSelector('.progress:not([hidden])');
  await page.waitForSelector('.report[data-inserted]', { timeout: 60000 });
  assert.equal(await page.getAttribute('.report', 'data-inserted'), String(rows));
  assert.equal(await page.getAttribute('.report', 'data-rejected'), '0');
  assert.equal(await page.locator('section.card[data-max-progress="100"]').count(), 1, 'the upload reached 100%');
  // A file this size goes to a background task where the server has them.
  const tasks = await api(srv, ds.token, '/api/v1/tasks');
  if (tasks.status === 200) {
    const id = await page.getAttribute('section.card[data-max-progress]', 'data-task');
    assert.ok(id, 'the import ran as a task');
    await page.waitForSelector(`#tasks tr[data-task="${id}"][data-status="succeeded"]`);
  }
  await screenshot(page, 'imports-report');

  await page.click('.report a[data-nav]');
  await page.waitForURL((u) => u.pathname === '/');
  const now = await expectKpis();
  assert.equal(now.data.overview.cash_in - was.data.overview.cash_in, rows * 1234, 'cash in grew by exactly the upload');
  noProblems();
});

test('live refresh: a change made elsewhere reaches the open Overview through the event stream', async (t) => {
  const ctl = new AbortController();
  const res = await fetch(srv.base + '/api/v1/events', { headers: { authorization: `Bearer ${ds.token}` }, signal: ctl.signal });
  ctl.abort();
  if (res.status === 404 || res.status === 405) {
    t.skip('the server has no /api/v1/events yet (tasks issue); the UI refreshes on load only until it does');
    return;
  }
  await open('/');
  const { json: was } = await api(srv, ds.token, '/api/v1/overview');
  await page.waitForSelector(`[data-kpi="cash_in"][data-value="${was.data.cash_in}"]`);
  const post = await api(srv, ds.token, '/api/v1/payments', {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ id: 'LIVE000001', date: was.data.to, payer: 'Live Refresh Ltd', amount: 4321 }),
  });
  assert.equal(post.status, 200, post.text);
  // No reload, no navigation: the page hears of the change and revalidates.
  await page.waitForSelector(`[data-kpi="cash_in"][data-value="${was.data.cash_in + 4321}"]`, { timeout: 10000 });
  await expectKpis();
  noProblems();
});

test('confirming a proposed match changes the aging figures; a payment explains its match', async (t) => {
  const probe = await api(srv, ds.token, '/api/v1/match/proposals');
  if (probe.status === 404 || probe.status === 405) {
    t.skip('the server has no /api/v1/match/proposals yet (reconciliation issue); the UI hides proposals until it does');
    return;
  }
  // Reconcile with a high bar for automatic matches, so some wait for review.
  const run = await api(srv, ds.token, '/api/v1/match?auto=0.95', { method: 'POST' });
  assert.equal(run.status, 200, run.text);
  const { json: props } = await api(srv, ds.token, '/api/v1/match/proposals?limit=1000');
  const pending = props.data.proposals || props.data.items || [];
  if (!pending.length) {
    t.skip(`no proposed matches in this data set (${run.text})`);
    return;
  }
  await open('/receivables?tab=proposals');
  await page.waitForSelector('#aging[data-total]');
  await page.waitForSelector('#tab-proposals[aria-selected="true"]');
  const before = await page.getAttribute('#aging', 'data-total');
  const { json: was } = await api(srv, ds.token, '/api/v1/aging');
  assert.equal(before, String(was.data.total.amount));
  const first = page.locator('#panel-proposals tbody tr').first();
  const pid = await first.getAttribute('data-payment');
  const paid = pending.find((p) => p.payment_id === pid).date;
  await first.locator('button:has-text("Confirm")').click();
  await page.locator(`#panel-proposals .proposals-msg[data-payment="${pid}"][data-decision="confirm"]`).waitFor();
  await page.waitForFunction((b) => document.querySelector('#aging').dataset.total !== b, before);
  const { json: now } = await api(srv, ds.token, '/api/v1/aging');
  assert.equal(await page.getAttribute('#aging', 'data-total'), String(now.data.total.amount));
  assert.ok(now.data.total.amount < was.data.total.amount, 'less is outstanding once the payment is allocated');
  await screenshot(page, 'receivables-proposals');

  // The explanation of that payment, from its row in the payments table.
  await open(`/receivables?tab=payments&from=${paid}&to=${paid}`);
  const row = page.locator('#panel-payments .vt-row:not(.placeholder)', { hasText: pid }).first();
  await row.waitFor();
  await row.click();
  const panel = page.locator('#panel-payments .explain');
  await panel.waitFor();
  await panel.locator('.badge:has-text("confirmed")').waitFor();
  await screenshot(page, 'receivables-explain');
  noProblems();
});

test('every page, at 1280 px and at phone width, with screenshots and no console errors', async () => {
  const pages = ['overview', 'receivables', 'leads', 'imports', 'performance'];
  // Nothing is loaded from anywhere but the server.
  const elsewhere = [];
  const onRequest = (r) => { if (!r.url().startsWith(srv.base + '/') && !r.url().startsWith('data:')) elsewhere.push(r.url()); };
  page.on('request', onRequest);
  for (const [w, h, suffix] of [[1280, 900, ''], [390, 844, '-phone']]) {
    await page.setViewportSize({ width: w, height: h });
    for (const p of pages) {
      await open(`/${p === 'overview' ? '' : p}`);
      await page.waitForSelector('main h1');
      if (p === 'overview') {
        await page.waitForSelector('[data-kpi="cash_in"][data-value]');
        await drawAllCharts(page);
      } else if (p === 'receivables') {
        await page.waitForSelector('#aging[data-loaded]');
        await page.waitForSelector('#panel-invoices .vt-row[data-row-index="0"]:not(.placeholder)');
      } else if (p === 'leads') {
        await page.waitForSelector('#leads-summary table');
        await page.waitForSelector('.vt-row[data-row-index="0"]:not(.placeholder)');
      } else if (p === 'performance') {
        await page.waitForSelector('#perf-latency[data-loaded] table');
      }
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 1, `${p} at ${w}px is ${overflow}px wider than the window`);
      await screenshot(page, p + suffix);
    }
  }
  page.off('request', onRequest);
  assert.deepEqual(elsewhere, []);
  await page.setViewportSize({ width: 1280, height: 900 });
  noProblems();
});

test('assets: hashed, immutable, precompressed; the page is not cached and allows nothing from elsewhere', async () => {
  const res = await fetch(srv.base + '/', { headers: { 'accept-encoding': 'gzip' } });
  assert.equal(res.headers.get('cache-control'), 'no-cache');
  const csp = res.headers.get('content-security-policy');
  assert.match(csp, /default-src 'self'/);
  const html = await res.text();
  const assets = [...html.matchAll(/\/assets\/[a-z0-9_.-]+\.[0-9a-f]{10}\.(?:js|css|svg)/g)].map((m) => m[0]);
  assert.ok(assets.length >= 5, assets.join());
  let jsCss = 0;
  for (const a of new Set(assets)) {
    const r = await fetch(srv.base + a, { headers: { 'accept-encoding': 'gzip' } });
    assert.equal(r.status, 200, a);
    assert.equal(r.headers.get('cache-control'), 'public, max-age=31536000, immutable', a);
    const raw = Number((await r.arrayBuffer()).byteLength); // decoded by fetch
    assert.ok(raw > 0);
  }
  // Compressed sizes of every module and stylesheet the page loads.
  const imap = JSON.parse(/<script type="importmap">(.*?)<\/script>/.exec(html)[1]).imports;
  const all = new Set([...Object.values(imap), ...assets.filter((a) => a.endsWith('.css'))]);
  const { request } = await import('node:http');
  for (const a of all) {
    jsCss += await new Promise((resolve, reject) => {
      request(srv.base + a, { headers: { 'accept-encoding': 'gzip' } }, (r) => {
        assert.equal(r.headers['content-encoding'], 'gzip', a);
        let n = 0;
        r.on('data', (d) => { n += d.length; });
        r.on('end', () => resolve(n));
      }).on('error', reject).end();
    });
  }
  console.log(`# compressed JS + CSS: ${jsCss} bytes`);
  assert.ok(jsCss < 150 * 1024, `compressed JS + CSS is ${jsCss} bytes`);
  const old = await fetch(srv.base + '/assets/app.0000000000.js');
  assert.equal(old.status, 404);
});
