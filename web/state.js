// The URL is the state: /PAGE?from=YYYY-MM-DD&to=YYYY-MM-DD&interval=month
// plus a page's own keys (tab, status, q, ...); a page of many things (a
// data set) names the one shown as /PAGE/ITEM. Pages read it through
// current() and change it through update(); the back button replays it.

const PAGES = ['overview', 'receivables', 'leads', 'imports', 'performance', 'alerts', 'datasets'];
const WITH_ITEM = ['datasets'];
const INTERVALS = ['day', 'week', 'month', 'quarter', 'year'];
const listeners = new Set();

export function pages() { return PAGES; }
export function intervals() { return INTERVALS; }

export function current() {
  const path = location.pathname.replace(/^\/+|\/+$/g, '');
  const [first, second, ...more] = path.split('/');
  const page = PAGES.includes(first) && (!second || WITH_ITEM.includes(first)) && !more.length ? first : 'overview';
  let item = '';
  try { item = page === first && second ? decodeURIComponent(second) : ''; } catch { /* a malformed escape: no item */ }
  const q = new URLSearchParams(location.search);
  const valid = (s) => (s && /^\d{4}-\d{2}-\d{2}$/.test(s) ? s : '');
  const interval = INTERVALS.includes(q.get('interval')) ? q.get('interval') : '';
  const extra = {};
  for (const [k, v] of q) if (!['from', 'to', 'interval'].includes(k)) extra[k] = v;
  return { page, item, from: valid(q.get('from')), to: valid(q.get('to')), interval, extra };
}

// Range parameters for a view call: only what the person chose, so the
// server's own defaults (the 365 days ending today) apply otherwise.
export function rangeParams(s = current()) {
  const p = {};
  if (s.from) p.from = s.from;
  if (s.to) p.to = s.to;
  return p;
}

// The Overview's one call, for the page and for the boot-time prefetch.
export function dashboardPath(s = current()) {
  const q = new URLSearchParams(rangeParams(s));
  if (s.interval) q.set('interval', s.interval);
  const qs = q.toString();
  return '/api/v1/dashboard' + (qs ? '?' + qs : '');
}

function build(s) {
  const q = new URLSearchParams();
  if (s.from) q.set('from', s.from);
  if (s.to) q.set('to', s.to);
  if (s.interval) q.set('interval', s.interval);
  // a filter on the blank value (f.<dimension>=) is a value too
  for (const [k, v] of Object.entries(s.extra || {})) if ((v !== '' || k.startsWith('f.')) && v !== null && v !== undefined) q.set(k, v);
  const qs = q.toString();
  const item = s.item && WITH_ITEM.includes(s.page) ? '/' + encodeURIComponent(s.item) : '';
  return '/' + (s.page === 'overview' ? '' : s.page) + item + (qs ? '?' + qs : '');
}

export function url(changes) {
  return build(merge(current(), changes));
}

function merge(s, changes) {
  // A page's own keys (tab, filters) do not travel to another page.
  const pageChange = (changes.page && changes.page !== s.page) || ('item' in changes && changes.item !== s.item);
  const next = { ...s, item: changes.page && changes.page !== s.page ? '' : s.item, ...changes, extra: pageChange ? {} : { ...s.extra } };
  if (changes.extra) Object.assign(next.extra, changes.extra);
  return next;
}

// Changes the URL (a new history entry unless replace) and tells listeners.
export function update(changes, { replace = false } = {}) {
  const before = current();
  const target = url(changes);
  if (target === location.pathname + location.search) return;
  history[replace ? 'replaceState' : 'pushState'](null, '', target);
  emit(before);
}

export function onChange(fn) {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

function emit(before) {
  const now = current();
  for (const fn of [...listeners]) fn(now, before);
}

window.addEventListener('popstate', () => emit(null));
