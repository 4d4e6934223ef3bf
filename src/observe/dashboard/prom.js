// Reading Prometheus text in the browser (browser module, served as-is by GET /dashboard/prom.js):
// parse a scrape, sum samples by label, and take rates and histogram quantiles between two scrapes
// the way PromQL's rate() and histogram_quantile() do. A scrape is { t: ms, metrics: parseProm(text) }.

/** name -> [{ labels, value }] */
export function parseProm(text) {
  const out = new Map();
  for (const line of text.split("\n")) {
    if (line === "" || line[0] === "#") continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels = {};
    if (m[3]) for (const l of m[3].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2].replace(/\\(.)/g, (_, c) => (c === "n" ? "\n" : c));
    const value = m[4] === "+Inf" ? Infinity : Number(m[4]);
    if (!out.has(m[1])) out.set(m[1], []);
    out.get(m[1]).push({ labels, value });
  }
  return out;
}

export const matches = (labels, filter) => !filter || Object.entries(filter).every(([k, v]) => labels[k] === v);
export const has = (s, name) => s.metrics.has(name);
export function total(s, name, filter) {
  let sum = 0;
  for (const x of s.metrics.get(name) ?? []) if (matches(x.labels, filter)) sum += x.value;
  return sum;
}
export function byLabel(s, name, label, filter) {
  const out = new Map();
  for (const x of s.metrics.get(name) ?? []) if (matches(x.labels, filter)) out.set(x.labels[label], (out.get(x.labels[label]) ?? 0) + x.value);
  return out;
}

export function rate(cur, prev, name, filter) {
  if (!prev || !has(cur, name)) return null;
  return Math.max(0, total(cur, name, filter) - total(prev, name, filter)) / ((cur.t - prev.t) / 1000);
}
export function rateBy(cur, prev, name, label, filter) {
  if (!prev || !has(cur, name)) return null;
  const a = byLabel(cur, name, label, filter), b = byLabel(prev, name, label, filter), dt = (cur.t - prev.t) / 1000;
  const out = {};
  for (const [k, v] of a) out[k] = Math.max(0, v - (b.get(k) ?? 0)) / dt;
  return out;
}
export const ratio = (a, b) => (a === null || b === null || b <= 0 ? null : a / b);
/** histogram_quantile over the increase of the buckets between two scrapes (linear in a bucket). */
export function quantile(cur, prev, name, q, filter) {
  if (!prev || !has(cur, `${name}_bucket`)) return null;
  const buckets = (s) => { const m = new Map(); for (const x of s.metrics.get(`${name}_bucket`) ?? []) if (matches(x.labels, filter)) m.set(x.labels.le, (m.get(x.labels.le) ?? 0) + x.value); return m; };
  const a = buckets(cur), b = buckets(prev);
  const les = [...a.keys()].map((le) => [le === "+Inf" ? Infinity : Number(le), a.get(le) - (b.get(le) ?? 0)]).sort((x, y) => x[0] - y[0]);
  const count = les.length ? les[les.length - 1][1] : 0;
  if (count <= 0) return null;
  const rank = q * count;
  let lower = 0, below = 0;
  for (const [le, c] of les) {
    if (c >= rank) return le === Infinity ? lower : lower + (le - lower) * ((rank - below) / Math.max(1e-12, c - below));
    lower = le; below = c;
  }
  return lower;
}
