// Browser helpers: Debian's chromium driven by playwright-core, with a fresh
// profile and every background connection off (the network is closed), and
// a record of console errors and page errors for the "no console errors"
// checks.
import { chromium } from 'playwright-core';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const ARTIFACTS = path.resolve('tests/artifacts');

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

// Endpoints that other parts of brisk add later: the UI asks for them once
// and hides what they would show when the answer is 404 or 405, which the
// browser logs as a failed resource. Those, and only those, are expected.
export const OPTIONAL_ENDPOINTS = [
  /\/api\/v1\/events$/, /\/api\/v1\/match\/proposals$/, /\/api\/v1\/payments\/[^/]+\/explain$/,
  /\/api\/v1\/tasks$/, /\/api\/v1\/performance$/, /\/api\/v1\/alerts$/, /\/api\/v1\/cache\/stats$/,
  /\/api\/v1\/datasets$/,
];

export async function launch({ viewport = { width: 1280, height: 900 } } = {}) {
  const profile = mkdtempSync(path.join(tmpdir(), 'brisk-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM, headless: true, args: ARGS, viewport, locale: 'en-US', timezoneId: 'UTC',
  });
  const problems = [];
  const watch = (page) => {
    page.on('console', (m) => {
      if (m.type() !== 'error') return;
      const url = m.location()?.url || '';
      const where = new URL(url, 'http://x').pathname;
      const probe = (/status of 40[45]/.test(m.text()) && OPTIONAL_ENDPOINTS.some((re) => re.test(where)))
        // a page opened without a token asks whether a session cookie signs it in
        || (/status of 401/.test(m.text()) && where === '/api/v1/session');
      if (!probe) problems.push(`console: ${m.text()} (${url})`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  };
  context.on('page', watch);
  for (const p of context.pages()) watch(p);
  return {
    context,
    problems,
    async page() { return context.pages()[0] || context.newPage(); },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export async function screenshot(page, name, opts = {}) {
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = path.join(ARTIFACTS, name + '.png');
  await page.screenshot({ path: file, fullPage: true, ...opts });
  return file;
}

// Scrolls through the whole page so every lazily drawn chart gets drawn,
// then waits for all of them.
export async function drawAllCharts(page) {
  await page.evaluate(async () => {
    for (let y = 0; y < document.body.scrollHeight; y += 400) {
      window.scrollTo(0, y);
      await new Promise((r) => requestAnimationFrame(() => r()));
    }
    window.scrollTo(0, 0);
  });
  await page.waitForFunction(() => [...document.querySelectorAll('[data-drawn]')].every((e) => e.dataset.drawn === '1'));
}

// Signs in through the form as user (a session cookie), from a tab that
// holds neither a token nor an earlier session (a failed test's); waits
// until the header names the user and role.
export async function signIn(browser, page, base, user, password, role) {
  await browser.context.clearCookies();
  await page.goto(base + '/');
  await page.evaluate(() => sessionStorage.clear());
  await page.goto(base + '/');
  await page.waitForSelector('form.signin[data-mode="password"]');
  await page.fill('#user', user);
  await page.fill('#password', password);
  await page.click('form.signin button[type=submit]');
  await page.waitForSelector(`#who:has-text("${user} (${role})")`);
}
