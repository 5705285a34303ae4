// The Imports page with a real bank export: Preview detects the format
// (what was chosen, with a confidence), shows each field's column and the
// first rows as they would be stored, saves the mapping as a profile; the
// upload then imports with that profile, debits to costs (--split).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { brisk, startServer, api, cleanup, tempDir, token, storeSql } from '../e2e/lib/harness.mjs';
import { launch, screenshot } from './lib/browser.mjs';

const CORPUS = path.join(path.dirname(fileURLToPath(import.meta.url)), '../e2e/corpus');
let root, data, tok, srv, browser, page;

before(async () => {
  root = tempDir('brisk-imports-browser-');
  data = path.join(root, 'data');
  brisk(['org', 'set', '--org', 'acme', '--currency', 'EUR', '--data', data]);
  tok = token(data, 'acme');
  srv = await startServer(data);
  browser = await launch();
  page = await browser.page();
  page.setDefaultTimeout(30000);
});

after(async () => {
  if (browser) await browser.close();
  if (srv) await srv.stop();
  if (root) cleanup(root);
});

test('preview, pick a column, save a profile, import with it', async () => {
  await page.goto(srv.base + '/imports#token=' + tok);
  await page.selectOption('#imp-kind', 'payments');
  assert.equal(await page.isChecked('#imp-detect'), true, 'detection is the upload default');
  await page.setInputFiles('#imp-file', path.join(CORPUS, 'de_deutsche_bank.csv'));
  await page.check('#imp-split');
  await page.click('#imp-preview');
  await page.waitForSelector('.detected[data-confidence]');
  const cmd = await page.textContent('.detected code');
  assert.match(cmd, /--encoding windows-1252/);
  assert.match(cmd, /--debit Soll --credit Haben/);
  // the payer is that column, or the purpose where it is empty (card payments)
  assert.match(cmd, /--compute 'payer=coalesce\(\[Begünstigter \/ Auftraggeber\], \[Verwendungszweck\]\)'/);
  assert.equal(await page.inputValue('#map-payer'), '');
  assert.match(await page.locator('#map-payer option:checked').textContent(), /computed/);
  assert.equal(await page.locator('table.preview tbody tr').count(), 9);
  // The user prefers the booking type as the reference.
  await page.selectOption('#map-reference', 'Umsatzart');
  await page.click('#map-apply');
  await page.waitForSelector('table.preview td:has-text("SEPA-Lastschrift")');
  await screenshot(page, 'imports-preview');
  await page.fill('#profile-name', 'deutsche-bank');
  await page.click('#profile-save');
  await page.waitForSelector('text=Saved: the next file imports with profile deutsche-bank');
  const profiles = await api(srv, tok, '/api/v1/import-profiles');
  const p = profiles.json.data.find((x) => x.name === 'deutsche-bank');
  assert.ok(p, profiles.text);
  assert.equal(p.options.encoding, 'windows-1252');
  assert.match(p.options.map, /reference=Umsatzart/);
  assert.equal(p.options.split, '1');
  assert.equal(await page.inputValue('#imp-profile'), 'deutsche-bank');

  await page.uncheck('#imp-detect');
  await page.click('.import-form button[type=submit]');
  await page.waitForSelector('.report[data-inserted]');
  assert.equal(await page.getAttribute('.report', 'data-inserted'), '9');
  assert.equal(await page.getAttribute('.report', 'data-rejected'), '1');
  assert.equal(storeSql(data, "SELECT count(*) || '|' || sum(amount) FROM payments"), '3|246249');
  assert.equal(storeSql(data, "SELECT count(*) || '|' || sum(amount) FROM costs"), '6|157905');
  assert.equal(storeSql(data, "SELECT count(*) FROM payments WHERE reference = 'SEPA-Überweisung von'"), '3');

  // A PayPal statement: its withdrawal to the bank is left out, and said;
  // the options that force what the server refuses or leaves out are there.
  assert.equal(await page.isVisible('#imp-keep-transfers'), true, 'shown with the split');
  assert.equal(await page.isVisible('#imp-overlap'), true);
  await page.selectOption('#imp-profile', '');
  await page.check('#imp-detect');
  await page.setInputFiles('#imp-file', path.join(CORPUS, 'de_paypal.csv'));
  await page.click('.import-form button[type=submit]');
  await page.waitForSelector('.report .split-transfers');
  assert.match(await page.textContent('.report .split-transfers'), /One transfer between own accounts was left out/);
  await page.uncheck('#imp-split');
  assert.equal(await page.isVisible('#imp-keep-transfers'), false, 'hidden without the split');
  assert.deepEqual(browser.problems.splice(0).filter((x) => !/status of 422/.test(x)), []);
});
