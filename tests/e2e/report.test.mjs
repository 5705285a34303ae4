// Exports and the monthly report, as tasks over the API and as CLI
// commands: every export equals the list API's rows (same filters, sort,
// fields and order) read back by independent readers (our CSV reader;
// openpyxl for XLSX), a CSV export imports back unchanged, and the PDF has
// the expected pages, is not blank when rendered by poppler (PNGs kept in
// tests/artifacts/) and shows the same figures as the API.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, readdirSync, existsSync } from 'node:fs';
import path from 'node:path';
import { BIN, dataset, startServer, api, token, tempDir, cleanup, readCsv, cents } from './lib/harness.mjs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const JSONH = { 'content-type': 'application/json' };
const ARTIFACTS = path.resolve('tests/artifacts');
const PYTHON = '/usr/bin/python3';
const MONEY = new Set(['amount', 'outstanding', 'value']);
const DATES = new Set(['date', 'issue_date', 'due_date', 'followup_date']);

let ds, srv, work;
const tok = {};

before(async () => {
  ds = dataset({ scale: 0.2, seed: 21, end: '2026-10-31', org: 'acme' });
  tok.acme = ds.token;
  tok.beta = token(ds.data, 'beta');
  tok.gamma = token(ds.data, 'gamma');
  work = tempDir('brisk-report-e2e-');
  mkdirSync(ARTIFACTS, { recursive: true });
  srv = await startServer(ds.data);
  // receivables and payer behaviour as a business would see them
  execFileSync(BIN, ['match', '--org', 'acme', '--data', ds.data, '-q']);
});

after(async () => {
  if (srv) await srv.stop();
  if (ds) cleanup(ds.root);
  if (work) cleanup(work);
});

// ---- helpers ----

async function runTask(kind, params, t = tok.acme) {
  const r = await api(srv, t, '/api/v1/tasks', { method: 'POST', headers: JSONH, body: JSON.stringify({ kind, params }) });
  assert.equal(r.status, 202, r.text);
  const end = Date.now() + 60000;
  for (;;) {
    const j = (await api(srv, t, `/api/v1/tasks/${r.json.id}`)).json;
    if (['succeeded', 'failed', 'cancelled', 'interrupted'].includes(j.status)) {
      assert.equal(j.status, 'succeeded', JSON.stringify(j));
      return j;
    }
    if (Date.now() > end) throw new Error(`task ${r.json.id} still ${j.status}`);
    await sleep(50);
  }
}

// Downloads a task's result into the work dir; returns {file, headers}.
async function download(task, t = tok.acme) {
  const res = await fetch(srv.base + task.result_url, { headers: { authorization: `Bearer ${t}` } });
  assert.equal(res.status, 200);
  const file = path.join(work, `${task.id}-${task.file_name}`);
  writeFileSync(file, Buffer.from(await res.arrayBuffer()));
  return { file, headers: res.headers };
}

// Every row the list API pages through for these filters.
async function listAll(kind, query) {
  const rows = [];
  let cursor = null;
  do {
    const q = new URLSearchParams({ ...query, limit: '1000' });
    if (cursor) q.set('cursor', cursor);
    const r = await api(srv, tok.acme, `/api/v1/${kind}?${q}`);
    assert.equal(r.status, 200, r.text);
    rows.push(...r.json.data.items);
    cursor = r.json.data.next_cursor;
  } while (cursor);
  return rows;
}

// CSV rows (text) against API rows (cents, null): same columns, same order.
function assertCsvEqualsApi(file, apiRows) {
  const text = readFileSync(file, 'utf8');
  const header = text.slice(0, text.indexOf('\r\n')).split(',');
  assert.deepEqual(header, Object.keys(apiRows[0] || {}), 'the columns of the list, in its order');
  const csv = readCsv(file);
  assert.equal(csv.length, apiRows.length, 'row count');
  for (let i = 0; i < csv.length; i++) {
    for (const [k, v] of Object.entries(apiRows[i])) {
      const got = csv[i][k];
      if (v === null) assert.equal(got, '', `row ${i} ${k}`);
      else if (MONEY.has(k)) assert.equal(cents(got), v, `row ${i} ${k}`);
      else assert.equal(got, guarded(String(v)), `row ${i} ${k}`);
    }
  }
}

