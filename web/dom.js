// Tiny DOM helpers: h() builds elements, nothing is ever parsed from HTML
// strings (the page's Content-Security-Policy would refuse inline styles,
// and text from the server must never become markup).

// h('div', {class: 'x', onclick: fn, 'aria-label': 'y'}, child, 'text', [more])
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k in el && !k.includes('-') && typeof v !== 'string') el[k] = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

export function debounce(fn, ms) {
  let t = 0;
  const d = (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
  d.cancel = () => clearTimeout(t);
  return d;
}

// A titled card; body is where content goes.
export function card(title, opts = {}) {
  const body = h('div', { class: 'card-body' });
  const head = h('div', { class: 'card-head' }, h('h2', { text: title, id: opts.id ? opts.id + '-title' : undefined }), opts.extra);
  const el = h('section', { class: 'card ' + (opts.class || ''), id: opts.id, 'aria-labelledby': opts.id ? opts.id + '-title' : undefined }, head, body);
  return { el, body, head };
}

export function skeleton(cls = '') {
  return h('div', { class: 'skeleton ' + cls, 'aria-hidden': 'true' });
}

// A message in plain words, with an optional retry.
export function errorBox(err, retry) {
  return h('div', { class: 'error', role: 'alert' },
    h('p', { text: describe(err) }),
    retry ? h('button', { type: 'button', class: 'btn', onclick: retry, text: 'Try again' }) : null);
}

export function describe(err) {
  if (!err) return 'Something went wrong.';
  if (err.name === 'ApiError') return err.message;
  if (err.name === 'TypeError') return 'The server did not answer. Is brisk still running?';
  return err.message || String(err);
}

// Disables controls the signed-in user's role may not use, with the reason
// (api.refusal) as their tooltip and description; nothing when reason is ''.
// A form or fieldset given here disables every control inside it.
export function forbid(reason, ...els) {
  if (!reason) return;
  for (const el of els.flat()) {
    if (!el) continue;
    const all = el.elements ? [...el.elements] : [el];
    for (const c of all) {
      c.disabled = true;
      c.title = reason;
      c.dataset.forbidden = '1';
    }
  }
}

// Visually hidden but read by screen readers.
export function srOnly(...children) {
  return h('div', { class: 'sr-only' }, ...children);
}

// Any JSON as nested definition lists: for answers whose shape belongs to
// another part of brisk (explanations, statistics), shown as they come.
export function jsonView(v) {
  if (v === null || typeof v !== 'object') return h('span', { text: v === null ? '—' : String(v) });
  if (Array.isArray(v)) return h('ol', { class: 'json-list' }, v.map((x) => h('li', {}, jsonView(x))));
  return h('dl', { class: 'json' }, Object.entries(v).map(([k, x]) => [h('dt', { text: k.replace(/_/g, ' ') }), h('dd', {}, jsonView(x))]));
}
