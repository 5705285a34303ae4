// The API client: bearer token or signed-in session (cookie + CSRF token), ETag reuse, errors in plain words, and the
// detection of endpoints that other parts of brisk add later (a 404 or 405
// means "not there yet": the UI then shows nothing for it, never a stand-in).

const TOKEN_KEY = 'brisk.token';

export class ApiError extends Error {
  constructor(status, message, problem) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem || null;
  }
}

export function getToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}
export function setToken(t) {
  sessionStorage.setItem(TOKEN_KEY, t.trim());
}
export function clearToken() {
  sessionStorage.removeItem(TOKEN_KEY);
  who = null;
  etags.clear();
  probes.clear();
  prefetched.clear();
}

// Who is signed in: {user, org, role, scope, via, csrf} from GET
// /api/v1/session (a token's owner, or the session the cookie holds; the
// cookie itself is HttpOnly and never seen here).
let who = null;
const RANK = { viewer: 1, analyst: 2, admin: 3, operator: 4 };
export function whoami() { return who; }
export function signedIn() { return !!(getToken() || who); }
// May the signed-in user do what needs `role` (a change: also a token of scope write)?
export function can(role, change = true) {
  if (!who) return true; // not known yet: the server decides
  return (RANK[who.role] || 0) >= RANK[role] && (!change || who.scope === 'write');
}
// Why the signed-in user may not make a change that needs `role`, in plain
// words for a disabled control's tooltip; '' when they may (or when who is
// signed in is not known yet: the server decides then).
export function refusal(role) {
  if (can(role)) return '';
  if ((RANK[who.role] || 0) >= RANK[role]) return 'Your token is read only: it cannot change anything.';
  const needs = role === 'analyst' ? 'an analyst or an admin' : `an ${role}`;
  return `Your role (${who.role}) cannot do this: ask ${needs}.`;
}
// Asks the server who we are: true when signed in (by token or cookie).
export async function loadSession() {
  const headers = authHeaders({ Accept: 'application/json' });
  const res = await fetch('/api/v1/session', { headers, cache: 'no-store' });
  if (!res.ok) { who = null; return false; }
  who = (await res.json()).data;
  return true;
}
export async function signIn(user, password) {
  const res = await fetch('/api/v1/session', {
    method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ user, password }), cache: 'no-store' });
  if (!res.ok) throw await toError(res);
  sessionStorage.removeItem(TOKEN_KEY);
  who = (await res.json()).data;
  return who;
}
export async function signOut() {
  if (who && who.via === 'session') {
    await fetch('/api/v1/session', { method: 'DELETE', headers: writeHeaders(), cache: 'no-store' }).catch(() => {});
  }
  clearToken();
}

// A write of a signed-in browser proves it comes from this page.
function writeHeaders(extra = {}) {
  const hs = authHeaders(extra);
  if (who && who.csrf && !getToken()) hs['X-CSRF-Token'] = who.csrf;
  return hs;
}

let onUnauthorized = () => {};
export function setUnauthorizedHandler(fn) { onUnauthorized = fn; }

function authHeaders(extra = {}) {
  const t = getToken();
  return t ? { ...extra, Authorization: 'Bearer ' + t } : extra;
}

// problem+json -> ApiError with its detail, else a sentence about the status.
async function toError(res) {
  let problem = null;
  try {
    const type = res.headers.get('content-type') || '';
    if (type.includes('json')) problem = await res.json();
  } catch { /* not JSON */ }
  return errorFor(res.status, problem);
}

export function errorFor(status, problem) {
  let msg = problem && (problem.detail || problem.title);
  if (!msg) {
    msg = status === 401 ? 'Your token was not accepted. Sign in again.'
      : status === 403 ? 'Your role does not allow that.'
      : status === 404 ? 'Not found.'
      : status === 413 ? 'The file is too large for the server.'
      : status === 429 ? 'Too many requests: wait a moment and try again.'
      : status >= 500 ? `The server failed (HTTP ${status}). Try again in a moment.`
      : `The request failed (HTTP ${status}).`;
  } else {
    msg = msg.charAt(0).toUpperCase() + msg.slice(1);
    if (!/[.!?]$/.test(msg)) msg += '.';
  }
  return new ApiError(status, msg, problem);
}

// Responses of views, reused when the server answers 304 (its ETag embeds
// the data versions, so a 304 is exact, not a guess). Bounded.
const etags = new Map();
const ETAG_MAX = 64;

