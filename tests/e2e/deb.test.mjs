// The Debian package (make deb / scripts/deb.sh), installed on this machine:
// tests/e2e/lib/deb_smoke.sh builds it from BRISK_BIN (no rebuild), installs
// it, verifies the unit, serves /healthz as the brisk user with the unit's
// ExecStart and the packaged configuration, and removes and purges it.
// It needs root and dpkg (CI runs as root); otherwise it is skipped with
// the reason. A lock keeps concurrent test runs from installing at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BIN, tempDir, cleanup, SQLITE_ONLY } from './lib/harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
const why = SQLITE_ONLY ? 'the package is built from the SQLite pass\'s binary' : process.getuid?.() !== 0 ? 'not root: installing a package needs root (CI runs as root)'
  : !has('dpkg-deb') || !has('dpkg') ? 'dpkg is not installed (not a Debian system)'
    : !has('flock') || !has('setpriv') || !has('curl') ? 'flock, setpriv or curl is missing'
      : false;
if (why) console.log(`# deb test skipped: ${why}`);

test('the .deb installs, serves /healthz as the brisk user and purges cleanly', { skip: why, timeout: 600000 }, () => {
  const work = tempDir('brisk-deb-');
  try {
    const r = spawnSync('flock', ['-w', '600', '/tmp/brisk-deb-test.lock', path.join(here, 'lib/deb_smoke.sh'), BIN, work],
      { encoding: 'utf8', env: { ...process.env, TMPDIR: work } });
    const out = `${r.stdout}${r.stderr}`;
    for (const l of out.split('\n')) if (/^(NOTE|SKIP)/.test(l)) console.log(l);
    assert.equal(r.status, 0, out);
    if (/^SKIP/m.test(out)) return;
    assert.match(out, /^OK$/m, out);
  } finally {
    cleanup(work);
  }
});
