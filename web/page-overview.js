// Overview: KPI tiles first, then the charts, all from one GET
// /api/v1/dashboard. Skeletons hold the layout until the answer arrives.

import { h, card, skeleton, errorBox, clear } from './dom.js';
import * as api from './api.js';
import * as fmt from './format.js';
import * as state from './state.js';
import * as range from './range.js';
import { LazyChart, cashflowChart, barList, columns } from './charts.js';

// Cash received in other currencies: shown apart, never in the totals.
function apart(o) {
  const oc = (o.other_currencies || []).filter((c) => c.cash_in);
  return oc.length ? ` · not in totals: ${oc.map((c) => fmt.money(c.cash_in, c.currency)).join(', ')}` : '';
}

// [key, label, value(o), change key, higher is good, note(o, d)]
const KPIS = [
  ['cash_in', 'Cash in', (o) => o.cash_in, 'cash_in', true, (o) => `previous ${fmt.money(o.previous.cash_in)}${apart(o)}`],
  ['cash_out', 'Cash out', (o) => o.cash_out, 'cash_out', false, (o) => `previous ${fmt.money(o.previous.cash_out)}`],
  ['net', 'Net cash flow', (o) => o.net, 'net', true, (o) => `previous ${fmt.money(o.previous.net)}`],
  ['sales', 'Sales', (o) => o.sales, 'sales', true, (o) => `${fmt.count(o.sales_count)} orders · previous ${fmt.money(o.previous.sales)}`],
  ['closing_balance', 'Cash balance', (o) => o.closing_balance, null, true, (o) => `at ${fmt.date(o.to)} · opening ${fmt.money(o.opening_balance)}`],
  ['outstanding', 'Receivables outstanding', (o) => o.outstanding, null, false, (o) => `${fmt.count(o.open_invoices)} open invoices`],
  ['overdue', 'Overdue', (o) => o.overdue, null, false, (o, d) => (d.dso && d.dso.dso !== null ? `DSO ${d.dso.dso} days` : 'past their due date')],
  ['open_leads', 'Open leads', (o) => o.open_leads, null, true, (o) => `${fmt.count(o.followups_due)} follow-ups due`, 'count'],
];

const AGING = [['current', 'Current', 'ok'], ['1_30', '1–30 days', 'warn1'], ['31_60', '31–60', 'warn2'], ['61_90', '61–90', 'warn3'], ['over_90', '90+', 'bad']];
const STATUS_CLS = { completed: 'ok', shipped: 'info', confirmed: 'info2', pending: 'warn1', cancelled: 'muted' };

