// Independent computations of the dashboard figures of DATA.md ("Dashboard
// figures") in plain JavaScript over the generated CSV files. Nothing here
// calls the server or shares its code: dates are UTC day numbers, money is
// integer cents parsed from the decimal strings, ratios are rounded in
// BigInt. The tests compare these objects with the server's JSON exactly.
import path from 'node:path';
import { readCsv, cents } from './harness.mjs';

// ---- calendar ----

const DAY = 86400000;
export const dayNum = (s) => Math.round(Date.UTC(+s.slice(0, 4), +s.slice(5, 7) - 1, +s.slice(8, 10)) / DAY);
export const dayStr = (n) => new Date(n * DAY).toISOString().slice(0, 10);
export const addDays = (s, k) => dayStr(dayNum(s) + k);

function ymd(n) {
  const d = new Date(n * DAY);
  return [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate()];
}
const fromYmd = (y, m, d) => Math.round(Date.UTC(y, m - 1, d) / DAY);

// First day of the bucket holding day n (ISO weeks start on Monday).
export function bucketStart(n, interval) {
  const [y, m] = ymd(n);
  switch (interval) {
    case 'day': return n;
    case 'week': return n - (((n + 3) % 7) + 7) % 7; // 1970-01-01 was a Thursday
    case 'month': return fromYmd(y, m, 1);
    case 'quarter': return fromYmd(y, m - ((m - 1) % 3), 1);
    case 'year': return fromYmd(y, 1, 1);
    default: throw new Error(`interval ${interval}`);
  }
}

// First day of the bucket after the one holding day n.
export function bucketNext(n, interval) {
  const s = bucketStart(n, interval);
  const [y, m] = ymd(s);
  switch (interval) {
    case 'day': return s + 1;
    case 'week': return s + 7;
    case 'month': return fromYmd(y, m + 1, 1);
    case 'quarter': return fromYmd(y, m + 3, 1);
    case 'year': return fromYmd(y + 1, 1, 1);
    default: throw new Error(`interval ${interval}`);
  }
}

export const INTERVALS = ['day', 'week', 'month', 'quarter', 'year'];

// ---- numbers ----

// num * mul / den rounded half away from zero to `decimals` places, as the
// JSON number the server prints (compared after JSON.parse).
export function ratio(num, mul, den, decimals) {
  let n = BigInt(num) * BigInt(mul);
  let d = BigInt(den);
  if (d < 0n) { n = -n; d = -d; }
  n *= 10n ** BigInt(decimals);
  const neg = n < 0n;
  if (neg) n = -n;
  let q = n / d;
  if ((n % d) * 2n >= d) q += 1n;
  const scale = 10n ** BigInt(decimals);
  const s = `${neg && q !== 0n ? '-' : ''}${q / scale}${decimals ? '.' + String(q % scale).padStart(decimals, '0') : ''}`;
  return Number(s);
}

// Percent change against |prev|, one decimal, null when prev is 0.
export const change = (cur, prev) => (prev === 0 ? null : ratio(cur - prev, 100, Math.abs(prev), 1));

// Bytewise (UTF-8) comparison, as the server sorts keys.
export const byteCmp = (a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));

// ---- the model: the CSV files as typed rows ----

