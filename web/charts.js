// Charts: the cash-flow time series with uPlot, and plain HTML bars for
// categories (readable labels, keyboard- and screen-reader-friendly).
// Every chart is drawn only once its card scrolls into view (or is about to).

import uPlot from './uplot.js';
import { h, clear, srOnly } from './dom.js';
import * as fmt from './format.js';

// ---- drawing when visible ----

const lazy = new WeakMap();
const io = new IntersectionObserver((entries) => {
  for (const e of entries) {
    const c = lazy.get(e.target);
    if (!c) continue;
    c.visible = e.isIntersecting;
    if (c.visible && c.dirty) c.draw();
  }
}, { rootMargin: '150px 0px' });

// A chart slot: set(data) draws now if the slot is on screen, else when it
// gets there. drawn() resolves once the latest data is on screen.
export class LazyChart {
  constructor(el, render) {
    this.el = el;
    this.render = render; // (el, data, previousHandle) -> handle
    this.handle = null;
    this.visible = false;
    this.dirty = false;
    this.data = undefined;
    this.waiters = [];
    lazy.set(el, this);
    io.observe(el);
  }
  set(data) {
    this.data = data;
    this.dirty = true;
    this.el.dataset.drawn = '0';
    if (this.visible) this.draw();
  }
  draw() {
    if (!this.dirty) return;
    this.dirty = false;
    this.handle = this.render(this.el, this.data, this.handle);
    this.el.dataset.drawn = '1';
    const w = this.waiters;
    this.waiters = [];
    for (const fn of w) fn();
  }
  drawn() {
    if (!this.dirty && this.data !== undefined) return Promise.resolve();
    return new Promise((r) => this.waiters.push(r));
  }
  destroy() {
    io.unobserve(this.el);
    if (this.handle && this.handle.destroy) this.handle.destroy();
    this.handle = null;
  }
}

// ---- cash flow (uPlot) ----

const COLORS = { inflow: '#2f9e63', outflow: '#d9534f', net: '#30343b', balance: '#3b6fd8' };

function bucketLabel(start, interval) {
  const t = Date.parse(start + 'T00:00:00Z');
  const d = new Date(t);
  const y = d.getUTCFullYear();
  switch (interval) {
    case 'year': return String(y);
    case 'quarter': return `Q${Math.floor(d.getUTCMonth() / 3) + 1} ${y}`;
    case 'month': return new Intl.DateTimeFormat(undefined, { month: 'short', year: '2-digit', timeZone: 'UTC' }).format(t);
    default: return new Intl.DateTimeFormat(undefined, { day: 'numeric', month: 'short', timeZone: 'UTC' }).format(t);
  }
}

function cashflowOpts(width, cf, cents) {
  const n = cf.buckets.length;
  const bars = uPlot.paths.bars;
  const val = (si) => (u, v, s, idx) => (idx === null || idx === undefined ? '—' : fmt.money(cents[si][idx]));
  return {
    width, height: 280,
    padding: [12, 8, 0, 8],
    cursor: { points: { show: false }, drag: { x: false, y: false } },
    legend: { live: true },
    scales: {
      x: { time: false, range: () => [-0.6, n - 0.4] },
      y: { range: (u, min, max) => [Math.min(0, min), Math.max(0, max) * 1.05 || 1] },
      bal: { range: (u, min, max) => { const pad = (max - min) * 0.1 || Math.abs(max) * 0.1 || 1; return [min - pad, max + pad]; } },
    },
    axes: [
      {
        stroke: '#5b6270', grid: { show: false }, ticks: { show: false },
        splits: () => { const step = Math.max(1, Math.ceil(n / Math.max(1, Math.floor(width / 70)))); const s = []; for (let i = 0; i < n; i += step) s.push(i); return s; },
        values: (u, splits) => splits.map((i) => (cf.buckets[i] ? bucketLabel(cf.buckets[i].start, cf.interval) : '')),
      },
      { stroke: '#5b6270', size: 64, grid: { stroke: '#eceef2' }, values: (u, splits) => splits.map((v) => fmt.moneyCompact(v * fmt.unit())) },
      { scale: 'bal', side: 1, stroke: COLORS.balance, size: 64, grid: { show: false }, values: (u, splits) => splits.map((v) => fmt.moneyCompact(v * fmt.unit())) },
    ],
    series: [
      { label: 'Period', value: (u, v, s, idx) => (idx === null || idx === undefined || !cf.buckets[idx] ? '—' : fmt.dateRange(cf.buckets[idx].start, cf.buckets[idx].end)) },
      { label: 'Inflow', fill: COLORS.inflow + 'cc', stroke: COLORS.inflow, width: 0, paths: bars({ size: [0.4, 60], align: 1 }), points: { show: false }, value: val(1) },
      { label: 'Outflow', fill: COLORS.outflow + 'cc', stroke: COLORS.outflow, width: 0, paths: bars({ size: [0.4, 60], align: -1 }), points: { show: false }, value: val(2) },
      { label: 'Net', stroke: COLORS.net, width: 2, points: { show: n < 40, size: 5 }, value: val(3) },
      { label: 'Balance', scale: 'bal', stroke: COLORS.balance, width: 2, dash: [6, 4], points: { show: false }, value: val(4) },
    ],
  };
}

