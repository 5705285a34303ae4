// The shell: sign-in, navigation between pages (real URLs, history), the
// range picker, and live refresh. Pages are modules with
// mount(main) -> {update(state), refresh(), unmount()}.

import { h, clear, describe, errorBox } from './dom.js';
import * as api from './api.js';
import * as state from './state.js';
import * as range from './range.js';
import * as events from './events.js';
import { takeTokenFromFragment } from './boot.js';
import overview from './page-overview.js';

// The Overview is where people land; the other pages load when opened.
const PAGES = {
  overview: async () => overview,
  receivables: async () => (await import('./page-receivables.js')).default,
  leads: async () => (await import('./page-leads.js')).default,
  imports: async () => (await import('./page-imports.js')).default,
  performance: async () => (await import('./page-performance.js')).default,
  alerts: async () => (await import('./page-alerts.js')).default,
  // the list of data sets, or one of them (/datasets/NAME)
  datasets: async (s) => (s.item ? (await import('./page-dataset.js')).default : (await import('./page-datasets.js')).default),
};
const TITLES = { overview: 'Overview', receivables: 'Receivables', leads: 'Leads', imports: 'Imports', performance: 'Performance', alerts: 'Alerts', datasets: 'Data sets' };
let showing = 0;
const NAV = [['overview', 'Overview'], ['receivables', 'Receivables'], ['leads', 'Leads'], ['datasets', 'Data sets'], ['imports', 'Imports'], ['alerts', 'Alerts'], ['performance', 'Performance']];
// A page is one module per path: /datasets and /datasets/NAME are two.
const pageKey = (s) => s.page + (s.item ? '/' + s.item : '');
// Data sets are shown once the server has them (GET /api/v1/datasets
// answers); a server without them shows no entry.
let hasDatasets = false;

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const toolbar = document.getElementById('toolbar');
const orgEl = document.getElementById('org');
const signOutBtn = document.getElementById('signout');
const whoEl = document.getElementById('who');

let page = null, pageName = null, stopEvents = null;

// Sign-in: a user name and password (a session cookie), or an API token
// (kept for this tab only), as the link of `brisk demo` carries.
function showSignIn(message, mode = 'password') {
  if (page) { page.unmount(); page = null; pageName = null; }
  if (stopEvents) { stopEvents(); stopEvents = null; }
  document.body.classList.add('signed-out');
  document.title = 'Sign in · brisk';
  const byToken = mode === 'token';
  const err = h('div', { class: 'signin-error', role: 'alert' }, message || '');
  const btn = h('button', { type: 'submit', class: 'btn primary', text: 'Sign in' });
  const user = h('input', { type: 'text', id: 'user', name: 'username', autocomplete: 'username', spellcheck: 'false', required: true });
  const password = h('input', { type: 'password', id: 'password', name: 'password', autocomplete: 'current-password', required: true });
  const token = h('input', { type: 'password', id: 'token', name: 'token', autocomplete: 'off', spellcheck: 'false', required: true, placeholder: 'brisk_…', 'aria-describedby': 'token-help' });
  const fail = (ex, what) => {
    err.textContent = ex.status === 401 ? what : describe(ex);
    btn.disabled = false;
  };
  const form = h('form', { class: 'signin card', 'aria-labelledby': 'signin-title', dataset: { mode }, onsubmit: async (e) => {
    e.preventDefault();
    err.textContent = '';
    if (byToken) {
      const t = token.value.trim();
      if (!t) { err.textContent = 'Paste an API token first.'; token.focus(); return; }
      btn.disabled = true;
      api.setToken(t);
      try {
        if (!await api.loadSession()) throw Object.assign(new Error('refused'), { status: 401 });
        start();
      } catch (ex) {
        api.clearToken();
        fail(ex, 'That token was not accepted: check it, or create a new one.');
        token.focus();
      }
      return;
    }
    if (!user.value.trim() || !password.value) { err.textContent = 'Enter your user name and password.'; return; }
    btn.disabled = true;
    try {
      await api.signIn(user.value.trim(), password.value);
      start();
    } catch (ex) {
      fail(ex, 'Wrong user name or password.');
      password.value = '';
      password.focus();
    }
  } },
  h('h1', { id: 'signin-title', text: 'Sign in to brisk' }),
  ...(byToken
    ? [h('label', { for: 'token', text: 'API token' }), token,
      h('p', { id: 'token-help', class: 'muted' }, 'Create one with ', h('code', { text: 'brisk token create --org ORG' }),
        ', or open the link that ', h('code', { text: 'brisk demo' }), ' prints.')]
    : [h('label', { for: 'user', text: 'User name' }), user, h('label', { for: 'password', text: 'Password' }), password]),
  err, btn,
  h('p', { class: 'muted' }, h('button', { type: 'button', class: 'linkish', id: byToken ? 'use-password' : 'use-token',
    text: byToken ? 'Sign in with a user name and password' : 'Use an API token instead',
    onclick: () => showSignIn('', byToken ? 'password' : 'token') })));
  clear(main).append(form);
  (byToken ? token : user).focus();
}

function renderNav() {
  const s = state.current();
  clear(nav);
  for (const [key, label] of NAV) {
    // Server-wide monitoring is the operator's: others do not see the page.
    if (key === 'performance' && !api.can('operator', false)) continue;
    if (key === 'datasets' && !hasDatasets && s.page !== 'datasets') continue;
    const a = h('a', { href: state.url({ page: key, item: '', extra: {} }), 'data-nav': '', dataset: { page: key }, text: label });
    if (key === s.page) a.setAttribute('aria-current', 'page');
    nav.append(a);
  }
}

