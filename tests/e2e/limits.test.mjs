// Rate limits, admission control, TLS and security headers (issue 12
// items 5-7; issue 22 item 6's admission part): 429 problem+json with
// Retry-After and RateLimit-* per token and class, refused-token floods
// per address, one org's flood of uncached requests not failing another
// org's, HTTPS with HTTP/2 by ALPN on a certificate the test makes.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { startServer, api, token, tempDir, cleanup, dataset, briskRun } from './lib/harness.mjs';

describe('rate limits', () => {
  let dir, srv, tokA, tokB;
  before(async () => {
    dir = tempDir();
    tokA = token(`${dir}/data`, 'acme');
    tokB = token(`${dir}/data`, 'acme');
    srv = await startServer(`${dir}/data`, [
      '--set', 'ratelimit.views_burst=5', '--set', 'ratelimit.views_per_minute=1',
      '--set', 'ratelimit.bad_tokens_burst=4', '--set', 'ratelimit.bad_tokens_per_minute=1',
    ]);
  });
  after(async () => { await srv?.stop(); cleanup(dir); });

  test('a token past its burst gets 429 with Retry-After and RateLimit headers; others do not', async () => {
    for (let i = 0; i < 5; i++) {
      const r = await api(srv, tokA, '/api/v1/overview');
      assert.equal(r.status, 200, r.text);
      assert.equal(r.headers.get('ratelimit-limit'), '5');
      assert.equal(r.headers.get('ratelimit-remaining'), String(4 - i));
      assert.match(r.headers.get('ratelimit-policy'), /^5;w=300;name="views"$/);
    }
    const r = await api(srv, tokA, '/api/v1/overview');
    assert.equal(r.status, 429, r.text);
    assert.match(r.headers.get('content-type'), /application\/problem\+json/);
    assert.equal(r.json.status, 429);
    assert.match(r.json.detail, /too many views requests/);
    assert.ok(Number(r.headers.get('retry-after')) >= 1);
    assert.equal(r.headers.get('ratelimit-remaining'), '0');
    // a 304 costs a request too, but other classes and other tokens have their own
    assert.equal((await api(srv, tokA, '/api/v1/costs?limit=1')).status, 200);
    assert.equal((await api(srv, tokB, '/api/v1/overview')).status, 200);
  });

  test('a flood of unknown tokens from one address is answered 429 before any lookup', async () => {
    const seen = [];
    for (let i = 0; i < 8; i++) {
      const r = await api(srv, 'brisk_' + String(i).repeat(43).slice(0, 43), '/api/v1/overview');
      seen.push(r.status);
      if (r.status === 429) assert.ok(Number(r.headers.get('retry-after')) >= 1);
    }
    assert.deepEqual(seen.slice(0, 4), [401, 401, 401, 401]);
    assert.deepEqual(seen.slice(4), [429, 429, 429, 429]);
    // no token at all counts too
    assert.equal((await api(srv, null, '/api/v1/overview')).status, 429);
    // a good token the server knows still passes from the same address
    assert.equal((await api(srv, tokB, '/api/v1/overview')).status, 200);
  });

  test('brisk config check knows the keys', () => {
    const r = briskRun(['config', 'check', '--set', 'ratelimit.views_burst=9', '--set', 'admission.org_concurrency=2',
      '--set', 'server.hsts_max_age=60']);
    assert.equal(r.code, 0, r.stderr);
    for (const k of ['ratelimit.views_per_minute', 'ratelimit.imports_burst', 'ratelimit.bad_tokens_per_minute',
      'ratelimit.signin_free_failures', 'admission.queue', 'admission.org_queue', 'server.tls_cert', 'server.tls_key'])
      assert.match(r.stdout, new RegExp(k.replace('.', '\\.')));
    const bad = briskRun(['config', 'check', '--set', 'ratelimit.views_brust=9']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stdout + bad.stderr, /did you mean ratelimit\.views_burst/);
  });
});

