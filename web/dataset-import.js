// A CSV file into a data set (POST /api/v1/datasets/{name}/import) with
// upload progress, then its report; a large file the server imports in the
// background (202 and a task) is followed until it ends.

import { h, errorBox } from './dom.js';
import * as api from './api.js';
import * as fmt from './format.js';
import { importReport } from './import-report.js';

const FINAL = ['succeeded', 'failed', 'cancelled', 'interrupted'];

// Appends progress and the report to box; true when the import went through.
export async function importFile(box, { name, file, next }) {
  const progress = h('progress', { class: 'ds-import-progress', max: 100, value: 0, 'aria-label': `Import of ${file.name}` });
  const text = h('span', { class: 'progress-text', role: 'status', 'aria-live': 'polite' });
  const wrap = h('div', { class: 'progress', dataset: { state: 'uploading' } }, progress, text);
  box.append(wrap);
  try {
    const res = await api.upload(`/api/v1/datasets/${encodeURIComponent(name)}/import`, file, {
      onProgress: (sent, total) => {
        progress.value = total ? Math.floor(sent / total * 100) : 0;
        text.textContent = `Uploaded ${fmt.bytes(sent)} of ${fmt.bytes(total)}`;
      },
      onUploaded: () => { progress.removeAttribute('value'); text.textContent = `Uploaded ${fmt.bytes(file.size)}. Importing…`; },
    });
    let rep = res.body && res.body.data !== undefined ? res.body.data : res.body;
    if (res.status === 202) rep = await follow(rep, progress, text);
    progress.value = 100;
    text.textContent = `${file.name} imported.`;
    wrap.dataset.state = 'done';
    box.append(importReport(rep || {}, { next }));
    return true;
  } catch (err) {
    progress.value = 0;
    text.textContent = 'The import did not go through.';
    wrap.dataset.state = 'failed';
    const rep = err.body && (err.body.inserted !== undefined ? err.body : err.body.data);
    if (rep && rep.inserted !== undefined) box.append(importReport(rep));
    box.append(errorBox(err));
    return false;
  }
}

// The task's record until it ends: its result, or an error saying why not.
async function follow(task, progress, text) {
  const id = task && task.id;
  if (id === undefined) throw new Error('The server took the file but named no task to follow.');
  let t = task;
  while (!FINAL.includes(t.status)) {
    progress.value = Number(t.progress || 0);
    text.textContent = `Importing in the background (task ${id}): ${t.progress || 0}%`;
    await new Promise((r) => setTimeout(r, 1000));
    const x = await api.getJSON(`/api/v1/tasks/${encodeURIComponent(id)}`);
    t = x && x.data ? x.data : x;
  }
  if (t.status === 'succeeded') return t.result || {};
  throw new Error(t.status === 'cancelled' ? 'The import was cancelled: nothing was imported.'
    : t.status === 'interrupted' ? 'The server stopped during the import: nothing was imported. Import the file again.'
    : `The import failed: ${t.error || 'no reason given'}.`);
}
