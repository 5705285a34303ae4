// Performance: route latency percentiles computed here from the server's
// /metrics histograms (since start, and over the last refresh interval),
// plus whatever the server reports about itself once it has the endpoints:
// /api/v1/performance (its own 1- and 15-minute windows, cache, store,
// process, tasks), slow queries, the advisor's report and alerts. Missing
// endpoints (404/405) leave their cards out.

import { h, clear, errorBox, jsonView } from './dom.js';
import * as api from './api.js';
import * as fmt from './format.js';
import * as metrics from './metrics.js';

const LATENCY = 'brisk_http_request_duration_seconds';
const REFRESH_MS = 5000;

const ms = (v) => (v === null || v === undefined ? '—' : fmt.seconds(v / 1000));
const pct = (r) => (r === null || r === undefined ? '—' : (r * 100).toFixed(1) + '%');

export default {
  title: 'Performance',
  mount(main) {
    const heading = h('h1', { class: 'page-title', tabindex: -1, text: 'Performance' });
    const strip = h('div', { class: 'stats perf-strip', hidden: true, 'aria-label': 'Server', role: 'region' });
    const windowSel = h('select', { id: 'perf-window' },
      h('option', { value: 'all', text: 'Since the server started' }),
      h('option', { value: 'recent', text: `Last ${REFRESH_MS / 1000} seconds` }));
    const auto = h('input', { type: 'checkbox', id: 'perf-auto', checked: true });
    const updated = h('span', { class: 'muted', role: 'status' });
    const controls = h('div', { class: 'filters' },
      h('span', { class: 'field' }, h('label', { for: 'perf-window', text: 'Window' }), windowSel),
      h('span', { class: 'field check' }, auto, h('label', { for: 'perf-auto', text: 'Refresh every 5 s' })),
      h('button', { type: 'button', class: 'btn small', text: 'Refresh now', onclick: () => load() }), updated);
    const latBody = h('div', { class: 'table-scroll' });
    const lat = h('section', { class: 'card', id: 'perf-latency', 'aria-labelledby': 'perf-lat-title' },
      h('div', { class: 'card-head' }, h('h2', { id: 'perf-lat-title', text: 'Route latency' })), controls, latBody);
    const grid = h('div', { class: 'grid' });
    const cards = {};
    const cardFor = (key, title, wide) => {
      if (!cards[key]) {
        const body = h('div', { class: 'table-scroll' });
        const el = h('section', { class: 'card' + (wide ? ' wide' : ''), id: 'perf-' + key, 'aria-labelledby': `perf-${key}-title` },
          h('div', { class: 'card-head' }, h('h2', { id: `perf-${key}-title`, text: title })), body);
        grid.append(el);
        cards[key] = { el, body };
      }
      return cards[key].body;
    };
    const otherBody = h('div', { class: 'table-scroll' });
    const other = h('details', { class: 'card', id: 'perf-other' }, h('summary', {}, h('h2', { class: 'inline', text: 'All /metrics series' })), otherBody);
    main.append(heading, strip, lat, grid, other);

    let current = null, recent = null, server = null, timer = 0, stopped = false;

    async function load() {
      clearTimeout(timer);
      try {
        const text = await api.getText('/metrics', { auth: true }); // an operator's
        const parsed = metrics.parse(text);
        const hist = metrics.histograms(parsed, LATENCY, 'route');
        if (current) recent = metrics.diff(hist, current);
        current = hist;
        renderOther(parsed);
      } catch (err) {
        clear(latBody).append(errorBox(err, load));
      }
      await loadServer();
      renderLatency();
      updated.textContent = 'Updated ' + new Date().toLocaleTimeString();
      lat.dataset.loaded = '1';
      if (auto.checked && !stopped && !document.hidden) timer = setTimeout(load, REFRESH_MS);
    }

    // ---- the server's own reports, where they exist ----
    async function optional(path) {
      try {
        const env = await api.probe(path);
        if (!env) return null;
        api.forgetProbe(path); // exists: ask again next time for fresh figures
        return env.data ?? env;
      } catch (err) {
        return { error: err };
      }
    }

    async function loadServer() {
      const [perf, slow, report, alerts] = await Promise.all([
        optional('/api/v1/performance'), optional('/api/v1/performance/slow-queries'),
        optional('/api/v1/performance/report'), optional('/api/v1/alerts')]);
      server = perf && !perf.error ? perf : null;
      if (server) {
        const have = [...windowSel.options].map((o) => o.value);
        for (const [v, t] of [['1m', 'Last minute (server)'], ['15m', 'Last 15 minutes (server)']]) {
          if (!have.includes(v)) windowSel.append(h('option', { value: v, text: t }));
        }
        renderStrip(server);
        if (server.cache) renderCache(cardFor('cache', 'Cache'), server.cache);
        if (server.store) renderStore(cardFor('store', 'Store'), server.store);
        if (server.tasks) clear(cardFor('tasks', 'Task queue')).append(jsonView(server.tasks));
      } else if (perf && perf.error) clear(cardFor('server', 'Server')).append(errorBox(perf.error));
      else {
        // no /api/v1/performance: the cache statistics may still exist
        const cache = await optional('/api/v1/cache/stats');
        if (cache && !cache.error) renderCache(cardFor('cache', 'Cache'), cache);
      }
      if (alerts) renderAlerts(cardFor('alerts', 'Alerts'), alerts);
      if (report) renderReport(cardFor('advisor', 'Advisor', true), report);
      if (slow) renderSlow(cardFor('queries', 'Statements and slow queries', true), slow);
    }

    function renderStrip(p) {
      const stat = (label, value, cls) => h('div', { class: 'stat ' + (cls || '') }, h('div', { class: 'stat-value', text: value }), h('div', { class: 'stat-label', text: label }));
      const pr = p.process || {};
      const al = p.alerts || {};
      strip.hidden = false;
      clear(strip).append(
        stat('up', p.uptime_seconds !== undefined ? duration(p.uptime_seconds) : '—'),
        stat('memory (RSS)', fmt.bytes(pr.rss_bytes)),
        stat('CPU, last minute', pr.cpu_percent_1m !== undefined ? pr.cpu_percent_1m.toFixed(1) + '%' : '—'),
        stat('threads', pr.threads !== undefined ? String(pr.threads) : '—'),
        stat('alerts firing', String((al.warning || 0) + (al.critical || 0)), al.critical ? 'bad' : al.warning ? 'warn' : 'ok'));
    }

    function renderLatency() {
      const w = windowSel.value;
      clear(latBody);
      let rows;
      if ((w === '1m' || w === '15m') && server && server.routes) {
        rows = server.routes.filter((r) => r[w] && r[w].count > 0).map((r) => ({
          route: r.route, count: r[w].count, errors: null, p50: r[w].p50_ms / 1000, p95: r[w].p95_ms / 1000, p99: r[w].p99_ms / 1000,
          mean: r.total && r.total.mean_ms !== undefined ? r.total.mean_ms / 1000 : NaN,
        }));
      } else {
        if (w === 'recent' && !recent) { latBody.append(h('p', { class: 'muted', text: 'Waiting for a second reading…' })); return; }
        const src = w === 'recent' ? recent : current;
        rows = Object.entries(src || {}).filter(([, x]) => x.count > 0).map(([route, x]) => ({
          route, count: x.count, errors: x.errors,
          p50: metrics.quantile(0.5, x.buckets), p95: metrics.quantile(0.95, x.buckets), p99: metrics.quantile(0.99, x.buckets),
          mean: x.count ? x.sum / x.count : NaN,
        }));
      }
      rows.sort((a, b) => b.count - a.count);
      if (!rows.length) { latBody.append(h('p', { class: 'muted', text: 'No requests in this window.' })); return; }
      latBody.append(h('table', { class: 'plain' },
        h('thead', {}, h('tr', {}, ['Route', 'Requests', 'Errors', 'p50', 'p95', 'p99', 'Mean (all time)'].map((t) => h('th', { scope: 'col', text: t })))),
        h('tbody', {}, rows.map((x) => h('tr', { dataset: { route: x.route } },
          h('th', { scope: 'row', text: x.route }),
          h('td', { class: 'num', text: fmt.count(x.count) }),
          h('td', { class: 'num' + (x.errors ? ' bad' : ''), text: x.errors === null ? '—' : fmt.count(x.errors) }),
          h('td', { class: 'num', text: fmt.seconds(x.p50) }),
          h('td', { class: 'num', text: fmt.seconds(x.p95) }),
          h('td', { class: 'num', text: fmt.seconds(x.p99) }),
          h('td', { class: 'num', text: fmt.seconds(x.mean) }))))));
    }

    function renderOther(parsed) {
      const rows = parsed.samples.filter((s) => !/_(bucket|sum|count)$/.test(s.name) || parsed.types[s.name] === 'counter');
      clear(otherBody);
      if (!rows.length) { otherBody.append(h('p', { class: 'muted', text: 'The server exports no other series yet.' })); return; }
      otherBody.append(h('table', { class: 'plain' },
        h('thead', {}, h('tr', {}, ['Series', 'Labels', 'Value'].map((t) => h('th', { scope: 'col', text: t })))),
        h('tbody', {}, rows.map((s) => h('tr', {},
          h('th', { scope: 'row', text: s.name, title: parsed.help[s.name] || '' }),
          h('td', { text: Object.entries(s.labels).map(([k, v]) => `${k}=${v}`).join(', ') }),
          h('td', { class: 'num', text: /bytes/.test(s.name) ? fmt.bytes(s.value) : /seconds/.test(s.name) ? fmt.seconds(s.value) : fmt.count(s.value) }))))));
    }

    windowSel.addEventListener('change', renderLatency);
    auto.addEventListener('change', () => { if (auto.checked) load(); else clearTimeout(timer); });
    const onVisible = () => { if (!document.hidden && auto.checked && !stopped) load(); };
    document.addEventListener('visibilitychange', onVisible);
    load();
    return {
      update() {},
      refresh: load,
      unmount() { stopped = true; clearTimeout(timer); document.removeEventListener('visibilitychange', onVisible); },
    };
  },
};

