// Alerts: the organisation's rules on its dashboard figures (GET/POST/PUT/
// DELETE /api/v1/alert-rules), each with its figure's value now and its
// state, a form to add one, and the history of firings. The banner for a
// firing that happens while any page is open lives in app.js.

import { h, clear, errorBox, skeleton, describe, forbid } from './dom.js';
import * as api from './api.js';

const OPS = ['<', '<=', '>', '>='];

function condition(r) {
  return `${r.op} ${r.threshold_text}${r.unit === 'days' ? ' days' : ''}${r.for ? ` for ${duration(r.for)}` : ''}`;
}

function duration(s) {
  if (s % 86400 === 0) return `${s / 86400}d`;
  if (s % 3600 === 0) return `${s / 3600}h`;
  if (s % 60 === 0) return `${s / 60}m`;
  return `${s}s`;
}

function list(v) {
  return v.split(/[\s,;]+/).map((x) => x.trim()).filter(Boolean);
}

export default {
  title: 'Alerts',
  mount(main) {
    // Rules send the org's figures out (webhooks, e-mail): an analyst's.
    const refused = api.refusal('analyst');
    let figures = [];
    let alive = true;
    const heading = h('h1', { class: 'page-title', tabindex: -1, text: 'Alerts' });
    const intro = h('p', { class: 'muted' }, 'A rule watches one figure and tells you the moment a change crosses its line: ',
      'here, by webhook and by e-mail.');
    const rulesBody = h('div', { class: 'table-scroll' }, skeleton('chart-sm'));
    const rules = h('section', { class: 'card', id: 'alert-rules', 'aria-labelledby': 'ar-title' },
      h('div', { class: 'card-head' }, h('h2', { id: 'ar-title', text: 'Rules' })), rulesBody);

    const figure = h('select', { id: 'al-figure', required: true });
    const op = h('select', { id: 'al-op' }, OPS.map((o) => h('option', { value: o, text: o })));
    const threshold = h('input', { id: 'al-threshold', required: true, inputmode: 'decimal', placeholder: '20000.00' });
    const forIn = h('input', { id: 'al-for', placeholder: '0, 30m, 1d' });
    const name = h('input', { id: 'al-name', placeholder: 'Low cash' });
    const severity = h('select', { id: 'al-severity' }, ['warning', 'critical', 'info'].map((x) => h('option', { value: x, text: x })));
    const hooks = h('input', { id: 'al-webhooks', placeholder: 'https://…' });
    const emails = h('input', { id: 'al-emails', placeholder: 'cfo@example.com' });
    const formErr = h('div', { class: 'signin-error', role: 'alert' });
    const secretOut = h('p', { class: 'muted', id: 'al-secret' });
    const field = (id, label, input) => h('span', { class: 'field' }, h('label', { for: id, text: label }), input);
    const form = h('form', { class: 'filters', id: 'alert-form', onsubmit: async (e) => {
      e.preventDefault();
      formErr.textContent = '';
      const body = { figure: figure.value, op: op.value, threshold: threshold.value.trim(), severity: severity.value,
        webhooks: list(hooks.value), emails: list(emails.value) };
      if (name.value.trim()) body.name = name.value.trim();
      if (forIn.value.trim()) body.for = /^\d+$/.test(forIn.value.trim()) ? Number(forIn.value.trim()) : forIn.value.trim();
      try {
        const env = await api.send('POST', '/api/v1/alert-rules', body);
        if (env.data.webhook_secret)
          secretOut.textContent = `Webhook signing secret (shown once, keep it): ${env.data.webhook_secret}`;
        form.reset();
        load();
      } catch (err) {
        formErr.textContent = describe(err);
      }
    } },
    field('al-figure', 'Figure', figure), field('al-op', 'Is', op), field('al-threshold', 'Threshold', threshold),
    field('al-for', 'For', forIn), field('al-name', 'Name', name), field('al-severity', 'Severity', severity),
    field('al-webhooks', 'Webhooks', hooks), field('al-emails', 'E-mails', emails),
    h('button', { type: 'submit', class: 'btn primary', text: 'Add rule' }));
    const add = h('section', { class: 'card', 'aria-labelledby': 'aa-title' },
      h('div', { class: 'card-head' }, h('h2', { id: 'aa-title', text: 'New rule' })), form, formErr, secretOut);

    const histBody = h('div', { class: 'table-scroll' });
    const hist = h('section', { class: 'card', 'aria-labelledby': 'ah-title' },
      h('div', { class: 'card-head' }, h('h2', { id: 'ah-title', text: 'History' })), histBody);
    main.append(heading, intro, rules, add, hist);
    forbid(refused, form);
    if (refused) form.before(h('p', { class: 'role-note', id: 'al-role', text: refused }));

    async function act(method, id, body) {
      try {
        await api.send(method, `/api/v1/alert-rules/${id}`, body);
      } catch (err) {
        alert(describe(err));
      }
      load();
    }

    function renderRules(items) {
      if (!items.length) {
        clear(rulesBody).append(h('p', { class: 'muted', text: 'No rules yet: add one below.' }));
        return;
      }
      const rows = items.map((r) => h('tr', { dataset: { state: r.state } },
        h('td', { text: r.name }),
        h('td', {}, h('code', { text: r.figure })),
        h('td', { text: condition(r) }),
        h('td', { class: 'num', text: r.value_text ?? '—' }),
        h('td', {}, h('span', { class: `badge state-${r.state}`, text: r.state })),
        h('td', { text: r.severity }),
        h('td', { text: [...(r.channels.webhooks || []), ...(r.channels.emails || [])].join(', ') || 'page only' }),
        h('td', {},
          h('button', { class: 'btn', type: 'button', text: r.enabled ? 'Disable' : 'Enable',
            onclick: () => act('PUT', r.id, { enabled: !r.enabled }) }), ' ',
          h('button', { class: 'btn', type: 'button', text: 'Delete', 'aria-label': `Delete ${r.name}`,
            onclick: () => { if (confirm(`Delete the rule "${r.name}"?`)) act('DELETE', r.id); } }))));
      forbid(refused, rows.map((tr) => [...tr.querySelectorAll('button')]));
      clear(rulesBody).append(h('table', { class: 'data' },
        h('thead', {}, h('tr', {}, ['Name', 'Figure', 'Condition', 'Now', 'State', 'Severity', 'Tells', ''].map((t) => h('th', { text: t })))),
        h('tbody', {}, rows)));
    }

    function renderHistory(items) {
      if (!items.length) {
        clear(histBody).append(h('p', { class: 'muted', text: 'Nothing has fired yet.' }));
        return;
      }
      clear(histBody).append(h('table', { class: 'data' },
        h('thead', {}, h('tr', {}, ['When', 'Event', 'Message'].map((t) => h('th', { text: t })))),
        h('tbody', {}, items.map((e) => h('tr', {},
          h('td', { text: e.at.replace('T', ' ').replace('Z', ' UTC') }), h('td', { text: e.event }), h('td', { text: e.message }))))));
    }

    async function load() {
      try {
        const [r, f, e] = await Promise.all([
          api.send('GET', '/api/v1/alert-rules'), figures.length ? null : api.send('GET', '/api/v1/alert-figures'),
          api.send('GET', '/api/v1/alert-events?limit=50')]);
        if (!alive) return;
        if (f) {
          figures = f.data.items;
          clear(figure).append(...figures.map((x) => h('option', { value: x.name, text: `${x.what} (now ${x.value_text ?? '—'})` })));
        }
        renderRules(r.data.items);
        renderHistory(e.data.items);
        main.dataset.loaded = '1';
      } catch (err) {
        if (alive) clear(rulesBody).append(errorBox(err, load));
      }
    }
    load();
    return {
      update() {},
      refresh: load,
      onAlert: load,
      unmount() { alive = false; },
    };
  },
};
