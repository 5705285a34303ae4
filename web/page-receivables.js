// Receivables: aging at the range's end, the invoices and payments tables
// (virtual-scrolled over keyset pages), and, once the reconciliation
// endpoints exist on the server, the proposed matches as a review inbox
// (review.js) and the explanation of a payment's match. Until then those parts are not
// shown at all.

import { h, clear, errorBox, describe, debounce, skeleton, jsonView } from './dom.js';
import * as api from './api.js';
import * as fmt from './format.js';
import * as state from './state.js';
import * as range from './range.js';
import { VirtualTable } from './table.js';
import { columns } from './charts.js';
import { inbox } from './review.js';
import { probeRules, rulesForm } from './rules.js';

const AGING = [['current', 'Current', 'ok'], ['1_30', '1–30 days', 'warn1'], ['31_60', '31–60', 'warn2'], ['61_90', '61–90', 'warn3'], ['over_90', '90+', 'bad']];
const PROPOSALS = '/api/v1/match/proposals';

function listFetcher(kind, extra) {
  return async (cursor, sort, signal) => {
    const s = state.current();
    const r = await range.resolved(s);
    const q = api.qs({ from: r.from, to: r.to, ...extra(), sort, limit: 1000, cursor });
    const env = await api.getJSON(`/api/v1/${kind}${q}`, { signal });
    fmt.setCurrency(env.currency, env.minor_units);
    return env.data;
  };
}

