// Business alerts (src/notify): a rule over a dashboard figure, a write
// through the API that crosses it, and the signed webhook that follows
// within two seconds; no second firing while the figure stays on the bad
// side, a resolution when it comes back; durations on the timer; a failing
// receiver that never slows writes; validation and isolation between orgs;
// e-mail through an SMTP sink, and a scheduled report that arrives there as
// a PDF attachment after running as an ordinary task.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { createHmac } from 'node:crypto';
import { startServer, api, token, tempDir, cleanup, brisk, briskRun } from './lib/harness.mjs';

const JSONH = { 'content-type': 'application/json' };
let dir, srv, tok, other, hook, smtp;

// A webhook receiver on 127.0.0.1 that records every request.
// With hold, calls get no answer until release(): a receiver that hangs.
function receiver(status = 200, { hold = false } = {}) {
  const got = [];
  const waiters = [];
  const held = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      got.push({ headers: req.headers, body });
      if (hold) held.push(res);
      else res.writeHead(status).end();
      for (const w of waiters.splice(0)) w();
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    url: `http://127.0.0.1:${server.address().port}/hook`,
    got,
    // resolves when n requests arrived, rejects after ms
    async wait(n, ms = 5000) {
      const end = Date.now() + ms;
      while (got.length < n) {
        if (Date.now() > end) throw new Error(`${got.length} of ${n} webhook calls after ${ms} ms`);
        await new Promise((r) => { waiters.push(r); setTimeout(r, 100); });
      }
    },
    release() {
      hold = false;
      for (const res of held.splice(0)) res.writeHead(status).end();
    },
    close: () => new Promise((r) => server.close(r)),
  })));
}

