// A virtual-scrolled table over keyset pagination.
//
// The list API gives pages linked by cursors (a deep page costs what the
// first does, but page N can only be found through page N-1's cursor). So:
// the cursor of every page seen is kept (a few bytes each), rows of the
// pages near the view are kept (older ones are dropped and fetched again by
// their cursor when needed), and only the rows on screen exist in the DOM:
// a fixed pool of row elements is repositioned and refilled on scroll.
// Past ~8 million pixels the scroll range is compressed, so a table of
// millions of rows stays inside the browser's element-height limit.

import { h, clear, describe } from './dom.js';
import * as fmt from './format.js';

const PAGE = 1000;
const KEEP_PAGES = 120;       // rows kept in memory: 120k
const MAX_PX = 8_000_000;
const OVERSCAN = 8;

let seq = 0;

export class VirtualTable {
  // columns: [{key, label, width ('8rem' | '1fr'), format(row) -> string, cls, sort: 'date'|'amount'}]
  // fetchPage(cursor, sort, signal) -> {items, next_cursor}
  constructor({ label, columns, fetchPage, rowHeight = 34, sort = '-date', onActivate, height }) {
    this.id = 'vt' + ++seq;
    this.columns = columns;
    this.fetchPage = fetchPage;
    this.rowH = rowHeight;
    this.sort = sort;
    this.onActivate = onActivate;
    this.active = -1;
    this.pool = [];
    this.frame = 0;
    this.template = columns.map((c) => c.width || '1fr').join(' ');

    this.status = h('span', { class: 'vt-status', role: 'status', 'aria-live': 'polite' });
    const gotoInput = h('input', { type: 'number', min: 1, step: 1, id: this.id + '-goto', class: 'vt-goto-input', inputmode: 'numeric', placeholder: 'Row' });
    this.goto = h('form', { class: 'vt-goto', onsubmit: (e) => {
      e.preventDefault();
      const n = parseInt(gotoInput.value, 10);
      if (n > 0) this.scrollToRow(n - 1, { focus: true });
    } }, h('label', { for: this.id + '-goto', text: 'Go to row' }), gotoInput, h('button', { type: 'submit', class: 'btn small', text: 'Go' }));
    this.endBtn = h('button', { type: 'button', class: 'btn small', text: 'Last row', onclick: () => this.scrollToEnd({ focus: true }) });
    this.toolbar = h('div', { class: 'vt-toolbar' }, this.status, this.goto, this.endBtn);

    this.head = h('div', { class: 'vt-head', role: 'row' }, columns.map((c, i) => this.headerCell(c, i)));
    this.head.style.gridTemplateColumns = this.template;
    this.spacer = h('div', { class: 'vt-spacer' });
    this.body = h('div', {
      class: 'vt-body', tabindex: 0, role: 'rowgroup', id: this.id + '-body',
      'aria-label': `${label}: use the arrow keys, Page Up/Down, Home and End to move${onActivate ? ', Enter to open a row' : ''}`,
    }, this.spacer);
    if (height) this.body.style.height = height;
    this.grid = h('div', { class: 'vt', role: 'grid', 'aria-label': label, 'aria-rowcount': -1, 'aria-colcount': columns.length }, this.head, this.body);
    this.el = h('div', { class: 'vt-wrap' }, this.toolbar, this.grid);

    this.body.addEventListener('scroll', () => this.schedule(), { passive: true });
    this.body.addEventListener('keydown', (e) => this.onKey(e));
    this.body.addEventListener('click', (e) => {
      const row = e.target.closest('.vt-row');
      if (!row || row.dataset.rowIndex === undefined) return;
      this.setActive(Number(row.dataset.rowIndex));
      if (this.onActivate) this.activate();
    });
    new ResizeObserver(() => this.schedule()).observe(this.body);
    this.reset();
  }

