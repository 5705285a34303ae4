// Imports: a CSV file to POST /api/v1/import/{kind} with upload progress,
// then the server's report. The upload detects the file's format by
// default (detect=1) or uses a saved profile; Preview shows what detection
// chose, lets the user pick each field's column and saves a profile. Once the server has background tasks
// (/api/v1/tasks), their list with progress, cancel and downloads appears
// here too; until then it is not shown.

import { h, clear, errorBox, describe, forbid } from './dom.js';
import * as api from './api.js';
import * as fmt from './format.js';
import { preview, PROFILES } from './import-preview.js';
import { importReport } from './import-report.js';

const KINDS = [
  ['costs', 'Costs', 'date, category, amount (+ id, vendor, description)', ['date', 'category', 'amount', 'id', 'vendor', 'description']],
  ['sales_orders', 'Sales orders', 'date, customer, status, amount (+ id)', ['date', 'customer', 'status', 'amount', 'id']],
  ['invoices', 'Invoices', 'number, customer, issue_date, due_date, amount (+ id, customer_id, status)', ['number', 'customer', 'issue_date', 'due_date', 'amount', 'id', 'customer_id', 'status']],
  ['payments', 'Payments', 'date, payer, amount (+ id, reference, customer_id)', ['date', 'payer', 'amount', 'id', 'reference', 'customer_id']],
  ['leads', 'Leads', 'created_at, creator, status (+ id, name, mobile, source, followup_date, value)', ['created_at', 'creator', 'status', 'id', 'name', 'mobile', 'source', 'followup_date', 'value']],
];
const TASKS = '/api/v1/tasks';
const FINAL = ['succeeded', 'failed', 'cancelled', 'interrupted'];

