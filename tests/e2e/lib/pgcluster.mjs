// A private PostgreSQL for the tests that need their own (replicas,
// migrate, several instances): tests/pg/cluster.sh in a temp dir on free
// ports, stopped and removed by the handle. Such tests run in the SQLite
// pass only: the PostgreSQL pass gives every data dir its own database of
// a shared cluster, which they do not need.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { PG_URL } from './harness.mjs';

// The brisk binary itself (the PostgreSQL pass wraps it in brisk-pg.sh).
export const REAL_BIN = process.env.BRISK_REAL_BIN || process.env.BRISK_BIN || path.resolve('build/asan/brisk');
const CLUSTER = path.resolve('tests/pg/cluster.sh');

function works(cmd) {
  try {
    execFileSync('sh', ['-c', cmd], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

// Why such a test cannot run here, or false.
export function pgSkip() {
  if (PG_URL) return 'runs in the SQLite pass (it starts its own PostgreSQL)';
  if (!works('ls /usr/lib/postgresql/*/bin/pg_basebackup')) return 'PostgreSQL server binaries not installed (apt-get install postgresql)';
  return false;
}

// Rows of a query, columns joined by '|'.
export const psql = (url, q) => execFileSync('psql', ['-qtAX', url, '-c', q], { encoding: 'utf8' }).trim();

const envOf = (text) => Object.fromEntries([...text.matchAll(/(\w+)=(\S+)/g)].map((m) => [m[1], m[2]]));

// Starts a primary (and a streaming replica when asked); `url` and
// `replicaUrl` name the server (append /DB), stop() removes everything.
export function startCluster({ replica = false } = {}) {
  const env = envOf(execFileSync(CLUSTER, ['start'], { encoding: 'utf8' }));
  const h = {
    dir: env.BRISK_PG_DIR,
    url: env.BRISK_TEST_DATABASE_URL,
    replicaUrl: null,
    stop() { execFileSync(CLUSTER, ['stop', env.BRISK_PG_DIR]); },
  };
  try {
    if (replica) h.replicaUrl = envOf(execFileSync(CLUSTER, ['replica', h.dir], { encoding: 'utf8' })).BRISK_TEST_REPLICA_URL;
  } catch (e) {
    h.stop();
    throw e;
  }
  return h;
}