// GET a JSON resource. With {revalidate: true} the last answer for the
// same URL is offered with If-None-Match and reused on 304; the result then
// carries .notModified so callers can skip redrawing.
export async function get(path, { signal, revalidate = false } = {}) {
  const early = prefetched.get(path);
  if (early) {
    prefetched.delete(path);
    // A refusal seen before the app was listening is reported now.
    return early.catch((err) => {
      if (err.status === 401) onUnauthorized(err);
      throw err;
    });
  }
  const cached = revalidate ? etags.get(path) : null;
  const headers = authHeaders({ Accept: 'application/json' });
  if (cached) headers['If-None-Match'] = cached.etag;
  const res = await fetch(path, { headers, signal, cache: 'no-store' });
  if (res.status === 304 && cached) {
    etags.delete(path); // LRU: move to the end
    etags.set(path, cached);
    return { body: cached.body, notModified: true };
  }
  if (!res.ok) {
    const err = await toError(res);
    if (res.status === 401) onUnauthorized(err);
    throw err;
  }
  const body = await res.json();
  if (body && body.org !== undefined) onEnvelope(body);
  const etag = res.headers.get('etag');
  if (revalidate && etag) {
    etags.delete(path);
    etags.set(path, { etag, body });
    if (etags.size > ETAG_MAX) etags.delete(etags.keys().next().value);
  }
  return { body, notModified: false };
}

// Starts a GET before the page that needs it has loaded (the boot module
// asks for the Overview's data while the rest of the code still compiles);
// the page's own get() of the same path then takes that answer, once.
const prefetched = new Map();
export function prefetch(path) {
  const p = get(path, { revalidate: true }).catch((err) => {
    if (err.status === 401) clearToken();
    throw err;
  });
  p.catch(() => prefetched.delete(path));
  prefetched.set(path, p);
}

// Every envelope names the org and its currency (for the header).
let onEnvelope = () => {};
export function setEnvelopeHandler(fn) { onEnvelope = fn; }

export async function getJSON(path, opts) {
  return (await get(path, opts)).body;
}

export async function send(method, path, body, { signal } = {}) {
  const headers = writeHeaders({ Accept: 'application/json' });
  let payload;
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const res = await fetch(path, { method, headers, body: payload, signal, cache: 'no-store' });
  if (!res.ok) {
    const err = await toError(res);
    if (res.status === 401) onUnauthorized(err);
    throw err;
  }
  const text = await res.text();
  return text ? JSON.parse(text) : null;
}

export async function getText(path, { signal, auth = false } = {}) {
  const res = await fetch(path, { headers: auth ? authHeaders() : {}, signal, cache: 'no-store' });
  if (!res.ok) throw await toError(res);
  return res.text();
}

// Does the server have this endpoint? Resolves to the parsed answer of a GET
// when it does, or null when the server says 404/405 (not built yet). The
// result is remembered for the page's life, so a missing endpoint is asked
// about once.
const probes = new Map();
export function probe(path) {
  if (!probes.has(path)) {
    const p = get(path).then((r) => r.body, (err) => {
      if (err.name === 'ApiError' && (err.status === 404 || err.status === 405)) return null;
      probes.delete(path); // a passing failure: ask again next time
      throw err;
    });
    probes.set(path, p);
  }
  return probes.get(path);
}
// Forget an answer so the next probe asks again (after a confirm, etc.).
export function forgetProbe(path) { probes.delete(path); }

// POST a file with upload progress (fetch cannot report it). onProgress
// gets (sentBytes, totalBytes); resolves to {status, body}.
export function upload(path, file, { onProgress, onUploaded, contentType = 'text/csv' } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', path);
    for (const [k, v] of Object.entries(writeHeaders())) xhr.setRequestHeader(k, v);
    xhr.setRequestHeader('Content-Type', contentType);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.responseType = 'text';
    xhr.upload.onprogress = (e) => onProgress && onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.upload.onload = () => onUploaded && onUploaded();
    xhr.onerror = () => reject(new TypeError('network'));
    xhr.onabort = () => reject(new DOMException('aborted', 'AbortError'));
    xhr.onload = () => {
      let body = null;
      try { body = xhr.responseText ? JSON.parse(xhr.responseText) : null; } catch { /* not JSON */ }
      if (xhr.status >= 200 && xhr.status < 300) resolve({ status: xhr.status, body });
      else {
        const err = errorFor(xhr.status, body);
        if (xhr.status === 401) onUnauthorized(err);
        // a 422 from an import still carries its report
        err.body = body;
        reject(err);
      }
    };
    xhr.send(file);
  });
}

// Query string from an object, skipping empty values (but a data set's
// filter on the blank value, f.<dimension>=, is sent).
export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && (v !== '' || k.startsWith('f.'))) u.set(k, v);
  const s = u.toString();
  return s ? '?' + s : '';
}