export function cashflowChart(el, cf, prev) {
  if (prev) prev.destroy();
  clear(el);
  const b = cf.buckets;
  const cents = [null, b.map((x) => x.inflow), b.map((x) => x.outflow), b.map((x) => x.net), b.map((x) => x.balance)];
  // Floats only to place points on the canvas; labels use the cents above.
  const data = [b.map((_, i) => i), ...cents.slice(1).map((a) => a.map((c) => c / fmt.unit()))];
  const plotBox = h('div', { class: 'plot', role: 'img', 'aria-label': `Cash flow by ${cf.interval}: inflow, outflow, net and balance. The table below has the figures.` });
  const table = h('table', { class: 'cf-data' },
    h('caption', { text: `Cash flow by ${cf.interval}` }),
    h('thead', {}, h('tr', {}, ['Period', 'Inflow', 'Outflow', 'Net', 'Balance'].map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', {}, b.map((x) => h('tr', {}, h('th', { scope: 'row', text: fmt.dateRange(x.start, x.end) }),
      [x.inflow, x.outflow, x.net, x.balance].map((c) => h('td', { text: fmt.money(c) }))))));
  el.append(plotBox, srOnly(table));
  return fitted(el, plotBox, 280, (width) => cashflowOpts(width, cf, cents), data);
}

// A uPlot of el's width that follows it when the page is resized; the
// handle destroys both.
function fitted(el, box, height, opts, data) {
  const width = Math.max(280, Math.floor(el.clientWidth || 600));
  const u = new uPlot(opts(width), data, box);
  let lastW = width;
  const ro = new ResizeObserver(() => {
    const w = Math.max(280, Math.floor(el.clientWidth));
    if (w !== lastW) { lastW = w; u.setSize({ width: w, height }); }
  });
  ro.observe(el);
  return { destroy() { ro.disconnect(); u.destroy(); } };
}

// ---- one measure over time (uPlot): a data set's series ----

