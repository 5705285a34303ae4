// The review inbox (issue 15) in a real browser: a payment for several
// invoices is one row; the keyboard moves (j/k), confirms (c) and rejects
// (r); the selected payment's proposal and the other invoices weighed are
// side by side with reasons; a filtered set is confirmed in bulk.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { brisk, startServer, api, token, tempDir, cleanup } from '../e2e/lib/harness.mjs';
import { launch, screenshot } from './lib/browser.mjs';

let root, data, srv, tok, browser, page;

const INV = 'id,number,customer,customer_id,issue_date,due_date,amount,status\n';
const PAY = 'id,date,payer,amount,reference,customer_id\n';

before(async () => {
  root = tempDir('brisk-review-');
  data = path.join(root, 'data');
  // Four payments a run only proposes: a set that is one of two adding up
  // (batch), and three references written without their prefix by a payer
  // the engine cannot place (review).
  const inv = INV +
    'A,INV-0301,Vega Foods,,2026-09-10,2026-10-09,100.00,open\n' +
    'B,INV-0302,Vega Foods,,2026-09-20,2026-10-19,50.00,open\n' +
    'C,INV-0303,Vega Foods,,2026-10-01,2026-10-31,60.00,open\n' +
    'D,INV-0304,Vega Foods,,2026-10-10,2026-11-09,90.00,open\n' +
    'E,INV-0401,Orion Paper Ltd,,2026-09-01,2026-10-01,410.00,open\n' +
    'F,INV-0402,Orion Paper Ltd,,2026-09-02,2026-10-02,520.00,open\n' +
    'G,INV-0403,Orion Paper Ltd,,2026-09-03,2026-10-03,630.00,open\n';
  const pay = PAY +
    'P1,2026-10-15,VEGA FOODS,150.00,payment,\n' +
    'P2,2026-10-05,J DOE,410.00,INV-0401,\n' +
    'P3,2026-10-05,J DOE,520.00,INV-0402,\n' +
    'P4,2026-10-05,J DOE,630.00,INV-0403,\n';
  for (const [k, body] of [['invoices', inv], ['payments', pay]]) {
    const f = path.join(root, `${k}.csv`);
    writeFileSync(f, body);
    brisk(['import', k, f, '--org', 'acme', '--data', data, '-q']);
  }
  tok = token(data, 'acme');
  srv = await startServer(data);
  const run = await api(srv, tok, '/api/v1/match?auto=0.95', { method: 'POST' });
  assert.equal(run.status, 200, run.text);
  browser = await launch();
  page = await browser.page();
  page.setDefaultTimeout(20000);
  page.on('dialog', (d) => d.accept());
});

after(async () => {
  if (browser) await browser.close();
  if (srv) await srv.stop();
  if (root) cleanup(root);
});

test('keyboard: move, see the candidates side by side, confirm; bulk confirm of a filtered set', async () => {
  const { json } = await api(srv, tok, '/api/v1/match/proposals');
  const pids = [...new Set(json.data.proposals.map((p) => p.payment_id))];
  assert.deepEqual(pids.sort(), ['P1', 'P2', 'P3', 'P4'], JSON.stringify(json.data));
  await page.goto(`${srv.base}/receivables?tab=proposals#token=${tok}`);
  await page.waitForSelector('#tab-proposals[aria-selected="true"]');
  const rows = page.locator('#panel-proposals table.inbox tbody tr');
  await rows.first().waitFor();
  assert.equal(await rows.count(), 4, 'one row per payment, the batch included');
  const p1 = page.locator('#panel-proposals tr[data-payment="P1"]');
  assert.match(await p1.textContent(), /INV-0301, INV-0302/);

  // j selects the first row and shows its proposal beside the other invoices weighed.
  await page.focus('#panel-proposals table.inbox');
  await page.keyboard.press('j');
  const selected = page.locator('#panel-proposals tr[aria-selected="true"]');
  await selected.waitFor();
  const first = await selected.getAttribute('data-payment');
  const side = page.locator('#panel-proposals .review-side');
  await side.locator('.side-by-side .proposed').waitFor();
  await side.locator('.side-by-side .weighed').waitFor();
  assert.equal(await side.getAttribute('data-payment'), first);
  await page.keyboard.press('j');
  const second = await selected.getAttribute('data-payment');
  assert.notEqual(second, first);
  await page.keyboard.press('k');
  assert.equal(await selected.getAttribute('data-payment'), first);
  await screenshot(page, 'review-inbox');

  // c confirms the selected payment and moves on.
  await page.keyboard.press('c');
  await page.locator(`#panel-proposals .proposals-msg[data-payment="${first}"][data-decision="confirm"]`).waitFor();
  const ex = await api(srv, tok, `/api/v1/payments/${first}/explain`);
  assert.equal(ex.json.data.status, 'confirmed');
  await page.waitForFunction((f) => document.querySelector('#panel-proposals tr[aria-selected="true"]')?.dataset.payment !== f, first);

  // r rejects the next one.
  const third = await selected.getAttribute('data-payment');
  await page.keyboard.press('r');
  await page.locator(`#panel-proposals .proposals-msg[data-payment="${third}"][data-decision="reject"]`).waitFor();
  assert.equal((await api(srv, tok, `/api/v1/payments/${third}/explain`)).json.data.status, 'rejected');

  // Filter to what is left and confirm it all at once.
  const left = ['P1', 'P2', 'P3', 'P4'].filter((p) => p !== first && p !== third);
  await page.fill('#rv-filter', '');
  await page.locator('#rv-bulk', { hasText: `Confirm all ${left.length} shown` }).waitFor();
  await page.click('#rv-bulk');
  await page.locator(`#panel-proposals .proposals-msg[data-bulk="${left.length}"]`).waitFor();
  for (const p of left)
    assert.equal((await api(srv, tok, `/api/v1/payments/${p}/explain`)).json.data.status, 'confirmed', p);
  const { json: none } = await api(srv, tok, '/api/v1/match/proposals');
  assert.equal(none.data.proposals.length, 0);
  assert.deepEqual(browser.problems.splice(0), [], 'the browser reported errors');
});

test('the matching rules form saves a change, refuses nonsense, and lists the history', async () => {
  await page.goto(`${srv.base}/receivables?tab=rules#token=${tok}`);
  await page.waitForSelector('#tab-rules[aria-selected="true"]');
  await page.waitForSelector('#rule-writeoff_max');
  assert.equal(await page.inputValue('#rule-writeoff_max'), '10.00');
  await page.fill('#rule-writeoff_max', '4.50');
  await page.uncheck('#rule-on-batch_amount');
  await page.click('#rules-save');
  await page.waitForSelector('#rules-msg[data-saved]');
  const { json } = await api(srv, tok, '/api/v1/match/rules');
  assert.equal(json.data.writeoff_max, 450);
  assert.equal(json.data.rules.batch_amount, false);
  await page.locator('#rules-history li', { hasText: 'batch_amount off' }).waitFor();
  await page.fill('#rule-review_threshold', '0.99');
  await page.click('#rules-save');
  await page.locator('#rules-msg', { hasText: 'review threshold' }).waitFor();
  await screenshot(page, 'review-rules');
  const problems = browser.problems.splice(0).filter((p) => !p.includes('422'));
  assert.deepEqual(problems, [], 'the browser reported errors');
});