// A minimal SMTP server on 127.0.0.1 that keeps every message.
function smtpSink() {
  const mails = [];
  const server = net.createServer((sock) => {
    sock.write('220 sink ESMTP\r\n');
    let buf = '', inData = false, cur = { to: [] };
    sock.on('data', (d) => {
      buf += d.toString('latin1');
      for (;;) {
        if (inData) {
          const end = buf.indexOf('\r\n.\r\n');
          if (end < 0) return;
          cur.data = buf.slice(0, end);
          buf = buf.slice(end + 5);
          inData = false;
          mails.push(cur);
          cur = { to: [] };
          sock.write('250 queued\r\n');
          continue;
        }
        const nl = buf.indexOf('\r\n');
        if (nl < 0) return;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        const cmd = line.slice(0, 4).toUpperCase();
        if (cmd === 'EHLO' || cmd === 'HELO') sock.write('250-sink\r\n250 8BITMIME\r\n');
        else if (cmd === 'MAIL') { cur.from = line; sock.write('250 ok\r\n'); }
        else if (cmd === 'RCPT') { cur.to.push(line); sock.write('250 ok\r\n'); }
        else if (cmd === 'DATA') { inData = true; sock.write('354 go ahead\r\n'); }
        else if (cmd === 'QUIT') sock.end('221 bye\r\n');
        else sock.write('250 ok\r\n');
      }
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    url: `smtp://127.0.0.1:${server.address().port}`,
    mails,
    async wait(n, ms = 5000) {
      const end = Date.now() + ms;
      while (mails.length < n) {
        if (Date.now() > end) throw new Error(`${mails.length} of ${n} mails after ${ms} ms`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    release() {
      hold = false;
      for (const res of held.splice(0)) res.writeHead(status).end();
    },
    close: () => new Promise((r) => server.close(r)),
  })));
}

const post = (t, p, body, method = 'POST') =>
  api(srv, t, p, { method, headers: JSONH, body: JSON.stringify(body) });

before(async () => {
  dir = tempDir('brisk-alerts-');
  tok = token(`${dir}/data`, 'shop');
  other = token(`${dir}/data`, 'other');
  hook = await receiver();
  smtp = await smtpSink();
  srv = await startServer(`${dir}/data`, ['--set', 'notify.tick_seconds=1', '--set', 'notify.retry_seconds=1',
    '--set', `notify.smtp_url=${smtp.url}`, '--set', 'notify.smtp_from=brisk@shop.example']);
});

after(async () => {
  if (srv) await srv.stop();
  if (hook) await hook.close();
  if (smtp) await smtp.close();
  if (dir) cleanup(dir);
});

describe('a cash alert over the API', () => {
  let rule, secret;

  test('the figures a rule can watch, with their values now', async () => {
    const r = await api(srv, tok, '/api/v1/alert-figures');
    assert.equal(r.status, 200, r.text);
    const names = r.json.data.items.map((f) => f.name);
    for (const n of ['cash_balance', 'overdue_60_count', 'dso', 'largest_unmatched_payment'])
      assert.ok(names.includes(n), n);
    assert.equal(r.json.data.items.find((f) => f.name === 'cash_balance').value, 0);
  });

  test('a rule is created (money thresholds as decimal text) and starts ok', async () => {
    assert.equal((await post(tok, '/api/v1/payments', { id: 'p1', date: '2026-10-01', payer: 'A', amount: 100000 })).status, 200);
    const r = await post(tok, '/api/v1/alert-rules', {
      name: 'Low cash', figure: 'cash_balance', op: '<', threshold: '200.00', severity: 'critical', webhooks: [hook.url],
      emails: ['cfo@shop.example'],
    });
    assert.equal(r.status, 201, r.text);
    rule = r.json.data;
    secret = rule.webhook_secret;
    assert.match(secret, /^[0-9a-f]{64}$/);
    assert.equal(rule.threshold, 20000);
    assert.equal(rule.value, 100000);
    assert.equal(rule.state, 'ok');
    // the secret is shown once
    assert.equal((await api(srv, tok, `/api/v1/alert-rules/${rule.id}`)).json.data.webhook_secret, undefined);
  });

  // (how soon it fires is measured by bench/alerts.sh, not asserted here)
  test('a write that crosses the line fires one signed webhook', async () => {
    const w = await post(tok, '/api/v1/costs', { id: 'c1', date: '2026-10-02', category: 'Rent', amount: 90000 });
    assert.equal(w.status, 200, w.text);
    await hook.wait(1, 60000);
    const call = hook.got[0];
    const body = JSON.parse(call.body);
    assert.equal(body.type, 'alert');
    assert.equal(body.event, 'fired');
    assert.equal(body.org, 'shop');
    assert.equal(body.rule.value, 10000);
    assert.equal(body.rule.state, 'firing');
    assert.match(body.message, /Low cash: cash balance is 100\.00/);
    const m = call.headers['x-brisk-signature'].match(/^t=(\d+),sha256=([0-9a-f]{64})$/);
    assert.ok(m, call.headers['x-brisk-signature']);
    const want = createHmac('sha256', secret).update(`${m[1]}.${call.body}`).digest('hex');
    assert.equal(m[2], want, 'HMAC-SHA256 of "timestamp.body" with the org secret');
    await smtp.wait(1, 60000);
    const mail = smtp.mails[0];
    assert.match(mail.from, /brisk@shop\.example/);
    assert.deepEqual(mail.to, ['RCPT TO:<cfo@shop.example>']);
    assert.match(mail.data, /Subject: \[brisk\] FIRING critical: Low cash/);
    assert.match(mail.data, /cash balance is 100\.00 \(< 200\.00\)/);
  });

  test('a second write that stays below does not fire again', async () => {
    assert.equal((await post(tok, '/api/v1/costs', { id: 'c2', date: '2026-10-03', category: 'Rent', amount: 1000 })).status, 200);
    await new Promise((r) => setTimeout(r, 2500)); // two timer rounds too
    assert.equal(hook.got.length, 1);
    const r = await api(srv, tok, `/api/v1/alert-rules/${rule.id}`);
    assert.equal(r.json.data.state, 'firing');
    assert.equal(r.json.data.value, 9000);
  });

  test('a write back above resolves it', async () => {
    assert.equal((await post(tok, '/api/v1/payments', { id: 'p2', date: '2026-10-04', payer: 'B', amount: 50000 })).status, 200);
    await hook.wait(2, 60000);
    const body = JSON.parse(hook.got[1].body);
    assert.equal(body.event, 'resolved');
    assert.equal(body.rule.state, 'ok');
  });

  test('history and delivery log', async () => {
    const h = await api(srv, tok, '/api/v1/alert-events');
    assert.equal(h.status, 200, h.text);
    assert.deepEqual(h.json.data.items.map((e) => e.event), ['resolved', 'fired']);
    assert.equal(h.json.data.items[1].value, 10000);
    await smtp.wait(2, 60000);
    // the receiver has answered; the outcome is recorded just after
    let d;
    for (const end = Date.now() + 60000; Date.now() < end;) {
      d = await api(srv, tok, '/api/v1/alert-deliveries');
      if (d.json.data.items.every((x) => x.state === 'sent')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(d.json.data.items.filter((x) => x.channel === 'webhook').map((x) => [x.state, x.last_status]),
      [['sent', 200], ['sent', 200]]);
    assert.deepEqual(d.json.data.items.filter((x) => x.channel === 'email').map((x) => x.target),
      ['cfo@shop.example', 'cfo@shop.example']);
  });
});

describe('durations, failing receivers, validation, isolation', () => {
  test('a rule "for 2s" fires on the timer once the condition held that long', async () => {
    const r = await post(tok, '/api/v1/alert-rules', { figure: 'cash_balance', op: '>', threshold: 100, for: '2s' });
    assert.equal(r.status, 201, r.text);
    const id = r.json.data.id;
    let state;
    const end = Date.now() + 60000;
    const seen = new Set();
    while (Date.now() < end) {
      state = (await api(srv, tok, `/api/v1/alert-rules/${id}`)).json.data.state;
      seen.add(state);
      if (state === 'firing') break;
      await new Promise((res) => setTimeout(res, 200));
    }
    assert.equal(state, 'firing');
    assert.ok(seen.has('pending'), [...seen].join());
    assert.equal((await api(srv, tok, `/api/v1/alert-rules/${id}`, { method: 'DELETE' })).status, 204);
  });

  // The receiver hangs until the write has been answered: a write that
  // waited for the delivery would wait until the guard gives up.
  test('a receiver that hangs, then refuses, never holds a write and is retried', async () => {
    const bad = await receiver(500, { hold: true });
    const r = await post(tok, '/api/v1/alert-rules', { figure: 'unmatched_payments_count', op: '>=', threshold: 3, webhooks: [bad.url] });
    assert.equal(r.status, 201, r.text);
    let guard;
    const stuck = new Promise((res) => { guard = setTimeout(() => res('stuck'), 120000); });
    const w = await Promise.race([post(tok, '/api/v1/payments', { id: 'p3', date: '2026-10-05', payer: 'C', amount: 100 }), stuck]);
    clearTimeout(guard);
    assert.notEqual(w, 'stuck', 'the write waited for the hung receiver');
    assert.equal(w.status, 200);
    bad.release();
    await bad.wait(2, 60000); // the first attempt and a retry
    const d = await api(srv, tok, '/api/v1/alert-deliveries?limit=1');
    assert.equal(d.json.data.items[0].last_status, 500);
    assert.match(d.json.data.items[0].last_error, /answered 500/);
    await bad.close();
  });

  test('bad rules are refused with the reason', async () => {
    const cases = [
      [{ figure: 'nope', op: '<', threshold: 1 }, /figure must be one of/],
      [{ figure: 'cash_balance', op: '=', threshold: 1 }, /op must be/],
      [{ figure: 'cash_balance', op: '<' }, /threshold is required/],
      [{ figure: 'cash_balance', op: '<', threshold: '1.234' }, /at most 2 decimals/],
      [{ figure: 'cash_balance', op: '<', threshold: 1, webhooks: ['ftp://x'] }, /webhooks\[0\]/],
      [{ figure: 'cash_balance', op: '<', threshold: 1, emails: ['a@b.c\r\nBcc: x@y.z'] }, /emails\[0\]/],
      [{ figure: 'cash_balance', op: '<', threshold: 1, for: '2y' }, /for is a duration/],
      [{ figure: 'cash_balance', op: '<', threshold: 1, colour: 'red' }, /unknown field 'colour'/],
    ];
    for (const [body, re] of cases) {
      const r = await post(tok, '/api/v1/alert-rules', body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.match(r.json.detail, re);
    }
    assert.equal((await api(srv, tok, '/api/v1/alert-rules', { method: 'POST', headers: JSONH, body: '{' })).status, 400);
  });

  test('another organisation sees none of it', async () => {
    const mine = (await api(srv, tok, '/api/v1/alert-rules')).json.data.items;
    assert.ok(mine.length >= 1);
    assert.deepEqual((await api(srv, other, '/api/v1/alert-rules')).json.data.items, []);
    assert.deepEqual((await api(srv, other, '/api/v1/alert-events')).json.data.items, []);
    assert.equal((await api(srv, other, `/api/v1/alert-rules/${mine[0].id}`)).status, 404);
    assert.equal((await post(other, `/api/v1/alert-rules/${mine[0].id}`, { enabled: false }, 'PUT')).status, 404);
    assert.equal((await api(srv, other, `/api/v1/alert-rules/${mine[0].id}`, { method: 'DELETE' })).status, 404);
  });
});

describe('scheduled reports', () => {
  test('a monthly report runs as a task and arrives by e-mail with the PDF attached', async () => {
    const before = smtp.mails.length;
    const c = await post(tok, '/api/v1/schedules', {
      name: 'Monthly report', kind: 'report', params: { month: '2026-10' }, every: 'monthly:2', at: '07:30',
      emails: ['boss@shop.example'], webhooks: [hook.url],
    });
    assert.equal(c.status, 201, c.text);
    const s = c.json.data;
    assert.equal(s.every, 'monthly:2');
    assert.match(s.next_run, /-02T07:30:00Z$/);
    assert.equal(s.last_run, null);
    const hooks = hook.got.length;
    const run = await api(srv, tok, `/api/v1/schedules/${s.id}/run`, { method: 'POST' });
    assert.equal(run.status, 202, run.text);
    await smtp.wait(before + 1, 60000);
    const mail = smtp.mails[before];
    assert.deepEqual(mail.to, ['RCPT TO:<boss@shop.example>']);
    assert.match(mail.data, /Subject: \[brisk\] Monthly report: report-2026-10\.pdf/);
    assert.match(mail.data, /Content-Type: application\/pdf/);
    assert.match(mail.data, /JVBERi0/, 'a base64 PDF ("%PDF-")');
    await hook.wait(hooks + 1, 60000);
    const ev = JSON.parse(hook.got[hooks].body);
    assert.equal(ev.type, 'schedule');
    assert.equal(ev.event, 'succeeded');
    assert.equal(ev.file, 'report-2026-10.pdf');
    const res = await api(srv, tok, ev.result_url);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/pdf');
    // visible in the task list, and the schedule says it ran
    const tasks = await api(srv, tok, '/api/v1/tasks?kind=report');
    assert.ok(tasks.json.items.some((t) => t.id === ev.task), JSON.stringify(tasks.json).slice(0, 300));
    const after = (await api(srv, tok, `/api/v1/schedules/${s.id}`)).json.data;
    assert.notEqual(after.last_run, null);
    assert.equal(after.next_run, s.next_run);
  });

  test('bad schedules are refused; other orgs see none', async () => {
    const cases = [
      [{ kind: 'report', every: 'monthly:31' }, /every must be/],
      [{ kind: 'report', every: 'hourly' }, /every must be/],
      [{ kind: 'import', every: 'daily' }, /kind must be report/],
      [{ kind: 'report', every: 'daily', at: '25:00' }, /at is a time/],
      [{ kind: 'report', every: 'daily', params: { month: 'soon' } }, /params: month must be YYYY-MM/],
      [{ kind: 'export', every: 'daily', params: { kind: 'nope' } }, /params: /],
      [{ every: 'daily' }, /kind is required/],
    ];
    for (const [body, re] of cases) {
      const r = await post(tok, '/api/v1/schedules', body);
      assert.equal(r.status, 400, JSON.stringify(body) + r.text);
      assert.match(r.json.detail, re);
    }
    const mine = (await api(srv, tok, '/api/v1/schedules')).json.data.items;
    assert.equal(mine.length, 1);
    assert.deepEqual((await api(srv, other, '/api/v1/schedules')).json.data.items, []);
    assert.equal((await api(srv, other, `/api/v1/schedules/${mine[0].id}`)).status, 404);
    assert.equal((await api(srv, other, `/api/v1/schedules/${mine[0].id}/run`, { method: 'POST' })).status, 404);
    assert.equal((await api(srv, tok, `/api/v1/schedules/${mine[0].id}`, { method: 'DELETE' })).status, 204);
  });
});

describe('brisk alert (CLI)', () => {
  let cdir;
  before(() => {
    cdir = tempDir('brisk-alert-cli-');
    brisk(['org', 'set', '--org', 'cli', '--opening-balance', '500.00', '--data', `${cdir}/data`]);
  });
  after(() => cleanup(cdir));
  const run = (...a) => briskRun(['alert', ...a, '--data', `${cdir}/data`]);

  test('add, list, figures, check, history, disable, rm', () => {
    const add = run('add', '--org', 'cli', '--figure', 'cash_balance', '--op', '<', '--threshold', '1000.00',
      '--name', 'Below 1000', '--webhook', 'http://127.0.0.1:9/hook', '--for', '0');
    assert.equal(add.code, 0, add.stderr);
    const rule = JSON.parse(add.stdout);
    assert.equal(rule.threshold, 100000);
    assert.match(run('figures', '--org', 'cli').stdout, /^cash_balance +500\.00 +cash balance$/m);
    const check = run('check', '--org', 'cli');
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stdout, /^1 rule fired or resolved$/m);
    assert.match(run('check', '--org', 'cli').stdout, /^0 rules fired or resolved$/m);
    const listed = JSON.parse(run('list', '--org', 'cli').stdout.trim());
    assert.equal(listed.state, 'firing');
    assert.equal(listed.value, 50000);
    const hist = JSON.parse(run('history', '--org', 'cli').stdout);
    assert.equal(hist.items[0].event, 'fired');
    assert.match(run('secret', '--org', 'cli').stdout, /^[0-9a-f]{64}$/m);
    assert.equal(JSON.parse(run('disable', '--org', 'cli', '--id', String(rule.id)).stdout).enabled, false);
    assert.match(run('rm', '--org', 'cli', '--id', String(rule.id)).stdout, /deleted rule 1/);
    assert.equal(run('list', '--org', 'cli').stdout, '');
  });

  test('errors name the problem', () => {
    const cases = [
      [['add', '--org', 'cli', '--figure', 'cash', '--op', '<', '--threshold', '1'], 2, /figure must be one of/],
      [['add', '--org', 'cli', '--figure', 'dso', '--op', '<', '--threshold', '4.55'], 2, /at most 1 decimals/],
      [['rm', '--org', 'cli'], 2, /needs --id/],
      [['rm', '--org', 'cli', '--id', '99'], 1, /no rule 99/],
      [['list', '--org', 'nobody'], 1, /nobody|no such organisation/],
      [['list', '--org', 'cli', '--figure', 'dso'], 2, /go with 'add'/],
      [['frobnicate', '--org', 'cli'], 2, /unknown subcommand 'frobnicate'/],
    ];
    for (const [args, code, re] of cases) {
      const r = run(...args);
      assert.equal(r.code, code, args.join(' ') + r.stderr);
      assert.match(r.stderr, re);
    }
    assert.match(briskRun(['alert', '--help']).stdout, /usage: brisk alert list/);
  });
});

describe('performance alerts reach the operator', () => {
  test('a monitor alert is posted, signed, to notify.operator_webhook', async () => {
    const op = await receiver();
    const odir = tempDir('brisk-alerts-op-');
    const s = await startServer(`${odir}/data`, ['--set', 'monitor.interval_seconds=1', '--set', 'alerts.rss_warn_bytes=1m',
      '--set', 'alerts.rss_critical_bytes=1g', '--set', `notify.operator_webhook=${op.url}`]);
    try {
      await op.wait(1, 60000);
      const body = JSON.parse(op.got[0].body);
      assert.equal(body.kind, 'rss');
      assert.equal(body.state, 'firing');
      assert.match(op.got[0].headers['x-brisk-signature'], /^t=\d+,sha256=[0-9a-f]{64}$/);
      await s.stop();
      const secret = brisk(['alert', 'secret', '--operator', '--data', `${odir}/data`]).trim();
      const [, t, sig] = op.got[0].headers['x-brisk-signature'].match(/^t=(\d+),sha256=(.*)$/);
      assert.equal(createHmac('sha256', secret).update(`${t}.${op.got[0].body}`).digest('hex'), sig);
    } finally {
      await s.stop();
      await op.close();
      cleanup(odir);
    }
  });
});
