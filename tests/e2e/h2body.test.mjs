// HTTP/2 bodies are judged on their headers, as HTTP/1.1 heads are (issue
// 22: over h2c a body was read before its token was checked). Measures the
// server's VmHWM around unauthenticated uploads, as security.test.mjs does.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { readFileSync } from 'node:fs';
import { startServer, token, tempDir, cleanup } from './lib/harness.mjs';

describe('HTTP/2 bodies are judged on their headers (issue 22: h2c read the body before the token)', () => {
  let dir, srv, tok;
  const MB = 1 << 20;
  const mem = (pid) => {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(s)[1]) * 1024;
    return { hwm: kb('VmHWM'), rss: kb('VmRSS') };
  };
  before(async () => {
    dir = tempDir();
    tok = token(`${dir}/data`, 'acme');
    // ASan's quarantine would read as a peak: keep it small (as security.test.mjs)
    const asan = [process.env.ASAN_OPTIONS, 'quarantine_size_mb=4'].filter(Boolean).join(':');
    srv = await startServer(`${dir}/data`, [], { ASAN_OPTIONS: asan });
  });
  after(async () => { await srv?.stop(); cleanup(dir); });

  // One stream sending size bytes in 1 MB pieces (flow control respected);
  // resolves with the status seen (0 if none) and how the stream ended.
  function upload(client, headers, size) {
    return new Promise((resolve) => {
      const s = client.request({ ':method': 'POST', ':path': '/api/v1/import/costs', 'content-type': 'text/csv', ...headers });
      let status = 0, text = '', done = false;
      const finish = (why) => { if (done) return; done = true; clearTimeout(t); resolve({ status, text, why }); };
      const t = setTimeout(() => { s.close(); finish('timeout'); }, 60000);
      s.on('response', (h) => { status = h[':status']; });
      s.on('data', (d) => { text += d; });
      s.on('end', () => finish('end'));
      s.on('error', (e) => finish(e.code));
      s.on('close', () => finish('close'));
      const piece = Buffer.alloc(MB, 0x20);
      (async () => {
        for (let sent = 0; sent < size && !s.destroyed && !done; sent += MB) {
          if (!s.write(piece)) await new Promise((r) => { s.once('drain', r); s.once('close', r); });
        }
        if (!s.destroyed && !done) s.end();
      })();
    });
  }

  test('unauthenticated uploads over h2c are answered without reading their bodies', async () => {
    const client = http2.connect(srv.base);
    try {
      const before = mem(srv.child.pid);
      const size = 30 * MB;
      const res = await Promise.all(Array.from({ length: 12 }, (_, i) =>
        upload(client, i % 2 ? { authorization: 'Bearer brisk_' + 'y'.repeat(43) } : {}, size)));
      const after = mem(srv.child.pid);
      const grew = after.hwm - before.hwm;
      console.log(`# 12 unauthenticated 30 MB uploads over h2c: VmHWM ${(before.hwm / MB).toFixed(1)} -> ${(after.hwm / MB).toFixed(1)} MB (+${(grew / MB).toFixed(1)})`);
      for (const r of res) {
        // each stream is answered 401 without its body, or (a client
        // still sending after the answer) reset: never read, never 200
        assert.ok(r.status === 401 || (r.status === 0 && /ERR_HTTP2_STREAM_ERROR|ERR_HTTP2_SESSION_ERROR|close/.test(r.why)), `${r.status} ${r.why} ${r.text}`);
        if (r.status === 401 && r.text) assert.match(JSON.parse(r.text).detail, /body was not read/);
      }
      assert.ok(grew < 40 * MB, `peak grew by ${(grew / MB).toFixed(1)} MB for 360 MB of refused uploads`);
    } finally { client.close(); }
    // one upload on a connection of its own gets its answer
    const c1 = http2.connect(srv.base);
    try {
      const r = await upload(c1, { authorization: 'Bearer brisk_' + 'z'.repeat(43) }, 8 * MB);
      assert.equal(r.status, 401, `${r.why} ${r.text}`);
      assert.match(JSON.parse(r.text).detail, /unknown or revoked \(the body was not read\)/);
    } finally { client.close(); }
    // an authenticated import over HTTP/2 still reads its body
    const c2 = http2.connect(srv.base);
    try {
      const csv = 'id,date,amount,category\n' + Array.from({ length: 5000 }, (_, i) => `h${i},2026-02-01,${i}.00,ops`).join('\n') + '\n';
      const r = await new Promise((resolve, reject) => {
        const s = c2.request({ ':method': 'POST', ':path': '/api/v1/import/costs', 'content-type': 'text/csv', authorization: `Bearer ${tok}` });
        let status, text = '';
        s.on('response', (h) => { status = h[':status']; });
        s.on('data', (d) => { text += d; });
        s.on('end', () => resolve({ status, text }));
        s.on('error', reject);
        s.end(csv);
      });
      assert.equal(r.status, 200, r.text);
      assert.equal(JSON.parse(r.text).inserted, 5000);
    } finally { c2.close(); }
  });
});
