// Live refresh: GET /api/v1/events (server-sent events) once the server has
// it. EventSource cannot send the bearer token, so the stream is read with
// fetch (a signed-in browser's cookie goes along by itself). A "data" event means figures changed: the page refreshes, and the
// ETags make that a 304 wherever nothing it shows changed. A server
// without the endpoint (404/405) is left alone.

import { getToken } from './api.js';

const PATH = '/api/v1/events';

export function start(onEvent) {
  let stopped = false, lastId = '', delay = 1000, ctl = null;

  async function connect() {
    if (stopped) return;
    ctl = new AbortController();
    const headers = { Accept: 'text/event-stream' };
    if (getToken()) headers.Authorization = 'Bearer ' + getToken();
    if (lastId) headers['Last-Event-ID'] = lastId;
    let res;
    try {
      res = await fetch(PATH, { headers, signal: ctl.signal, cache: 'no-store' });
    } catch {
      return retry();
    }
    if (res.status === 404 || res.status === 405 || res.status === 401) return; // not there, or signed out
    if (!res.ok || !res.body) return retry();
    delay = 1000;
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buf = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value.replace(/\r\n?/g, '\n');
        let cut;
        while ((cut = buf.indexOf('\n\n')) >= 0) {
          dispatch(buf.slice(0, cut));
          buf = buf.slice(cut + 2);
        }
      }
    } catch { /* dropped */ }
    retry();
  }

  function dispatch(block) {
    let type = 'message', data = '';
    for (const line of block.split('\n')) {
      if (!line || line[0] === ':') continue;
      const i = line.indexOf(':');
      const field = i < 0 ? line : line.slice(0, i);
      const val = i < 0 ? '' : line.slice(i + 1).replace(/^ /, '');
      if (field === 'event') type = val;
      else if (field === 'data') data += (data ? '\n' : '') + val;
      else if (field === 'id') lastId = val;
      else if (field === 'retry' && /^\d+$/.test(val)) delay = Number(val);
    }
    let payload = data;
    try { payload = JSON.parse(data); } catch { /* plain text */ }
    if (payload && typeof payload === 'object' && payload.type && type === 'message') type = payload.type;
    onEvent(type, payload);
  }

  function retry() {
    if (stopped) return;
    setTimeout(connect, delay);
    delay = Math.min(delay * 2, 30000);
  }

  connect();
  return () => { stopped = true; if (ctl) ctl.abort(); };
}
