// One data set (/datasets/NAME, issue 13): its totals as KPI tiles, one
// measure over time (uPlot), a breakdown per dimension (top 10 and the
// rest; a click on a bar filters by that value), the filters as chips, and
// its rows (keyset pages, virtual-scrolled). The URL holds the state:
// from, to, interval, m (the measure shown) and f.<dimension>=value.
// Figures are integers (money in minor units, decimals scaled by their
// declared 10^scale) formatted exactly; floats only place chart marks.

import { h, clear, errorBox, skeleton, card, forbid } from './dom.js';
import * as api from './api.js';
import * as fmt from './format.js';
import * as state from './state.js';
import * as range from './range.js';
import { LazyChart, seriesChart, barList } from './charts.js';
import { VirtualTable } from './table.js';
import { importFile } from './dataset-import.js';
import { DATASETS } from './page-datasets.js';

const TOP = 10;
const GRAIN_RANK = { day: 0, week: 1, month: 2, quarter: 3, year: 4 };
const compactNum = new Intl.NumberFormat(undefined, { notation: 'compact', maximumFractionDigits: 1 });

// Exact text of a measure's integer value.
function formatter(m) {
  if (m.type === 'money') return (v) => fmt.money(v);
  if (m.type === 'decimal') return (v) => fmt.scaled(v, m.scale || 0);
  return (v) => fmt.count(v);
}
// 10^scale of a measure's integers.
function scaleOf(m, minor) {
  return m.type === 'money' ? minor : m.type === 'decimal' ? m.scale || 0 : 0;
}

// The filters of a state: {dimension: value} from f.<dimension> keys.
function filtersOf(s, ds) {
  const out = {};
  for (const d of ds.dimensions || []) {
    const v = s.extra['f.' + d.name];
    if (v !== undefined && v !== null) out[d.name] = v; // '' filters the blank value
  }
  return out;
}

// The interval to show when the URL names none: about 12 to 60 buckets,
// never finer than the data set's own grain.
function defaultInterval(from, to, grain) {
  const days = (Date.parse(to) - Date.parse(from)) / 86400000 + 1;
  const want = days <= 62 ? 'day' : days <= 365 * 5 ? 'month' : days <= 365 * 15 ? 'quarter' : 'year';
  return GRAIN_RANK[want] >= GRAIN_RANK[grain || 'day'] ? want : grain;
}

