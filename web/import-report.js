// An import's report (POST /api/v1/import/{kind}, and a data set's import):
// new, replaced and rejected rows, each rejection with its line and reason,
// and the warnings. next: an element to offer after an import that stored
// something (a link to where the rows show).

import { h } from './dom.js';
import * as fmt from './format.js';

export function importReport(rep, { dryRun = false, next = null } = {}) {
  const stat = (label, n, cls) => h('div', { class: 'stat ' + (cls || '') }, h('div', { class: 'stat-value', text: fmt.count(n) }), h('div', { class: 'stat-label', text: label }));
  const box = h('div', { class: 'report', dataset: { inserted: rep.inserted, replaced: rep.replaced, rejected: rep.rejected } },
    h('p', { class: 'report-head', text: dryRun ? 'Checked: nothing was imported.' : `Imported in ${rep.seconds !== undefined ? rep.seconds.toFixed(2) + ' s' : 'no time'}. The dashboards show the new figures now.` }),
    h('div', { class: 'stats' }, stat(dryRun ? 'would be new' : 'new rows', rep.inserted, 'ok'), stat(dryRun ? 'would replace' : 'replaced', rep.replaced), stat('rejected', rep.rejected, rep.rejected ? 'bad' : '')));
  if (rep.split_costs) box.append(h('p', { class: 'muted', text: `${fmt.count(rep.split_costs)} debits were stored as costs.` }));
  if (rep.split_transfers) box.append(h('p', { class: 'muted split-transfers', text: rep.split_transfers === 1 ? 'One transfer between own accounts was left out (see the warnings).' : `${fmt.count(rep.split_transfers)} transfers between own accounts were left out (see the warnings).` }));
  if (rep.detected) box.append(h('p', { class: 'muted detected-line' }, `Detected (confidence ${rep.detected.confidence}%): `, h('code', { text: rep.detected.command })));
  if (rep.rejections && rep.rejections.length) {
    box.append(h('h3', { text: 'Rejected rows' }), h('div', { class: 'table-scroll short' }, h('table', { class: 'plain' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col', text: 'Line' }), h('th', { scope: 'col', text: 'Reason' }))),
      h('tbody', {}, rep.rejections.map((r) => h('tr', {}, h('td', { class: 'num', text: String(r.line ?? r.index ?? '') }), h('td', { text: r.reason })))))));
    if (rep.rejections_truncated) box.append(h('p', { class: 'muted', text: `Only the first ${rep.rejections.length} rejections are listed.` }));
  }
  // What was stored but deserves a look (placeholder dates, repeated ids, a re-import with other options).
  if (rep.warnings && rep.warnings.length) {
    box.append(h('h3', { text: 'Warnings' }), h('ul', { class: 'warnings' }, rep.warnings.map((w) => h('li', { text: w }))));
  }
  if (next) box.append(h('p', {}, next));
  return box;
}
