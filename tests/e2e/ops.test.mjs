// Operating brisk as a service: `brisk config check` (effective settings,
// origins, masked secrets, every error with a suggestion) and the SIGHUP
// reload (reloadable settings take effect on a running server without
// dropping an open keep-alive connection; the others are reported as
// needing a restart; a broken file leaves the running settings alone).
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { writeFileSync, readFileSync, renameSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { briskRun, tempDir, token, operatorToken, startServer, cleanup } from './lib/harness.mjs';

describe('brisk config check', () => {
  let dir;
  before(() => { dir = tempDir('brisk-cfg-'); });
  after(() => cleanup(dir));

  test('prints every setting with its value and origin, secrets masked', () => {
    const file = path.join(dir, 'ok.ini');
    writeFileSync(file, `[server]\n# the port\nport = 9091\n[cache]\nredis_url = redis://app:s3cret@127.0.0.1:6379/2\n[store]\ndata_dir = ${dir}/data\n`);
    const r = briskRun(['config', 'check', '--config', file, '--set', 'server.threads=3'],
      { env: { ...process.env, BRISK_PORT: '', BRISK_HOST: '0.0.0.0' } });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const line = (k) => r.stdout.split('\n').find((l) => l.startsWith(k + ' '));
    assert.match(line('server.port'), new RegExp(`9091 +${file.replace(/[.]/g, '\\.')}:3$`));
    assert.match(line('server.host'), /0\.0\.0\.0 +env BRISK_HOST$/);
    assert.match(line('server.threads'), /3 +command line$/);
    assert.match(line('server.workers'), /0 +default$/);
    assert.match(line('cache.redis_url'), /redis:\/\/app:\*\*\*@127\.0\.0\.1:6379\/2 /);
    assert.ok(!r.stdout.includes('s3cret'), 'the password is printed');
    assert.match(line('alerts.api_p95_warn_ms'), /\(reloadable\)$/);
    assert.match(r.stdout, /configuration OK/);
  });

  test('reports every error, unknown keys with the closest known one', () => {
    const file = path.join(dir, 'bad.ini');
    writeFileSync(file, '[server]\nprot = 80\nport = eighty\njust words\n[alerts]\ncpu_warn_percnt = 50\n');
    const r = briskRun(['config', 'check', '--config', file, '-q'], { env: { ...process.env, BRISK_PROT: '1' } });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /bad\.ini:2: unknown setting 'server\.prot' \(did you mean server\.port\?\)/);
    assert.match(r.stdout, /bad\.ini:3: bad value 'eighty' for server\.port/);
    assert.match(r.stdout, /bad\.ini:4: syntax error/);
    assert.match(r.stdout, /bad\.ini:6: unknown setting 'alerts\.cpu_warn_percnt' \(did you mean alerts\.cpu_warn_percent\?\)/);
    assert.match(r.stdout, /warning: environment variable BRISK_PROT is not a brisk setting/);
    assert.match(r.stdout, /4 problems found/);
    assert.ok(!r.stdout.includes('SETTING'), '--quiet prints the problems only');
  });

  test('checks the environment: data directory, bad variables', () => {
    const r = briskRun(['config', 'check', '-q'], { env: { ...process.env, BRISK_DATA: '/nonexistent/brisk/data', BRISK_PORT: 'x' } });
    assert.equal(r.code, 1);
    assert.match(r.stdout, /bad value 'x' for server\.port \(from BRISK_PORT\)/);
    assert.match(r.stdout, /store\.data_dir: '\/nonexistent\/brisk\/data' does not exist and cannot be created/);
  });

  test('a missing file and bad usage', () => {
    assert.match(briskRun(['config', 'check', '--config', path.join(dir, 'nope.ini')]).stdout, /nope\.ini: cannot read/);
    assert.equal(briskRun(['config', 'frob']).code, 2);
    assert.equal(briskRun(['config']).code, 2);
    assert.match(briskRun(['config', 'check', '--help']).stdout, /usage: brisk config check/);
  });
});

describe('SIGHUP reload', () => {
  let dir, data, tok, srv, file;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const ini = (warn, level, queue, extra = '') =>
    `[server]\nlog_level = ${level}\naccess_log = ${dir}/access.log\n[tasks]\nqueue = ${queue}\n` +
    `[alerts]\napi_p95_warn_ms = ${warn}\n${extra}`;

  // One request on the kept-alive connection: the body and the socket used.
  const get = (pathq) => new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: srv.port, path: pathq, agent, headers: { authorization: `Bearer ${tok}` } }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, json: JSON.parse(body), socket: req.socket }));
    });
    req.on('error', reject);
  });
  const logged = async (re, from) => {
    for (let i = 0; i < 100; i++) {
      if (re.test(srv.stderr().slice(from))) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.fail(`the server never logged ${re}:\n${srv.stderr().slice(from)}`);
  };

  before(async () => {
    dir = tempDir('brisk-hup-');
    data = path.join(dir, 'data');
    mkdirSync(data);
    tok = operatorToken(data, 'acme'); // the alerts are the operator's
    file = path.join(dir, 'brisk.ini');
    writeFileSync(file, ini(200, 'info', 100));
    srv = await startServer(data, ['--config', file]);
  });
  after(async () => {
    agent.destroy();
    if (srv) await srv.stop();
    cleanup(dir);
  });

  test('reloadable settings apply on the open connection; the others wait for a restart', async () => {
    const a = await get('/api/v1/alerts');
    assert.equal(a.json.data.thresholds.api_p95_ms.warn, 200);
    writeFileSync(file, ini(123, 'debug', 77, 'cpu_warn_percent = 42\n'));
    // log rotation: the access log is moved away and must be reopened
    renameSync(path.join(dir, 'access.log'), path.join(dir, 'access.log.1'));
    const mark = srv.stderr().length;
    srv.child.kill('SIGHUP');
    await logged(/reload: done: 3 settings applied, 1 needs a restart/, mark);
    const log = srv.stderr().slice(mark);
    assert.match(log, /alerts\.api_p95_warn_ms = 123 \(was 200\)/);
    assert.match(log, /server\.log_level = debug \(was info\)/);
    assert.match(log, /tasks\.queue = 77 needs a restart; 100 stays in force/);
    const b = await get('/api/v1/alerts');
    assert.equal(b.socket, a.socket, 'the keep-alive connection was dropped');
    assert.equal(b.status, 200);
    assert.equal(b.json.data.thresholds.api_p95_ms.warn, 123);
    assert.equal(b.json.data.thresholds.cpu_percent.warn, 42);
    assert.equal(srv.child.exitCode, null);
    // the request after the reload went to the reopened file
    assert.match(readFileSync(path.join(dir, 'access.log'), 'utf8'), /GET 200 .*\/api\/v1\/alerts/);
    assert.equal(readFileSync(path.join(dir, 'access.log.1'), 'utf8').trim().split('\n').length, 1);
  });

  test('a broken file is reported and the running settings stay', async () => {
    writeFileSync(file, ini(50, 'info', 100, 'colour = blue\n'));
    const mark = srv.stderr().length;
    srv.child.kill('SIGHUP');
    await logged(/reload: .*unknown setting 'alerts\.colour'.*the running settings stay/, mark);
    const c = await get('/api/v1/alerts');
    assert.equal(c.json.data.thresholds.api_p95_ms.warn, 123);
  });
});