export default {
  title: 'Data set',
  mount(main, s0) {
    const name = s0.item;
    const base = `${DATASETS}/${encodeURIComponent(name)}`;
    const heading = h('h1', { class: 'page-title', tabindex: -1, text: name });
    const sub = h('p', { class: 'page-sub', 'aria-live': 'polite' });
    const errors = h('div');
    const body = h('div', {}, skeleton('chart'));
    main.append(h('p', { class: 'crumbs' }, h('a', { href: '/datasets', 'data-nav': '', text: '← Data sets' })), heading, sub, errors, body);
    let ds = null, env0 = null, alive = true, abort = null, loads = 0;
    let ui = null;

    async function start() {
      try {
        env0 = await api.getJSON(base);
      } catch (err) {
        if (!alive) return;
        clear(body);
        clear(errors).append(errorBox(err.status === 404 ? new Error(`There is no data set "${name}".`) : err, err.status === 404 ? null : start));
        return;
      }
      if (!alive) return;
      ds = env0.data;
      fmt.setCurrency(env0.currency, env0.minor_units);
      heading.textContent = ds.title || ds.name;
      document.title = `${ds.title || ds.name} · brisk`;
      ui = build();
      load();
    }

    // The parts of the page, built once the definition is known.
    function build() {
      const measureSel = h('select', { id: 'dsv-measure' }, ds.measures.map((m) => h('option', { value: m.name, text: m.name })));
      const chips = h('div', { class: 'chips', id: 'dsv-filters', role: 'group', 'aria-label': 'Filters' });
      const bar = h('div', { class: 'filters' }, h('span', { class: 'field' }, h('label', { for: 'dsv-measure', text: 'Measure' }), measureSel), chips);
      const kpis = h('div', { class: 'kpis', id: 'dsv-kpis', 'aria-label': 'Totals', role: 'region' });
      const chartCard = card('Over time', { id: 'dsv-series', class: 'wide' });
      const breakCards = (ds.dimensions || []).map((d) => ({ d, c: card(`By ${d.name}`, { id: `dsv-by-${d.name}` }) }));
      const grid = h('div', { class: 'grid' }, chartCard.el, breakCards.map((b) => b.c.el));
      const table = new VirtualTable({
        label: `Rows of ${ds.name}`,
        fetchPage: async (cursor, sort, signal) => {
          const env = await api.getJSON(`${base}/rows` + api.qs({ ...query(), limit: 1000, cursor }), { signal });
          return env.data;
        },
        columns: columnsOf(),
      });
      const rowsCard = h('section', { class: 'card', id: 'dsv-rows', 'aria-labelledby': 'dsv-rows-title' },
        h('div', { class: 'card-head' }, h('h2', { id: 'dsv-rows-title', text: 'Rows' })), table.el);
      const importBox = h('div', { class: 'ds-import' });
      const importInput = h('input', { type: 'file', id: 'dsv-file', accept: '.csv,.tsv,.txt,text/csv,text/plain' });
      const importBtn = h('button', { type: 'submit', class: 'btn', id: 'dsv-import', text: 'Import' });
      const importForm = h('form', { class: 'filters', id: 'dsv-import-form', onsubmit: async (e) => {
        e.preventDefault();
        const f = importInput.files && importInput.files[0];
        if (!f) { importInput.focus(); return; }
        importBtn.disabled = true;
        clear(importBox);
        await importFile(importBox, { name: ds.name, file: f });
        importBtn.disabled = false;
        await reloadDefinition();
        load();
      } }, h('span', { class: 'field' }, h('label', { for: 'dsv-file', text: 'Add rows from a CSV file' }), importInput), importBtn);
      forbid(api.refusal('analyst'), importForm);
      const importCard = h('details', { class: 'card', id: 'dsv-import-card' }, h('summary', {}, h('h2', { class: 'inline', text: 'Import more rows' })),
        h('p', { class: 'muted', text: describeDef() }), importForm, importBox);
      clear(body).append(bar, kpis, grid, rowsCard, importCard);

      measureSel.addEventListener('change', () => state.update({ extra: { m: measureSel.value } }));
      const charts = {
        series: new LazyChart(chartCard.body, (el, d, prev) => seriesChart(el, d, prev)),
        by: Object.fromEntries(breakCards.map(({ d, c }) => [d.name, new LazyChart(c.body, (el, x) => barList(el, x.items, { format: x.format, caption: `${x.measure} by ${d.name}`, empty: 'No rows in this range.' }))])),
      };
      return { measureSel, chips, kpis, chartCard, breakCards, table, charts };
    }

    function describeDef() {
      const t = ds.time || {};
      return `Dates from column "${t.column}" (per ${t.grain}); dimensions: ${(ds.dimensions || []).map((d) => `${d.name} ("${d.column}")`).join(', ') || 'none'}; ` +
        `measures: ${ds.measures.map((m) => `${m.name} ("${m.column}", ${m.type}${m.type === 'decimal' ? `, ${m.scale} decimals` : ''})`).join(', ')}` +
        `${ds.key && ds.key.length ? `; rows are replaced by key ${ds.key.join(' + ')}` : '; a row seen again is not stored twice'}.`;
    }

    async function reloadDefinition() {
      try { ds = (await api.getJSON(base)).data; } catch { /* the views will say what fails */ }
    }

    function columnsOf() {
      const t = ds.time || {};
      const timeKey = (r) => r[t.name] ?? r[t.column] ?? r.time ?? r.date ?? '';
      return [
        { key: 'time', label: t.column || 'Date', width: '7.5rem', format: timeKey },
        ...(ds.dimensions || []).map((d) => ({ key: d.name, label: d.name, width: 'minmax(7rem,1fr)', format: (r) => r[d.name] ?? r[d.column] ?? '' })),
        ...ds.measures.map((m) => {
          const f = formatter(m);
          return { key: m.name, label: m.name, width: '9rem', cls: 'num', format: (r) => { const v = r[m.name] ?? r[m.column]; return v === null || v === undefined ? '' : f(v); } };
        }),
      ];
    }

    // The view parameters of the state: range, filters.
    function query(s = state.current()) {
      const q = { from: s.from || ds.min_date || '', to: s.to || ds.max_date || '' };
      for (const [k, v] of Object.entries(filtersOf(s, ds))) q['f.' + k] = v;
      return q;
    }

    function measureOf(s) {
      return ds.measures.find((m) => m.name === s.extra.m) || ds.measures[0];
    }

    function renderChips(s) {
      const f = filtersOf(s, ds);
      clear(ui.chips);
      for (const [k, v] of Object.entries(f)) {
        ui.chips.append(h('button', { type: 'button', class: 'chip active', dataset: { filter: k, value: v }, 'aria-label': `Remove the filter ${k} = ${v}`,
          title: 'Remove this filter', onclick: () => state.update({ extra: { ['f.' + k]: null } }) }, `${k}: ${v || '(blank)'} `, h('span', { 'aria-hidden': 'true', text: '×' })));
      }
      if (Object.keys(f).length > 1) {
        ui.chips.append(h('button', { type: 'button', class: 'linkish', id: 'dsv-clear', text: 'Clear filters',
          onclick: () => state.update({ extra: Object.fromEntries(Object.keys(f).map((k) => ['f.' + k, null])) }) }));
      }
      if (!Object.keys(f).length && (ds.dimensions || []).length) ui.chips.append(h('span', { class: 'muted small', text: 'Click a bar to filter by its value.' }));
    }

    async function load() {
      if (!ds || !alive) return;
      if (abort) abort.abort();
      abort = new AbortController();
      const my = ++loads;
      const s = state.current();
      const q = query(s);
      const m = measureOf(s);
      const grain = ds.time?.grain || 'day';
      let interval = s.interval || (q.from && q.to ? defaultInterval(q.from, q.to, grain) : 'month');
      // the server refuses buckets finer than the dates (and weeks of months)
      if (GRAIN_RANK[interval] < GRAIN_RANK[grain] || (interval === 'week' && grain !== 'day')) interval = grain === 'day' ? 'month' : grain;
      if (q.from && q.to) range.setEffective(q.from, q.to, interval);
      ui.measureSel.value = m.name;
      renderChips(s);
      const f = filtersOf(s, ds);
      sub.textContent = `${q.from ? fmt.dateRange(q.from, q.to) : 'No rows yet'} · ${fmt.count(ds.rows)} rows in all` +
        (Object.keys(f).length ? ` · filtered by ${Object.entries(f).map(([k, v]) => `${k} = ${v === '' ? '(blank)' : v}`).join(', ')}` : '');
      main.setAttribute('aria-busy', 'true');
      const opt = { signal: abort.signal, revalidate: true };
      const views = [
        api.get(`${base}/totals` + api.qs(q), opt),
        api.get(`${base}/series` + api.qs({ ...q, interval, measure: m.name }), opt),
        ...ui.breakCards.map(({ d }) => api.get(`${base}/breakdown` + api.qs({ ...q, by: d.name, measure: m.name, top: TOP }), opt)),
      ];
      let res;
      try {
        res = await Promise.all(views);
      } catch (err) {
        if (err.name === 'AbortError' || my !== loads) return;
        main.removeAttribute('aria-busy');
        clear(errors).append(errorBox(err, load));
        return;
      }
      if (my !== loads) return;
      clear(errors);
      const [tot, ser, ...brk] = res.map((r) => r.body);
      fmt.setCurrency(tot.currency, tot.minor_units);
      renderKpis(tot.data, m);
      const fm = formatter(m);
      const sc = scaleOf(m, tot.minor_units ?? 2);
      ui.chartCard.head.querySelector('h2').textContent = `${m.name} by ${ser.data.interval || interval}`;
      ui.charts.series.set({
        interval: ser.data.interval || interval, label: m.name, scale: sc, format: fm,
        axis: (v) => (m.type === 'money' ? fmt.moneyCompact(v * fmt.unit()) : compactNum.format(v)),
        points: ser.data.points.map((p) => ({ start: p.start, rows: p.rows, value: p.rows ? p.measures[m.name]?.sum ?? null : null })),
      });
      ui.breakCards.forEach(({ d }, i) => {
        const b = brk[i].data;
        const active = f[d.name] !== undefined;
        const items = b.items.map((it) => ({
          label: it.value === '' ? '(blank)' : it.value, value: it.sum, note: `(${fmt.count(it.rows)})`,
          data: { value: it.value, rows: it.rows, sum: it.sum },
          cls: active ? 'ok' : '',
          pick: active ? null : () => state.update({ extra: { ['f.' + d.name]: it.value } }),
          title: `Show only ${d.name} = ${it.value === '' ? '(blank)' : it.value}`,
        }));
        if (b.other && b.other.rows) items.push({ label: `${fmt.count(b.other.values)} others`, value: b.other.sum, note: `(${fmt.count(b.other.rows)})`, cls: 'muted', data: { other: '1' } });
        ui.charts.by[d.name].set({ items, format: fm, measure: m.name });
      });
      const last = ui.lastRowsKey;
      ui.lastRowsKey = JSON.stringify(q);
      if (last !== undefined && last !== ui.lastRowsKey) ui.table.reset();
      main.removeAttribute('aria-busy');
      await Promise.all([ui.charts.series, ...Object.values(ui.charts.by)].map((c) => c.drawn()));
      if (my !== loads) return;
      main.dataset.loaded = String(my);
    }

    function renderKpis(t, shown) {
      clear(ui.kpis);
      const tile = (key, label, value, text, note) => h('article', { class: 'kpi', dataset: { kpi: key, value: String(value) } },
        h('h2', { class: 'kpi-label', text: label }), h('div', { class: 'kpi-value', text }), h('div', { class: 'kpi-note', text: note }));
      ui.kpis.append(tile('rows', 'Rows', t.rows, fmt.count(t.rows), `${fmt.count(ds.rows)} in the data set`));
      for (const m of ds.measures) {
        const x = t.measures[m.name] || {};
        const f = formatter(m);
        const note = x.count ? `avg ${m.type === 'money' ? fmt.moneyDecimal(x.avg) : fmt.decimalText(x.avg)} · min ${f(x.min)} · max ${f(x.max)}` + (x.count !== t.rows ? ` · ${fmt.count(x.count)} values` : '') : 'no values';
        const el = tile(m.name, m.name, x.sum ?? '', x.sum === null || x.sum === undefined ? '—' : f(x.sum), note);
        if (m.name === shown.name) el.classList.add('shown');
        ui.kpis.append(el);
      }
    }

    start();
    return {
      update() { load(); },
      // new rows somewhere in the org: the views revalidate (a 304 when not
      // this data set's); the table starts again only when its rows changed
      refresh: async () => {
        const before = ds && ds.rows;
        await reloadDefinition();
        if (ui && ds.rows !== before) ui.table.reset();
        load();
      },
      unmount() {
        alive = false;
        if (abort) abort.abort();
        range.forgetEffective();
        if (ui) {
          ui.table.destroy();
          ui.charts.series.destroy();
          for (const c of Object.values(ui.charts.by)) c.destroy();
        }
      },
      get tables() { return ui ? { rows: ui.table } : {}; },
    };
  },
};
