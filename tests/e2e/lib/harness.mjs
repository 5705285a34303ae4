// Test harness: a real brisk binary over real data in a temp dir, on a free
// port of 127.0.0.1. Every helper cleans up after itself.
import { spawn, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after } from 'node:test';

export const BIN = process.env.BRISK_BIN || path.resolve('build/asan/brisk');

// The PostgreSQL pass (scripts/test.sh): BIN is tests/pg/brisk-pg.sh, which
// gives every data dir its own database on this server; '' = SQLite.
export const PG_URL = (process.env.BRISK_TEST_DATABASE_URL || '').replace(/\/$/, '');
// For tests of what only SQLite has (its files, WAL, locks): skip on PostgreSQL.
export const SQLITE_ONLY = PG_URL ? 'SQLite only (this pass runs on PostgreSQL)' : false;

// The database URL brisk-pg.sh uses for data dir `data`.
export function dbUrl(data) {
  const h = createHash('md5').update(path.resolve(data)).digest('hex').slice(0, 16);
  return `${PG_URL}/b_${h}`;
}

// Runs SQL on the store of data dir `data` (sqlite3 or psql): rows joined by
// newlines, columns by '|'.
export function storeSql(data, query) {
  if (PG_URL)
    return execFileSync('psql', ['-qtAX', dbUrl(data), '-c', query], { encoding: 'utf8', maxBuffer: 1 << 26 }).trim();
  return execFileSync('sqlite3', [path.join(data, 'brisk.db'), query], { encoding: 'utf8', maxBuffer: 1 << 26 }).trim();
}

// Copies the store of data dir `src` into a new data dir `dst`: a
// consistent copy even while a server writes to it (SQLite's online
// backup; pg_dump into dst's own database).
export function copyStore(src, dst) {
  mkdirSync(dst, { recursive: true });
  if (!PG_URL) {
    execFileSync('sqlite3', [path.join(src, 'brisk.db'), `.backup '${path.join(dst, 'brisk.db')}'`]);
    return;
  }
  const url = dbUrl(dst);
  const name = url.slice(url.lastIndexOf('/') + 1);
  execFileSync('psql', ['-qX', `${PG_URL}/postgres`, '-c', `CREATE DATABASE ${name}`]);
  execFileSync('sh', ['-c', 'pg_dump "$0" | psql -qX "$1" >/dev/null', dbUrl(src), url]);
}

// Whether data dir `data` has a store yet.
export function storeExists(data) {
  if (!PG_URL) return existsSync(path.join(data, 'brisk.db'));
  try { storeSql(data, 'SELECT 1 FROM brisk_schema'); return true; } catch { return false; }
}

export function tempDir(prefix = 'brisk-e2e-') {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

export function brisk(args, opts = {}) {
  return execFileSync(BIN, args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], ...opts });
}

