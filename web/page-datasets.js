// Data sets (issue 13): the organisation's data sets (GET /api/v1/datasets)
// and a new one made from a CSV file: its first part is sent to
// POST /api/v1/datasets/infer, whose proposal (time column and grain,
// dimensions, measures with type and scale, key, required columns) the
// user edits beside the first rows; then the data set is created and the
// whole file imported into it, with progress and the import's report.

import { h, clear, errorBox, describe, forbid, skeleton } from './dom.js';
import * as api from './api.js';
import * as fmt from './format.js';
import { head } from './import-preview.js';
import { importFile } from './dataset-import.js';

export const DATASETS = '/api/v1/datasets';
const NAME_RE = /^[a-z][a-z0-9_]{0,39}$/;
const GRAINS = ['day', 'month', 'quarter', 'year'];
const ROLES = [['', 'not used'], ['dimension', 'dimension (text)'], ['money', 'measure: money'], ['integer', 'measure: integer'], ['decimal', 'measure: decimal']];

// "Retail Orders 2024.csv" -> "retail_orders_2024"
export function nameFrom(file) {
  let n = file.replace(/\.[^.]*$/, '').toLowerCase().normalize('NFKD').replace(/[^a-z0-9]+/g, '_').replace(/^_+|_+$/g, '');
  if (!/^[a-z]/.test(n)) n = 'ds_' + n;
  return n.slice(0, 40).replace(/_+$/, '') || 'dataset';
}

// "Order Date" -> "order_date": a name for a dimension or measure.
function fieldName(col, taken) {
  let n = nameFrom(col + '.x');
  for (let i = 2; taken.has(n); i++) n = `${n.replace(/_\d+$/, '')}_${i}`;
  taken.add(n);
  return n;
}

// The first lines of a file's first part: its column names, in order, and
// up to max rows as {column: text} (the server's answer names only the
// columns it chose; the others can be chosen too, and show their first
// values as written). The delimiter is the one of , ; tab | the header
// line has most of.
export function parseHead(text, max = 5) {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const first = text.slice(0, text.search(/[\r\n]|$/));
  const delim = [',', ';', '\t', '|'].map((d) => [d, first.split(d).length]).sort((a, b) => b[1] - a[1])[0][0];
  const records = [];
  let rec = [], cur = '', q = false, i = 0;
  for (; i < text.length && records.length <= max; i++) {
    const c = text[i];
    if (q) {
      if (c === '"' && text[i + 1] === '"') { cur += '"'; i++; } else if (c === '"') q = false; else cur += c;
    } else if (c === '"') q = true;
    else if (c === delim) { rec.push(cur); cur = ''; } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      rec.push(cur); cur = '';
      if (rec.some((f) => f.trim() !== '')) records.push(rec);
      rec = [];
    } else cur += c;
  }
  if (i >= text.length && (cur || rec.length)) { rec.push(cur); records.push(rec); }
  const columns = (records[0] || []).map((c) => c.trim());
  const rows = records.slice(1, max + 1).map((r) => Object.fromEntries(columns.map((c, k) => [c, (r[k] ?? '').trim()])));
  return { columns: columns.filter((c) => c !== ''), rows };
}

