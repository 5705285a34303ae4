// Read replicas: a real PostgreSQL primary and a streaming replica
// (pg_basebackup -R) started by tests/pg/cluster.sh. With the replica's
// replay paused, writes acknowledged by the server must show in the very
// next read (served by the primary), and reads go back to the replica once
// it has caught up. Runs in the SQLite pass only (it brings its own
// cluster); skipped with the reason where PostgreSQL is not installed.
import { test } from 'node:test';
import { execFileSync } from 'node:child_process';
import assert from 'node:assert/strict';
import path from 'node:path';
import { api, cleanup, startServer, tempDir } from './lib/harness.mjs';
import { REAL_BIN as BIN, pgSkip, psql as sql, startCluster } from './lib/pgcluster.mjs';

const skip = pgSkip();
if (skip) console.log(`replica.test: skipped: ${skip}`);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what, fn, ms = 60000) {
  const until = Date.now() + ms;
  for (;;) {
    if (await fn()) return;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

test('replica: reads stay fresh while replay is paused, and go back to the replica', { skip, timeout: 600000 }, async () => {
  const pg = startCluster({ replica: true });
  const root = tempDir();
  let srv = null;
  try {
    const primary = `${pg.url}/brisk`;
    const replica = `${pg.replicaUrl}/brisk`;
    sql(`${pg.url}/postgres`, 'CREATE DATABASE brisk');
    const data = path.join(root, 'data');
    const run = (args) => execFileSync(BIN, args, { encoding: 'utf8', env: { ...process.env, DATABASE_URL: primary } });
    run(['gen', '--scale', '0.05', '--seed', '3', '--end', '2026-10-31', '--out', path.join(root, 'csv')]);
    for (const k of ['costs', 'invoices', 'payments'])
      run(['import', k, path.join(root, 'csv', `${k}.csv`), '--org', 'acme', '--data', data, '-q']);
    const tok = run(['token', 'create', '--org', 'acme', '--data', data]).trim();

    srv = await startServer(data, ['--set', `store.read_url=${replica}`], { DATABASE_URL: primary });
    const ready = async () => (await api(srv, null, '/readyz')).json;
    assert.equal((await ready()).replicas.configured, 1);
    const commits = (url) => Number(sql(url, 'SELECT n FROM brisk_commits'));
    await waitFor('the replica to catch up', () => commits(replica) === commits(primary));

    const q = '/api/v1/overview?from=2026-10-01&to=2026-10-31';
    const before = await api(srv, tok, q);
    assert.equal(before.status, 200);
    let r0 = await ready();
    assert.ok(r0.replicas.reads_served > 0, `a caught-up replica serves reads: ${JSON.stringify(r0.replicas)}`);

    // Replay paused: the replica keeps its snapshot of the past.
    sql(replica, 'SELECT pg_wal_replay_pause()');
    await waitFor('replay to pause', () => sql(replica, 'SELECT pg_get_wal_replay_pause_state()') === 'paused');
    let cashOut = before.json.data.cash_out;
    let lagCommits = 0, lagBytes = 0;
    for (let i = 1; i <= 5; i++) {
      const w = await api(srv, tok, '/api/v1/costs', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: `REPL-${i}`, date: '2026-10-15', category: 'Rent', amount: 1000 * i, vendor: 'Replica Test' }),
      });
      assert.equal(w.status, 200, w.text);
      cashOut += 1000 * i;
      // The next read through the server shows the acknowledged write.
      const o = await api(srv, tok, q);
      assert.equal(o.status, 200);
      assert.equal(o.json.data.cash_out, cashOut, `overview after write ${i} is fresh`);
      const l = await api(srv, tok, `/api/v1/costs?vendor=Replica%20Test&limit=1000`);
      assert.equal(l.status, 200, l.text);
      assert.ok(l.text.includes(`REPL-${i}`), `list after write ${i} shows it: ${l.text.slice(0, 300)}`);
      lagCommits = commits(primary) - commits(replica);
      lagBytes = Number(sql(`${pg.url}/postgres`,
        `SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '${sql(replica, 'SELECT pg_last_wal_replay_lsn()')}')`));
    }
    const r1 = await ready();
    assert.ok(lagCommits >= 5, `the paused replica is behind (${lagCommits} commits)`);
    assert.ok(r1.replicas.reads_to_primary > r0.replicas.reads_to_primary, 'reads the replica could not serve went to the primary');
    console.log(`replica lag seen while paused: ${lagCommits} commits, ${lagBytes} bytes of WAL; ` +
      `reads served by the replica ${r1.replicas.reads_served}, sent to the primary ${r1.replicas.reads_to_primary}`);

    // Resumed: the replica catches up and serves again, the same figures.
    sql(replica, 'SELECT pg_wal_replay_resume()');
    await waitFor('the replica to catch up again', () => commits(replica) === commits(primary));
    const served = (await ready()).replicas.reads_served;
    const after = await api(srv, tok, '/api/v1/costs?vendor=Replica%20Test&limit=1000');
    assert.ok(after.text.includes('REPL-5'));
    const o = await api(srv, tok, q);
    assert.equal(o.json.data.cash_out, cashOut);
    assert.ok((await ready()).replicas.reads_served > served, 'the caught-up replica serves reads again');
  } finally {
    if (srv) await srv.stop();
    pg.stop();
    cleanup(root);
  }
});