// Runs brisk and returns {code, stdout, stderr} without throwing.
export function briskRun(args, opts = {}) {
  try {
    const stdout = execFileSync(BIN, args, { encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'], ...opts });
    return { code: 0, stdout, stderr: '' };
  } catch (e) {
    return { code: e.status, stdout: e.stdout?.toString() ?? '', stderr: e.stderr?.toString() ?? '' };
  }
}

// A generated data set imported into org `org` of a fresh data dir.
export function dataset({ scale = 0.2, seed = 7, end = '2026-10-31', org = 'acme', dir } = {}) {
  const root = dir || tempDir();
  const csv = path.join(root, 'csv');
  const data = path.join(root, 'data');
  brisk(['gen', '--scale', String(scale), '--seed', String(seed), '--end', end, '--out', csv]);
  for (const k of ['costs', 'sales_orders', 'invoices', 'payments', 'leads'])
    brisk(['import', k, path.join(csv, `${k}.csv`), '--org', org, '--data', data, '-q']);
  const token = brisk(['token', 'create', '--org', org, '--data', data]).trim();
  return { root, csv, data, token, org, end };
}

export function token(data, org) {
  return brisk(['token', 'create', '--org', org, '--data', data]).trim();
}

// A token of a user with `role` in org (created without a password on
// first use, named ORG-ROLE): the server-wide monitoring routes and
// /metrics need an operator; the plain token() is the org's admin.
export function roleToken(data, org, role, extra = []) {
  const name = `${org}-${role}`;
  briskRun(['user', 'add', name, '--org', org, '--role', role, '--no-password', '--data', data]);
  return brisk(['token', 'create', '--user', name, '--data', data, ...extra]).trim();
}

export function operatorToken(data, org = 'acme') {
  return roleToken(data, org, 'operator');
}

// Starts `brisk serve` and resolves once it listens; returns a handle.
// Servers still running when a file's tests end (a test that failed before
// its stop): killed, or their pipes would keep the file's process, and so
// the whole suite, waiting forever.
const live = new Set();
after(() => {
  for (const c of live) c.kill('SIGKILL');
});

export async function startServer(data, extra = [], env = {}) {
  const child = spawn(BIN, ['serve', '--data', data, '--port', '0', '--threads', '2', ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, BRISK_TODAY: '2026-10-31', ...env },
  });
  live.add(child);
  child.on('exit', () => live.delete(child));
  let out = '', err = '', scheme = 'http';
  child.stderr.on('data', (d) => { err += d; });
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start: ${err}`)), 15000);
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening on (https?):\/\/(?:[\d.]+|\[[\da-f:.]+\]):(\d+)\//);
      if (m) { clearTimeout(timer); scheme = m[1]; resolve(Number(m[2])); }
    });
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`server exited ${code}: ${err}`)); });
  });
  const base = `${scheme}://127.0.0.1:${port}`;
  return {
    port, base, child, data,
    stderr: () => err,
    async stop() {
      if (child.exitCode !== null) return child.exitCode;
      const done = new Promise((r) => child.on('exit', (code, sig) => r(code ?? sig)));
      child.kill('SIGTERM');
      return done;
    },
  };
}

export async function api(srv, tok, pathq, opts = {}) {
  const headers = { ...(opts.headers || {}) };
  if (tok) headers.authorization = `Bearer ${tok}`;
  let res;
  try {
    res = await fetch(srv.base + pathq, { ...opts, headers });
  } catch (e) {
    // A GET on a kept-alive socket the server closed as idle while this
    // thread was blocked (a CLI run, a big body built) fails before it is
    // sent: ask again once on a new connection, as HTTP clients do for
    // idempotent requests. A server that is gone fails again.
    if ((opts.method || 'GET') !== 'GET' || !(e instanceof TypeError)) throw e;
    res = await fetch(srv.base + pathq, { ...opts, headers });
  }
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: res.status, headers: res.headers, text, json };
}

// Minimal RFC 4180 reader for the independent computations.
export function readCsv(file) {
  const s = readFileSync(file, 'utf8').replace(/^\uFEFF/, '');
  const rows = [];
  let row = [], f = '', q = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (q) {
      if (c === '"') { if (s[i + 1] === '"') { f += '"'; i++; } else q = false; }
      else f += c;
    } else if (c === '"') q = true;
    else if (c === ',') { row.push(f); f = ''; }
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && s[i + 1] === '\n') i++;
      row.push(f); f = '';
      if (row.length > 1 || row[0] !== '') rows.push(row);
      row = [];
    } else f += c;
  }
  if (f !== '' || row.length) { row.push(f); rows.push(row); }
  const [head, ...body] = rows;
  return body.map((r) => Object.fromEntries(head.map((h, i) => [h.trim().toLowerCase(), r[i]])));
}

// "12.34" -> 1234 (exact, via strings)
export function cents(s) {
  const m = /^(-?)(\d+)(?:\.(\d{1,2}))?$/.exec(s.trim());
  if (!m) throw new Error(`bad money ${s}`);
  return (m[1] ? -1 : 1) * (Number(m[2]) * 100 + Number((m[3] || '0').padEnd(2, '0')));
}

export function cleanup(dir) {
  rmSync(dir, { recursive: true, force: true });
}

// Polls fn (async) every 50 ms until it returns something truthy, which it
// resolves to; fails after ms with what was awaited.
export async function until(fn, ms, what) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