  headerCell(c, i) {
    const cell = h('div', { role: 'columnheader', class: 'vt-th ' + (c.cls || ''), 'aria-colindex': i + 1 });
    if (c.sort) {
      const btn = h('button', { type: 'button', class: 'vt-sort', text: c.label, onclick: () => this.toggleSort(c.sort) });
      cell.append(btn);
    } else cell.textContent = c.label;
    return cell;
  }

  toggleSort(key) {
    this.sort = this.sort === '-' + key ? key : '-' + key;
    this.reset();
  }

  updateSortMarks() {
    this.columns.forEach((c, i) => {
      const cell = this.head.children[i];
      if (!c.sort) return;
      const s = this.sort === c.sort ? 'ascending' : this.sort === '-' + c.sort ? 'descending' : 'none';
      cell.setAttribute('aria-sort', s);
      cell.dataset.sort = s;
    });
  }

  // A new query (filters or sort changed): forget everything.
  reset(fetchPage) {
    if (fetchPage) this.fetchPage = fetchPage;
    if (this.abort) this.abort.abort();
    this.abort = new AbortController();
    this.pages = [{ cursor: null, rows: null, loading: null, used: 0 }];
    this.known = 0;         // rows in the chain of pages fetched so far
    this.done = false;      // the last page has been seen
    this.error = null;
    this.active = -1;
    this.gen = (this.gen || 0) + 1;
    this.jump = null;
    this.lastTotal = undefined;
    this.body.scrollTop = 0;
    this.updateSortMarks();
    this.extend().catch(() => {});
    this.schedule();
  }

  // ---- data ----

  // Fetches page p (its cursor must be known).
  loadPage(p) {
    const pg = this.pages[p];
    if (pg.rows) { pg.used = performance.now(); return Promise.resolve(pg.rows); }
    if (pg.loading) return pg.loading;
    const gen = this.gen;
    this.fetches = (this.fetches || 0) + 1;
    this.el.dataset.fetches = String(this.fetches);
    pg.loading = this.fetchPage(pg.cursor, this.sort, this.abort.signal).then((res) => {
      if (gen !== this.gen) return [];
      pg.loading = null;
      pg.rows = res.items;
      pg.used = performance.now();
      if (p === this.pages.length - 1 && !pg.linked) {
        pg.linked = true;
        this.known += res.items.length;
        if (res.next_cursor && res.items.length) this.pages.push({ cursor: res.next_cursor, rows: null, loading: null, used: 0 });
        else this.done = true;
      }
      this.error = null;
      this.evict();
      this.schedule();
      return pg.rows;
    }, (err) => {
      pg.loading = null;
      if (err.name === 'AbortError' || gen !== this.gen) return [];
      this.error = err;
      this.schedule();
      throw err;
    });
    return pg.loading;
  }

  // Fetches the next page of the chain.
  extend() {
    if (this.done) return Promise.resolve();
    return this.loadPage(this.pages.length - 1);
  }

  evict() {
    const loaded = this.pages.map((pg, i) => [pg, i]).filter(([pg]) => pg.rows);
    if (loaded.length <= KEEP_PAGES) return;
    loaded.sort((a, b) => a[0].used - b[0].used);
    for (const [pg] of loaded.slice(0, loaded.length - KEEP_PAGES)) pg.rows = null;
  }

  row(i) {
    const pg = this.pages[Math.floor(i / PAGE)];
    return pg && pg.rows ? pg.rows[i % PAGE] : undefined;
  }

  // ---- geometry (with compression past MAX_PX) ----

  rowsShown() { return this.known + (this.done ? 0 : 1); } // +1: the "loading more" row
  totalPx() { return this.rowsShown() * this.rowH; }
  spacerPx() { return Math.min(this.totalPx(), MAX_PX); }
  ratio() {
    const view = this.body.clientHeight;
    const total = this.totalPx(), spacer = this.spacerPx();
    return total > spacer && spacer > view ? (total - view) / (spacer - view) : 1;
  }
  // virtual pixel offset of the top of the view
  virtualTop() { return this.body.scrollTop * this.ratio(); }
  scrollTopFor(virtualPx) { return virtualPx / this.ratio(); }

