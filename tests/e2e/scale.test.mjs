// N instances: three `brisk serve` behind a real nginx (upstream on a free
// port, config in a temp dir), sharing one PostgreSQL (tests/pg/cluster.sh)
// and one Redis. A write acknowledged by one instance shows in the next
// read through any other; a background task whose instance is SIGKILLed
// mid-run is finished by another once its lease expires; nginx keeps
// answering throughout. Runs in the SQLite pass only (it brings its own
// PostgreSQL); skipped with the reason where PostgreSQL, Redis or nginx is
// not installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { api, cleanup, startServer, tempDir } from './lib/harness.mjs';
import { REAL_BIN as BIN, pgSkip, psql, startCluster } from './lib/pgcluster.mjs';
import { freePort, redisBinary, startRedis } from './lib/redis.mjs';

const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((c) => existsSync(c));
const skip = pgSkip() || (!redisBinary() ? 'redis-server not installed (apt-get install redis-server)'
  : !NGINX ? 'nginx not installed (apt-get install nginx)' : false);
if (skip) console.log(`scale.test: skipped: ${skip}`);

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(what, fn, ms = 120000) {
  const until = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

// nginx in the foreground on a free port, everything it writes in dir.
async function startNginx(dir, upstreams) {
  const port = await freePort();
  mkdirSync(dir, { recursive: true });
  const conf = path.join(dir, 'nginx.conf');
  writeFileSync(conf, `${process.getuid() === 0 ? 'user root;\n' : ''}daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 512; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  client_max_body_size 0;
  upstream brisk {
${upstreams.map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=2s;`).join('\n')}
    keepalive 16;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://brisk;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_next_upstream error timeout http_502 http_503;
      proxy_read_timeout 120s;
    }
  }
}
`);
  const child = spawn(NGINX, ['-e', `${dir}/error.log`, '-p', dir, '-c', conf], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => { err += d; });
  const base = `http://127.0.0.1:${port}`;
  await waitFor('nginx to listen', async () => {
    if (child.exitCode !== null) throw new Error(`nginx exited ${child.exitCode}: ${err}${readFileSync(`${dir}/error.log`, 'utf8')}`);
    try { await fetch(`${base}/healthz`); return true; } catch { return false; }
  }, 30000);
  return {
    base, child,
    async stop() {
      if (child.exitCode !== null) return;
      const done = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await done;
    },
  };
}

function bigPayments(n, prefix) {
  const lines = ['id,date,payer,amount,reference'];
  for (let i = 0; i < n; i++)
    lines.push(`${prefix}${i},2026-0${1 + (i % 9)}-${String(1 + (i % 28)).padStart(2, '0')},Payer ${i % 977} Ltd,${(i % 5000) + 1}.${String(i % 100).padStart(2, '0')},REF-${i}`);
  return lines.join('\n') + '\n';
}