export default {
  title: 'Data sets',
  mount(main) {
    let alive = true;
    const heading = h('h1', { class: 'page-title', tabindex: -1, text: 'Data sets' });
    const intro = h('p', { class: 'muted' }, 'Any CSV file as a dashboard: say which column holds the date, which are dimensions ',
      '(region, category, …) and which are measures (money exact to the cent, integers, decimals), and brisk keeps its totals, ',
      'series and breakdowns exact, cached and fresh.');
    const listBody = h('div', { class: 'table-scroll' }, skeleton('chart-sm'));
    const listCard = h('section', { class: 'card', id: 'ds-list', 'aria-labelledby': 'ds-list-title' },
      h('div', { class: 'card-head' }, h('h2', { id: 'ds-list-title', text: 'Your data sets' })), listBody);
    const createCard = h('section', { class: 'card', id: 'ds-create', 'aria-labelledby': 'ds-create-title' },
      h('div', { class: 'card-head' }, h('h2', { id: 'ds-create-title', text: 'New data set from a CSV file' })));
    main.append(heading, intro, listCard, createCard);

    async function load() {
      try {
        const env = await api.getJSON(DATASETS);
        if (!alive) return;
        fmt.setCurrency(env.currency, env.minor_units);
        renderList(env.data.items || []);
        main.dataset.loaded = '1';
      } catch (err) {
        if (alive) clear(listBody).append(errorBox(err, load));
      }
    }

    function renderList(items) {
      if (!items.length) {
        clear(listBody).append(h('p', { class: 'muted', text: 'No data set yet: make one from a CSV file below.' }));
        return;
      }
      const dropRefused = api.refusal('admin');
      clear(listBody).append(h('table', { class: 'plain', id: 'ds-table' },
        h('thead', {}, h('tr', {}, ['Data set', 'Rows', 'Dates', 'Dimensions', 'Measures', ''].map((t) => h('th', { scope: 'col', text: t })))),
        h('tbody', {}, items.map((d) => {
          const drop = h('button', { type: 'button', class: 'btn small', text: 'Delete', 'aria-label': `Delete the data set ${d.name}`, onclick: async () => {
            if (!confirm(`Delete the data set "${d.name}" and its ${fmt.count(d.rows)} rows? This cannot be undone.`)) return;
            drop.disabled = true;
            try { await api.send('DELETE', `${DATASETS}/${encodeURIComponent(d.name)}`); } catch (err) { alert(describe(err)); }
            api.forgetProbe(DATASETS);
            load();
          } });
          forbid(dropRefused, drop);
          return h('tr', { dataset: { dataset: d.name, rows: d.rows } },
            h('th', { scope: 'row' }, h('a', { href: `/datasets/${encodeURIComponent(d.name)}`, 'data-nav': '', text: d.title || d.name }),
              d.title && d.title !== d.name ? h('small', { class: 'muted', text: ` ${d.name}` }) : null),
            h('td', { class: 'num', text: fmt.count(d.rows) }),
            h('td', { text: d.min_date ? fmt.dateRange(d.min_date, d.max_date) : '—' }),
            h('td', { text: (d.dimensions || []).map((x) => x.name).join(', ') || '—' }),
            h('td', { text: (d.measures || []).map((x) => x.name).join(', ') }),
            h('td', { class: 'actions' }, drop));
        }))));
    }

    createForm(createCard, { onCreated: load });
    load();
    return {
      update() {},
      refresh: load,
      unmount() { alive = false; },
    };
  },
};

// The upload, the inferred schema to edit, then create + import.
function createForm(card, { onCreated }) {
  const file = h('input', { type: 'file', id: 'ds-file', accept: '.csv,.tsv,.txt,text/csv,text/plain', required: true });
  const name = h('input', { type: 'text', id: 'ds-name', required: true, pattern: NAME_RE.source.slice(1, -1), maxlength: 40, spellcheck: 'false',
    placeholder: 'orders', 'aria-describedby': 'ds-name-help' });
  const inferBtn = h('button', { type: 'submit', class: 'btn primary', id: 'ds-infer', text: 'Read the file' });
  const msg = h('div', { class: 'ds-msg', role: 'status', 'aria-live': 'polite' });
  const editor = h('div', { class: 'ds-editor' });
  const form = h('form', { class: 'import-form', id: 'ds-upload', onsubmit: (e) => { e.preventDefault(); infer(); } },
    h('span', { class: 'field' }, h('label', { for: 'ds-file', text: 'CSV file' }), file),
    h('span', { class: 'field' }, h('label', { for: 'ds-name', text: 'Name' }), name),
    inferBtn);
  card.append(form, h('p', { class: 'muted small', id: 'ds-name-help', text: 'Name: lower-case letters, digits and _, starting with a letter (it is how the API and the address name the data set).' }),
    msg, editor);
  // Creating a data set and importing into it are an analyst's (dropping
  // one, with its rows, an admin's).
  const refused = api.refusal('analyst');
  forbid(refused, form);
  if (refused) form.after(h('p', { class: 'role-note', id: 'ds-role', text: refused }));

  file.addEventListener('change', () => {
    const f = file.files && file.files[0];
    if (f && !name.value) name.value = nameFrom(f.name);
    clear(editor);
    msg.textContent = '';
  });

  async function infer() {
    const f = file.files && file.files[0];
    if (!f) { msg.textContent = 'Choose a CSV file first.'; file.focus(); return; }
    if (!NAME_RE.test(name.value)) { msg.textContent = 'The name must be lower-case letters, digits and _, starting with a letter (at most 40).'; name.focus(); return; }
    inferBtn.disabled = true;
    clear(editor);
    msg.textContent = `Reading the first rows of ${f.name}…`;
    try {
      const part = await head(f);
      const res = await api.upload(DATASETS + '/infer' + api.qs({ name: name.value }), part);
      let raw = { columns: [], rows: [] };
      try {
        // not UTF-8: most exports of that kind are Windows-1252
        const bytes = new Uint8Array(await part.arrayBuffer());
        let text = new TextDecoder('utf-8').decode(bytes);
        if (text.includes('\uFFFD')) text = new TextDecoder('windows-1252').decode(bytes);
        raw = parseHead(text);
      } catch { /* the server's columns only */ }
      msg.textContent = '';
      schemaEditor(editor, { file: f, name: name.value, answer: res.body.data, raw, onCreated });
    } catch (err) {
      msg.textContent = '';
      clear(editor).append(errorBox(err));
    } finally {
      inferBtn.disabled = false;
    }
  }
}

