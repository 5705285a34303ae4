// Man pages: scripts/man.py writes brisk(1) and brisk-CMD(1) for every
// command `brisk help` lists, from the commands' own --help texts; each page
// renders with `man -l` without groff warnings and carries every option of
// its --help.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BIN, brisk, tempDir, cleanup } from './lib/harness.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const haveMan = spawnSync('man', ['--version']).status === 0;

describe('man pages', { skip: haveMan ? false : 'man is not installed (scripts/deps.sh test installs man-db)' }, () => {
  let dir, pages;
  const commands = brisk(['help']).split('\n').map((l) => /^ {2}(\S+) +\S/.exec(l)?.[1]).filter((c) => c && c !== 'help');
  const render = (file) => execFileSync('man', ['-l', file], {
    encoding: 'utf8', env: { ...process.env, MANWIDTH: '100', MAN_KEEP_FORMATTING: '', MANPAGER: 'cat', PAGER: 'cat' },
  });

  before(() => {
    dir = tempDir('brisk-man-');
    pages = execFileSync('python3', [path.join(root, 'scripts/man.py'), BIN, dir], { encoding: 'utf8' }).trim().split('\n');
  });
  after(() => cleanup(dir));

  test('one page for brisk and one for each command', () => {
    assert.ok(commands.length >= 10, commands.join(' '));
    assert.deepEqual(pages.sort(), ['brisk.1', ...commands.map((c) => `brisk-${c}.1`)].sort());
  });

  test('every page renders without warnings', () => {
    for (const p of pages) {
      const file = path.join(dir, p);
      const warn = spawnSync('groff', ['-man', '-ww', '-z', file], { encoding: 'utf8' });
      assert.equal(warn.stderr, '', `${p}: ${warn.stderr}`);
      const text = render(file);
      assert.match(text, /NAME\n +brisk/, p);
      assert.match(text, /SYNOPSIS/, p);
    }
  });

  test('brisk(1) lists every command', () => {
    const text = render(path.join(dir, 'brisk.1')).replace(/‐\n\s*/g, '');
    for (const c of commands) assert.ok(text.includes(`brisk-${c}(1)`), c);
  });

  test('each command page carries its --help: usage and every option', () => {
    for (const c of commands) {
      const help = brisk([c, '--help']);
      // man hyphenates and justifies: compare words, hyphenation undone
      const text = render(path.join(dir, `brisk-${c}.1`)).replace(/[‐-]\n\s*/g, '-').replace(/\s+/g, ' ');
      const usage = /^usage: (.*)$/m.exec(help)?.[1];
      if (usage) assert.ok(text.includes(usage.replace(/\s+/g, ' ')), `${c}: usage "${usage}" missing`);
      for (const opt of new Set(help.match(/(?<![\w-])--[a-z][a-z-]*/g) || []))
        assert.ok(text.includes(opt), `brisk-${c}(1) lacks ${opt}`);
    }
  });
});