describe('admission: one org flooding uncached requests', () => {
  let ds, srv, tokOther;
  before(async () => {
    ds = dataset({ scale: 0.1 });
    tokOther = token(ds.data, 'beta');
    srv = await startServer(ds.data, ['--workers', '2', '--set', 'admission.org_concurrency=1',
      '--set', 'admission.org_queue=2', '--set', 'ratelimit.views_per_minute=0', '--set', 'ratelimit.lists_per_minute=0']);
  });
  after(async () => { await srv?.stop(); cleanup(ds.root); });

  test('its excess is refused 503 + Retry-After; the other org is answered', async () => {
    // 40 distinct (so uncached) ranges at once, and searches that scan
    const flood = [];
    for (let i = 0; i < 40; i++) {
      const from = new Date(Date.UTC(2025, 0, 1 + i)).toISOString().slice(0, 10);
      flood.push(api(srv, ds.token, i % 2 ? `/api/v1/overview?from=${from}&to=2026-10-31` : `/api/v1/payments?q=${'ab'[i % 2]}${i % 10}&limit=50`));
    }
    // the other org asks one at a time (its own share is 1 running + 2 queued)
    const other = (async () => {
      const out = [];
      for (let i = 0; i < 5; i++) out.push(await api(srv, tokOther, `/api/v1/overview?from=2026-0${1 + i}-01&to=2026-10-31`));
      return out;
    })();
    const res = await Promise.all(flood);
    for (const r of res) {
      assert.ok(r.status === 200 || r.status === 503, `${r.status} ${r.text.slice(0, 200)}`);
      if (r.status === 503) {
        assert.ok(Number(r.headers.get('retry-after')) >= 1);
        assert.match(r.json.detail, /too many requests waiting/);
      }
    }
    for (const r of await other) assert.equal(r.status, 200, r.text);
    console.log(`# flood: ${res.filter((r) => r.status === 200).length} answered, ${res.filter((r) => r.status === 503).length} refused 503`);
  });

  test('signed-in browsers count for their own organisation, not one slot shared by every session', async () => {
    const pw = 'flood-pass-123';
    for (const [name, org] of [['flood.acme', 'acme'], ['calm.beta', 'beta']])
      assert.equal(briskRun(['user', 'add', name, '--org', org, '--role', 'viewer', '--data', ds.data], { input: pw + '\n' }).code, 0);
    const signIn = async (user) => {
      const res = await fetch(srv.base + '/api/v1/session', {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ user, password: pw }) });
      assert.equal(res.status, 200, await res.text());
      return (res.headers.get('set-cookie') || '').split(';')[0];
    };
    const flooder = await signIn('flood.acme'), calm = await signIn('calm.beta');
    const get = (cookie, pq) => api(srv, null, pq, { headers: { cookie } });
    // lists (searches that scan) enter the admission pool before the
    // session is checked: the flooder's fill its organisation's queue
    const flood = [];
    for (let i = 0; i < 40; i++) flood.push(get(flooder, `/api/v1/payments?q=${'ab'[i % 2]}${i % 10}&limit=50`));
    const other = [];
    for (let i = 0; i < 5; i++) other.push(await get(calm, `/api/v1/payments?q=c${i}&limit=50`));
    const res = await Promise.all(flood);
    for (const r of res) assert.ok(r.status === 200 || r.status === 503, `${r.status} ${r.text.slice(0, 200)}`);
    for (const r of other) assert.equal(r.status, 200, r.text);
    console.log(`# session flood: ${res.filter((r) => r.status === 200).length} answered, ${res.filter((r) => r.status === 503).length} refused 503`);
  });
});

describe('per-address limits over IPv6 (listening on ::, which takes IPv4 clients too)', () => {
  let dir, srv, v6;
  before(async () => {
    dir = tempDir();
    token(`${dir}/data`, 'acme');
    srv = await startServer(`${dir}/data`, ['--host', '::',
      '--set', 'ratelimit.bad_tokens_burst=3', '--set', 'ratelimit.bad_tokens_per_minute=1']);
    v6 = { ...srv, base: `http://[::1]:${srv.port}` };
  });
  after(async () => { await srv?.stop(); cleanup(dir); });

  test('an IPv6 client and an IPv4 one (seen as ::ffff:127.0.0.1) have buckets of their own', async () => {
    assert.match(srv.child.spawnargs.join(' '), /--host ::/);
    const bad = (s, i) => api(s, 'brisk_' + String(i).repeat(43).slice(0, 43), '/api/v1/overview');
    const six = [];
    for (let i = 0; i < 5; i++) six.push((await bad(v6, i)).status);
    assert.deepEqual(six, [401, 401, 401, 429, 429]);
    // the IPv4 client's bucket is its own (a mapped address is the IPv4 one)
    const four = [];
    for (let i = 0; i < 5; i++) four.push((await bad(srv, i)).status);
    assert.deepEqual(four, [401, 401, 401, 429, 429]);
    assert.equal((await api(v6, null, '/api/v1/overview')).status, 429, 'no token counts too');
    assert.equal((await api(v6, null, '/healthz')).status, 200);
  });
});

describe('security headers', () => {
  let dir, srv, tok;
  before(async () => {
    dir = tempDir();
    tok = token(`${dir}/data`, 'acme');
    srv = await startServer(`${dir}/data`);
  });
  after(async () => { await srv?.stop(); cleanup(dir); });

  test('API answers, errors and the page carry them; no HSTS without TLS', async () => {
    for (const [path, t, st] of [['/api/v1/overview', tok, 200], ['/api/v1/overview', null, 401], ['/nothing', null, 404], ['/healthz', null, 200]]) {
      const r = await api(srv, t, path);
      assert.equal(r.status, st);
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(r.headers.get('referrer-policy'), 'no-referrer');
      assert.match(r.headers.get('content-security-policy'), /default-src 'none'.*frame-ancestors 'none'/);
      assert.equal(r.headers.get('x-frame-options'), 'DENY');
      assert.equal(r.headers.get('strict-transport-security'), null);
    }
    const page = await api(srv, null, '/');
    assert.match(page.headers.get('content-security-policy'), /script-src 'self'/);
    assert.match(page.headers.get('content-security-policy'), /frame-ancestors 'none'/);
    assert.equal(page.headers.get('x-content-type-options'), 'nosniff');
  });
});