test('three instances behind nginx: never stale, a killed task finishes elsewhere', { skip, timeout: 900000 }, async () => {
  const pg = startCluster();
  const root = tempDir();
  const servers = [];
  let redis = null, nginx = null;
  try {
    const url = `${pg.url}/brisk`;
    psql(`${pg.url}/postgres`, 'CREATE DATABASE brisk');
    redis = await startRedis();
    const data = path.join(root, 'data'); // shared: task uploads live there
    const shared = { DATABASE_URL: url, REDIS_URL: redis.url };
    const cli = (args) => execFileSync(BIN, args, { encoding: 'utf8', env: { ...process.env, ...shared } });
    cli(['gen', '--scale', '0.05', '--seed', '9', '--end', '2026-10-31', '--out', path.join(root, 'csv')]);
    for (const k of ['costs', 'invoices', 'payments'])
      cli(['import', k, path.join(root, 'csv', `${k}.csv`), '--org', 'acme', '--data', data, '-q']);
    const tok = cli(['token', 'create', '--org', 'acme', '--data', data]).trim();
    for (let i = 0; i < 3; i++)
      servers.push(await startServer(data, ['--set', 'tasks.lease_seconds=2', '--set', 'tasks.workers=1'], shared));
    const [a, b, c] = servers;
    nginx = await startNginx(path.join(root, 'nginx'), servers.map((s) => s.port));
    const viaNginx = { base: nginx.base };

    // Writes through one instance, reads through the others and nginx.
    const q = '/api/v1/overview?from=2026-10-01&to=2026-10-31';
    let cashOut = (await api(b, tok, q)).json.data.cash_out;
    for (let i = 1; i <= 10; i++) {
      const w = await api(a, tok, '/api/v1/costs', {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ id: `SCALE-${i}`, date: '2026-10-20', category: 'Rent', amount: 100 * i }),
      });
      assert.equal(w.status, 200, w.text);
      cashOut += 100 * i;
      for (const [name, s] of [['b', b], ['c', c], ['nginx', viaNginx]]) {
        const o = await api(s, tok, q);
        assert.equal(o.status, 200, o.text);
        assert.equal(o.json.data.cash_out, cashOut, `write ${i} acknowledged by a, read through ${name}`);
      }
    }

    // A background import through nginx; its instance is killed mid-run.
    const rows = 200000;
    const body = bigPayments(rows, 'KILL');
    const sub = await api(viaNginx, tok, '/api/v1/import/payments?async=1', {
      method: 'POST', headers: { 'content-type': 'text/csv' }, body,
    });
    assert.equal(sub.status, 202, sub.text);
    const id = sub.json.id;
    const owner = await waitFor('the import to run', () => {
      const r = psql(url, "SELECT owner FROM tasks WHERE kind = 'import' AND status = 'running'");
      return r || null;
    });
    const pid = Number(owner.split(':')[1]);
    const victim = servers.find((s) => s.child.pid === pid);
    assert.ok(victim, `the owner ${owner} is one of ours (${servers.map((s) => s.child.pid)})`);
    victim.child.kill('SIGKILL');
    await new Promise((r) => (victim.child.exitCode !== null || victim.child.signalCode ? r() : victim.child.once('exit', r)));
    servers.splice(servers.indexOf(victim), 1); // gone: nothing to stop

    // nginx answers every request meanwhile; the task ends on another instance.
    let asked = 0;
    const done = await waitFor('the task to finish elsewhere', async () => {
      const t = await api(viaNginx, tok, `/api/v1/tasks/${id}`);
      asked++;
      assert.equal(t.status, 200, `nginx answered ${t.status}: ${t.text}`);
      const o = await api(viaNginx, tok, q);
      assert.equal(o.status, 200, `nginx answered ${o.status} for a view: ${o.text}`);
      return ['succeeded', 'failed', 'interrupted', 'cancelled'].includes(t.json.status) ? t.json : null;
    }, 300000);
    assert.equal(done.status, 'succeeded', JSON.stringify(done));
    assert.ok(done.attempts >= 2, `run again after the kill: ${JSON.stringify(done)}`);
    const finalOwner = psql(url, `SELECT owner FROM tasks WHERE status = 'succeeded' AND kind = 'import' ORDER BY id DESC LIMIT 1`);
    assert.notEqual(Number(finalOwner.split(':')[1]), pid, 'finished by another instance');
    assert.equal(Number(psql(url, "SELECT count(*) FROM payments WHERE id LIKE 'KILL%'")), rows, 'every row once');
    // the survivors agree with each other and with nginx
    const figures = await Promise.all([...servers, viaNginx].map(async (s) => (await api(s, tok, q)).json.data));
    for (const f of figures.slice(1)) assert.deepEqual(f, figures[0]);
    console.log(`scale: task ${id} killed on pid ${pid}, finished by ${finalOwner} after ${done.attempts} attempts; ` +
      `nginx answered ${asked * 2} requests meanwhile, all 200`);
  } finally {
    if (nginx) await nginx.stop();
    for (const s of servers) await s.stop();
    if (redis) await redis.stop();
    pg.stop();
    cleanup(root);
  }
});
