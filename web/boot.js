// Runs first, before the rest of the code has compiled: takes the token
// from a `brisk demo` link, and asks for the Overview's data right away, so
// the answer is there when the page is ready to draw it.

import * as api from './api.js';
import * as state from './state.js';

// A link from `brisk demo` carries the token in the fragment (never sent to
// the server): keep it for this tab only and take it out of the address bar.
export function takeTokenFromFragment() {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (!m) return;
  api.setToken(decodeURIComponent(m[1]));
  history.replaceState(null, '', location.pathname + location.search);
}

takeTokenFromFragment();
if (api.getToken() && state.current().page === 'overview') api.prefetch(state.dashboardPath());