// A text cell as the export writes it: formula-leading text gets an apostrophe
// (docs/api.md, "No cell runs as a formula").
const guarded = (s) => (/^([=+\-@\t\r]|'[=+\-@\t\r'])/.test(s) ? `'${s}` : s);

// openpyxl's reading of a workbook: {sheets, rows: [{col: value}]}.
function readXlsx(file) {
  const py = `
import datetime, json, sys, openpyxl
wb = openpyxl.load_workbook(sys.argv[1], read_only=True)
rows = []
for ws in wb.worksheets:
    it = ws.iter_rows(values_only=True)
    head = next(it)
    for r in it:
        d = {}
        for k, v in zip(head, r):
            if isinstance(v, datetime.datetime):
                v = v.date().isoformat()
            d[k] = v
        rows.append(d)
print(json.dumps({"sheets": [ws.title for ws in wb.worksheets], "head": [c.value for c in next(wb.worksheets[0].iter_rows(max_row=1))], "rows": rows}))
`;
  return JSON.parse(execFileSync(PYTHON, ['-c', py, file], { encoding: 'utf8', maxBuffer: 256 << 20 }));
}

function assertXlsxEqualsApi(file, apiRows, sheet) {
  const x = readXlsx(file);
  assert.deepEqual(x.sheets, [sheet]);
  assert.deepEqual(x.head, Object.keys(apiRows[0] || {}));
  assert.equal(x.rows.length, apiRows.length, 'row count');
  for (let i = 0; i < apiRows.length; i++) {
    for (const [k, v] of Object.entries(apiRows[i])) {
      const got = x.rows[i][k];
      if (v === null || v === '') assert.equal(got, null, `row ${i} ${k}`);
      else if (MONEY.has(k)) {
        assert.equal(typeof got, 'number', `row ${i} ${k} is a number`);
        assert.equal(Math.round(got * 100), v, `row ${i} ${k}`);
      } else if (DATES.has(k)) assert.equal(got, v, `row ${i} ${k} is a real date`);
      else assert.equal(String(got), String(v), `row ${i} ${k}`);
    }
  }
}

// Page count (pdfinfo) and the text (pdftotext) of a PDF.
function pdfPages(file) {
  const info = execFileSync('pdfinfo', [file], { encoding: 'utf8' });
  return Number(/^Pages:\s+(\d+)/m.exec(info)[1]);
}
const pdfText = (file) => execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });

// Share of non-white pixels and the grey-level variance of a PGM (P5).
function inkOf(pgm) {
  const buf = readFileSync(pgm);
  const m = /^P5\s+(\d+)\s+(\d+)\s+(\d+)\s/.exec(buf.subarray(0, 64).toString('latin1'));
  const w = Number(m[1]), h = Number(m[2]);
  const px = buf.subarray(m[0].length, m[0].length + w * h);
  let ink = 0, sum = 0, sq = 0;
  for (const v of px) {
    if (v < 240) ink++;
    sum += v;
    sq += v * v;
  }
  const n = px.length, mean = sum / n;
  return { ink: ink / n, variance: sq / n - mean * mean };
}

