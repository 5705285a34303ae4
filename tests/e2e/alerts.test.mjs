// Business alerts (src/notify): a rule over a dashboard figure, a write
// through the API that crosses it, and the signed webhook that follows
// within two seconds; no second firing while the figure stays on the bad
// side, a resolution when it comes back; durations on the timer; a failing
// receiver that never slows writes; validation and isolation between orgs.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createHmac } from 'node:crypto';
import { startServer, api, token, tempDir, cleanup } from './lib/harness.mjs';

const JSONH = { 'content-type': 'application/json' };
let dir, srv, tok, other, hook;

// A webhook receiver on 127.0.0.1 that records every request.
function receiver(status = 200) {
  const got = [];
  const waiters = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      got.push({ headers: req.headers, body, at: Date.now() });
      res.writeHead(status).end();
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
  srv = await startServer(`${dir}/data`, ['--set', 'notify.tick_seconds=1', '--set', 'notify.retry_seconds=1']);
});

after(async () => {
  if (srv) await srv.stop();
  if (hook) await hook.close();
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

  test('a write that crosses the line fires one signed webhook within 2 s', async () => {
    const t0 = Date.now();
    const w = await post(tok, '/api/v1/costs', { id: 'c1', date: '2026-10-02', category: 'Rent', amount: 90000 });
    assert.equal(w.status, 200, w.text);
    await hook.wait(1, 2000);
    const call = hook.got[0];
    assert.ok(call.at - t0 < 2000, `${call.at - t0} ms`);
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
    await hook.wait(2, 2000);
    const body = JSON.parse(hook.got[1].body);
    assert.equal(body.event, 'resolved');
    assert.equal(body.rule.state, 'ok');
  });

  test('history and delivery log', async () => {
    const h = await api(srv, tok, '/api/v1/alert-events');
    assert.equal(h.status, 200, h.text);
    assert.deepEqual(h.json.data.items.map((e) => e.event), ['resolved', 'fired']);
    assert.equal(h.json.data.items[1].value, 10000);
    const d = await api(srv, tok, '/api/v1/alert-deliveries');
    assert.deepEqual(d.json.data.items.map((x) => [x.channel, x.state, x.last_status]),
      [['webhook', 'sent', 200], ['webhook', 'sent', 200]]);
  });
});

describe('durations, failing receivers, validation, isolation', () => {
  test('a rule "for 2s" fires on the timer once the condition held that long', async () => {
    const r = await post(tok, '/api/v1/alert-rules', { figure: 'cash_balance', op: '>', threshold: 100, for: '2s' });
    assert.equal(r.status, 201, r.text);
    const id = r.json.data.id;
    let state;
    const end = Date.now() + 8000;
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

  test('a receiver that refuses is retried and never slows a write', async () => {
    const bad = await receiver(500);
    const r = await post(tok, '/api/v1/alert-rules', { figure: 'unmatched_payments_count', op: '>=', threshold: 3, webhooks: [bad.url] });
    assert.equal(r.status, 201, r.text);
    const t0 = Date.now();
    const w = await post(tok, '/api/v1/payments', { id: 'p3', date: '2026-10-05', payer: 'C', amount: 100 });
    assert.equal(w.status, 200);
    assert.ok(Date.now() - t0 < 1000);
    await bad.wait(2, 8000); // the first attempt and a retry
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
