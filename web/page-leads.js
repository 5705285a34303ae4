// Leads: follow-ups due and overdue per creator (GET /api/v1/leads/summary,
// for the last day of the range) and the leads list.

import { h, clear, errorBox, debounce, skeleton } from './dom.js';
import * as api from './api.js';
import * as fmt from './format.js';
import * as state from './state.js';
import * as range from './range.js';
import { VirtualTable } from './table.js';

const STATUSES = ['new', 'contacted', 'qualified', 'proposal', 'won', 'lost'];

export default {
  title: 'Leads',
  mount(main) {
    const s0 = state.current();
    const heading = h('h1', { class: 'page-title', tabindex: -1, text: 'Leads' });
    const sumTitle = h('h2', { id: 'leads-sum-title', text: 'Follow-ups by creator' });
    const sumNote = h('p', { class: 'muted' });
    const sumBody = h('div', { class: 'table-scroll' }, skeleton('chart-sm'));
    const summary = h('section', { class: 'card', id: 'leads-summary', 'aria-labelledby': 'leads-sum-title' },
      h('div', { class: 'card-head' }, sumTitle, sumNote), sumBody);

    const creator = h('select', { id: 'ld-creator' }, h('option', { value: '', text: 'Anyone' }));
    const status = h('select', { id: 'ld-status' }, h('option', { value: '', text: 'Any status' }),
      STATUSES.map((x) => h('option', { value: x, text: x[0].toUpperCase() + x.slice(1) })));
    const q = h('input', { type: 'search', id: 'ld-q', placeholder: 'Name, phone, source…', value: s0.extra.q || '' });
    status.value = s0.extra.status || '';
    const filters = h('div', { class: 'filters' },
      h('span', { class: 'field' }, h('label', { for: 'ld-creator', text: 'Creator' }), creator),
      h('span', { class: 'field' }, h('label', { for: 'ld-status', text: 'Status' }), status),
      h('span', { class: 'field' }, h('label', { for: 'ld-q', text: 'Search' }), q));

    const table = new VirtualTable({
      label: 'Leads',
      fetchPage: async (cursor, sort, signal) => {
        const s = state.current();
        const r = await range.resolved(s);
        const env = await api.getJSON('/api/v1/leads' + api.qs({
          from: r.from, to: r.to, creator: s.extra.creator, status: s.extra.status, q: s.extra.q, sort, limit: 1000, cursor,
          fields: 'created_at,name,creator,status,source,followup_date,value,mobile',
        }), { signal });
        fmt.setCurrency(env.currency, env.minor_units);
        return env.data;
      },
      columns: [
        { key: 'created_at', label: 'Created', width: '7.5rem', sort: 'date', format: (r) => (r.created_at || '').slice(0, 10) },
        { key: 'name', label: 'Name', width: 'minmax(9rem,2fr)' },
        { key: 'mobile', label: 'Mobile', width: 'minmax(8rem,1fr)' },
        { key: 'creator', label: 'Creator', width: '7rem' },
        { key: 'status', label: 'Status', width: '6.5rem' },
        { key: 'source', label: 'Source', width: 'minmax(6rem,1fr)' },
        { key: 'followup_date', label: 'Follow-up', width: '7.5rem', format: (r) => r.followup_date || '' },
        { key: 'value', label: 'Value', width: '8rem', cls: 'num', sort: 'amount', format: (r) => (r.value === null || r.value === undefined ? '' : fmt.money(r.value)) },
      ],
    });
    const list = h('section', { class: 'card', 'aria-labelledby': 'leads-list-title' },
      h('div', { class: 'card-head' }, h('h2', { id: 'leads-list-title', text: 'Leads' })), filters, table.el);
    main.append(heading, summary, list);

    let abort = null;
    async function loadSummary() {
      if (abort) abort.abort();
      abort = new AbortController();
      const s = state.current();
      try {
        const res = await api.get('/api/v1/leads/summary' + api.qs({ ...state.rangeParams(s), date: s.to }), { signal: abort.signal, revalidate: true });
        const env = res.body, d = env.data;
        fmt.setCurrency(env.currency, env.minor_units);
        sumTitle.textContent = `Follow-ups by creator on ${fmt.date(d.date)}`;
        renderSummary(d);
      } catch (err) {
        if (err.name === 'AbortError') return;
        clear(sumBody).append(errorBox(err, loadSummary));
      }
    }

    function renderSummary(d) {
      const cur = state.current().extra.creator || '';
      const names = d.creators.map((c) => c.creator);
      clear(creator).append(h('option', { value: '', text: 'Anyone' }), names.map((n) => h('option', { value: n, text: n })));
      if (cur && !names.includes(cur)) creator.append(h('option', { value: cur, text: cur }));
      creator.value = cur;
      const tot = { created: 0, followups_due: 0, overdue_followups: 0, by_status: Object.fromEntries(STATUSES.map((x) => [x, 0])) };
      const maxOver = Math.max(1, ...d.creators.map((c) => c.followups_due + c.overdue_followups));
      const rows = d.creators.map((c) => {
        tot.created += c.created; tot.followups_due += c.followups_due; tot.overdue_followups += c.overdue_followups;
        for (const x of STATUSES) tot.by_status[x] += c.by_status[x] || 0;
        const due = h('span', { class: 'mini-due' }), over = h('span', { class: 'mini-over' });
        due.style.width = (c.followups_due / maxOver * 100).toFixed(1) + '%';
        over.style.width = (c.overdue_followups / maxOver * 100).toFixed(1) + '%';
        const pick = h('button', { type: 'button', class: 'linkish', text: c.creator, 'aria-pressed': String(c.creator === cur),
          title: `Show ${c.creator}'s leads`, onclick: () => state.update({ extra: { creator: c.creator === cur ? '' : c.creator } }) });
        return h('tr', { dataset: { creator: c.creator }, class: c.overdue_followups ? 'has-overdue' : '' },
          h('th', { scope: 'row' }, pick),
          h('td', { class: 'num', text: fmt.count(c.created) }),
          STATUSES.map((x) => h('td', { class: 'num', text: fmt.count(c.by_status[x] || 0) })),
          h('td', { class: 'num due', text: fmt.count(c.followups_due) }),
          h('td', { class: 'num overdue', text: fmt.count(c.overdue_followups) }),
          h('td', { class: 'mini', 'aria-hidden': 'true' }, h('span', { class: 'mini-track' }, due, over)));
      });
      const foot = h('tr', {}, h('th', { scope: 'row', text: 'All' }), h('td', { class: 'num', text: fmt.count(tot.created) }),
        STATUSES.map((x) => h('td', { class: 'num', text: fmt.count(tot.by_status[x]) })),
        h('td', { class: 'num due', text: fmt.count(tot.followups_due) }), h('td', { class: 'num overdue', text: fmt.count(tot.overdue_followups) }), h('td'));
      sumNote.textContent = `${fmt.count(tot.followups_due)} due, ${fmt.count(tot.overdue_followups)} overdue · created in ${state.current().from ? fmt.dateRange(state.current().from, state.current().to) : 'the default range'}`;
      summary.dataset.due = String(tot.followups_due);
      summary.dataset.overdue = String(tot.overdue_followups);
      clear(sumBody).append(d.creators.length ? h('table', { class: 'plain' },
        h('thead', {}, h('tr', {}, ['Creator', 'Created', ...STATUSES.map((x) => x[0].toUpperCase() + x.slice(1)), 'Due', 'Overdue', ''].map((t) => h('th', { scope: 'col', text: t })))),
        h('tbody', {}, rows), h('tfoot', {}, foot)) : h('p', { class: 'muted', text: 'No leads.' }));
    }

    creator.addEventListener('change', () => state.update({ extra: { creator: creator.value } }));
    status.addEventListener('change', () => state.update({ extra: { status: status.value } }));
    q.addEventListener('input', debounce(() => state.update({ extra: { q: q.value } }, { replace: true }), 350));

    loadSummary();
    let last = state.current();
    return {
      update(s) {
        const rangeChanged = s.from !== last.from || s.to !== last.to;
        const e = s.extra, l = last.extra;
        if (rangeChanged || e.creator !== l.creator) loadSummary();
        if (rangeChanged || e.creator !== l.creator || e.status !== l.status || e.q !== l.q) table.reset();
        creator.value = e.creator || '';
        status.value = e.status || '';
        if (document.activeElement !== q) q.value = e.q || '';
        last = s;
      },
      refresh: loadSummary,
      unmount() { table.destroy(); if (abort) abort.abort(); },
      tables: { leads: table },
    };
  },
};
