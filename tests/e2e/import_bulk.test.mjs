// Large imports (issue 14 item 1). An import of 10000 rows or more commits
// without building the search index in its transaction; a server indexes
// the rows in the background and `brisk index` does it at once. Searches
// are exact throughout: right after the import (the rows not indexed yet
// are scanned), after a server killed in the middle of the catch-up, and
// once the index is up to date. A --split statement goes through the same
// batches as any import: both kinds stored, re-imported as replacements.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { brisk, tempDir, cleanup, token, startServer, api, storeSql } from './lib/harness.mjs';


const ROWS = 30000;
let root, data, tok, file;
const needles = [];

before(() => {
  root = tempDir('brisk-import-bulk-');
  data = path.join(root, 'data');
  file = path.join(root, 'payments.csv');
  const out = ['id,date,payer,amount,reference'];
  for (let i = 0; i < ROWS; i++) {
    const needle = i % 997 === 5;
    if (needle) needles.push(`p${i}`);
    const day = String(1 + (i % 28)).padStart(2, '0');
    out.push(`p${i},2026-0${1 + (i % 9)}-${day},${i % 2 ? 'Tango Ltd' : 'Zulu GmbH'},${(i % 500) + 1}.25,${needle ? `Haystack NEEDLE ${i}` : `invoice ${i}`}`);
  }
  writeFileSync(file, out.join('\n') + '\n');
});
after(() => { if (root) cleanup(root); });

// Every id a search yields, walking its pages.
async function searchIds(srv, q) {
  const ids = [];
  let cursor = null;
  do {
    const r = await api(srv, tok, `/api/v1/payments?q=${encodeURIComponent(q)}&limit=5&sort=-amount${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    assert.equal(r.status, 200, r.text);
    ids.push(...r.json.data.items.map((x) => x.id));
    cursor = r.json.data.next_cursor;
  } while (cursor);
  return ids.sort();
}

// Rows of payments above the index's mark (both backends: the import
// leaves them to the catch-up).
const behind = () => Number(storeSql(data,
  'SELECT (SELECT coalesce(max(rid), 0) FROM payments) - (SELECT rid FROM search_mark WHERE tbl = 4)'));

describe('search after a large import', () => {
  test('the import commits every row and leaves the index to the catch-up', () => {
    const out = brisk(['import', 'payments', file, '--org', 'acme', '--data', data]);
    assert.match(out, new RegExp(`inserted ${ROWS}, replaced 0, rejected 0`));
    tok = token(data, 'acme');
    assert.equal(behind(), ROWS);
  });

  test('searches are exact before, across a killed catch-up, and after it', async () => {
    const want = [...needles].sort();
    let srv = await startServer(data);
    try {
      assert.deepEqual(await searchIds(srv, 'needle'), want);
      assert.deepEqual(await searchIds(srv, 'Haystack NEEDLE 5'), want.filter((id) => id.startsWith('p5')));
      // killed whatever the catch-up was doing: nothing half-indexed shows
      srv.child.kill('SIGKILL');
      await new Promise((r) => srv.child.on('exit', r));
      srv = await startServer(data);
      assert.deepEqual(await searchIds(srv, 'needle'), want);
    } finally {
      await srv.stop();
    }
    const out = brisk(['index', '--data', data]);
    assert.match(out, /search index up to date/);
    assert.equal(behind(), 0);
    srv = await startServer(data);
    try {
      assert.deepEqual(await searchIds(srv, 'needle'), want);
      const ids = Array.from({ length: ROWS }, (_, i) => `p${i}`).filter((id) => id.includes('p2999')).sort();
      assert.deepEqual(await searchIds(srv, 'P2999'), ids);
    } finally {
      await srv.stop();
    }
  });
});

describe('--split of a large statement', () => {
  test('credits to payments, debits to costs, in batches; a re-import replaces every row', () => {
    const d = path.join(root, 'split-data');
    const f = path.join(root, 'statement.csv');
    const out = ['Date,Description,Amount,Category'];
    let credits = 0, debits = 0, inCents = 0, outCents = 0;
    for (let i = 0; i < 12000; i++) {
      const cents = (i % 700) * 100 + 10 + (i % 7);
      const debit = i % 3 === 0;
      if (debit) { debits++; outCents += cents; } else { credits++; inCents += cents; }
      out.push(`${String(1 + (i % 28)).padStart(2, '0')}/0${1 + (i % 9)}/2025,Party ${i},${debit ? '-' : ''}${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')},${i % 5 ? `Cat${i % 4}` : ''}`);
    }
    writeFileSync(f, out.join('\n') + '\n');
    const args = ['import', 'payments', f, '--data', d, '--map', 'payer=Description', '--date-format', '%d/%m/%Y',
      '--split', '--split-category', 'Category'];
    assert.match(brisk(args), new RegExp(`inserted 12000, replaced 0, rejected 0`));
    const figures = () => storeSql(d, 'SELECT (SELECT count(*) FROM payments), (SELECT sum(amount) FROM payments), '
      + "(SELECT count(*) FROM costs), (SELECT sum(amount) FROM costs), (SELECT count(*) FROM costs WHERE category = 'Uncategorised')");
    const want = `${credits}|${inCents}|${debits}|${outCents}|${Math.ceil(12000 / 15)}`;
    assert.equal(figures(), want);
    assert.match(brisk(args), /inserted 0, replaced 12000, rejected 0/);
    assert.equal(figures(), want);
  });
});
