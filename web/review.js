// The review queue as a bookkeeper's inbox (issue 15): the proposed matches
// grouped per payment (a payment for several invoices is one decision),
// a filter, bulk confirm of what the filter shows, the keyboard (j/k or
// arrows to move, c or Enter to confirm, r to reject, e to explain), and
// beside the list the selected payment's proposal and the other invoices
// the engine weighed, each with its reason.

import { h, clear, describe, forbid } from './dom.js';
import * as api from './api.js';
import * as fmt from './format.js';

const pct = (c) => (c === null || c === undefined ? '' : (c * 100).toFixed(0) + '%');
const rule = (r) => (r ? r.replace(/_/g, ' ') : 'no rule');

// Proposal rows -> one entry per payment, in the order given.
export function group(items) {
  const by = new Map();
  for (const p of items) {
    const pid = p.payment_id ?? p.payment?.id;
    let g = by.get(pid);
    if (!g) {
      g = { pid, payer: p.payer ?? '', date: p.date ?? '', amount: p.amount, reference: p.reference ?? '', rule: p.rule,
        confidence: p.confidence, customer: p.customer ?? '', invoices: [] };
      by.set(pid, g);
    }
    const invs = Array.isArray(p.invoices) && p.invoices.length ? p.invoices : [p];
    for (const i of invs)
      g.invoices.push({ id: i.invoice_id, number: i.invoice_number ?? i.invoice_id, outstanding: i.outstanding, customer: i.customer });
  }
  return [...by.values()];
}