// d: {interval, label, points: [{start, value (integer, or null), rows}]};
// format(value) -> exact text; scale: the value's 10^scale (a float only
// places the bar).
export function seriesChart(el, d, prev) {
  if (prev) prev.destroy();
  clear(el);
  const pts = d.points;
  const n = pts.length;
  const ys = pts.map((p) => (p.value === null || p.value === undefined ? null : p.value / 10 ** d.scale));
  const plotBox = h('div', { class: 'plot', role: 'img', 'aria-label': `${d.label} by ${d.interval}. The table below has the figures.` });
  const table = h('table', { class: 'cf-data' },
    h('caption', { text: `${d.label} by ${d.interval}` }),
    h('thead', {}, h('tr', {}, ['Period', d.label, 'Rows'].map((t) => h('th', { scope: 'col', text: t })))),
    h('tbody', {}, pts.map((p) => h('tr', {}, h('th', { scope: 'row', text: bucketLabel(p.start, d.interval) }),
      h('td', { text: p.value === null || p.value === undefined ? '—' : d.format(p.value) }), h('td', { text: fmt.count(p.rows) })))));
  el.append(plotBox, srOnly(table));
  if (!n) {
    plotBox.append(h('p', { class: 'muted', text: 'Nothing in this range.' }));
    return null;
  }
  const opts = (w) => ({
    width: w, height: 260,
    padding: [12, 8, 0, 8],
    cursor: { points: { show: false }, drag: { x: false, y: false } },
    legend: { live: true },
    scales: {
      x: { time: false, range: () => [-0.6, n - 0.4] },
      y: { range: (u, min, max) => [Math.min(0, min ?? 0), Math.max(0, max ?? 0) * 1.05 || 1] },
    },
    axes: [
      {
        stroke: '#5b6270', grid: { show: false }, ticks: { show: false },
        splits: () => { const step = Math.max(1, Math.ceil(n / Math.max(1, Math.floor(w / 70)))); const s = []; for (let i = 0; i < n; i += step) s.push(i); return s; },
        values: (u, splits) => splits.map((i) => (pts[i] ? bucketLabel(pts[i].start, d.interval) : '')),
      },
      { stroke: '#5b6270', size: 70, grid: { stroke: '#eceef2' }, values: (u, splits) => splits.map((v) => d.axis(v)) },
    ],
    series: [
      { label: 'Period', value: (u, v, si, idx) => (idx === null || idx === undefined || !pts[idx] ? '—' : bucketLabel(pts[idx].start, d.interval)) },
      { label: d.label, fill: COLORS.balance + 'cc', stroke: COLORS.balance, width: 0, paths: uPlot.paths.bars({ size: [0.7, 60] }), points: { show: false },
        value: (u, v, si, idx) => (idx === null || idx === undefined || pts[idx].value === null ? '—' : d.format(pts[idx].value)) },
    ],
  });
  return fitted(el, plotBox, 260, opts, [pts.map((_, i) => i), ys]);
}

// ---- HTML bars ----

// items: [{label, value (cents or count), note, cls, pick}]; value drives
// the bar; an item with pick (a function) has its label as a button.
export function barList(el, items, { format = fmt.money, empty = 'Nothing in this range.', caption } = {}) {
  clear(el);
  if (!items.length) {
    el.append(h('p', { class: 'muted', text: empty }));
    return null;
  }
  const max = Math.max(...items.map((i) => Math.abs(i.value)), 1);
  const list = h('ol', { class: 'bars', 'aria-label': caption });
  for (const it of items) {
    const bar = h('span', { class: 'bar-fill ' + (it.cls || '') });
    bar.style.width = (Math.abs(it.value) / max * 100).toFixed(2) + '%';
    list.append(h('li', { class: 'bar-row', dataset: it.data },
      it.pick
        ? h('button', { type: 'button', class: 'bar-label linkish', text: it.label, title: it.title || it.label, onclick: it.pick })
        : h('span', { class: 'bar-label', text: it.label, title: it.label }),
      h('span', { class: 'bar-track', 'aria-hidden': 'true' }, bar),
      h('span', { class: 'bar-value' }, format(it.value), it.note ? h('small', { text: ' ' + it.note }) : null)));
  }
  el.append(list);
  return null;
}

// Vertical columns: [{label, value, sub, cls}]
export function columns(el, items, { format = fmt.money, caption } = {}) {
  clear(el);
  const max = Math.max(...items.map((i) => Math.abs(i.value)), 1);
  const wrap = h('ol', { class: 'columns', 'aria-label': caption });
  for (const it of items) {
    const fill = h('span', { class: 'col-fill ' + (it.cls || '') });
    fill.style.height = Math.max(1, Math.abs(it.value) / max * 100).toFixed(2) + '%';
    wrap.append(h('li', { class: 'col' },
      h('span', { class: 'col-value', text: format(it.value) }),
      h('span', { class: 'col-track', 'aria-hidden': 'true' }, fill),
      h('span', { class: 'col-label', text: it.label }),
      it.sub ? h('span', { class: 'col-sub', text: it.sub }) : null));
  }
  el.append(wrap);
  return null;
}