describe('TLS (self-signed certificate made by the test)', () => {
  let ds, srv, cert, key, ca;
  before(async () => {
    ds = dataset({ scale: 0.05 });
    cert = `${ds.root}/cert.pem`;
    key = `${ds.root}/key.pem`;
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
    { stdio: 'ignore' });
    ca = readFileSync(cert);
    srv = await startServer(ds.data, ['--set', `server.tls_cert=${cert}`, '--set', `server.tls_key=${key}`]);
  });
  after(async () => { await srv?.stop(); cleanup(ds.root); });

  function get1(path, headers = {}) {
    return new Promise((resolve, reject) => {
      const q = https.request({ host: '127.0.0.1', port: srv.port, path, ca, headers, ALPNProtocols: ['http/1.1'] }, (res) => {
        let t = ''; res.on('data', (d) => { t += d; }); res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, text: t}));
      });
      q.on('error', reject);
      q.end();
    });
  }

  test('HTTPS/1.1 with HSTS; the listening line says https', async () => {
    assert.match(srv.base, /^https:/);
    const r = await get1('/api/v1/overview', { authorization: `Bearer ${ds.token}` });
    assert.equal(r.status, 200, r.text);
    assert.equal(JSON.parse(r.text).org, 'acme');
    assert.match(r.headers['strict-transport-security'], /^max-age=\d+/);
    assert.equal(r.headers['x-content-type-options'], 'nosniff');
  });

  test('HTTP/2 by ALPN on every kind of answer', async () => {
    const client = http2.connect(srv.base, { ca });
    try {
      const h2 = (method, path, { body, headers = {}, auth = true } = {}) => new Promise((resolve, reject) => {
        const h = { ':method': method, ':path': path, ...headers };
        if (auth) h.authorization = `Bearer ${ds.token}`;
        const s = client.request(h, { endStream: !body });
        let head, data = '';
        s.on('response', (x) => { head = x; });
        s.on('data', (d) => { data += d; });
        s.on('end', () => resolve({ status: head?.[':status'], headers: head, text: data }));
        s.on('error', reject);
        if (body) s.end(body);
      });
      for (const [m, p, o, want] of [['GET', '/api/v1/dashboard', {}, 200], ['GET', '/api/v1/costs?limit=2', {}, 200],
        ['GET', '/api/v1/overview', { auth: false }, 401], ['GET', '/', {}, 200], ['GET', '/nothing', {}, 404],
        ['POST', '/api/v1/costs', { body: '{"id":"t1","date":"2026-01-01","amount":"1.00","category":"x"}', headers: { 'content-type': 'application/json' } }, 200]]) {
        const r = await h2(m, p, o);
        assert.equal(r.status, want, `${m} ${p}: ${r.text.slice(0, 200)}`);
        assert.match(r.headers['strict-transport-security'], /max-age/);
      }
      assert.equal(client.alpnProtocol, 'h2');
    } finally { client.close(); }
  });

  test('a large unauthenticated upload over TLS is refused on the head', async () => {
    const r = await new Promise((resolve) => {
      const sock = tls.connect({ host: '127.0.0.1', port: srv.port, ca, ALPNProtocols: ['http/1.1'] }, () => {
        sock.write(`POST /api/v1/import/costs HTTP/1.1\r\nHost: x\r\nContent-Type: text/csv\r\nContent-Length: ${50 << 20}\r\n\r\n`);
        // no body follows: the answer must come from the head alone
      });
      let out = '';
      const done = () => { clearTimeout(t); sock.destroy(); resolve(out); };
      const t = setTimeout(done, 10000);
      sock.on('data', (d) => { out += d; if (out.includes('\r\n\r\n') && out.includes('}')) done(); });
      sock.on('error', done);
      sock.on('close', done);
    });
    assert.match(r, /^HTTP\/1\.1 401/);
    assert.match(r, /body was not read/);
  });

  test('a plain-HTTP client gets no answer, a bad key refuses to start', async () => {
    const plain = await new Promise((resolve) => {
      const s = net.connect(srv.port, '127.0.0.1', () => s.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'));
      let out = '';
      s.on('data', (d) => { out += d; });
      s.on('close', () => resolve(out));
      s.on('error', () => resolve(out));
      setTimeout(() => { s.destroy(); resolve(out); }, 5000);
    });
    assert.doesNotMatch(plain, /^HTTP\/1\.1 200/);
    const r = briskRun(['serve', '--data', ds.data, '--port', '0', '--set', `server.tls_cert=${cert}`, '--set', `server.tls_key=${cert}`]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /tls_key/);
  });
});
