// Performance: route latency percentiles computed here from the server's
// /metrics histograms (since start, and over the last refresh interval),
// every other series it exports, and, once the server has them, its own
// performance report, alerts and cache statistics.

import { h, clear, errorBox, jsonView } from './dom.js';
import * as api from './api.js';
import * as fmt from './format.js';
import * as metrics from './metrics.js';

const LATENCY = 'brisk_http_request_duration_seconds';
const REFRESH_MS = 5000;
const OPTIONAL = [
  ['/api/v1/performance', 'Server report'],
  ['/api/v1/alerts', 'Alerts'],
  ['/api/v1/cache/stats', 'Cache'],
];

export default {
  title: 'Performance',
  mount(main) {
    const heading = h('h1', { class: 'page-title', tabindex: -1, text: 'Performance' });
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
    const extras = h('div', { class: 'grid' });
    const otherBody = h('div', { class: 'table-scroll' });
    const other = h('details', { class: 'card', id: 'perf-other' }, h('summary', {}, h('h2', { class: 'inline', text: 'All other series' })), otherBody);
    main.append(heading, lat, extras, other);

    let prev = null, current = null, recent = null, timer = 0, stopped = false;

    async function load() {
      clearTimeout(timer);
      try {
        const text = await api.getText('/metrics');
        const parsed = metrics.parse(text);
        const hist = metrics.histograms(parsed, LATENCY, 'route');
        if (current) recent = metrics.diff(hist, current);
        prev = current;
        current = hist;
        renderLatency();
        renderOther(parsed);
        updated.textContent = 'Updated ' + new Date().toLocaleTimeString();
        lat.dataset.loaded = '1';
      } catch (err) {
        clear(latBody).append(errorBox(err, load));
      }
      loadOptional();
      if (auto.checked && !stopped) timer = setTimeout(load, REFRESH_MS);
    }

    function renderLatency() {
      const src = windowSel.value === 'recent' && recent ? recent : current;
      const rows = Object.entries(src || {}).filter(([, x]) => x.count > 0).sort((a, b) => b[1].count - a[1].count);
      clear(latBody);
      if (windowSel.value === 'recent' && !recent) { latBody.append(h('p', { class: 'muted', text: 'Waiting for a second reading…' })); return; }
      if (!rows.length) { latBody.append(h('p', { class: 'muted', text: 'No requests in this window.' })); return; }
      latBody.append(h('table', { class: 'plain' },
        h('thead', {}, h('tr', {}, ['Route', 'Requests', 'Errors', 'p50', 'p95', 'p99', 'Mean'].map((t) => h('th', { scope: 'col', text: t })))),
        h('tbody', {}, rows.map(([route, x]) => h('tr', { dataset: { route } },
          h('th', { scope: 'row', text: route }),
          h('td', { class: 'num', text: fmt.count(x.count) }),
          h('td', { class: 'num' + (x.errors ? ' bad' : ''), text: fmt.count(x.errors) }),
          ...[0.5, 0.95, 0.99].map((q) => h('td', { class: 'num', text: fmt.seconds(metrics.quantile(q, x.buckets)) })),
          h('td', { class: 'num', text: fmt.seconds(x.count ? x.sum / x.count : NaN) }))))));
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

    const optionalCards = {};
    async function loadOptional() {
      for (const [path, title] of OPTIONAL) {
        let env;
        try {
          env = await api.probe(path);
          if (env && optionalCards[path]) { api.forgetProbe(path); env = await api.probe(path); }
        } catch (err) {
          env = undefined;
          if (optionalCards[path]) clear(optionalCards[path].body).append(errorBox(err));
          continue;
        }
        if (!env) continue; // not on this server (yet)
        if (!optionalCards[path]) {
          const body = h('div');
          const el = h('section', { class: 'card', dataset: { endpoint: path } }, h('div', { class: 'card-head' }, h('h2', { text: title })), body);
          extras.append(el);
          optionalCards[path] = { el, body };
        }
        clear(optionalCards[path].body).append(jsonView(env.data ?? env));
      }
    }

    windowSel.addEventListener('change', renderLatency);
    auto.addEventListener('change', () => { if (auto.checked) load(); else clearTimeout(timer); });
    load();
    return {
      update() {},
      refresh: load,
      unmount() { stopped = true; clearTimeout(timer); },
    };
  },
};