export default {
  title: 'Overview',
  mount(main) {
    const heading = h('h1', { class: 'page-title', tabindex: -1, text: 'Overview' });
    const period = h('p', { class: 'page-sub', 'aria-live': 'polite' });
    const kpis = h('div', { class: 'kpis', 'aria-label': 'Key figures', role: 'region' });
    const tiles = {};
    for (const [key, label] of KPIS) {
      const value = h('div', { class: 'kpi-value' }, skeleton('line-lg'));
      const change = h('div', { class: 'kpi-change' }, skeleton('line-sm'));
      const note = h('div', { class: 'kpi-note' });
      const el = h('article', { class: 'kpi', dataset: { kpi: key }, 'aria-busy': 'true' }, h('h2', { class: 'kpi-label', text: label }), value, change, note);
      tiles[key] = { el, value, change, note };
      kpis.append(el);
    }
    const cf = card('Cash flow', { id: 'chart-cashflow', class: 'wide' });
    const costs = card('Costs by category', { id: 'chart-costs' });
    const sales = card('Sales by status', { id: 'chart-sales' });
    const aging = card('Receivables aging', { id: 'chart-aging' });
    const top = card('Top customers', { id: 'chart-top' });
    const cards = [cf, costs, sales, aging, top];
    for (const c of cards) c.body.append(skeleton('chart'));
    const grid = h('div', { class: 'grid' }, cards.map((c) => c.el));
    const errors = h('div');
    main.append(heading, period, errors, kpis, grid);

    const charts = {
      cashflow: new LazyChart(cf.body, (el, d, prev) => cashflowChart(el, d, prev)),
      costs: new LazyChart(costs.body, (el, d) => barList(el, [
        ...d.items.map((i) => ({ label: i.key, value: i.amount, note: `(${fmt.count(i.count)})` })),
        ...(d.other.count ? [{ label: 'Other', value: d.other.amount, note: `(${fmt.count(d.other.count)})`, cls: 'muted' }] : []),
      ], { caption: 'Costs by category' })),
      sales: new LazyChart(sales.body, (el, d) => barList(el, d.items.map((i) => ({
        label: i.key[0].toUpperCase() + i.key.slice(1), value: i.amount, note: `(${fmt.count(i.count)})`, cls: STATUS_CLS[i.key] || '',
      })), { caption: 'Sales by status' })),
      aging: new LazyChart(aging.body, (el, d) => columns(el, AGING.map(([k, label, cls]) => ({
        label, value: d.buckets[k].amount, sub: `${fmt.count(d.buckets[k].count)} invoices`, cls,
      })), { format: fmt.moneyCompact, caption: `Receivables aging at ${d.as_of}` })),
      top: new LazyChart(top.body, (el, d) => barList(el, d.items.map((i) => ({
        label: i.customer, value: i.amount, note: `(${fmt.count(i.count)})`,
      })), { caption: 'Top customers by sales' })),
    };

    let abort = null;
    let loads = 0;
    let first = true;

    async function load() {
      if (abort) abort.abort();
      abort = new AbortController();
      const my = ++loads;
      const s = state.current();
      main.setAttribute('aria-busy', 'true');
      let res;
      try {
        res = await api.get(state.dashboardPath(s), { signal: abort.signal, revalidate: true });
      } catch (err) {
        if (err.name === 'AbortError' || my !== loads) return;
        main.removeAttribute('aria-busy');
        clear(errors).append(errorBox(Object.assign(err, { message: 'Could not load the dashboard. ' + err.message }), load));
        return;
      }
      if (my !== loads) return;
      clear(errors);
      const env = res.body;
      const d = env.data;
      fmt.setCurrency(env.currency, env.minor_units);
      range.setEffective(d.overview.from, d.overview.to, d.cashflow.interval);
      period.textContent = `${fmt.dateRange(d.overview.from, d.overview.to)} · compared with ${fmt.dateRange(d.overview.previous.from, d.overview.previous.to)}`;
      if (!res.notModified || first) {
        renderKpis(tiles, d);
        performance.mark('brisk:kpis');
        aging.head.querySelector('h2').textContent = `Receivables aging at ${fmt.date(d.aging.as_of)}`;
        charts.cashflow.set(d.cashflow);
        charts.costs.set(d.costs_by_category);
        charts.sales.set(d.sales_by_status);
        charts.aging.set(d.aging);
        charts.top.set(d.top_customers);
      }
      main.removeAttribute('aria-busy');
      await Promise.all(Object.values(charts).map((c) => c.drawn()));
      if (my !== loads) return;
      main.dataset.loaded = String(my);
      if (first) {
        first = false;
        performance.mark('brisk:charts-drawn');
      }
      document.dispatchEvent(new CustomEvent('brisk:overview-drawn', { detail: { load: my } }));
    }

    load();
    return {
      update: load,
      refresh: load,
      unmount() {
        if (abort) abort.abort();
        for (const c of Object.values(charts)) c.destroy();
      },
    };
  },
};

function renderKpis(tiles, d) {
  const o = d.overview;
  for (const [key, , value, changeKey, upIsGood, note, kind] of KPIS) {
    const t = tiles[key];
    const v = value(o);
    t.el.removeAttribute('aria-busy');
    t.el.dataset.value = String(v);
    t.value.textContent = kind === 'count' ? fmt.count(v) : fmt.money(v);
    clear(t.change);
    if (changeKey) {
      const p = o.change[changeKey];
      const dir = p === null ? 'flat' : p > 0 ? 'up' : p < 0 ? 'down' : 'flat';
      const good = p === null || p === 0 ? 'neutral' : (p > 0) === upIsGood ? 'good' : 'bad';
      t.change.className = `kpi-change ${dir} ${good}`;
      t.change.append(
        h('span', { class: 'arrow', 'aria-hidden': 'true', text: dir === 'up' ? '▲' : dir === 'down' ? '▼' : '■' }),
        h('span', { text: p === null ? 'no previous figure' : `${fmt.percent(p)} vs previous period` }));
      t.el.dataset.change = p === null ? '' : String(p);
    } else {
      t.change.className = 'kpi-change neutral';
    }
    t.note.textContent = note(o, d);
  }
}