export function loadModel(csvDir) {
  const f = (k) => readCsv(path.join(csvDir, `${k}.csv`));
  const opt = (v) => (v === undefined || v === '' ? null : v);
  const costs = f('costs').map((r) => ({
    id: r.id, date: r.date, day: dayNum(r.date), category: r.category, amount: cents(r.amount),
    vendor: r.vendor ?? '', description: r.description ?? '',
  }));
  const sales = f('sales_orders').map((r) => ({
    id: r.id, date: r.date, day: dayNum(r.date), customer: r.customer, status: r.status, amount: cents(r.amount),
  }));
  const invoices = f('invoices').map((r) => ({
    id: r.id, number: r.number, customer: r.customer, customer_id: r.customer_id ?? '',
    issue_date: r.issue_date, issue: dayNum(r.issue_date), due_date: r.due_date, due: dayNum(r.due_date),
    amount: cents(r.amount), status: r.status || 'open',
  }));
  const payments = f('payments').map((r) => ({
    id: r.id, date: r.date, day: dayNum(r.date), payer: r.payer, amount: cents(r.amount),
    reference: r.reference ?? '', customer_id: r.customer_id ?? '',
  }));
  const leads = f('leads').map((r) => ({
    id: r.id, created_at: r.created_at, created: dayNum(r.created_at.slice(0, 10)), creator: r.creator,
    status: r.status, name: r.name ?? '', mobile: r.mobile ?? '', source: r.source ?? '',
    followup_date: opt(r.followup_date), followup: r.followup_date ? dayNum(r.followup_date) : null,
    value: r.value ? cents(r.value) : null,
  }));
  return { costs, sales, invoices, payments, leads };
}

const inRange = (d, from, to) => d >= from && d <= to;
const sum = (rows) => rows.reduce((a, r) => a + r.amount, 0);

// ---- the views ----

export function cashflow(m, from, to, interval, opening = 0) {
  const F = dayNum(from), T = dayNum(to);
  const buckets = [];
  for (let s = F; s <= T; s = bucketNext(s, interval)) {
    const e = Math.min(bucketNext(s, interval) - 1, T);
    const inflow = sum(m.payments.filter((p) => inRange(p.day, s, e)));
    const outflow = sum(m.costs.filter((c) => inRange(c.day, s, e)));
    // balance(t) over every day up to t, days before `from` included
    const balance = opening + sum(m.payments.filter((p) => p.day <= e)) - sum(m.costs.filter((c) => c.day <= e));
    buckets.push({ start: dayStr(s), end: dayStr(e), inflow, outflow, net: inflow - outflow, balance });
  }
  // generated data is all in the org's currency: nothing apart
  return { from, to, interval, opening_balance: opening, buckets, other_currencies: [] };
}

export function aging(m, asOf) {
  const A = dayNum(asOf);
  const names = ['current', '1_30', '31_60', '61_90', 'over_90'];
  const b = Object.fromEntries(names.map((n) => [n, { count: 0, amount: 0 }]));
  const total = { count: 0, amount: 0 };
  for (const i of m.invoices) {
    // no reconciliation has run: a non-void invoice is owed in full
    if (i.status === 'void' || i.issue > A || i.amount <= 0) continue;
    const late = A - i.due;
    const k = late <= 0 ? 'current' : late <= 30 ? '1_30' : late <= 60 ? '31_60' : late <= 90 ? '61_90' : 'over_90';
    b[k].count++; b[k].amount += i.amount;
    total.count++; total.amount += i.amount;
  }
  return { as_of: asOf, buckets: b, total };
}

export function dso(m, asOf) {
  const A = dayNum(asOf);
  const outstanding = aging(m, asOf).total.amount;
  const invoiced = sum(m.invoices.filter((i) => i.status !== 'void' && inRange(i.issue, A - 89, A)));
  return { as_of: asOf, outstanding, invoiced_90d: invoiced, dso: invoiced === 0 ? null : ratio(outstanding, 90, invoiced, 1) };
}

const openLead = (l) => l.status !== 'won' && l.status !== 'lost';

function period(m, F, T) {
  const cash_in = sum(m.payments.filter((p) => inRange(p.day, F, T)));
  const cash_out = sum(m.costs.filter((c) => inRange(c.day, F, T)));
  const s = m.sales.filter((o) => inRange(o.day, F, T) && o.status !== 'cancelled');
  return { cash_in, cash_out, net: cash_in - cash_out, sales: sum(s), sales_count: s.length };
}