export default {
  title: 'Imports',
  mount(main) {
    const heading = h('h1', { class: 'page-title', tabindex: -1, text: 'Imports' });
    const kind = h('select', { id: 'imp-kind', name: 'kind', required: true }, KINDS.map(([v, t]) => h('option', { value: v, text: t })));
    const file = h('input', { type: 'file', id: 'imp-file', name: 'file', accept: '.csv,text/csv,text/plain', required: true });
    const dry = h('input', { type: 'checkbox', id: 'imp-dry', name: 'dry_run' });
    const detect = h('input', { type: 'checkbox', id: 'imp-detect', name: 'detect', checked: true });
    const split = h('input', { type: 'checkbox', id: 'imp-split', name: 'split' });
    const splitField = h('span', { class: 'field check' }, split, h('label', { for: 'imp-split', text: 'Bank statement: debits to costs' }));
    // What the server refuses or leaves out unless told (the refusal or the report says so).
    const keep = h('input', { type: 'checkbox', id: 'imp-keep-transfers', name: 'keep_transfers' });
    const keepField = h('span', { class: 'field check' }, keep, h('label', { for: 'imp-keep-transfers', text: 'Keep transfers between own accounts (as costs)' }));
    const overlap = h('input', { type: 'checkbox', id: 'imp-overlap', name: 'allow_overlap' });
    const overlapField = h('span', { class: 'field check' }, overlap, h('label', { for: 'imp-overlap', text: 'Store lines another export of this account already holds' }));
    const profile = h('select', { id: 'imp-profile', name: 'profile' }, h('option', { value: '', text: 'none' }));
    const previewBox = h('div', { class: 'import-preview', 'aria-live': 'polite' });
    const previewBtn = h('button', { type: 'button', class: 'btn', id: 'imp-preview', text: 'Preview', onclick: () => {
      const f = file.files && file.files[0];
      if (!f) { clear(result).append(errorBox(new Error('Choose a CSV file first.'))); file.focus(); return; }
      clear(result);
      const k = KINDS.find((x) => x[0] === kind.value);
      preview(previewBox, { file: f, kind: kind.value, fields: k[3], query, onSaved: (name) => loadProfiles(name) });
    } });
    const bank = () => kind.value === 'payments' || kind.value === 'costs';
    const query = () => ({
      detect: detect.checked ? '1' : '', profile: profile.value, split: split.checked && kind.value === 'payments' ? '1' : '',
      keep_transfers: keep.checked && split.checked && kind.value === 'payments' ? '1' : '',
      allow_overlap: overlap.checked && bank() ? '1' : '',
    });
    async function loadProfiles(select) {
      try {
        const env = await api.send('GET', PROFILES);
        const keep = select ?? profile.value;
        clear(profile).append(h('option', { value: '', text: 'none' }),
          ...(env.data || []).filter((p) => !p.kind || p.kind === kind.value).map((p) => h('option', { value: p.name, text: p.name })));
        profile.value = [...profile.options].some((o) => o.value === keep) ? keep : '';
      } catch { /* a server without profiles: the select stays empty */ }
    }
    const cols = h('p', { class: 'muted', id: 'imp-cols' });
    const submit = h('button', { type: 'submit', class: 'btn primary', text: 'Upload and import' });
    const progress = h('progress', { id: 'imp-progress', max: 100, value: 0, 'aria-label': 'Upload progress' });
    const progressText = h('span', { class: 'progress-text', role: 'status', 'aria-live': 'polite' });
    const progressBox = h('div', { class: 'progress', hidden: true }, progress, progressText);
    const result = h('div', { class: 'import-result', 'aria-live': 'polite' });
    const showCols = () => {
      cols.textContent = 'Columns: ' + KINDS.find((k) => k[0] === kind.value)[2] + '. With "Detect the format", bank and accounting exports are read as they come (Preview shows how).';
      splitField.hidden = kind.value !== 'payments';
      keepField.hidden = kind.value !== 'payments' || !split.checked;
      overlapField.hidden = !bank();
      clear(previewBox);
      loadProfiles();
    };
    kind.addEventListener('change', showCols);
    split.addEventListener('change', () => { keepField.hidden = kind.value !== 'payments' || !split.checked; });
    showCols();

    const form = h('form', { class: 'import-form', 'aria-describedby': 'imp-cols', onsubmit: (e) => { e.preventDefault(); go(); } },
      h('span', { class: 'field' }, h('label', { for: 'imp-kind', text: 'What the file holds' }), kind),
      h('span', { class: 'field' }, h('label', { for: 'imp-file', text: 'CSV file' }), file),
      h('span', { class: 'field' }, h('label', { for: 'imp-profile', text: 'Profile' }), profile),
      h('span', { class: 'field check' }, detect, h('label', { for: 'imp-detect', text: 'Detect the format' })),
      splitField, keepField, overlapField,
      h('span', { class: 'field check' }, dry, h('label', { for: 'imp-dry', text: 'Check only (import nothing)' })),
      previewBtn, submit);
    const upCard = h('section', { class: 'card', 'aria-labelledby': 'imp-title' },
      h('div', { class: 'card-head' }, h('h2', { id: 'imp-title', text: 'Import a CSV file' })), form, cols, previewBox, progressBox, result);
    const tasksCard = h('section', { class: 'card', id: 'tasks', hidden: true, 'aria-labelledby': 'tasks-title' },
      h('div', { class: 'card-head' }, h('h2', { id: 'tasks-title', text: 'Tasks' })));
    const tasksBody = h('div', { class: 'table-scroll' });
    tasksCard.append(tasksBody);
    main.append(heading, upCard, tasksCard);
    // Importing is an analyst's: a viewer sees the form, disabled, and why.
    // (Preview is a dry-run import: the same route, the same role.)
    const refused = api.refusal('analyst');
    if (refused) {
      forbid(refused, form);
      form.after(h('p', { class: 'role-note', id: 'imp-role', text: `Your role (${api.whoami().role}${api.whoami().scope === 'read' ? ', read only' : ''}) cannot import: ask an analyst or an admin.` }));
    }

    let busy = false;
    async function go() {
      if (busy) return;
      const f = file.files && file.files[0];
      if (!f) { clear(result).append(errorBox(new Error('Choose a CSV file first.'))); file.focus(); return; }
      busy = true;
      submit.disabled = true;
      clear(result);
      progressBox.hidden = false;
      progress.value = 0;
      progress.max = 100;
      upCard.dataset.maxProgress = '0';
      progressText.textContent = `Uploading ${f.name} (${fmt.bytes(f.size)})…`;
      const path = `/api/v1/import/${kind.value}` + api.qs({ ...query(), dry_run: dry.checked ? '1' : '' });
      const t0 = performance.now();
      try {
        const res = await api.upload(path, f, {
          onProgress: (sent, total) => {
            const pct = total ? Math.floor(sent / total * 100) : 0;
            progress.value = pct;
            upCard.dataset.maxProgress = String(Math.max(pct, Number(upCard.dataset.maxProgress)));
            progressText.textContent = `Uploaded ${fmt.bytes(sent)} of ${fmt.bytes(total)} (${pct}%)`;
          },
          onUploaded: () => {
            progress.value = 100;
            upCard.dataset.maxProgress = '100';
            progress.removeAttribute('value'); // indeterminate while the server imports
            progressText.textContent = `Uploaded ${fmt.bytes(f.size)}. Importing…`;
          },
        });
        if (res.status === 202) {
          await followTask(res.body && res.body.data ? res.body.data : res.body, dry.checked);
        } else {
          progress.value = 100;
          showReport(res.body, dry.checked);
        }
        progressText.textContent = `Done in ${((performance.now() - t0) / 1000).toFixed(1)} s.`;
      } catch (err) {
        progress.value = 0;
        progressText.textContent = 'The import did not go through.';
        clear(result);
        if (err.body && err.body.inserted !== undefined) showReport(err.body, dry.checked);
        result.prepend(errorBox(err));
      } finally {
        busy = false;
        submit.disabled = !!refused;
        upCard.dataset.state = 'done';
      }
    }

    function showReport(rep, dryRun) {
      result.append(importReport(rep, { dryRun,
        next: !dryRun && rep.inserted + rep.replaced > 0 ? h('a', { href: '/', 'data-nav': '', text: 'See the Overview' }) : null }));
    }

    // A large file is imported by a background task (202): its progress
    // comes from the task record (and, when the server streams events, as
    // soon as it changes).
    const waiters = new Map();
    async function followTask(task, dryRun) {
      const id = task && task.id;
      if (id === undefined) { result.append(h('p', { text: 'The server is importing the file in the background.' })); return; }
      const cancel = h('button', { type: 'button', class: 'btn small', text: 'Cancel import', disabled: !!refused, title: refused || undefined, onclick: async () => {
        cancel.disabled = true;
        try { await api.send('DELETE', `${TASKS}/${encodeURIComponent(id)}`); } catch (err) { result.append(errorBox(err)); }
      } });
      progressBox.append(cancel);
      upCard.dataset.task = String(id);
      let t = task;
      try {
        while (!FINAL.includes(t.status)) {
          progress.value = Number(t.progress || 0);
          progressText.textContent = `Importing in the background (task ${id}): ${t.progress || 0}%${t.message ? ' · ' + t.message : ''}`;
          await new Promise((r) => { const timer = setTimeout(r, 1000); waiters.set(String(id), () => { clearTimeout(timer); r(); }); });
          const x = await api.getJSON(`${TASKS}/${encodeURIComponent(id)}`);
          t = x && x.data ? x.data : x;
        }
      } finally {
        cancel.remove();
        waiters.delete(String(id));
        loadTasks();
      }
      progress.value = 100;
      if (t.status === 'succeeded') showReport(t.result || {}, dryRun);
      else throw new Error(t.status === 'cancelled' ? 'The import was cancelled: nothing was imported.'
        : t.status === 'interrupted' ? 'The server stopped during the import: nothing was imported. Upload the file again.'
        : `The import failed: ${t.error || 'no reason given'}.`);
    }

    // ---- tasks, once the server has them ----
    let tasksTimer = 0;
    async function loadTasks() {
      clearTimeout(tasksTimer);
      let env;
      try {
        env = await api.probe(TASKS);
        if (env) { api.forgetProbe(TASKS); env = await api.getJSON(TASKS); }
      } catch (err) {
        tasksCard.hidden = false;
        clear(tasksBody).append(errorBox(err, loadTasks));
        return;
      }
      if (!env) return; // not on this server yet
      tasksCard.hidden = false;
      const d = env.data || env;
      const items = Array.isArray(d) ? d : d.items || d.tasks || [];
      renderTasks(items);
      const running = items.some((t) => ['pending', 'running'].includes(t.status));
      tasksTimer = setTimeout(loadTasks, running ? 1000 : 10000);
    }

    function renderTasks(items) {
      clear(tasksBody);
      if (!items.length) { tasksBody.append(h('p', { class: 'muted', text: 'No tasks yet.' })); return; }
      tasksBody.append(h('table', { class: 'plain' },
        h('thead', {}, h('tr', {}, ['Task', 'Kind', 'Status', 'Progress', 'Created', ''].map((t) => h('th', { scope: 'col', text: t })))),
        h('tbody', {}, items.map((t) => {
          const pct = Number(t.progress ?? 0);
          const act = h('td', { class: 'actions' });
          if (['pending', 'running'].includes(t.status)) {
            act.append(h('button', { type: 'button', class: 'btn small', text: 'Cancel', 'aria-label': `Cancel task ${t.id}`, disabled: !!refused, title: refused || undefined, onclick: async (e) => {
              e.target.disabled = true;
              try { await api.send('DELETE', `${TASKS}/${encodeURIComponent(t.id)}`); } catch (err) { act.append(h('span', { class: 'row-msg', text: describe(err) })); }
              loadTasks();
            } }));
          }
          if (t.status === 'succeeded' && t.file_name) {
            act.append(h('button', { type: 'button', class: 'btn small', text: 'Download', 'aria-label': `Download ${t.file_name} (task ${t.id})`, onclick: () => download(t) }));
          } else if (t.status === 'succeeded' && t.result && t.kind === 'import') {
            act.append(h('button', { type: 'button', class: 'btn small', text: 'Report', 'aria-label': `Show the report of task ${t.id}`, onclick: () => { clear(result); showReport(t.result, false); result.scrollIntoView({ block: 'nearest' }); } }));
          }
          const bar = h('progress', { max: 100, value: pct, 'aria-label': `Task ${t.id} progress` });
          return h('tr', { dataset: { task: t.id, status: t.status } },
            h('td', { text: String(t.id) }), h('td', { text: (t.kind || '') + (t.params && t.params.entity ? ' · ' + t.params.entity : '') }),
            h('td', {}, h('span', { class: 'badge ' + (t.status || ''), text: t.status || '' }), t.error ? h('div', { class: 'row-msg', text: typeof t.error === 'string' ? t.error : JSON.stringify(t.error) }) : null),
            h('td', {}, bar, h('span', { class: 'muted', text: ` ${pct}%${t.message ? ' · ' + t.message : ''}` })),
            h('td', { text: (t.created_at || '').replace('T', ' ').replace(/\.\d+Z$/, ' UTC') }), act);
        }))));
    }

    async function download(t) {
      try {
        const res = await fetch(`${TASKS}/${encodeURIComponent(t.id)}/result`, { headers: { Authorization: 'Bearer ' + api.getToken() } });
        if (!res.ok) throw api.errorFor(res.status, await res.json().catch(() => null));
        const blob = await res.blob();
        const cd = res.headers.get('content-disposition') || '';
        const m = /filename="?([^";]+)"?/.exec(cd);
        const a = h('a', { href: URL.createObjectURL(blob), download: m ? m[1] : `task-${t.id}` });
        document.body.append(a);
        a.click();
        setTimeout(() => { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
      } catch (err) {
        clear(result).append(errorBox(err));
      }
    }

    loadTasks();
    return {
      update() {},
      refresh: loadTasks,
      // A task event from the server's stream: wake whoever follows it.
      onTask(ev) {
        const w = waiters.get(String(ev.id));
        if (w) w();
        else if (!tasksCard.hidden) loadTasks();
      },
      unmount() { clearTimeout(tasksTimer); },
    };
  },
};