function duration(s) {
  if (s < 120) return s.toFixed(0) + ' s';
  if (s < 7200) return (s / 60).toFixed(0) + ' min';
  if (s < 172800) return (s / 3600).toFixed(1) + ' h';
  return (s / 86400).toFixed(1) + ' days';
}

function kv(pairs) {
  return h('dl', { class: 'json' }, pairs.filter(([, v]) => v !== undefined).map(([k, v]) => [h('dt', { text: k }), h('dd', { text: v })]));
}

function renderCache(el, c) {
  clear(el);
  const tiers = c.tiers || { l1: c.l1, l2: c.l2, l3: c.l3 };
  const rows = Object.entries(tiers).filter(([, t]) => t).map(([name, t]) => h('tr', {},
    h('th', { scope: 'row', text: name.toUpperCase() }),
    h('td', { text: t.enabled ? 'on' : 'off' }),
    h('td', { class: 'num', text: t.enabled && t.hits !== undefined ? fmt.count(t.hits) : '—' }),
    h('td', { class: 'num', text: t.enabled && t.misses !== undefined ? fmt.count(t.misses) : '—' }),
    h('td', { class: 'num', text: t.enabled ? pct(t.hit_rate) : '—' }),
    h('td', { class: 'num', text: t.enabled && t.hit_rate_5m !== undefined ? pct(t.hit_rate_5m) : '—' })));
  el.append(
    h('table', { class: 'plain' },
      h('thead', {}, h('tr', {}, ['Tier', '', 'Hits', 'Misses', 'Hit rate', 'Last 5 min'].map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', {}, rows)),
    kv([
      ['overall hit rate', c.hit_rate !== undefined ? pct(c.hit_rate) : undefined],
      ['entries', c.entries !== undefined ? fmt.count(c.entries) : c.l1 ? fmt.count(c.l1.entries) : undefined],
      ['memory', c.bytes !== undefined ? fmt.bytes(c.bytes) : c.l1 ? fmt.bytes(c.l1.bytes) : undefined],
      ['evictions', c.evictions !== undefined ? fmt.count(c.evictions) : c.l1 ? fmt.count(c.l1.evictions) : undefined],
      ['views computed', c.computed !== undefined ? fmt.count(c.computed) : undefined],
      ['compute time saved', c.compute_seconds_saved !== undefined ? fmt.seconds(c.compute_seconds_saved) : undefined],
    ]));
  if (Array.isArray(c.views) && c.views.length) el.append(h('details', {}, h('summary', { text: 'Per view' }), jsonView(c.views)));
}

function renderStore(el, s) {
  clear(el).append(kv([
    ['queries', s.queries !== undefined ? `${fmt.count(s.queries)} (${fmt.count(s.reads)} reads, ${fmt.count(s.writes)} writes)` : undefined],
    ['mean time', s.mean_ms !== undefined ? ms(s.mean_ms) : undefined],
    ['slow (over ' + (s.slow_threshold_ms ?? '?') + ' ms)', s.slow !== undefined ? fmt.count(s.slow) : undefined],
    ['database', s.db_bytes !== undefined ? fmt.bytes(s.db_bytes) : undefined],
    ['write-ahead log', s.wal_bytes !== undefined ? fmt.bytes(s.wal_bytes) : undefined],
  ]));
}

function renderSlow(el, d) {
  clear(el);
  if (d.error) { el.append(errorBox(d.error)); return; }
  const sql = (q) => h('code', { class: 'sql', title: q, text: q.length > 110 ? q.slice(0, 110) + '…' : q });
  if (Array.isArray(d.slow) && d.slow.length) {
    el.append(h('h3', { text: `Slow queries (over ${d.threshold_ms} ms): ${fmt.count(d.slow_total ?? d.slow.length)}` }),
      h('table', { class: 'plain' }, h('tbody', {}, d.slow.map((q) => h('tr', {},
        h('td', { text: q.at || q.time || '' }), h('td', { class: 'num', text: ms(q.ms ?? q.duration_ms) }), h('td', {}, sql(q.sql || q.statement || JSON.stringify(q))))))));
  } else el.append(h('p', { class: 'muted', text: `No query took over ${d.threshold_ms ?? '?'} ms.` }));
  if (Array.isArray(d.statements) && d.statements.length) {
    el.append(h('table', { class: 'plain' },
      h('thead', {}, h('tr', {}, ['Statement', 'Kind', 'Count', 'Total', 'Mean', 'p95', 'Max'].map((t) => h('th', { scope: 'col', text: t })))),
      h('tbody', {}, d.statements.slice(0, 15).map((q) => h('tr', {},
        h('td', {}, sql(q.sql)), h('td', { text: q.class || '' }), h('td', { class: 'num', text: fmt.count(q.count) }),
        h('td', { class: 'num', text: ms(q.total_ms) }), h('td', { class: 'num', text: ms(q.mean_ms) }),
        h('td', { class: 'num', text: ms(q.p95_ms) }), h('td', { class: 'num', text: ms(q.max_ms) }))))));
  }
}

function renderAlerts(el, d) {
  clear(el);
  if (d.error) { el.append(errorBox(d.error)); return; }
  const line = (a) => {
    const level = a.level || a.severity || a.state || '';
    return h('li', { class: 'alert ' + level },
      h('span', { class: 'badge ' + (level === 'critical' ? 'failed' : level === 'warning' || level === 'warn' ? 'running' : ''), text: level || 'alert' }), ' ',
      h('strong', { text: a.name || a.alert || a.kind || '' }), ' ',
      a.message || a.note || a.detail || '', ' ',
      h('small', { text: [a.since || a.firing_since, a.resolved_at].filter(Boolean).join(' → ') }));
  };
  const firing = Array.isArray(d.firing) ? d.firing : [];
  el.append(firing.length ? h('ul', { class: 'alerts' }, firing.map(line)) : h('p', { class: 'ok-text', text: 'Nothing is firing.' }));
  if (Array.isArray(d.resolved) && d.resolved.length) el.append(h('h3', { text: 'Resolved' }), h('ul', { class: 'alerts' }, d.resolved.slice(0, 10).map(line)));
  if (d.thresholds) el.append(h('details', {}, h('summary', { text: 'Thresholds' }), jsonView(d.thresholds)));
}

function renderReport(el, d) {
  clear(el);
  if (d.error) { el.append(errorBox(d.error)); return; }
  const recs = Array.isArray(d.recommendations) ? d.recommendations : [];
  const sev = (x) => (x === 'critical' || x === 'high' ? 'failed' : x === 'warning' || x === 'warn' || x === 'medium' ? 'running' : '');
  el.append(recs.length
    ? h('ul', { class: 'advice' }, recs.map((r) => (typeof r === 'string' ? h('li', { text: r }) : h('li', {},
      r.severity ? h('span', { class: 'badge ' + sev(r.severity), text: r.severity }) : null, ' ',
      h('strong', { text: r.title || (r.kind || '').replace(/_/g, ' ') }),
      r.detail ? h('div', { text: r.detail }) : null,
      r.action ? h('div', { class: 'muted', text: 'What to do: ' + r.action }) : null,
      r.evidence ? h('details', {}, h('summary', { text: 'Evidence' }), jsonView(r.evidence)) : null))))
    : h('p', { class: 'ok-text', text: 'No recommendations: nothing to change.' }));
  if (Array.isArray(d.checks)) {
    el.append(h('ul', { class: 'checks' }, d.checks.map((c) => h('li', { class: c.ok ? 'ok' : 'bad' },
      h('span', { 'aria-hidden': 'true', text: c.ok ? '✓ ' : '✗ ' }), h('span', { class: 'sr-only', text: c.ok ? 'passed: ' : 'failed: ' }),
      h('strong', { text: (c.kind || '').replace(/_/g, ' ') + ': ' }), c.note || ''))));
  }
}