export default {
  title: 'Receivables',
  mount(main) {
    const s0 = state.current();
    const heading = h('h1', { class: 'page-title', tabindex: -1, text: 'Receivables' });
    const agingTitle = h('h2', { text: 'Aging' });
    const agingBody = h('div', { class: 'aging-body' }, skeleton('chart-sm'));
    const agingTotal = h('p', { class: 'muted' });
    const agingCard = h('section', { class: 'card', id: 'aging', 'aria-labelledby': 'aging-title' },
      h('div', { class: 'card-head' }, agingTitle, agingTotal), agingBody);
    agingTitle.id = 'aging-title';

    // Filters shared by the tables.
    const q = h('input', { type: 'search', id: 'rx-q', placeholder: 'Search text', value: s0.extra.q || '' });
    const status = h('select', { id: 'rx-status' },
      [['', 'Any status'], ['open', 'Open'], ['partial', 'Partly paid'], ['paid', 'Paid'], ['void', 'Void']].map(([v, t]) => h('option', { value: v, text: t })));
    status.value = s0.extra.status || '';
    const statusWrap = h('span', { class: 'field' }, h('label', { for: 'rx-status', text: 'Status' }), status);
    const filters = h('div', { class: 'filters' }, h('span', { class: 'field' }, h('label', { for: 'rx-q', text: 'Search' }), q), statusWrap);

    const tabs = [
      { key: 'invoices', label: 'Invoices' },
      { key: 'payments', label: 'Payments' },
    ];
    const tabList = h('div', { class: 'tabs', role: 'tablist', 'aria-label': 'Receivables tables' });
    const panels = h('div');

    const invoices = new VirtualTable({
      label: 'Invoices',
      fetchPage: listFetcher('invoices', () => ({ q: state.current().extra.q, status: state.current().extra.status })),
      columns: [
        { key: 'number', label: 'Number', width: 'minmax(8rem,1fr)' },
        { key: 'customer', label: 'Customer', width: 'minmax(10rem,2fr)' },
        { key: 'issue_date', label: 'Issued', width: '7.5rem', sort: 'date' },
        { key: 'due_date', label: 'Due', width: '7.5rem' },
        { key: 'amount', label: 'Amount', width: '8.5rem', cls: 'num', sort: 'amount', format: (r) => fmt.money(r.amount, r.currency) },
        { key: 'outstanding', label: 'Outstanding', width: '8.5rem', cls: 'num', format: (r) => fmt.money(r.outstanding, r.currency) },
        { key: 'status', label: 'Status', width: '5.5rem' },
      ],
    });
    let explainAvailable = null; // unknown until a real payment id can be asked about
    const paymentsFetch = listFetcher('payments', () => ({ q: state.current().extra.q }));
    const explainPanel = h('aside', { class: 'explain card', hidden: true, 'aria-live': 'polite', 'aria-labelledby': 'explain-title' });
    const payments = new VirtualTable({
      label: 'Payments',
      fetchPage: async (...args) => {
        const page = await paymentsFetch(...args);
        if (page.items.length && explainAvailable === null) detectExplain(page.items[0].id);
        return page;
      },
      columns: [
        { key: 'date', label: 'Date', width: '7.5rem', sort: 'date' },
        { key: 'payer', label: 'Payer', width: 'minmax(10rem,2fr)' },
        { key: 'reference', label: 'Reference', width: 'minmax(10rem,2fr)' },
        { key: 'amount', label: 'Amount', width: '8.5rem', cls: 'num', sort: 'amount', format: (r) => fmt.money(r.amount, r.currency) },
        { key: 'id', label: 'Id', width: '7rem', cls: 'muted' },
      ],
      onActivate: (row) => { if (explainAvailable) explain(row); },
    });

    const tablePanels = { invoices, payments };
    const proposalsMsg = h('p', { class: 'proposals-msg', role: 'status', 'aria-live': 'polite' });
    const proposalsList = h('div');
    const proposalsSide = h('aside', { class: 'explain card review-side', hidden: true, 'aria-live': 'polite', 'aria-labelledby': 'rv-side-title' });
    const proposalsPanel = h('div', { class: 'proposals' }, proposalsMsg, h('div', { class: 'with-side' }, proposalsList, proposalsSide));
    let proposalsTab = null;

    function selectTab(key, { push = true, focus = false } = {}) {
      if (!panelEls[key]) key = 'invoices';
      for (const btn of tabList.children) {
        const on = btn.dataset.tab === key;
        btn.setAttribute('aria-selected', String(on));
        btn.tabIndex = on ? 0 : -1;
        if (on && focus) btn.focus();
      }
      for (const [k, el] of Object.entries(panelEls)) el.hidden = k !== key;
      statusWrap.hidden = key !== 'invoices';
      filters.hidden = key === 'proposals' || key === 'rules';
      if (push) state.update({ extra: { tab: key === 'invoices' ? '' : key } }, { replace: false });
      if (key === 'proposals') loadProposals();
    }
    const panelEls = {};
    function addTab(t, content) {
      const btn = h('button', {
        type: 'button', role: 'tab', id: `tab-${t.key}`, 'aria-controls': `panel-${t.key}`, dataset: { tab: t.key },
        text: t.label, onclick: () => selectTab(t.key),
      });
      tabList.append(btn);
      const panel = h('div', { role: 'tabpanel', id: `panel-${t.key}`, 'aria-labelledby': `tab-${t.key}`, hidden: true }, content);
      panelEls[t.key] = panel;
      panels.append(panel);
      return btn;
    }
    tabList.addEventListener('keydown', (e) => {
      const btns = [...tabList.children].filter((b) => !b.hidden);
      const i = btns.indexOf(document.activeElement);
      if (i < 0) return;
      let j = null;
      if (e.key === 'ArrowRight') j = (i + 1) % btns.length;
      else if (e.key === 'ArrowLeft') j = (i - 1 + btns.length) % btns.length;
      else if (e.key === 'Home') j = 0;
      else if (e.key === 'End') j = btns.length - 1;
      if (j === null) return;
      e.preventDefault();
      selectTab(btns[j].dataset.tab, { focus: true });
    });
    addTab(tabs[0], invoices.el);
    addTab(tabs[1], h('div', { class: 'with-side' }, payments.el, explainPanel));

    main.append(heading, agingCard, h('section', { class: 'card', 'aria-label': 'Tables' }, tabList, filters, panels));
    selectTab(s0.extra.tab && ['invoices', 'payments'].includes(s0.extra.tab) ? s0.extra.tab : 'invoices', { push: false });

    // ---- aging ----
    let agingAbort = null;
    async function loadAging() {
      if (agingAbort) agingAbort.abort();
      agingAbort = new AbortController();
      const s = state.current();
      try {
        const res = await api.get('/api/v1/aging' + api.qs({ as_of: s.to }), { signal: agingAbort.signal, revalidate: true });
        const env = res.body, d = env.data;
        fmt.setCurrency(env.currency, env.minor_units);
        agingTitle.textContent = `Aging at ${fmt.date(d.as_of)}`;
        agingTotal.textContent = `${fmt.money(d.total.amount)} outstanding on ${fmt.count(d.total.count)} invoices`;
        agingCard.dataset.total = String(d.total.amount);
        for (const [k] of AGING) agingCard.dataset['b' + k.replace('_', '')] = String(d.buckets[k].amount);
        columns(agingBody, AGING.map(([k, label, cls]) => ({ label, value: d.buckets[k].amount, sub: `${fmt.count(d.buckets[k].count)} invoices`, cls })),
          { format: fmt.moneyCompact, caption: `Receivables aging at ${d.as_of}` });
        agingCard.dataset.loaded = String(Date.now());
      } catch (err) {
        if (err.name === 'AbortError') return;
        clear(agingBody).append(errorBox(err, loadAging));
      }
    }

    // ---- matches (only if the server has them) ----
    let proposalsLoaded = false;
    async function detectMatching() {
      try {
        const first = await api.probe(PROPOSALS);
        if (first) {
          proposalsTab = addTab({ key: 'proposals', label: 'Proposed matches' }, proposalsPanel);
          renderProposals(first);
          proposalsLoaded = true;
          if (state.current().extra.tab === 'proposals') selectTab('proposals', { push: false });
        }
      } catch { /* shown when the tab is opened */ }
      try {
        api.forgetProbe('/api/v1/match/rules');
        const rules = await probeRules();
        if (rules) {
          const panel = h('div', { class: 'rules' });
          addTab({ key: 'rules', label: 'Matching rules' }, panel);
          rulesForm(panel, rules);
          if (state.current().extra.tab === 'rules') selectTab('rules', { push: false });
        }
      } catch { /* the rules tab stays away */ }
    }

    // The explain route is there or not; asked once, about a real payment.
    async function detectExplain(id) {
      explainAvailable = false;
      try {
        explainAvailable = (await api.probe(`/api/v1/payments/${encodeURIComponent(id)}/explain`)) !== null;
      } catch { explainAvailable = false; }
      payments.el.classList.toggle('activatable', explainAvailable);
    }

    async function loadProposals() {
      if (!proposalsTab) return;
      if (!proposalsLoaded) clear(proposalsList).append(skeleton('chart-sm'));
      try {
        const env = await api.getJSON(PROPOSALS + '?limit=200');
        renderProposals(env);
        proposalsLoaded = true;
      } catch (err) {
        clear(proposalsList).append(errorBox(err, loadProposals));
      }
    }

    function renderProposals(env) {
      if (env.currency) fmt.setCurrency(env.currency, env.minor_units);
      const d = env.data || env;
      const items = Array.isArray(d) ? d : d.items || d.proposals || [];
      proposalsPanel.dataset.count = String(items.length);
      inbox({ list: proposalsList, side: proposalsSide, msg: proposalsMsg, items, nextCursor: d.next_cursor,
        onDecided: () => { loadAging(); invoices.reset(); } });
    }

    async function explain(row) {
      explainPanel.hidden = false;
      const close = h('button', { type: 'button', class: 'btn small', text: 'Close', onclick: () => { explainPanel.hidden = true; payments.body.focus(); } });
      const head = (title) => h('div', { class: 'card-head' }, h('h2', { id: 'explain-title', text: title }), close);
      clear(explainPanel).append(head(`Payment ${row.id}`), skeleton('chart-sm'));
      try {
        const env = await api.getJSON(`/api/v1/payments/${encodeURIComponent(row.id)}/explain`);
        clear(explainPanel).append(head(`Payment ${row.id}`), explainView(env.data ?? env, row));
        explainPanel.dataset.payment = row.id;
      } catch (err) {
        clear(explainPanel).append(head(`Payment ${row.id}`), errorBox(err));
      }
    }

    const searchChanged = debounce(() => state.update({ extra: { q: q.value } }, { replace: true }), 350);
    q.addEventListener('input', searchChanged);
    status.addEventListener('change', () => state.update({ extra: { status: status.value } }));

    loadAging();
    setTimeout(detectMatching, 0);

    let last = state.current();
    return {
      update(s) {
        const rangeChanged = s.from !== last.from || s.to !== last.to;
        const filterChanged = s.extra.q !== last.extra.q || s.extra.status !== last.extra.status;
        if (s.extra.tab !== last.extra.tab) selectTab(s.extra.tab || 'invoices', { push: false });
        if (q.value !== (s.extra.q || '') && document.activeElement !== q) q.value = s.extra.q || '';
        status.value = s.extra.status || '';
        if (rangeChanged) loadAging();
        if (rangeChanged || filterChanged) { invoices.reset(); payments.reset(); }
        last = s;
      },
      refresh() { loadAging(); if (proposalsTab) loadProposals(); },
      unmount() { invoices.destroy(); payments.destroy(); if (agingAbort) agingAbort.abort(); },
      tables: { invoices, payments },
    };
  },
};