export function overview(m, from, to, { asOf = to, date = to, opening = 0 } = {}) {
  const F = dayNum(from), T = dayNum(to), len = T - F + 1;
  const cur = period(m, F, T), prev = period(m, F - len, F - 1);
  const ag = aging(m, asOf);
  const D = dayNum(date);
  const closing = opening + sum(m.payments.filter((p) => p.day <= T)) - sum(m.costs.filter((c) => c.day <= T));
  return {
    from, to,
    cash_in: cur.cash_in, cash_out: cur.cash_out, net: cur.net,
    opening_balance: opening, closing_balance: closing,
    sales: cur.sales, sales_count: cur.sales_count,
    outstanding: ag.total.amount, overdue: ag.total.amount - ag.buckets.current.amount, open_invoices: ag.total.count,
    open_leads: m.leads.filter(openLead).length,
    followups_due: m.leads.filter((l) => openLead(l) && l.followup === D).length,
    previous: { from: dayStr(F - len), to: dayStr(F - 1), cash_in: prev.cash_in, cash_out: prev.cash_out, net: prev.net, sales: prev.sales },
    change: {
      cash_in: change(cur.cash_in, prev.cash_in), cash_out: change(cur.cash_out, prev.cash_out),
      net: change(cur.net, prev.net), sales: change(cur.sales, prev.sales),
    },
    other_currencies: [],
  };
}

function groupSorted(rows, key) {
  const g = new Map();
  for (const r of rows) {
    const k = key(r);
    const e = g.get(k) || { key: k, count: 0, amount: 0 };
    e.count++; e.amount += r.amount;
    g.set(k, e);
  }
  return [...g.values()].sort((a, b) => (a.amount !== b.amount ? b.amount - a.amount : byteCmp(a.key, b.key)));
}

export function breakdown(m, of, by, from, to, top = 10) {
  const F = dayNum(from), T = dayNum(to);
  let rows;
  if (of === 'costs') rows = m.costs.filter((c) => inRange(c.day, F, T));
  else rows = m.sales.filter((o) => inRange(o.day, F, T) && (by === 'status' || o.status !== 'cancelled'));
  const g = groupSorted(rows, (r) => r[by]);
  const rest = g.slice(top);
  return {
    of, by, from, to,
    total: { count: rows.length, amount: sum(rows) },
    items: g.slice(0, top),
    other: { count: rest.reduce((a, e) => a + e.count, 0), amount: rest.reduce((a, e) => a + e.amount, 0) },
  };
}

export function topCustomers(m, from, to, top = 10) {
  const F = dayNum(from), T = dayNum(to);
  const g = groupSorted(m.sales.filter((o) => inRange(o.day, F, T) && o.status !== 'cancelled'), (r) => r.customer);
  return { from, to, items: g.slice(0, top).map((e) => ({ customer: e.key, amount: e.amount, count: e.count })) };
}

export const LEAD_STATUSES = ['new', 'contacted', 'qualified', 'proposal', 'won', 'lost'];

export function leadsSummary(m, from, to, date = to) {
  const F = dayNum(from), T = dayNum(to), D = dayNum(date);
  const per = new Map();
  const get = (c) => {
    if (!per.has(c)) per.set(c, { creator: c, created: 0, by_status: Object.fromEntries(LEAD_STATUSES.map((s) => [s, 0])), followups_due: 0, overdue_followups: 0 });
    return per.get(c);
  };
  for (const l of m.leads) {
    if (inRange(l.created, F, T)) { const e = get(l.creator); e.created++; e.by_status[l.status]++; }
  }
  for (const l of m.leads) {
    if (!openLead(l) || l.followup === null) continue;
    if (l.followup === D) get(l.creator).followups_due++;
    else if (l.followup < D) get(l.creator).overdue_followups++;
  }
  const creators = [...per.values()].sort((a, b) => byteCmp(a.creator, b.creator));
  return { date, creators };
}

// The dashboard object for the same parameters.
export function dashboard(m, from, to, { interval = 'month', asOf = to, date = to, top = 10 } = {}) {
  return {
    overview: overview(m, from, to, { asOf, date }),
    cashflow: cashflow(m, from, to, interval),
    costs_by_category: breakdown(m, 'costs', 'category', from, to, top),
    sales_by_status: breakdown(m, 'sales', 'status', from, to, top),
    aging: aging(m, asOf),
    top_customers: topCustomers(m, from, to, top),
    dso: dso(m, asOf),
  };
}
