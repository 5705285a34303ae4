// The Imports page's preview: the first part of a file checked with
// detection (dry_run=1&detect=1), what was chosen (as a command line, with
// a confidence), a column for each field to change, the rows as they would
// be stored, and the mapping saved as an import profile for the next file.

import { h, clear, errorBox } from './dom.js';
import * as api from './api.js';

const PREVIEW_BYTES = 256 * 1024;
export const PROFILES = '/api/v1/import-profiles';

// The first PREVIEW_BYTES of f, cut after its last full line.
export async function head(f) {
  const buf = new Uint8Array(await f.slice(0, PREVIEW_BYTES).arrayBuffer());
  if (f.size <= PREVIEW_BYTES) return new Blob([buf]);
  let end = buf.lastIndexOf(10);
  if (end < 0) end = buf.length - 1;
  return new Blob([buf.slice(0, end + 1)]);
}

// "a=b,c=\"d, e\"" -> {a: 'b', c: 'd, e'}
export function parseMap(spec) {
  const out = {};
  let i = 0;
  while (spec && i < spec.length) {
    const eq = spec.indexOf('=', i);
    if (eq < 0) break;
    const field = spec.slice(i, eq);
    let j = eq + 1, v = '';
    if (spec[j] === '"') {
      for (j++; j < spec.length; j++) {
        if (spec[j] === '"' && spec[j + 1] === '"') { v += '"'; j++; } else if (spec[j] === '"') { j++; break; } else v += spec[j];
      }
    } else {
      const c = spec.indexOf(',', j);
      v = spec.slice(j, c < 0 ? spec.length : c);
      j = c < 0 ? spec.length : c;
    }
    out[field] = v;
    i = j + 1;
  }
  return out;
}

const quote = (v) => (/[,"=]/.test(v) ? `"${v.replaceAll('"', '""')}"` : v);

// Renders into box; fields: the kind's field names; query(): the upload's
// options; onSaved(name) after a profile is saved.
export async function preview(box, { file, kind, fields, query, onSaved }) {
  clear(box).append(h('p', { class: 'muted', role: 'status', text: 'Checking the first rows…' }));
  let map = null; // the user's choices, once changed
  async function run() {
    const q = { ...query(), dry_run: '1', detect: '1' };
    if (map) q.map = Object.entries(map).filter(([, c]) => c).map(([f, c]) => `${f}=${quote(c)}`).join(',');
    let rep;
    try {
      rep = (await api.upload(`/api/v1/import/${kind}` + api.qs(q), await head(file))).body;
    } catch (err) {
      clear(box).append(errorBox(err));
      if (err.body && err.body.inserted !== undefined) rep = err.body;
      else return;
    }
    render(rep || {});
  }
  function render(rep) {
    const det = rep.detected || { options: {}, columns: [], confidence: 100, notes: '', command: '' };
    const chosen = { ...parseMap(det.options.map || ''), ...(map || {}) };
    const cols = det.columns || [];
    // fields detection computes from several columns (compute=payer=coalesce(...)):
    // no single column to pick, but not unmapped either
    const computed = new Set(fields.filter((f) => new RegExp(`(^|,)\\s*${f}=`).test(det.options.compute || '')));
    const selects = {};
    const rows = fields.map((f) => {
      const auto = cols.find((c) => c.toLowerCase() === f);
      const sel = h('select', { id: `map-${f}`, name: f, 'aria-label': `Column for ${f}` },
        h('option', { value: '', text: computed.has(f) ? 'computed (see the command above)' : '—' }),
        cols.map((c) => h('option', { value: c, text: c })));
      sel.value = chosen[f] ?? auto ?? '';
      selects[f] = sel;
      return h('tr', {}, h('th', { scope: 'row', text: f }), h('td', {}, sel));
    });
    const name = h('input', { type: 'text', id: 'profile-name', name: 'profile', placeholder: 'e.g. my-bank', pattern: '[A-Za-z0-9._\\-]{1,64}', 'aria-label': 'Profile name' });
    const saved = h('span', { class: 'muted', role: 'status' });
    const applyBtn = h('button', { type: 'button', class: 'btn small', id: 'map-apply', text: 'Preview with these columns', onclick: () => {
      map = Object.fromEntries(fields.map((f) => [f, selects[f].value]).filter(([f, c]) => c && c.toLowerCase() !== f));
      clear(box).append(h('p', { class: 'muted', role: 'status', text: 'Checking again…' }));
      run();
    } });
    const saveBtn = h('button', { type: 'button', class: 'btn small', id: 'profile-save', text: 'Save as profile', onclick: async () => {
      if (!name.value || !name.checkValidity()) { saved.textContent = 'Give a name: letters, digits, . _ -'; name.focus(); return; }
      const options = { ...det.options };
      delete options.map;
      for (const [k, v] of Object.entries(query())) if (v && k !== 'profile' && k !== 'dry_run') options[k] = v;
      delete options.detect;
      const m = fields.map((f) => [f, selects[f].value]).filter(([f, c]) => c && c.toLowerCase() !== f);
      if (m.length) options.map = m.map(([f, c]) => `${f}=${quote(c)}`).join(',');
      try {
        await api.send('PUT', `${PROFILES}/${encodeURIComponent(name.value)}`, { kind, options });
        await onSaved(name.value);
        saved.textContent = `Saved: the next file imports with profile ${name.value}.`;
      } catch (err) { saved.textContent = ''; saved.append(errorBox(err)); }
    } });
    const pv = rep.preview || [];
    const shown = [...new Set(pv.flatMap((p) => Object.keys(p.row)))];
    clear(box).append(h('div', {},
      h('div', { class: 'detected', dataset: { confidence: det.confidence } },
        h('p', {}, h('strong', { text: `Detected (confidence ${det.confidence}%): ` }), h('code', { text: det.command || '' })),
        det.notes ? h('p', { class: 'muted', text: det.notes }) : null),
      h('h3', { text: 'Columns' }),
      h('table', { class: 'plain map' }, h('tbody', {}, rows)),
      h('p', {}, applyBtn),
      h('h3', { text: 'First rows as they would be stored' }),
      pv.length
        ? h('div', { class: 'table-scroll short' }, h('table', { class: 'plain preview' },
          h('thead', {}, h('tr', {}, ['line', 'kind', ...shown].map((t) => h('th', { scope: 'col', text: t })))),
          h('tbody', {}, pv.map((p) => h('tr', {}, h('td', { class: 'num', text: String(p.line) }), h('td', { text: p.kind }),
            shown.map((f) => h('td', { text: p.row[f] ?? '' })))))))
        : h('p', { class: 'muted', text: 'No row would be stored with these columns.' }),
      (rep.rejections || []).length ? h('p', { class: 'muted', text: `${rep.rejected} of the first rows would be rejected, e.g. line ${rep.rejections[0].line}: ${rep.rejections[0].reason}` }) : null,
      h('p', { class: 'field' }, h('label', { for: 'profile-name', text: 'Keep these options as a profile' }), name, saveBtn, saved)));
  }
  await run();
}