async function showPage(s) {
  if (page) page.unmount();
  page = null;
  pageName = pageKey(s);
  const my = ++showing;
  document.title = `${s.item || TITLES[s.page]} · brisk`;
  clear(main);
  delete main.dataset.loaded;
  main.dataset.page = s.page;
  // The range means nothing to these pages; it stays in the URL for the others.
  toolbar.hidden = s.page === 'imports' || s.page === 'performance' || s.page === 'alerts' || (s.page === 'datasets' && !s.item);
  let def;
  try {
    def = await PAGES[s.page](s);
  } catch (err) {
    if (my === showing) clear(main).append(errorBox(new Error('This page could not be loaded (was brisk upgraded? Reload the page).')));
    return;
  }
  if (my !== showing) return; // another page was asked for meanwhile
  page = def.mount(main, state.current());
}

function onState(s, before) {
  if (!api.signedIn()) return;
  renderNav();
  if (pageKey(s) !== pageName) {
    // Focus moves to the new page's heading (not on the first load).
    showPage(s).then(() => {
      if (before === undefined) return;
      const t = main.querySelector('h1');
      if (t) t.focus({ preventScroll: true });
      window.scrollTo(0, 0);
    });
  } else if (page) page.update(s, before);
}

api.setEnvelopeHandler((env) => {
  const text = `${env.org} · ${env.currency}`;
  if (orgEl.textContent !== text) orgEl.textContent = text;
});

// Shows who is signed in and with which role; pages disable what the role
// may not do (body[data-role], api.can).
function showWho() {
  const w = api.whoami();
  document.body.dataset.role = w ? w.role : '';
  document.body.dataset.scope = w ? w.scope : '';
  whoEl.textContent = w ? `${w.user} (${w.role}${w.scope === 'read' ? ', read only' : ''})` : '';
}

async function start() {
  if (!api.whoami()) {
    try { await api.loadSession(); } catch { /* the pages will say what fails */ }
  }
  showWho();
  document.body.classList.remove('signed-out');
  range.mount(toolbar);
  renderNav();
  api.probe('/api/v1/datasets').then((d) => { hasDatasets = !!d; if (hasDatasets) renderNav(); }, () => {});
  showPage(state.current());
  if (!stopEvents) {
    stopEvents = events.start((type, payload) => {
      if (type === 'alert') showAlert(payload);
      if (!page) return;
      if (type === 'alert' && page.onAlert) page.onAlert(payload);
      if ((type === 'data' || type === 'reset') && page.refresh) page.refresh();
      else if (type === 'task' && page.onTask) page.onTask(payload);
    });
  }
}

// A business alert that fires or resolves while the page is open: a banner
// above the page (the Alerts page has the history).
function showAlert(ev) {
  if (!ev || !ev.message) return;
  let bar = document.getElementById('alert-banner');
  if (!bar) {
    bar = h('div', { id: 'alert-banner', class: 'alert-banner', role: 'alert' });
    main.before(bar);
  }
  const item = h('div', { class: `alert-item sev-${ev.severity} ev-${ev.event}` },
    h('span', { text: ev.event === 'fired' ? '⚠ ' : '✓ ' }), h('span', { class: 'alert-text', text: ev.message }), ' ',
    h('a', { href: '/alerts', 'data-nav': '', text: 'Alerts' }), ' ',
    h('button', { type: 'button', class: 'btn', 'aria-label': 'Dismiss', text: '×', onclick: () => item.remove() }));
  bar.append(item);
  while (bar.children.length > 3) bar.firstChild.remove();
}

// Internal links change the page without reloading it.
document.addEventListener('click', (e) => {
  const a = e.target.closest('a[data-nav]');
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const u = new URL(a.href, location.href);
  if (u.origin !== location.origin) return;
  e.preventDefault();
  const [target, item] = (u.pathname.replace(/^\/+/, '') || 'overview').split('/');
  const keepRange = state.current();
  const q = new URLSearchParams(u.search);
  state.update({ page: target, item: item ? decodeURIComponent(item) : '', from: q.get('from') || keepRange.from, to: q.get('to') || keepRange.to,
    interval: q.get('interval') || keepRange.interval, extra: Object.fromEntries([...q].filter(([k]) => !['from', 'to', 'interval'].includes(k))) });
});

signOutBtn.addEventListener('click', async () => {
  const wasToken = !!api.getToken();
  await api.signOut();
  showWho();
  showSignIn('Signed out.', wasToken ? 'token' : 'password');
});

api.setUnauthorizedHandler((err) => {
  const wasToken = !!api.getToken();
  api.clearToken();
  showWho();
  showSignIn(wasToken ? 'Your token was not accepted (it may have been revoked). Sign in again.'
    : 'Your session has ended. Sign in again.', wasToken ? 'token' : 'password');
});

// The demo link opened in a tab that already shows the page.
window.addEventListener('hashchange', () => {
  if (!/token=/.test(location.hash)) return;
  takeTokenFromFragment();
  if (!pageName) start();
});

state.onChange(onState);
takeTokenFromFragment();
if (api.getToken()) start();
else {
  // a browser that signed in before holds a session cookie
  api.loadSession().then((ok) => (ok ? start() : showSignIn()), () => showSignIn());
}