  // ---- rendering ----

  schedule() {
    if (!this.frame) this.frame = requestAnimationFrame(() => { this.frame = 0; this.render(); });
  }

  render() {
    // When rows arrive below, the compressed mapping changes: keep the same
    // rows in view unless the person scrolled meanwhile (otherwise a view
    // near the end would slide to the new end and load the next page, and
    // the next...).
    const total = this.totalPx();
    if (total !== this.lastTotal) {
      const still = this.lastTotal !== undefined && this.body.scrollTop === this.lastScrollTop;
      this.spacer.style.height = this.spacerPx() + 'px';
      if (still) this.body.scrollTop = this.scrollTopFor(this.lastVtop);
      this.lastTotal = total;
    }
    const view = this.body.clientHeight || 400;
    const vtop = this.virtualTop();
    this.lastVtop = vtop;
    this.lastScrollTop = this.body.scrollTop;
    const first = Math.max(0, Math.floor(vtop / this.rowH) - OVERSCAN);
    const last = Math.min(this.rowsShown() - 1, Math.ceil((vtop + view) / this.rowH) + OVERSCAN);
    const need = Math.max(0, last - first + 1);
    while (this.pool.length < need) {
      const cells = this.columns.map((c, ci) => h('div', { role: 'gridcell', class: 'vt-td ' + (c.cls || ''), 'aria-colindex': ci + 1 }));
      const r = h('div', { class: 'vt-row', role: 'row' }, cells);
      r.style.gridTemplateColumns = this.template;
      this.spacer.append(r);
      this.pool.push(r);
    }
    // Rows sit at their virtual offset mapped back into the spacer.
    const shift = this.body.scrollTop - vtop;
    const missing = new Set();
    for (let k = 0; k < this.pool.length; k++) {
      const el = this.pool[k];
      const i = first + k;
      if (k >= need) { if (!el.hidden) el.hidden = true; continue; }
      el.hidden = false;
      el.style.transform = `translateY(${(i * this.rowH + shift).toFixed(1)}px)`;
      const data = i < this.known ? this.row(i) : undefined;
      const key = data ? i + ':' + this.gen : i < this.known ? 'miss' : 'more';
      if (el.dataset.key !== key || el.dataset.gen !== String(this.gen)) {
        el.dataset.key = key;
        el.dataset.gen = String(this.gen);
        this.fill(el, i, data);
      }
      const isActive = i === this.active;
      if (el.classList.contains('active') !== isActive) {
        el.classList.toggle('active', isActive);
        el.setAttribute('aria-selected', String(isActive));
      }
      if (isActive) el.id = this.id + '-active'; else if (el.id) el.removeAttribute('id');
      if (!data && i < this.known) missing.add(Math.floor(i / PAGE));
    }
    if (this.active >= 0) this.body.setAttribute('aria-activedescendant', this.id + '-active');
    for (const p of missing) this.loadPage(p).catch(() => {});
    // Near the end of what is known: fetch the next page.
    if (!this.done && !this.error && last >= this.known - PAGE / 4) this.extend().catch(() => {});
    this.grid.setAttribute('aria-rowcount', this.done ? String(this.known + 1) : '-1');
    this.updateStatus(Math.floor(vtop / this.rowH), Math.min(this.known, Math.ceil((vtop + view) / this.rowH)));
  }

  fill(el, i, data) {
    el.dataset.rowIndex = String(i);
    el.setAttribute('aria-rowindex', String(i + 2)); // the header is row 1
    const cells = el.children;
    if (data) {
      el.classList.remove('placeholder');
      for (let c = 0; c < this.columns.length; c++) {
        const col = this.columns[c];
        cells[c].textContent = col.format ? col.format(data) : data[col.key] ?? '';
      }
    } else {
      el.classList.add('placeholder');
      for (let c = 0; c < this.columns.length; c++) cells[c].textContent = c === 0 && i >= this.known ? (this.error ? '' : 'Loading…') : '';
      if (i >= this.known && this.error) cells[0].textContent = describe(this.error);
    }
  }