// The definition as a table of the file's columns, each with its role.
function schemaEditor(box, { file, name, answer, raw, onCreated }) {
  const def = answer.definition || {};
  const preview = answer.preview || [];
  const dims = new Map((def.dimensions || []).map((d) => [d.column, d]));
  const meas = new Map((def.measures || []).map((m) => [m.column, m]));
  const columns = [...new Set([...(answer.columns || []), ...raw.columns, ...preview.flatMap((r) => Object.keys(r)),
    def.time?.column, ...dims.keys(), ...meas.keys(), ...(def.key || []), ...(def.required || [])].filter((c) => c !== undefined && c !== null))];

  const title = h('input', { type: 'text', id: 'ds-title', value: def.title || '', placeholder: 'Retail orders', maxlength: 200 });
  const timeCol = h('select', { id: 'ds-time', required: true }, columns.map((c) => h('option', { value: c, text: c })));
  timeCol.value = def.time?.column ?? '';
  const grain = h('select', { id: 'ds-grain' }, GRAINS.map((g) => h('option', { value: g, text: g })));
  grain.value = def.time?.grain || 'day';
  const rows = columns.map((c, i) => {
    const d = dims.get(c), m = meas.get(c);
    const role = h('select', { id: `ds-role-${i}`, 'aria-label': `Use of the column ${c}` }, ROLES.map(([v, t]) => h('option', { value: v, text: t })));
    role.value = d ? 'dimension' : m ? m.type : '';
    const fname = h('input', { type: 'text', id: `ds-fname-${i}`, value: (d || m)?.name || '', size: 14, spellcheck: 'false', 'aria-label': `Name of ${c} in the data set` });
    const scale = h('input', { type: 'number', id: `ds-scale-${i}`, min: 0, max: 6, step: 1, value: m?.type === 'decimal' ? String(m.scale ?? 2) : '2', 'aria-label': `Decimals of ${c}` });
    const key = h('input', { type: 'checkbox', id: `ds-key-${i}`, checked: (def.key || []).includes(c), 'aria-label': `${c} is part of the key` });
    const req = h('input', { type: 'checkbox', id: `ds-req-${i}`, checked: (def.required || []).includes(c), 'aria-label': `${c} must not be blank` });
    // as the server would store them; a column it did not choose, as written
    const stored = preview.map((r) => r[c]).filter((v) => v !== undefined && v !== null && v !== '');
    const sample = (stored.length ? stored : raw.rows.map((r) => r[c]).filter((v) => v)).slice(0, 3).join(' · ');
    const tr = h('tr', { dataset: { column: c } },
      h('th', { scope: 'row', text: c }), h('td', { class: 'muted sample', text: sample, title: sample }),
      h('td', {}, role), h('td', {}, fname), h('td', {}, scale), h('td', { class: 'check' }, key), h('td', { class: 'check' }, req));
    const sync = () => {
      const isTime = timeCol.value === c;
      role.disabled = isTime;
      fname.disabled = isTime || !role.value;
      scale.hidden = role.value !== 'decimal';
      tr.classList.toggle('is-time', isTime);
      if (role.value && !fname.value) fname.value = fieldName(c, new Set(rowsUsed()));
    };
    role.addEventListener('change', sync);
    return { c, tr, role, fname, scale, key, req, sync };
  });
  const rowsUsed = () => rows.filter((r) => r.role.value && r.fname.value).map((r) => r.fname.value);
  timeCol.addEventListener('change', () => rows.forEach((r) => r.sync()));
  rows.forEach((r) => r.sync());

  const err = h('div', { class: 'signin-error', id: 'ds-def-error', role: 'alert' });
  const create = h('button', { type: 'submit', class: 'btn primary', id: 'ds-create-btn', text: `Create "${name}" and import ${file.name}` });
  const progress = h('div', { class: 'ds-progress' });
  const form = h('form', { id: 'ds-def', onsubmit: (e) => { e.preventDefault(); submit(); } },
    h('div', { class: 'filters' },
      h('span', { class: 'field' }, h('label', { for: 'ds-title', text: 'Title' }), title),
      h('span', { class: 'field' }, h('label', { for: 'ds-time', text: 'Date column' }), timeCol),
      h('span', { class: 'field' }, h('label', { for: 'ds-grain', text: 'Dates are per' }), grain)),
    h('div', { class: 'table-scroll' }, h('table', { class: 'plain ds-columns' },
      h('thead', {}, h('tr', {}, ['Column', 'First values', 'Use', 'Name', 'Decimals', 'Key', 'Required'].map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', {}, rows.map((r) => r.tr)))),
    err, create);
  const notes = answer.notes || [];
  clear(box).append(h('h3', { text: 'What brisk read' }),
    notes.length ? h('ul', { class: 'advice', id: 'ds-notes' }, notes.map((n) => h('li', { text: n }))) : null,
    form,
    h('h3', { text: 'First rows as they would be stored' }),
    preview.length
      ? h('div', { class: 'table-scroll short' }, h('table', { class: 'plain preview', id: 'ds-preview' },
        h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', text: c })))),
        h('tbody', {}, preview.map((r) => h('tr', {}, columns.map((c) => h('td', { text: r[c] ?? '' })))))))
      : h('p', { class: 'muted', text: 'No row could be read.' }),
    progress);

  function definition() {
    const out = { name, time: { column: timeCol.value, grain: grain.value }, dimensions: [], measures: [] };
    // the dates' format inference found (11/8/2016) stays with its column
    if (def.time?.format && timeCol.value === def.time.column) out.time.format = def.time.format;
    if (title.value.trim()) out.title = title.value.trim();
    const names = new Set();
    for (const r of rows) {
      if (r.c === timeCol.value || !r.role.value) continue;
      const n = r.fname.value.trim();
      if (!NAME_RE.test(n)) throw new Error(`The name of ${r.c} must be lower-case letters, digits and _, starting with a letter.`);
      if (names.has(n)) throw new Error(`Two columns are named "${n}".`);
      names.add(n);
      if (r.role.value === 'dimension') out.dimensions.push({ name: n, column: r.c });
      else {
        const m = { name: n, column: r.c, type: r.role.value };
        if (m.type === 'decimal') {
          const sc = Number(r.scale.value);
          if (!Number.isInteger(sc) || sc < 0 || sc > 6) throw new Error(`The decimals of ${r.c} must be 0 to 6.`);
          m.scale = sc;
        }
        out.measures.push(m);
      }
    }
    if (!timeCol.value) throw new Error('Choose the column that holds the date.');
    if (!out.measures.length) throw new Error('Choose at least one measure (a column of amounts or counts).');
    if (out.measures.length > 8) throw new Error('At most 8 measures.');
    if (out.dimensions.length > 8) throw new Error('At most 8 dimensions.');
    const key = rows.filter((r) => r.key.checked).map((r) => r.c);
    const req = rows.filter((r) => r.req.checked).map((r) => r.c);
    if (key.length) out.key = key;
    if (req.length) out.required = req;
    return out;
  }

  async function submit() {
    err.textContent = '';
    let d;
    try { d = definition(); } catch (ex) { err.textContent = ex.message; return; }
    create.disabled = true;
    clear(progress);
    try {
      await api.send('POST', DATASETS, d);
    } catch (ex) {
      err.textContent = describe(ex);
      create.disabled = false;
      return;
    }
    api.forgetProbe(DATASETS);
    onCreated();
    for (const el of form.elements) el.disabled = true;
    const link = h('a', { href: `/datasets/${encodeURIComponent(name)}`, 'data-nav': '', id: 'ds-open', text: `Open ${d.title || name}` });
    progress.append(h('p', { text: `Created "${name}". Importing ${file.name}…` }));
    const ok = await importFile(progress, { name, file });
    progress.append(h('p', {}, link, ok ? '' : ' (the data set exists; import the file again from its page once fixed)'));
    onCreated();
  }
}
