// The organisation's reconciliation rules as a settings form (issue 15):
// thresholds, tolerances, date windows and which rules are on, saved with
// PUT /api/v1/match/rules (the server validates and keeps every change),
// and the history of changes below.

import { h, clear, describe, errorBox, forbid } from './dom.js';
import * as api from './api.js';
import * as fmt from './format.js';

const RULES = '/api/v1/match/rules';

const FIELDS = [
  ['auto_threshold', 'Apply automatically at or above', 'confidence, 0 to 1', 0.01],
  ['review_threshold', 'Propose for review at or above', 'confidence, 0 to 1', 0.01],
  ['name_threshold', 'Payer and customer names alike from', 'similarity, 0 to 1', 0.01],
  ['days_before_issue', 'Days a payment may come before the invoice', 'days', 1],
  ['days_after_due', 'Days a payment may come after the due date', 'days', 1],
  ['max_ref_distance', 'Typing errors allowed in an invoice number', '0 to 3', 1],
  ['writeoff_max', 'Write off an underpayment up to', 'amount', 'money'],
  ['writeoff_max_percent', '… and up to', '% of what was due', 0.1],
  ['overpayment_max_percent', 'Apply an overpayment leaving a credit up to', '% of the payment', 1],
  ['batch_max_invoices', 'Invoices one payment may settle by amount', '2 to 6', 1],
];

const SWITCHES = [
  ['fuzzy_reference', 'Mistyped invoice numbers'],
  ['amount_customer', 'Equal amount from a customer of a similar name'],
  ['batch_reference', 'One payment naming several invoices'],
  ['batch_amount', 'One payment adding up to several invoices'],
  ['writeoff', 'Write off small underpayments (fees, discounts)'],
  ['credit', 'Keep overpayments as credit for later invoices'],
  ['aliases', 'Learn payer spellings from confirmed matches'],
];

// Probes the rules endpoint: the rules, or null when the server has none.
export async function probeRules() {
  return api.probe(RULES);
}

export function rulesForm(container, first) {
  const msg = h('p', { class: 'proposals-msg', id: 'rules-msg', role: 'status', 'aria-live': 'polite' });
  const inputs = {};
  const history = h('div', { id: 'rules-history' });
  const form = h('form', { class: 'rules-form', id: 'rules-form', onsubmit: save });

  function fill(d) {
    for (const [k, , , step] of FIELDS)
      inputs[k].value = step === 'money' ? fmt.centsToDecimal(d[k]) : String(d[k]);
    for (const [k] of SWITCHES) inputs[k].checked = !!d.rules?.[k];
  }

  async function save(e) {
    e.preventDefault();
    const body = { rules: {} };
    for (const [k, , , step] of FIELDS) body[k] = step === 'money' ? inputs[k].value.trim() : Number(inputs[k].value);
    for (const [k] of SWITCHES) body.rules[k] = inputs[k].checked;
    msg.textContent = '';
    delete msg.dataset.saved;
    try {
      const res = await api.send('PUT', RULES, body);
      fill(res.data);
      msg.textContent = 'Saved. The next reconciliation run uses these rules.';
      msg.dataset.saved = String(Date.now());
      loadHistory();
    } catch (err) {
      msg.textContent = describe(err);
      msg.dataset.error = '1';
    }
  }

  async function loadHistory() {
    try {
      const env = await api.getJSON(RULES + '/history?limit=20');
      const ch = env.data.changes;
      clear(history).append(h('h3', { text: 'Changes' }), ch.length
        ? h('ul', { class: 'advice' }, ch.map((c) => {
          const diff = Object.keys(c.after).filter((k) => JSON.stringify(c.after[k]) !== JSON.stringify(c.before[k]))
            .map((k) => k === 'rules'
              ? Object.keys(c.after.rules).filter((r) => c.after.rules[r] !== c.before.rules[r]).map((r) => `${r} ${c.after.rules[r] ? 'on' : 'off'}`).join(', ')
              : `${k} ${c.before[k]} → ${c.after[k]}`);
          return h('li', {}, h('strong', { text: c.at }), ` · ${c.actor} · ${diff.join('; ')}`);
        }))
        : h('p', { class: 'muted', text: 'No change yet: the defaults apply.' }));
    } catch (err) {
      clear(history).append(errorBox(err, loadHistory));
    }
  }

  for (const [k, label, unit, step] of FIELDS) {
    const id = `rule-${k}`;
    inputs[k] = step === 'money'
      ? h('input', { id, name: k, inputmode: 'decimal', required: true, size: 10 })
      : h('input', { id, name: k, type: 'number', step: String(step), min: 0, required: true });
    form.append(h('div', { class: 'field' }, h('label', { for: id, text: label }), inputs[k], h('small', { class: 'muted', text: ` ${unit}` })));
  }
  const sw = h('fieldset', {}, h('legend', { text: 'Rules on' }));
  for (const [k, label] of SWITCHES) {
    const id = `rule-on-${k}`;
    inputs[k] = h('input', { id, name: k, type: 'checkbox' });
    sw.append(h('div', {}, inputs[k], h('label', { for: id, text: ' ' + label })));
  }
  form.append(sw, h('button', { type: 'submit', class: 'btn primary', id: 'rules-save', text: 'Save rules' }));
  clear(container).append(h('p', { class: 'muted', text: 'How this organisation\u2019s payments are matched to its invoices. The reference rule (the invoice number in the payment reference) is always on.' }),
    msg, form, history);
  fill(first.data ?? first);
  // The org's reconciliation settings are an admin's to change.
  const refused = api.refusal('admin');
  forbid(refused, form);
  if (refused) form.before(h('p', { class: 'role-note', id: 'rules-role', text: refused }));
  loadHistory();
}