  updateStatus(first, last) {
    let s;
    if (this.error) s = describe(this.error);
    else if (this.jump) s = `Loading rows… ${fmt.count(this.known)} so far`;
    else if (this.done) s = this.known ? `${fmt.count(this.known)} rows` : 'No rows';
    else s = `${fmt.count(this.known)} rows loaded, more below`;
    if (this.known && !this.error && first < this.known) s += ` · showing ${fmt.count(first + 1)}–${fmt.count(Math.max(first + 1, last))}`;
    if (this.status.textContent !== s) this.status.textContent = s;
    this.el.dataset.rows = String(this.known);
    this.el.dataset.done = this.done ? '1' : '0';
  }

  // ---- navigation ----

  // Loads pages until row n exists (or the end), then brings it into view.
  async scrollToRow(n, { focus = false } = {}) {
    const gen = this.gen;
    const token = {};
    this.jump = token;
    this.schedule();
    try {
      while (this.known <= n && !this.done && gen === this.gen && this.jump === token) await this.extend();
    } finally {
      if (this.jump === token) this.jump = null;
    }
    if (gen !== this.gen) return;
    const target = Math.min(n, this.known - 1);
    if (target < 0) return;
    this.setActive(target);
    this.bringIntoView(target, 'center');
    if (focus) this.body.focus({ preventScroll: true });
    this.schedule();
    await new Promise((r) => requestAnimationFrame(() => r()));
  }

  async scrollToEnd(opts) {
    return this.scrollToRow(Number.MAX_SAFE_INTEGER, opts);
  }

  bringIntoView(i, where = 'nearest') {
    // The spacer may still have the height of fewer rows (rendering waits
    // for the next frame): grow it first, or the scroll would be clamped.
    this.spacer.style.height = this.spacerPx() + 'px';
    const view = this.body.clientHeight;
    const top = i * this.rowH;
    const vtop = this.virtualTop();
    let target = null;
    if (where === 'center') target = top - view / 2 + this.rowH / 2;
    else if (top < vtop) target = top;
    else if (top + this.rowH > vtop + view) target = top + this.rowH - view;
    if (target !== null) this.body.scrollTop = Math.max(0, this.scrollTopFor(Math.max(0, target)));
  }

  setActive(i) {
    this.active = Math.max(0, Math.min(i, this.known - 1));
    this.schedule();
  }

  activate() {
    const r = this.row(this.active);
    if (r && this.onActivate) this.onActivate(r, this.active);
  }

  onKey(e) {
    const page = Math.max(1, Math.floor(this.body.clientHeight / this.rowH) - 1);
    let next = null;
    switch (e.key) {
      case 'ArrowDown': next = this.active + 1; break;
      case 'ArrowUp': next = this.active - 1; break;
      case 'PageDown': next = this.active + page; break;
      case 'PageUp': next = this.active - page; break;
      case 'Home': next = 0; break;
      case 'End':
        e.preventDefault();
        this.scrollToEnd();
        return;
      case 'Enter':
      case ' ':
        if (this.onActivate && this.active >= 0) { e.preventDefault(); this.activate(); }
        return;
      case 'Escape':
        this.jump = null;
        return;
      default: return;
    }
    e.preventDefault();
    if (this.active < 0) next = Math.max(0, Math.floor(this.virtualTop() / this.rowH));
    this.setActive(next);
    this.bringIntoView(this.active);
  }

  destroy() {
    if (this.abort) this.abort.abort();
    cancelAnimationFrame(this.frame);
    clear(this.el);
  }
}