// The reconciliation engine's explanation of one payment: where it went and
// by which rule, or the candidates it weighed and why each was refused.
// Unknown parts are shown as they come.
function explainView(d, row) {
  if (!d || typeof d !== 'object' || !d.status) return jsonView(d);
  const pay = d.payment || row;
  const conf = (c) => (c === null || c === undefined ? '' : (c * 100).toFixed(0) + '%');
  const rule = (r) => (r ? r.replace(/_/g, ' ') : 'no rule');
  const out = [h('p', {}, `${fmt.date(pay.date)} · ${pay.payer} · ${fmt.money(pay.amount)}`, h('br'), h('small', { text: `Reference: ${pay.reference || '(none)'}` })),
    h('p', {}, 'Status: ', h('span', { class: 'badge ' + (d.status === 'applied' || d.status === 'confirmed' || d.status === 'manual' ? 'succeeded' : d.status === 'proposed' ? 'running' : ''), text: d.status }))];
  if (Array.isArray(d.allocations) && d.allocations.length) {
    out.push(h('h3', { text: 'Allocated to' }), h('ul', { class: 'advice' }, d.allocations.map((a) =>
      h('li', {}, h('strong', { text: a.invoice_number || a.invoice_id }), ` ${fmt.money(a.amount)} · ${rule(a.rule)} · ${conf(a.confidence)} · ${a.state}`))));
  }
  if (d.decision) {
    const x = d.decision;
    out.push(h('h3', { text: 'A run now would' }), h('p', {}, `${x.verdict}${x.invoice_id ? ' → ' + x.invoice_id : ''}${x.rule ? ' by ' + rule(x.rule) : ''}${x.confidence ? ' (' + conf(x.confidence) + ')' : ''}`,
      x.ambiguous_with ? h('small', { text: ` — as likely: ${[].concat(x.ambiguous_with).join(', ')}` }) : null));
  }
  if (Array.isArray(d.candidates) && d.candidates.length) {
    out.push(h('h3', { text: 'Invoices considered' }), ...d.candidates.map((c) => h('div', { class: 'cand' + (c.refused ? '' : ' chosen') },
      h('strong', { text: c.number || c.invoice_id }), ` · ${c.customer || ''} · outstanding ${fmt.money(c.outstanding)}`,
      h('br'),
      c.refused ? h('span', { class: 'why', text: c.refused }) : h('span', { text: `${rule(c.rule)}, ${conf(c.confidence)} · name similarity ${c.name_similarity ?? '—'}` }))));
  }
  return h('div', {}, out);
}
