// The shell: sign-in, navigation between pages (real URLs, history), the
// range picker, and live refresh. Pages are modules with
// mount(main) -> {update(state), refresh(), unmount()}.

import { h, clear, describe } from './dom.js';
import * as api from './api.js';
import * as state from './state.js';
import * as range from './range.js';
import * as events from './events.js';
import { takeTokenFromFragment } from './boot.js';
import overview from './page-overview.js';
import receivables from './page-receivables.js';
import leads from './page-leads.js';
import imports from './page-imports.js';
import performancePage from './page-performance.js';

const PAGES = { overview, receivables, leads, imports, performance: performancePage };
const NAV = [['overview', 'Overview'], ['receivables', 'Receivables'], ['leads', 'Leads'], ['imports', 'Imports'], ['performance', 'Performance']];

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const toolbar = document.getElementById('toolbar');
const orgEl = document.getElementById('org');
const signOutBtn = document.getElementById('signout');

let page = null, pageName = null, stopEvents = null;

function showSignIn(message) {
  if (page) { page.unmount(); page = null; pageName = null; }
  if (stopEvents) { stopEvents(); stopEvents = null; }
  document.body.classList.add('signed-out');
  document.title = 'Sign in · brisk';
  const input = h('input', { type: 'password', id: 'token', name: 'token', autocomplete: 'off', spellcheck: 'false', required: true, placeholder: 'brisk_…', 'aria-describedby': 'token-help' });
  const err = h('div', { class: 'signin-error', role: 'alert' }, message || '');
  const btn = h('button', { type: 'submit', class: 'btn primary', text: 'Sign in' });
  const form = h('form', { class: 'signin card', 'aria-labelledby': 'signin-title', onsubmit: async (e) => {
    e.preventDefault();
    const t = input.value.trim();
    if (!t) { err.textContent = 'Paste an API token first.'; input.focus(); return; }
    btn.disabled = true;
    err.textContent = '';
    api.setToken(t);
    try {
      await api.getJSON('/api/v1/payments?limit=1&fields=id');
      start();
    } catch (ex) {
      api.clearToken();
      err.textContent = ex.status === 401 ? 'That token was not accepted: check it, or create a new one.' : describe(ex);
      btn.disabled = false;
      input.focus();
    }
  } },
  h('h1', { id: 'signin-title', text: 'Sign in to brisk' }),
  h('label', { for: 'token', text: 'API token' }), input,
  h('p', { id: 'token-help', class: 'muted' }, 'Create one with ', h('code', { text: 'brisk token create --org ORG' }),
    ', or open the link that ', h('code', { text: 'brisk demo' }), ' prints.'),
  err, btn);
  clear(main).append(form);
  input.focus();
}

function renderNav() {
  const s = state.current();
  clear(nav);
  for (const [key, label] of NAV) {
    const a = h('a', { href: state.url({ page: key, extra: {} }), 'data-nav': '', dataset: { page: key }, text: label });
    if (key === s.page) a.setAttribute('aria-current', 'page');
    nav.append(a);
  }
}

function showPage(s) {
  if (page) page.unmount();
  pageName = s.page;
  const def = PAGES[s.page];
  document.title = `${def.title} · brisk`;
  clear(main);
  delete main.dataset.loaded;
  main.dataset.page = s.page;
  // The range means nothing to these pages; it stays in the URL for the others.
  toolbar.hidden = s.page === 'imports' || s.page === 'performance';
  page = def.mount(main, s);
}

function onState(s, before) {
  if (!api.getToken()) return;
  renderNav();
  if (!page || s.page !== pageName) {
    showPage(s);
    // Move focus to the new page's heading (but not on the first load).
    if (before !== undefined) { const t = main.querySelector('h1'); if (t) t.focus({ preventScroll: true }); window.scrollTo(0, 0); }
  } else page.update(s, before);
}

api.setEnvelopeHandler((env) => {
  const text = `${env.org} · ${env.currency}`;
  if (orgEl.textContent !== text) orgEl.textContent = text;
});

function start() {
  document.body.classList.remove('signed-out');
  range.mount(toolbar);
  renderNav();
  showPage(state.current());
  if (!stopEvents) {
    stopEvents = events.start((type) => {
      if (type === 'data' && page && page.refresh) page.refresh();
    });
  }
}

// Internal links change the page without reloading it.
document.addEventListener('click', (e) => {
  const a = e.target.closest('a[data-nav]');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const u = new URL(a.href, location.href);
  if (u.origin !== location.origin) return;
  e.preventDefault();
  const target = u.pathname.replace(/^\/+/, '') || 'overview';
  const keepRange = state.current();
  const q = new URLSearchParams(u.search);
  state.update({ page: target, from: q.get('from') || keepRange.from, to: q.get('to') || keepRange.to,
    interval: q.get('interval') || keepRange.interval, extra: Object.fromEntries([...q].filter(([k]) => !['from', 'to', 'interval'].includes(k))) });
});

signOutBtn.addEventListener('click', () => {
  api.clearToken();
  showSignIn('Signed out.');
});

api.setUnauthorizedHandler((err) => {
  api.clearToken();
  showSignIn('Your token was not accepted (it may have been revoked). Sign in again.');
});

// The demo link opened in a tab that already shows the page.
window.addEventListener('hashchange', () => {
  if (!/token=/.test(location.hash)) return;
  takeTokenFromFragment();
  if (!page) start();
});

state.onChange(onState);
takeTokenFromFragment();
if (api.getToken()) start();
else showSignIn();
