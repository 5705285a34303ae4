// What a role may not do, the page does not offer (issue 12): signed in
// through the form, a viewer finds every control that changes data
// disabled with a tooltip saying why (the review inbox's Confirm, Reject
// and bulk confirm and its keys, the import form, the alert rules, the
// reconciliation settings); an analyst finds them enabled except the
// settings, which are an admin's; an admin finds those enabled too.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { brisk, briskRun, startServer, api, token, tempDir, cleanup } from '../e2e/lib/harness.mjs';
import { launch, signIn as signInAs, screenshot } from './lib/browser.mjs';

let root, data, srv, tok, browser, page;
const PW = 'roles-pass-1';

before(async () => {
  root = tempDir('brisk-roles-');
  data = path.join(root, 'data');
  // Two payments the reconciliation only proposes (references without
  // their prefix, from a payer it cannot place): the inbox has rows.
  const inv = 'id,number,customer,customer_id,issue_date,due_date,amount,status\n' +
    'E,INV-0401,Orion Paper Ltd,,2026-09-01,2026-10-01,410.00,open\n' +
    'F,INV-0402,Orion Paper Ltd,,2026-09-02,2026-10-02,520.00,open\n';
  const pay = 'id,date,payer,amount,reference,customer_id\n' +
    'P2,2026-10-05,J DOE,410.00,INV-0401,\n' +
    'P3,2026-10-05,J DOE,520.00,INV-0402,\n';
  for (const [k, body] of [['invoices', inv], ['payments', pay]]) {
    const f = path.join(root, `${k}.csv`);
    writeFileSync(f, body);
    brisk(['import', k, f, '--org', 'acme', '--data', data, '-q']);
  }
  for (const role of ['viewer', 'analyst', 'admin']) {
    const r = briskRun(['user', 'add', `acme.${role}`, '--org', 'acme', '--role', role, '--data', data], { input: `${PW}\n` });
    assert.equal(r.code, 0, r.stderr);
  }
  tok = token(data, 'acme');
  srv = await startServer(data);
  const run = await api(srv, tok, '/api/v1/match?auto=0.95', { method: 'POST' });
  assert.equal(run.status, 200, run.text);
  const { json } = await api(srv, tok, '/api/v1/match/proposals');
  assert.equal(new Set(json.data.proposals.map((p) => p.payment_id)).size, 2, JSON.stringify(json.data));
  browser = await launch();
  page = await browser.page();
  page.setDefaultTimeout(20000);
});

after(async () => {
  if (browser) await browser.close();
  if (srv) await srv.stop();
  if (root) cleanup(root);
});

function signIn(role) {
  return signInAs(browser, page, srv.base, `acme.${role}`, PW, role);
}

async function signOut() {
  await page.click('#signout');
  await page.waitForSelector('form.signin');
  assert.deepEqual(browser.problems.splice(0), [], 'the browser reported errors');
}

// Each control: disabled (with a tooltip naming the role) or enabled (no such tooltip).
async function expectControls(sels, allowed, role) {
  for (const sel of sels) {
    const loc = page.locator(sel);
    const n = await loc.count();
    assert.ok(n > 0, `${sel} is on the page`);
    for (let i = 0; i < n; i++) {
      const el = loc.nth(i);
      assert.equal(await el.isDisabled(), !allowed, `${sel} #${i} ${allowed ? 'enabled' : 'disabled'} for ${role}`);
      const title = (await el.getAttribute('title')) || '';
      if (allowed) assert.doesNotMatch(title, /Your role|read only/, `${sel}: no refusal for ${role}`);
      else assert.match(title, new RegExp(`Your role \\(${role}\\) cannot do this: ask an`), `${sel}: the tooltip says why`);
    }
  }
}

const INBOX = ['#panel-proposals td.actions button', '#rv-bulk'];
const IMPORT = ['#imp-kind', '#imp-file', '#imp-preview', 'form.import-form button[type=submit]'];
const ALERTS = ['#al-figure', '#al-threshold', '#alert-form button[type=submit]'];
const RULES = ['#rule-writeoff_max', '#rule-on-batch_amount', '#rules-save'];

async function openInbox() {
  await page.click('#nav a[data-page="receivables"]');
  await page.click('[data-tab="proposals"]');
  await page.locator('#panel-proposals table.inbox tbody tr').first().waitFor();
}

async function openRules() {
  await page.click('[data-tab="rules"]');
  await page.waitForSelector('#rules-save');
}

test('a viewer: every control that changes data is disabled, and says why', async () => {
  await signIn('viewer');
  await openInbox();
  await expectControls(INBOX, false, 'viewer');
  assert.match(await page.textContent('#rv-role'), /Your role \(viewer\) cannot do this/);
  // the keys do not decide either: they say why
  await page.focus('#panel-proposals table.inbox');
  await page.keyboard.press('j');
  await page.keyboard.press('c');
  await page.locator('#panel-proposals .proposals-msg', { hasText: 'Your role (viewer) cannot do this' }).waitFor();
  const { json } = await api(srv, tok, '/api/v1/match/proposals');
  assert.equal(new Set(json.data.proposals.map((p) => p.payment_id)).size, 2, 'nothing was decided');
  await screenshot(page, 'review-viewer');
  await openRules();
  await expectControls(RULES, false, 'viewer');
  await page.click('#nav a[data-page="imports"]');
  await page.waitForSelector('#imp-role');
  await expectControls(IMPORT, false, 'viewer');
  await page.click('#nav a[data-page="alerts"]');
  await page.waitForSelector('main[data-loaded] #al-role');
  await expectControls(ALERTS, false, 'viewer');
  await signOut();
});

test('an analyst: the same controls are enabled; the reconciliation settings stay an admin\'s', async () => {
  await signIn('analyst');
  await openInbox();
  await expectControls(INBOX, true, 'analyst');
  assert.equal(await page.locator('#rv-role').count(), 0);
  await openRules();
  await expectControls(RULES, false, 'analyst');
  assert.match(await page.title(), /Receivables/);
  await page.click('#nav a[data-page="imports"]');
  await page.waitForSelector('#imp-file');
  assert.equal(await page.locator('#imp-role').count(), 0);
  await expectControls(IMPORT, true, 'analyst');
  await page.click('#nav a[data-page="alerts"]');
  await page.waitForSelector('main[data-loaded]');
  assert.equal(await page.locator('#al-role').count(), 0);
  await expectControls(ALERTS, true, 'analyst');
  await signOut();
});

test('an admin: the reconciliation settings are enabled too', async () => {
  await signIn('admin');
  await page.click('#nav a[data-page="receivables"]');
  await openRules();
  await expectControls(RULES, true, 'admin');
  assert.equal(await page.locator('#rules-role').count(), 0);
  await signOut();
});
