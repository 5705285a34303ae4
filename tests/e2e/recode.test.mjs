// Import recoding (issue 19) as a user meets it: the three recipes of
// docs/import-recipes.md run through the CLI (exact rows and cent sums,
// the summary's skipped count, exit codes and one-line errors), then the
// same options over HTTP (query parameters, and a background task).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { BIN, tempDir, cleanup, storeSql, startServer, api, token } from './lib/harness.mjs';

let root;
before(() => { root = tempDir('brisk-recode-e2e-'); });
after(() => { if (root) cleanup(root); });

let dirs = 0;
const freshData = () => path.join(root, `data${++dirs}`);

function run(args) {
  const r = spawnSync(BIN, args, { encoding: 'utf8' });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function write(name, content) {
  const p = path.join(root, name);
  writeFileSync(p, content);
  return p;
}

const orgOf = (data) => storeSql(data, "SELECT id FROM orgs WHERE slug = 'default'");
const rows = (data, q) => storeSql(data, q).split('\n').filter((l) => l !== '');

function summary(stdout) {
  const m = /inserted (\d+), replaced (\d+), rejected (\d+)(?:, skipped (\d+) \(--where\))? in/.exec(stdout);
  assert.ok(m, `no summary line in ${JSON.stringify(stdout)}`);
  return { inserted: +m[1], replaced: +m[2], rejected: +m[3], skipped: m[4] === undefined ? null : +m[4] };
}

// Recipe 1: a CRM pipeline export (deal stages, engage/close dates).
const CRM = `opportunity_id,sales_agent,product,account,deal_stage,engage_date,close_date,close_value
1C1I7A6R,Moses Frase,GTX Plus Basic,Cancity,Won,2016-10-20,2017-03-01,1054
Z063OYW0,Darcel Schlecht,GTXPro,Isdom,Won,2016-10-25,2017-03-11,4514
EC4QE1BX,Darcel Schlecht,MG Special,Cancity,Lost,2016-10-25,2017-03-07,0
MV1LWRNH,Moses Frase,GTX Basic,Codehow,Engaging,2016-10-25,,
PE84CX4O,Zane Levy,GTX Basic,,Prospecting,,,
LCFF7KLS,Anna Snelling,MG Advanced,Ron-tech,Engaging,2016-10-29,,
`;
const CRM_ARGS = ['--map', 'id=opportunity_id,creator=sales_agent,name=account,status=deal_stage,value=close_value',
  '--values', 'status=Prospecting:new,Engaging:contacted',
  '--compute', 'created_at=coalesce(engage_date, close_date)',
  '--where', 'deal_stage != Lost'];

// Recipe 2: a retail order export (Superstore's columns, M/D/YYYY dates,
// amounts with up to 4 decimals).
const STORE = `Row ID,Order ID,Order Date,Ship Date,Customer Name,Segment,Category,Sub-Category,Product Name,Sales,Quantity,Discount,Profit
1,CA-2016-152156,11/8/2016,11/11/2016,Claire Gute,Consumer,Furniture,Bookcases,Bush Somerset Collection Bookcase,261.96,2,0,41.9136
2,CA-2016-152156,11/8/2016,11/11/2016,Claire Gute,Consumer,Furniture,Chairs,"Hon Deluxe Fabric Upholstered Stacking Chairs, Rounded Back",731.94,3,0,219.582
3,CA-2016-138688,6/12/2016,6/16/2016,Darrin Van Huff,Corporate,Office Supplies,Labels,Self-Adhesive Address Labels for Typewriters by Universal,14.62,2,0,6.8714
4,US-2015-108966,10/11/2015,10/18/2015,Sean O'Donnell,Consumer,Furniture,Tables,Bretford CR4500 Series Slim Rectangular Table,957.5775,5,0.45,-383.031
5,US-2015-108966,10/11/2015,10/18/2015,Sean O'Donnell,Consumer,Office Supplies,Storage,Eldon Fold 'N Roll Cart System,22.368,2,0.2,2.5164
`;
const STORE_ARGS = ['--map', 'id=Row ID,date=Order Date,category=Category,description=Product Name',
  '--compute', 'amount=Sales - Profit', '--date-format', '%m/%d/%Y', '--round'];

// Recipe 3: a bank statement, money out as costs, categories by rules.
const BANK = `Date,Description,Amount,Balance
01/03/2024,ACME LTD SALARY MARCH,-3200.00,8800.00
02/03/2024,TESCO STORES 2931,-54.20,8745.80
03/03/2024,HMRC PAYE,-640.00,8105.80
04/03/2024,SHELL 0831 FUEL,-61.05,8044.75
05/03/2024,CUSTOMER PAYMENT INV-1042,1500.00,9544.75
06/03/2024,AMAZON MKTPLACE,-19.99,9524.76
`;
const RULES = `# bank.rules: one rule a line, conditions on the file's columns
if Description ~ SALARY|PAYROLL then category=Payroll
if Description ~ HMRC then category=Taxes, vendor=HMRC
if Description ~ TESCO|SAINSBURY then category=Groceries
if Description ~ SHELL|BP|ESSO then category=Fuel
`;
const BANK_ARGS = ['--map', 'description=Description', '--date-format', '%d/%m/%Y', '--where', 'Amount < 0', '--negate',
  '--default', 'category=Uncategorised'];

describe('CLI', () => {
  test('a CRM pipeline: stages recoded, dates computed, lost deals skipped', () => {
    const data = freshData();
    const r = run(['import', 'leads', write('pipeline.csv', CRM), '--data', data, '-q', ...CRM_ARGS]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(summary(r.stdout), { inserted: 4, replaced: 0, rejected: 1, skipped: 1 });
    // the Prospecting row has no date at all: rejected, and said why
    assert.match(r.stderr, /pipeline\.csv:6: rejected: missing required field 'created_at'/);
    const org = orgOf(data);
    assert.deepEqual(rows(data, `SELECT id, status, created_at, coalesce(CAST(value AS TEXT), '') FROM leads WHERE org = ${org} ORDER BY id`), [
      '1C1I7A6R|won|2016-10-20|105400',
      'LCFF7KLS|contacted|2016-10-29|',
      'MV1LWRNH|contacted|2016-10-25|',
      'Z063OYW0|won|2016-10-25|451400',
    ]);
    assert.equal(storeSql(data, `SELECT sum(value) FROM leads WHERE org = ${org}`), '556800');
  });

  test('without --values the unknown stage is rejected with the known ones and the option', () => {
    const data = freshData();
    const r = run(['import', 'leads', write('pipeline2.csv', CRM), '--data', data, '-q',
      '--map', 'id=opportunity_id,creator=sales_agent,status=deal_stage', '--compute', 'created_at=coalesce(engage_date, close_date)']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /pipeline2\.csv:5: rejected: unknown status 'Engaging': expected one of new, contacted, qualified, proposal, won, lost; recode it with --values status=Engaging:VALUE/);
  });

  test('a retail export: cost of goods = Sales - Profit, exact to the cent', () => {
    const data = freshData();
    const r = run(['import', 'costs', write('superstore.csv', STORE), '--data', data, '-q', ...STORE_ARGS]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(summary(r.stdout), { inserted: 5, replaced: 0, rejected: 0, skipped: null });
    const org = orgOf(data);
    assert.deepEqual(rows(data, `SELECT id, category, amount FROM costs WHERE org = ${org} ORDER BY CAST(id AS INTEGER)`), [
      '1|Furniture|22005', '2|Furniture|51236', '3|Office Supplies|775', '4|Furniture|134061', '5|Office Supplies|1985',
    ]);
    assert.equal(storeSql(data, `SELECT sum(amount) FROM costs WHERE org = ${org}`), '210062');
    // without --round the 4-decimal costs are refused, each with the fix
    const strict = run(['import', 'costs', path.join(root, 'superstore.csv'), '--data', freshData(), '-q', ...STORE_ARGS.slice(0, -1)]);
    assert.equal(strict.code, 1);
    assert.match(strict.stderr, /superstore\.csv:2: rejected: compute amount: 220\.0464 has more than 2 decimal places for the organisation's currency; try --round/);
  });

  test('a bank statement: rules from a file, credits skipped, debits as costs', () => {
    const data = freshData();
    const rules = write('bank.rules', RULES);
    const r = run(['import', 'costs', write('statement.csv', BANK), '--data', data, '-q', ...BANK_ARGS, '--rules', rules]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(summary(r.stdout), { inserted: 5, replaced: 0, rejected: 0, skipped: 1 });
    const org = orgOf(data);
    assert.deepEqual(rows(data, `SELECT category, vendor, amount FROM costs WHERE org = ${org} ORDER BY date`), [
      'Payroll||320000', 'Groceries||5420', 'Taxes|HMRC|64000', 'Fuel||6105', 'Uncategorised||1999',
    ]);
    assert.equal(storeSql(data, `SELECT sum(amount) FROM costs WHERE org = ${org}`), '397524');
    // --rule on the command line is the same thing
    const again = run(['import', 'costs', path.join(root, 'statement.csv'), '--data', data, '-q', ...BANK_ARGS,
      '--rule', 'if Description ~ SALARY|PAYROLL then category=Payroll', '--rule', 'if Amount < -1000 then category=Salaries']);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(summary(again.stdout), { inserted: 0, replaced: 4, rejected: 1, skipped: 1 });
    assert.match(again.stderr, /statement\.csv:2: rejected: rules 1 \(if Description ~ SALARY\|PAYROLL\) and 2 \(if Amount < -1000\) both match and set category to 'Payroll' and 'Salaries'/);
  });

  test('bad expressions, unknown columns and ambiguous rules stop the import before any row', () => {
    const data = freshData();
    const file = path.join(root, 'superstore.csv');
    let r = run(['import', 'costs', file, '--data', data, '-q', ...STORE_ARGS.slice(0, 2), '--compute', 'amount=Sales - ', '--date-format', '%m/%d/%Y']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^brisk import: --compute amount: at the end: expected a column, a number or a function\n$/);
    r = run(['import', 'costs', file, '--data', data, '-q', ...STORE_ARGS.slice(0, 2), '--compute', 'amount=Sales - Proft', '--date-format', '%m/%d/%Y']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /compute amount: unknown column 'Proft' \(the header has: Row ID, Order ID, Order Date/);
    r = run(['import', 'costs', file, '--data', data, '-q', ...STORE_ARGS, '--where', 'Segmnt = Consumer']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /where: unknown column 'Segmnt'/);
    r = run(['import', 'costs', path.join(root, 'statement.csv'), '--data', data, '-q', ...BANK_ARGS,
      '--rule', 'if Description ~ TESCO then category=Groceries', '--rule', 'if description ~ tesco then category=Food']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /rules 1 and 2 are ambiguous: the same condition sets category to 'Groceries' and to 'Food'/);
    assert.equal(storeSql(data, 'SELECT count(*) FROM costs'), '0');
  });
});

describe('HTTP', () => {
  let data, srv, tok;
  before(async () => {
    data = freshData();
    run(['org', 'create', 'acme', '--data', data]);
    tok = token(data, 'acme');
    srv = await startServer(data);
  });
  after(async () => { if (srv) await srv.stop(); });

  const q = (o) => Object.entries(o).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&');
  const post = (kind, query, body) => api(srv, tok, `/api/v1/import/${kind}?${q(query)}`, { method: 'POST', headers: { 'content-type': 'text/csv' }, body });
  const acme = () => storeSql(data, "SELECT id FROM orgs WHERE slug = 'acme'");

  test('the CRM recipe as query parameters', async () => {
    const r = await post('leads', {
      map: 'id=opportunity_id,creator=sales_agent,name=account,status=deal_stage,value=close_value',
      values: 'status=Prospecting:new,Engaging:contacted',
      compute: 'created_at=coalesce(engage_date, close_date)',
      where: 'deal_stage != Lost',
    }, CRM);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.inserted, 4);
    assert.equal(r.json.rejected, 1);
    assert.equal(r.json.skipped, 1);
    assert.equal(storeSql(data, `SELECT sum(value) FROM leads WHERE org = ${acme()}`), '556800');
  });

  test('rules over HTTP, and in a background task', async () => {
    const r = await post('costs', { map: 'description=Description', date_format: '%d/%m/%Y', where: 'Amount < 0', negate: '1', default: 'category=Uncategorised', rules: RULES }, BANK);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.inserted, 5);
    assert.equal(r.json.skipped, 1);
    assert.deepEqual(rows(data, `SELECT category, sum(amount) FROM costs WHERE org = ${acme()} GROUP BY category ORDER BY category`),
      ['Fuel|6105', 'Groceries|5420', 'Payroll|320000', 'Taxes|64000', 'Uncategorised|1999']);
    const t = await post('costs', { map: 'id=Row ID,date=Order Date,category=Category', compute: 'amount=Sales - Profit', date_format: '%m/%d/%Y', round: '1', async: '1' }, STORE);
    assert.equal(t.status, 202, t.text);
    let task;
    const end = Date.now() + 60000;
    for (;;) {
      task = (await api(srv, tok, `/api/v1/tasks/${t.json.id}`)).json;
      if (['succeeded', 'failed', 'cancelled'].includes(task.status) || Date.now() > end) break;
      await new Promise((res) => setTimeout(res, 50));
    }
    assert.equal(task.status, 'succeeded', JSON.stringify(task));
    assert.equal(task.result.inserted, 5);
    assert.equal(task.result.skipped, 0);
    assert.equal(storeSql(data, `SELECT sum(amount) FROM costs WHERE org = ${acme()} AND id IN ('1','2','3','4','5')`), '210062');
  });

  test('a bad expression or rule is a 400 before anything is read or queued', async () => {
    let r = await post('costs', { compute: 'amount=Sales / 2' }, STORE);
    assert.equal(r.status, 400, r.text);
    assert.match(r.json.detail, /compute amount: .*division is not supported/);
    r = await post('costs', { rules: 'if Description ~ A then category=x; if description ~ a then category=y', async: '1' }, BANK);
    assert.equal(r.status, 400, r.text);
    assert.match(r.json.detail, /rules 1 and 2 are ambiguous/);
    r = await post('costs', { where: 'Amount <' }, BANK);
    assert.equal(r.status, 400, r.text);
    assert.match(r.json.detail, /^where: at the end: expected a value/);
    r = await post('costs', { map: 'date=Date', default: 'category=x', where: 'Amont < 0' }, BANK);
    assert.equal(r.status, 422, r.text);
    assert.match(r.json.detail, /where: unknown column 'Amont'/);
  });
});
