// Prometheus text exposition -> samples, and latency percentiles from
// histogram buckets (the same linear interpolation as histogram_quantile).

// -> {types: {name: type}, help: {name: text}, samples: [{name, labels, value}]}
export function parse(text) {
  const types = {}, help = {}, samples = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    if (line[0] === '#') {
      const m = /^# (TYPE|HELP) (\S+) (.*)$/.exec(line);
      if (m) (m[1] === 'TYPE' ? types : help)[m[2]] = m[3];
      continue;
    }
    const s = sample(line);
    if (s) samples.push(s);
  }
  return { types, help, samples };
}

function sample(line) {
  let i = 0;
  while (i < line.length && line[i] !== '{' && line[i] !== ' ') i++;
  const name = line.slice(0, i);
  const labels = {};
  if (line[i] === '{') {
    i++;
    while (i < line.length && line[i] !== '}') {
      const eq = line.indexOf('=', i);
      if (eq < 0) return null;
      const key = line.slice(i, eq).trim().replace(/^,/, '').trim();
      i = eq + 1;
      if (line[i] !== '"') return null;
      i++;
      let v = '';
      while (i < line.length && line[i] !== '"') {
        if (line[i] === '\\' && i + 1 < line.length) {
          const c = line[i + 1];
          v += c === 'n' ? '\n' : c;
          i += 2;
        } else v += line[i++];
      }
      i++;
      labels[key] = v;
      if (line[i] === ',') i++;
    }
    i++;
  }
  const rest = line.slice(i).trim().split(/\s+/);
  const value = rest[0] === '+Inf' ? Infinity : rest[0] === '-Inf' ? -Infinity : Number(rest[0]);
  if (!name || Number.isNaN(value) && rest[0] !== 'NaN') return null;
  return { name, labels, value };
}

// Histograms of `base` grouped by one label (summed over the others):
// {group: {buckets: [[le, cumulative]...] sorted, count, sum, errors}}
export function histograms(parsed, base, groupBy, { errorLabel = 'code' } = {}) {
  const out = {};
  const get = (g) => (out[g] ||= { les: new Map(), count: 0, sum: 0, errors: 0 });
  for (const s of parsed.samples) {
    if (!s.name.startsWith(base)) continue;
    const g = s.labels[groupBy] ?? '';
    const suffix = s.name.slice(base.length);
    if (suffix === '_bucket') {
      const le = s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
      const h = get(g);
      h.les.set(le, (h.les.get(le) || 0) + s.value);
    } else if (suffix === '_count') {
      const h = get(g);
      h.count += s.value;
      const code = Number(s.labels[errorLabel]);
      if (code >= 400) h.errors += s.value;
    } else if (suffix === '_sum') get(g).sum += s.value;
  }
  for (const h of Object.values(out)) {
    h.buckets = [...h.les.entries()].sort((a, b) => a[0] - b[0]);
    delete h.les;
  }
  return out;
}

// b minus a (a = an earlier scrape): the recent window.
export function diff(b, a) {
  const out = {};
  for (const [g, hb] of Object.entries(b)) {
    const ha = a && a[g];
    if (!ha) { out[g] = hb; continue; }
    const prev = new Map(ha.buckets);
    out[g] = {
      buckets: hb.buckets.map(([le, c]) => [le, c - (prev.get(le) || 0)]),
      count: hb.count - ha.count, sum: hb.sum - ha.sum, errors: hb.errors - ha.errors,
    };
  }
  return out;
}

export function quantile(q, buckets) {
  if (!buckets.length) return NaN;
  const total = buckets[buckets.length - 1][1];
  if (!(total > 0)) return NaN;
  const rank = q * total;
  let prevLe = 0, prevC = 0;
  for (const [le, c] of buckets) {
    if (c >= rank) {
      if (le === Infinity) return prevLe;
      if (c === prevC) return le;
      return prevLe + (le - prevLe) * ((rank - prevC) / (c - prevC));
    }
    prevLe = le;
    prevC = c;
  }
  return prevLe;
}
