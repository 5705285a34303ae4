// Formatting for people. Money arrives as integer cents and is turned into
// an exact decimal string before Intl formats it: no float arithmetic on
// amounts, ever (a float is used only to place a point on a chart).

let currency = 'USD';
let full = null, compact = null;
const locale = undefined; // the reader's own

export function setCurrency(c) {
  if (c && c !== currency) { currency = c; full = compact = null; }
}
export function getCurrency() { return currency; }

// 123456 -> "1234.56", -5 -> "-0.05" (exact for any safe integer)
export function centsToDecimal(cents) {
  const neg = cents < 0;
  const s = String(Math.abs(cents)).padStart(3, '0');
  return (neg ? '-' : '') + s.slice(0, -2) + '.' + s.slice(-2);
}

export function money(cents) {
  if (cents === null || cents === undefined) return '—';
  if (!full) full = new Intl.NumberFormat(locale, { style: 'currency', currency });
  // Intl formats a decimal string exactly (ECMA-402 v3).
  return full.format(centsToDecimal(cents));
}

// "$1.2M" for chart axes and tight spots; display only.
export function moneyCompact(cents) {
  if (cents === null || cents === undefined) return '—';
  if (!compact) compact = new Intl.NumberFormat(locale, { style: 'currency', currency, notation: 'compact', maximumFractionDigits: 1 });
  return compact.format(centsToDecimal(Math.round(cents)));
}

const intFmt = new Intl.NumberFormat(locale);
export function count(n) {
  return n === null || n === undefined ? '—' : intFmt.format(n);
}

export function percent(p) {
  if (p === null || p === undefined) return 'n/a';
  return (p > 0 ? '+' : '') + p.toFixed(1) + '%';
}

const dateFmt = new Intl.DateTimeFormat(locale, { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
// "2025-11-23" -> "23 Nov 2025"
export function date(iso) {
  if (!iso) return '—';
  const t = Date.parse(iso.slice(0, 10) + 'T00:00:00Z');
  return Number.isNaN(t) ? iso : dateFmt.format(t);
}

export function dateRange(a, b) {
  return `${date(a)} – ${date(b)}`;
}

export function seconds(s) {
  if (s === null || s === undefined || Number.isNaN(s)) return '—';
  if (s < 0.001) return (s * 1e6).toFixed(0) + ' µs';
  if (s < 1) return (s * 1000).toFixed(s < 0.01 ? 2 : 1) + ' ms';
  return s.toFixed(2) + ' s';
}

export function bytes(n) {
  if (n === null || n === undefined) return '—';
  const u = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : String(n)) + ' ' + u[i];
}

// ISO date helpers on "YYYY-MM-DD" strings, in UTC.
export function isoAddDays(iso, days) {
  const t = Date.parse(iso + 'T00:00:00Z') + days * 86400000;
  return new Date(t).toISOString().slice(0, 10);
}
export function isoValid(iso) {
  return /^\d{4}-\d{2}-\d{2}$/.test(iso) && !Number.isNaN(Date.parse(iso + 'T00:00:00Z'));
}
export function isoToday() {
  const d = new Date();
  return new Date(Date.UTC(d.getFullYear(), d.getMonth(), d.getDate())).toISOString().slice(0, 10);
}