const money = (c) => {
  const neg = c < 0, a = Math.abs(c);
  const whole = String(Math.floor(a / 100)).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${neg ? '-' : ''}${whole}.${String(a % 100).padStart(2, '0')}`;
};

// ---- exports ----

describe('exports', () => {
  test('costs to CSV with filters equals the list API, and imports back unchanged', async () => {
    const filters = { from: '2026-01-01', to: '2026-06-30', min_amount: '100' };
    const t = await runTask('export', { entity: 'costs', format: 'csv', ...filters });
    const { file, headers } = await download(t);
    assert.equal(headers.get('content-type'), 'text/csv; charset=utf-8');
    assert.match(headers.get('content-disposition'), /^attachment; filename="costs-\d{4}-\d{2}-\d{2}\.csv"$/);
    const rows = await listAll('costs', filters);
    assert.ok(rows.length > 100, `${rows.length} rows`);
    assert.equal(t.result.rows, rows.length);
    assertCsvEqualsApi(file, rows);

    // the file is canonical DATA.md CSV: another org imports it as it is
    const r = await api(srv, tok.gamma, '/api/v1/import/costs', { method: 'POST', body: readFileSync(file) });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.inserted, rows.length);
    assert.equal(r.json.rejected, 0);
    const back = [];
    let cursor = null;
    do {
      const q = new URLSearchParams({ limit: '1000' });
      if (cursor) q.set('cursor', cursor);
      const p = await api(srv, tok.gamma, `/api/v1/costs?${q}`);
      back.push(...p.json.data.items);
      cursor = p.json.data.next_cursor;
    } while (cursor);
    // same rows; rows of one day may come in another order (row ids differ)
    const byId = (a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
    assert.deepEqual([...back].sort(byId), [...rows].sort(byId));
  });

  test('leads to CSV: timestamps as stored, absent values empty', async () => {
    const t = await runTask('export', { entity: 'leads', sort: 'date' });
    const { file } = await download(t);
    const rows = await listAll('leads', { sort: 'date' });
    assert.ok(rows.some((r) => r.value === null) && rows.some((r) => r.followup_date === null), 'the data has gaps');
    assertCsvEqualsApi(file, rows);
  });

  test('invoices to XLSX with status, sort and fields: openpyxl reads the same rows', async () => {
    const q = { status: 'open', sort: '-amount', fields: 'number,customer,due_date,amount,outstanding' };
    const t = await runTask('export', { entity: 'invoices', format: 'xlsx', ...q });
    const { file, headers } = await download(t);
    assert.equal(headers.get('content-type'), 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
    assert.match(headers.get('content-disposition'), /filename="invoices-[\d-]+\.xlsx"/);
    const rows = await listAll('invoices', q);
    assert.ok(rows.length > 50);
    assertXlsxEqualsApi(file, rows, 'invoices');
  });

  test('every payment to XLSX', async () => {
    const t = await runTask('export', { entity: 'payments', format: 'xlsx' });
    const { file } = await download(t);
    const rows = await listAll('payments', {});
    assert.equal(t.result.rows, rows.length);
    assertXlsxEqualsApi(file, rows, 'payments');
  });

  test('an empty result is a file with just the header', async () => {
    const t = await runTask('export', { entity: 'costs', category: 'No Such Category' });
    const { file } = await download(t);
    assert.equal(readFileSync(file, 'utf8'), 'id,date,category,amount,vendor,description\r\n');
    assert.equal(t.result.rows, 0);
  });

  test('brisk export: the same file from the command line', async () => {
    const out = path.join(work, 'cli-invoices.xlsx');
    const r = spawnSync(BIN, ['export', 'invoices', '--status', 'open', '--sort', '-amount', '--fields',
      'number,customer,due_date,amount,outstanding', '--org', 'acme', '--data', ds.data, '--out', out], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^export acme invoices: \d+ rows to /);
    assertXlsxEqualsApi(out, await listAll('invoices', { status: 'open', sort: '-amount', fields: 'number,customer,due_date,amount,outstanding' }), 'invoices');
    const csv = path.join(work, 'cli-costs.csv');
    const c = spawnSync(BIN, ['export', 'costs', '--from', '2026-01-01', '--to', '2026-06-30', '--min-amount', '100',
      '--org', 'acme', '--data', ds.data, '--out', csv, '-q'], { encoding: 'utf8' });
    assert.equal(c.status, 0, c.stderr);
    assertCsvEqualsApi(csv, await listAll('costs', { from: '2026-01-01', to: '2026-06-30', min_amount: '100' }));
    for (const [args, re] of [
      [['export', 'nothing', '--out', csv], /unknown kind 'nothing'/],
      [['export', 'costs'], /--out FILE is required/],
      [['export', 'costs', '--out', csv, '--format', 'pdf'], /--format must be csv or xlsx/],
      [['export', 'costs', '--out', csv, '--sort', 'up', '--org', 'acme', '--data', ds.data], /sort must be/],
    ]) {
      const e = spawnSync(BIN, args, { encoding: 'utf8' });
      assert.equal(e.status, 2, `${args.join(' ')}: ${e.stderr}`);
      assert.match(e.stderr, re);
    }
  });
});

// ---- the report ----

describe('monthly report', () => {
  test('the PDF has four pages, renders with ink on each, and shows the API\'s figures', async () => {
    const t = await runTask('report', { month: '2026-09' });
    const { file } = await download(t);
    assert.equal(pdfPages(file), 4);
    // PNGs for people (artefacts), greyscale PGMs for the check
    for (const f of readdirSync(ARTIFACTS)) if (/^report-page-\d+\.png$/.test(f)) execFileSync('rm', [path.join(ARTIFACTS, f)]);
    execFileSync('pdftoppm', ['-r', '70', '-png', file, path.join(ARTIFACTS, 'report-page')]);
    const pngs = readdirSync(ARTIFACTS).filter((f) => /^report-page-\d+\.png$/.test(f)).sort();
    assert.deepEqual(pngs, ['report-page-1.png', 'report-page-2.png', 'report-page-3.png', 'report-page-4.png']);
    execFileSync('pdftoppm', ['-r', '30', '-gray', file, path.join(work, 'grey')]);
    const pgms = readdirSync(work).filter((f) => /^grey-\d+\.pgm$/.test(f)).sort();
    assert.equal(pgms.length, 4);
    for (const p of pgms) {
      const { ink, variance } = inkOf(path.join(work, p));
      assert.ok(ink > 0.01, `${p}: ${(ink * 100).toFixed(2)}% of the page has ink`);
      assert.ok(variance > 100, `${p}: grey variance ${variance.toFixed(0)}`);
    }
    // a blank page for contrast: the check would catch one
    const blank = path.join(work, 'blank.pgm');
    writeFileSync(blank, Buffer.concat([Buffer.from('P5\n10 10\n255\n'), Buffer.alloc(100, 255)]));
    assert.equal(inkOf(blank).ink, 0);

    const text = pdfText(file);
    assert.match(text, /Management report/);
    assert.match(text, /September 2026/);
    assert.match(text, /Page 4 of 4/);
    const ov = (await api(srv, tok.acme, '/api/v1/overview?from=2026-09-01&to=2026-09-30')).json.data;
    for (const k of ['cash_in', 'cash_out', 'net', 'sales']) assert.ok(text.includes(money(ov[k])), `${k} ${money(ov[k])} is in the PDF`);
    const top = (await api(srv, tok.acme, '/api/v1/top-customers?from=2026-09-01&to=2026-09-30&top=10')).json.data.items;
    assert.ok(top.length > 0);
    assert.ok(text.includes(top[0].customer.slice(0, 20)), `top customer ${top[0].customer}`);
    assert.ok(text.includes(money(top[0].amount)));
    const aging = (await api(srv, tok.acme, '/api/v1/aging?as_of=2026-09-30')).json.data;
    assert.ok(text.includes(money(aging.total.amount)), 'receivables total');
  });

  test('an organisation with no data still gets its four legible pages', async () => {
    const t = await runTask('report', { month: '2026-09' }, tok.beta);
    const { file } = await download(t, tok.beta);
    assert.equal(pdfPages(file), 4);
    const text = pdfText(file);
    assert.match(text, /No costs were recorded this month/);
    assert.match(text, /No sales this month/);
  });

  test('brisk report writes the same report from the command line', async () => {
    const out = path.join(work, 'cli-report.pdf');
    const r = spawnSync(BIN, ['report', '--month', '2026-09', '--org', 'acme', '--data', ds.data, '--out', out], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /report acme 2026-09: .* \(4 pages\)/);
    assert.equal(pdfPages(out), 4);
    const t = await runTask('report', { month: '2026-09' });
    const { file } = await download(t);
    assert.equal(pdfText(out), pdfText(file), 'same figures, same layout');
    for (const [args, re] of [
      [['report', '--month', '2026-13', '--out', out], /--month must be YYYY-MM/],
      [['report', '--month', '2026-09'], /--out FILE is required/],
    ]) {
      const e = spawnSync(BIN, args, { encoding: 'utf8' });
      assert.equal(e.status, 2, e.stderr);
      assert.match(e.stderr, re);
    }
    const e = spawnSync(BIN, ['report', '--month', '2026-09', '--org', 'nobody', '--data', ds.data, '--out', out], { encoding: 'utf8' });
    assert.equal(e.status, 1);
    assert.match(e.stderr, /unknown organisation 'nobody'/);
    assert.ok(!existsSync(out + '.tmp'));
  });
});
