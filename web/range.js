// The one date-range picker and interval for every page. Changes are
// debounced, then written to the URL (a history entry each), which is what
// the pages listen to. Until a person picks dates, the server's default
// range applies and the picker shows it (as reported by the last view).

import { h, debounce } from './dom.js';
import * as state from './state.js';
import { isoAddDays, isoValid } from './format.js';
import * as api from './api.js';

const DEBOUNCE_MS = 400;
let effective = { from: '', to: '', interval: 'month' };
let els = null;

export function mount(container) {
  const from = h('input', { type: 'date', id: 'range-from', name: 'from', required: true });
  const to = h('input', { type: 'date', id: 'range-to', name: 'to', required: true });
  const interval = h('select', { id: 'range-interval', name: 'interval' },
    state.intervals().map((i) => h('option', { value: i, text: i[0].toUpperCase() + i.slice(1) })));
  const msg = h('span', { class: 'range-msg', role: 'status', 'aria-live': 'polite' });
  const preset = (label, days, title) => h('button', {
    type: 'button', class: 'chip', text: label, title, 'aria-label': title,
    onclick: () => applyPreset(days),
  });
  const presets = h('div', { class: 'presets', role: 'group', 'aria-label': 'Quick ranges' },
    preset('30d', 30, 'Last 30 days'), preset('90d', 90, 'Last 90 days'), preset('12m', 365, 'Last 12 months'),
    preset('YTD', 'ytd', 'Year to date'), preset('2y', 730, 'Last 2 years'),
    h('button', { type: 'button', class: 'chip', text: 'Default', title: "The server's default range", onclick: () => {
      commit.cancel();
      state.update({ from: '', to: '', interval: '' });
    } }));
  const form = h('form', { class: 'range', 'aria-label': 'Date range', onsubmit: (e) => { e.preventDefault(); commit.cancel(); commitNow(); } },
    h('label', { for: 'range-from' }, 'From'), from,
    h('label', { for: 'range-to' }, 'To'), to,
    h('label', { for: 'range-interval' }, 'Interval'), interval,
    presets, msg);
  els = { from, to, interval, msg, form };
  for (const el of [from, to]) el.addEventListener('input', () => commit());
  interval.addEventListener('change', () => { commit.cancel(); commitNow(); });
  container.replaceChildren(form);
  reflect();
  state.onChange(reflect);
}

function commitNow() {
  const f = els.from.value, t = els.to.value, iv = els.interval.value;
  if (!isoValid(f) || !isoValid(t)) {
    els.msg.textContent = 'Enter both dates.';
    return;
  }
  if (f > t) {
    els.msg.textContent = '"From" is after "To".';
    return;
  }
  els.msg.textContent = '';
  const s = state.current();
  const changes = {};
  // Only what differs from the server's defaults goes into the URL.
  if (f !== (s.from || effective.from) || t !== (s.to || effective.to)) Object.assign(changes, { from: f, to: t });
  if (iv !== (s.interval || effective.interval)) changes.interval = iv;
  if (Object.keys(changes).length) state.update(changes);
}
const commit = debounce(commitNow, DEBOUNCE_MS);

function applyPreset(days) {
  commit.cancel();
  const end = state.current().to || effective.to || els.to.value;
  if (!isoValid(end)) return;
  const start = days === 'ytd' ? end.slice(0, 4) + '-01-01' : isoAddDays(end, -(days - 1));
  els.from.value = start;
  els.to.value = end;
  commitNow();
}

// The range the server used when the URL names none (from a view's answer).
export function setEffective(from, to, interval) {
  if (from) effective.from = from;
  if (to) effective.to = to;
  if (interval) effective.interval = interval;
  reflect();
}

// A page whose own default range is not the server's (a data set's: its
// first to its last date) forgets it on leaving, so the next page's calls
// ask the server again.
export function forgetEffective() {
  effective = { from: '', to: '', interval: 'month' };
  resolving.clear();
  reflect();
}

// The concrete range of a state, for calls that need both ends (lists):
// what the URL says, completed by the server (a cheap yearly cash-flow call
// reports the range it used), so every page shows the same rows as the
// picker says.
const resolving = new Map();
export async function resolved(s = state.current()) {
  if (s.from && s.to) return { from: s.from, to: s.to };
  if (!s.from && !s.to && effective.from && effective.to) return { from: effective.from, to: effective.to };
  const key = s.from + '|' + s.to;
  if (!resolving.has(key)) {
    const p = api.getJSON('/api/v1/cashflow' + api.qs({ from: s.from, to: s.to, interval: 'year' }), { revalidate: true })
      .then((env) => {
        if (!s.from && !s.to) setEffective(env.data.from, env.data.to);
        return { from: env.data.from, to: env.data.to };
      }, (err) => { resolving.delete(key); throw err; });
    resolving.set(key, p);
  }
  return resolving.get(key);
}

function reflect() {
  if (!els) return;
  const s = state.current();
  const busy = document.activeElement === els.from || document.activeElement === els.to;
  if (!busy || !els.from.value) els.from.value = s.from || effective.from;
  if (!busy || !els.to.value) els.to.value = s.to || effective.to;
  els.interval.value = s.interval || effective.interval;
  els.form.classList.toggle('is-default', !s.from && !s.to);
}
