// Formatting for people. Money arrives as integer cents and is turned into
// an exact decimal string before Intl formats it: no float arithmetic on
// amounts, ever (a float is used only to place a point on a chart).

let currency = 'USD';
let minor = 2; // the org's currency's decimals (the envelope's minor_units)
let full = null, compact = null;
const others = new Map(); // formatters of other currencies (rows in a foreign one)
const locale = undefined; // the reader's own

// ISO 4217 currencies whose minor units are not 2 (as in src/core/currency.c).
const MINOR = {
  BIF: 0, CLP: 0, DJF: 0, GNF: 0, ISK: 0, JPY: 0, KMF: 0, KRW: 0, PYG: 0, RWF: 0, UGX: 0, UYI: 0, VND: 0,
  VUV: 0, XAF: 0, XOF: 0, XPF: 0, BHD: 3, IQD: 3, JOD: 3, KWD: 3, LYD: 3, OMR: 3, TND: 3, CLF: 4, UYW: 4,
};
export function minorOf(code) { return code in MINOR ? MINOR[code] : 2; }

export function setCurrency(c, m) {
  const mm = Number.isInteger(m) ? m : minorOf(c);
  if (c && (c !== currency || mm !== minor)) { currency = c; minor = mm; full = compact = null; }
}
export function getCurrency() { return currency; }
// Minor units per major unit of the org's currency: 100 for USD, 1 for JPY.
export function unit() { return 10 ** minor; }

// 123456 -> "1234.56", -5 -> "-0.05" (exact for any safe integer); with
// d decimals: 1500 -> "1500" (JPY), 1250 -> "1.250" (KWD)
export function centsToDecimal(cents, d = minor) {
  const neg = cents < 0;
  const s = String(Math.abs(cents)).padStart(d + 1, '0');
  return (neg ? '-' : '') + (d ? s.slice(0, -d) + '.' + s.slice(-d) : s);
}

// Amounts are minor units of the org's currency, or of `code` when a row
// names another one.
export function money(cents, code) {
  if (cents === null || cents === undefined) return '—';
  if (code && code !== currency) {
    let f = others.get(code);
    if (!f) {
      const d = minorOf(code);
      try {
        f = new Intl.NumberFormat(locale, { style: 'currency', currency: code, minimumFractionDigits: d, maximumFractionDigits: d });
      } catch { f = { format: (x) => `${code} ${x}` }; }
      others.set(code, f);
    }
    return f.format(centsToDecimal(cents, minorOf(code)));
  }
  if (!full) full = new Intl.NumberFormat(locale, { style: 'currency', currency, minimumFractionDigits: minor, maximumFractionDigits: minor });
  // Intl formats a decimal string exactly (ECMA-402 v3).
  return full.format(centsToDecimal(cents));
}

// A measure's integer value scaled by 10^scale (decimals of a data set) as
// a number for people: 12345, 2 -> "123.45", grouped as the reader's locale
// does; exact (the decimal string is formatted, never a float).
const scaledFmts = new Map();
export function scaled(v, scale) {
  if (v === null || v === undefined) return '—';
  let f = scaledFmts.get(scale);
  if (!f) scaledFmts.set(scale, f = new Intl.NumberFormat(locale, { minimumFractionDigits: scale, maximumFractionDigits: scale }));
  return f.format(centsToDecimal(v, scale));
}

// A decimal string as the server writes it ("-123.4567") for people, with
// all its decimals; anything else is shown as it came.
const decFmts = new Map();
export function decimalText(s) {
  if (s === null || s === undefined) return '—';
  const m = /^-?\d+(?:\.(\d+))?$/.exec(String(s));
  if (!m) return String(s);
  const d = m[1] ? m[1].length : 0;
  let f = decFmts.get(d);
  if (!f) decFmts.set(d, f = new Intl.NumberFormat(locale, { minimumFractionDigits: d, maximumFractionDigits: d }));
  return f.format(String(s));
}

// An amount of the org's currency written as a decimal string of major
// units ("123.4567", an average), with all its decimals.
const moneyDecFmts = new Map();
export function moneyDecimal(s) {
  const m = /^-?\d+(?:\.(\d+))?$/.exec(String(s ?? ''));
  if (!m) return s === null || s === undefined ? '—' : String(s);
  const d = Math.max(m[1] ? m[1].length : 0, minor);
  const k = currency + d;
  let f = moneyDecFmts.get(k);
  if (!f) moneyDecFmts.set(k, f = new Intl.NumberFormat(locale, { style: 'currency', currency, minimumFractionDigits: d, maximumFractionDigits: d }));
  return f.format(String(s));
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