// Renders the inbox into list (and the side panel into side); msg is the
// live region other code and tests read. onDecided(pid, verb) after each.
export function inbox({ list, side, msg, items, nextCursor, onDecided }) {
  const groups = group(items);
  // Deciding is an analyst's: a viewer sees the inbox with its controls
  // disabled, each saying why.
  const refused = api.refusal('analyst');
  // Live refreshes re-render the list: keep the filter, the selection (or
  // its place) and the keyboard focus of the previous rendering.
  const prev = list.rvState || {};
  const hadFocus = list.contains(document.activeElement) && document.activeElement.tagName !== 'INPUT';
  clear(list);
  clear(side);
  side.hidden = true;
  if (!groups.length) {
    list.append(h('p', { class: 'muted', text: 'No matches are waiting for review.' }));
    return;
  }
  const filterBox = h('input', { type: 'search', id: 'rv-filter', placeholder: 'Payer, customer, invoice', 'aria-label': 'Filter the proposals' });
  const rules = [...new Set(groups.map((g) => g.rule))];
  const ruleSel = h('select', { id: 'rv-rule', 'aria-label': 'Rule' }, h('option', { value: '', text: 'Any rule' }),
    rules.map((r) => h('option', { value: r, text: rule(r) })));
  const bulk = h('button', { type: 'button', class: 'btn small', id: 'rv-bulk' });
  const count = h('span', { class: 'muted', id: 'rv-count' });
  const help = h('p', { class: 'muted small', id: 'rv-keys' },
    'Keys: ', h('kbd', { text: 'j' }), '/', h('kbd', { text: 'k' }), ' next/previous · ', h('kbd', { text: 'c' }), ' confirm · ',
    h('kbd', { text: 'r' }), ' reject · ', h('kbd', { text: 'e' }), ' why');
  list.append(h('p', { class: 'muted', text: nextCursor
    ? `The first ${groups.length} payments waiting for review; decide these to see more.`
    : `${groups.length} ${groups.length === 1 ? 'payment waits' : 'payments wait'} for review: the reconciliation was not sure enough to apply ${groups.length === 1 ? 'it' : 'them'}.` }),
  h('div', { class: 'filters' }, filterBox, ruleSel, bulk, count), help,
  refused ? h('p', { class: 'role-note', id: 'rv-role', text: `${refused} You can read the proposals and why they were made.` }) : null);

  const tbody = h('tbody');
  const rows = [];
  let current = -1;
  let asked = 0; /* side-panel requests, so a late answer never shows */

  function visible() { return rows.filter((r) => !r.tr.hidden && !r.done); }

  function remember() {
    const r = rows[current];
    list.rvState = { pid: r?.g.pid, index: r ? visible().indexOf(r) : -1, filter: filterBox.value, rule: ruleSel.value };
  }

  function select(r, { focus = true } = {}) {
    for (const x of rows) x.tr.setAttribute('aria-selected', String(x === r));
    current = rows.indexOf(r);
    remember();
    if (!r) return;
    if (focus) r.tr.focus();
    showSide(r.g);
  }

  function move(step) {
    const v = visible();
    if (!v.length) return;
    const at = v.indexOf(rows[current]);
    select(v[Math.max(0, Math.min(v.length - 1, at < 0 ? 0 : at + step))]);
  }

  async function decide(r, verb) {
    if (!r || r.done) return false;
    if (refused) {
      msg.textContent = refused;
      return false;
    }
    for (const b of r.tr.querySelectorAll('button')) b.disabled = true;
    try {
      await api.send('POST', `/api/v1/match/${encodeURIComponent(r.g.pid)}/${verb}`);
      r.done = verb;
      r.msg.textContent = verb === 'confirm' ? 'Confirmed' : 'Rejected';
      r.tr.classList.add('decided');
      const inv = r.g.invoices.map((i) => i.number).join(', ');
      msg.textContent = `${verb === 'confirm' ? 'Confirmed' : 'Rejected'}: payment ${r.g.pid} ${verb === 'confirm' ? 'pays' : 'does not pay'} ${inv}.`;
      msg.dataset.payment = r.g.pid;
      msg.dataset.decision = verb;
      onDecided?.(r.g.pid, verb);
      return true;
    } catch (err) {
      for (const b of r.tr.querySelectorAll('button')) b.disabled = false;
      r.msg.textContent = describe(err);
      return false;
    }
  }

  async function decideAndNext(r, verb) {
    if (await decide(r, verb)) {
      const v = visible();
      const next = v.find((x) => rows.indexOf(x) > rows.indexOf(r)) || v[v.length - 1];
      if (next) select(next);
    }
  }

  function applyFilter() {
    const q = filterBox.value.trim().toLowerCase();
    const rl = ruleSel.value;
    for (const r of rows) {
      const text = [r.g.pid, r.g.payer, r.g.customer, r.g.reference, ...r.g.invoices.map((i) => `${i.number} ${i.customer}`)].join(' ').toLowerCase();
      r.tr.hidden = (q && !text.includes(q)) || (rl && r.g.rule !== rl);
    }
    const n = visible().length;
    bulk.textContent = `Confirm all ${n} shown`;
    bulk.disabled = n === 0 || !!refused;
    count.textContent = `${n} of ${rows.filter((r) => !r.done).length} undecided`;
  }

  for (const g of groups) {
    const r = { g, done: null, msg: h('span', { class: 'row-msg', role: 'status' }) };
    const inv = g.invoices.map((i) => i.number).join(', ');
    r.tr = h('tr', { dataset: { payment: g.pid }, tabindex: -1, 'aria-selected': 'false', onclick: (e) => { if (e.target.tagName !== 'BUTTON') select(r); } },
      h('td', { text: g.pid }),
      h('td', { text: g.payer }),
      h('td', { text: inv }),
      h('td', { text: g.customer }),
      h('td', { text: g.date }),
      h('td', { class: 'num', text: g.amount !== undefined ? fmt.money(g.amount) : '' }),
      h('td', { class: 'num', text: g.invoices.length === 1 && g.invoices[0].outstanding !== undefined ? fmt.money(g.invoices[0].outstanding) : g.invoices.length > 1 ? `${g.invoices.length} invoices` : '' }),
      h('td', { class: 'num', text: pct(g.confidence) }),
      h('td', { text: rule(g.rule) }),
      h('td', { class: 'actions' },
        h('button', { type: 'button', class: 'btn small primary', text: 'Confirm', 'aria-label': `Confirm match of payment ${g.pid} to ${inv}`, onclick: () => decideAndNext(r, 'confirm') }),
        h('button', { type: 'button', class: 'btn small', text: 'Reject', 'aria-label': `Reject match of payment ${g.pid} to ${inv}`, onclick: () => decideAndNext(r, 'reject') }),
        r.msg));
    forbid(refused, [...r.tr.querySelectorAll('td.actions button')]);
    rows.push(r);
    tbody.append(r.tr);
  }

  const table = h('table', { class: 'plain inbox', tabindex: 0, 'aria-label': 'Proposed matches; j and k move, c confirms, r rejects',
    onkeydown: (e) => {
      if (e.target.tagName === 'INPUT' || e.target.tagName === 'SELECT' || e.ctrlKey || e.metaKey || e.altKey) return;
      const r = rows[current];
      const k = e.key;
      if (k === 'j' || k === 'ArrowDown') move(+1);
      else if (k === 'k' || k === 'ArrowUp') move(-1);
      else if ((k === 'c' || k === 'Enter') && r) decideAndNext(r, 'confirm');
      else if ((k === 'r' || k === 'Delete') && r) decideAndNext(r, 'reject');
      else if (k === 'e' && r) showSide(r.g);
      else return;
      e.preventDefault();
    },
    onfocus: (e) => { if (e.target === table && current < 0) move(0); } },
  h('thead', {}, h('tr', {}, ['Payment', 'Payer', 'Invoice', 'Customer', 'Paid on', 'Amount', 'Invoice outstanding', 'Confidence', 'Rule', ''].map((t) => h('th', { scope: 'col', text: t })))),
  tbody);
  list.append(h('div', { class: 'table-scroll tall' }, table));

  bulk.addEventListener('click', async () => {
    const todo = visible();
    if (!todo.length || !confirm(`Confirm the ${todo.length} proposed ${todo.length === 1 ? 'match' : 'matches'} shown?`)) return;
    bulk.disabled = true;
    let ok = 0;
    for (const [i, r] of todo.entries()) {
      bulk.textContent = `Confirming ${i + 1} of ${todo.length}…`;
      if (await decide(r, 'confirm')) ok++;
    }
    msg.textContent = `Confirmed ${ok} of ${todo.length} matches shown.`;
    msg.dataset.bulk = String(ok);
    applyFilter();
  });
  forbid(refused, bulk);
  filterBox.addEventListener('input', () => { applyFilter(); remember(); });
  ruleSel.addEventListener('change', () => { applyFilter(); remember(); });
  filterBox.value = prev.filter || '';
  if (prev.rule && rules.includes(prev.rule)) ruleSel.value = prev.rule;
  applyFilter();
  if (prev.pid !== undefined) {
    const v = visible();
    const again = rows.find((r) => r.g.pid === prev.pid && !r.tr.hidden) || v[Math.min(Math.max(prev.index, 0), v.length - 1)];
    if (again) select(again, { focus: hadFocus });
    else if (hadFocus) table.focus();
  }

  // The selected payment: its proposal and the other invoices weighed, side by side.
  async function showSide(g) {
    const my = ++asked;
    side.hidden = false;
    side.dataset.payment = g.pid;
    clear(side).append(h('h2', { id: 'rv-side-title', text: `Payment ${g.pid}` }),
      h('p', {}, `${g.date} · ${g.payer} · ${fmt.money(g.amount)}`, h('br'), h('small', { text: `Reference: ${g.reference || '(none)'}` })));
    let d;
    try {
      d = (await api.getJSON(`/api/v1/payments/${encodeURIComponent(g.pid)}/explain`)).data;
    } catch (err) {
      if (my === asked) side.append(h('p', { class: 'why', text: describe(err) }));
      return;
    }
    if (my !== asked) return;
    const proposed = h('div', { class: 'side-col proposed' }, h('h3', { text: `Proposed · ${rule(g.rule)} · ${pct(g.confidence)}` }),
      g.invoices.map((i) => h('div', { class: 'cand chosen' }, h('strong', { text: i.number }), ` · ${i.customer || ''}`,
        i.outstanding !== undefined ? ` · outstanding ${fmt.money(i.outstanding)}` : '')),
      d.batch ? h('p', { class: 'why', text: d.batch.why }) : null,
      d.learned ? h('p', { class: 'why', text: `Learned: ${d.learned.why}` }) : null);
    const others = (d.candidates || []).filter((c) => !g.invoices.some((i) => i.id === c.invoice_id));
    const weighed = h('div', { class: 'side-col weighed' }, h('h3', { text: 'Also weighed' }),
      others.length ? others.map((c) => h('div', { class: 'cand' }, h('strong', { text: c.number || c.invoice_id }),
        ` · ${c.customer || ''} · outstanding ${fmt.money(c.outstanding)}`, h('br'),
        h('span', { class: 'why', text: c.refused || `${rule(c.rule)}, ${pct(c.confidence)}` })))
        : h('p', { class: 'muted', text: 'No other invoice came close.' }));
    side.append(h('div', { class: 'side-by-side' }, proposed, weighed));
  }
}
