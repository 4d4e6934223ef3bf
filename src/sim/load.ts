// Open-loop load generator: request i is due at start + i/rps whatever the server does, and its
// latency is measured from that intended time, so server (or generator) stalls are not hidden
// (no coordinated omission). A 1 ms timer sends every overdue request on each tick (catch-up).
import * as hdr from "hdr-histogram-js";
import { makeBidRequest, makeRng } from "./requests.ts";
import { makeSender, type ClientKind, type Outcome } from "./load-sender.ts";
import { trafficBodies } from "./traffic/load-bodies.ts";

export interface LoadOptions {
  target: string; // full URL; a bare origin gets /openrtb2/auction appended
  rps: number;
  durationS: number;
  seed?: number;
  maxInFlight?: number; // requests beyond this many in flight are dropped, default 10000
  timeoutMs?: number; // per-request deadline, default 1000
  imps?: number;
  connections?: number; // HttpPool sockets, default 256 (more in flight wait in the pool queue, timed from intended send)
  client?: ClientKind; // "http-pool" (default) or "fetch"; env TMAX_LOAD_CLIENT=fetch also selects fetch
  onProgress?: (line: string) => void;
  scenario?: string; // traffic model scenario (src/sim/traffic): labelled humans and bots; outcomes counted per label
}

export interface LoadSummary {
  sent: number; // requests actually sent (sent = ok + nobid + errors)
  ok: number; // 200
  nobid: number; // 204
  errors: number; // other status, transport error or timeout
  timeouts: number; // subset of errors
  dropped: number; // not sent: maxInFlight (or client queue) full; recorded in percentiles at timeoutMs
  p50: number; // ms, measured from the intended send time
  p90: number;
  p99: number;
  p999: number;
  max: number;
  durationS: number; // send window
  rps: number; // achieved send rate
  client: string; // "http-pool" or "fetch"
  errorKinds: Record<string, number>; // e.g. {"status_500": 3, "timeout": 2, "ECONNRESET": 1}
  byLabel?: Record<string, { sent: number; ok: number; nobid: number; errors: number }>; // with --scenario
}

const BODY_POOL = 256;
const ID_MARK = "@@ID@@";
const TID_MARK = "@@TID@@";

function newHistogram(): hdr.Histogram {
  return hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });
}

const ms2 = (us: number): number => Math.round(us / 10) / 100;
/** Percentile in ms; HDR reports a bucket's top, so clamp to the true max. */
const pct = (h: hdr.Histogram, p: number): number => (h.totalCount === 0 ? 0 : ms2(Math.min(h.getValueAtPercentile(p), h.maxValue)));

/** Pre-rendered bodies split around the id and source.tid placeholders, patched per request. */
export function makeBodyFactory(seed: number, imps?: number): (n: number) => string {
  const rng = makeRng(seed);
  const run = (seed >>> 0).toString(36) + "-" + Date.now().toString(36);
  const parts: string[][] = [];
  for (let i = 0; i < BODY_POOL; i++) {
    const req = makeBidRequest(rng, imps === undefined ? {} : { imps });
    req.id = ID_MARK;
    (req.source as { tid: string }).tid = TID_MARK;
    const [a = "", rest = ""] = JSON.stringify(req).split(`"${ID_MARK}"`);
    const [b = "", c = ""] = rest.split(`"${TID_MARK}"`);
    parts.push([a, b, c]);
  }
  return (n) => {
    const p = parts[n % BODY_POOL] as string[];
    return `${p[0]}"${run}-${n}"${p[1]}"${run}-t${n}"${p[2]}`;
  };
}

export function normaliseTarget(target: string): string {
  const u = new URL(target);
  if (u.pathname === "/" || u.pathname === "") u.pathname = "/openrtb2/auction";
  return u.toString();
}

interface Counters { sent: number; ok: number; nobid: number; errors: number; timeouts: number; dropped: number }

function record(c: Counters, kinds: Record<string, number>, outcome: Outcome, status: number, detail: string): void {
  if (outcome === "queue_full") { c.sent--; c.dropped++; return; }
  if (outcome === "ok" && status === 200) return void c.ok++;
  if (outcome === "ok" && status === 204) return void c.nobid++;
  c.errors++;
  if (outcome === "timeout") c.timeouts++;
  const kind = outcome === "ok" ? `status_${status}` : outcome === "timeout" ? "timeout" : detail || "error";
  kinds[kind] = (kinds[kind] ?? 0) + 1;
}

function progressLine(t: number, c: Counters, prev: Counters, inFlight: number, sec: hdr.Histogram): string {
  const p99 = pct(sec, 99);
  return `t=${t}s sent=${c.sent} ok=${c.ok} nobid=${c.nobid} errors=${c.errors} dropped=${c.dropped} ` +
    `inflight=${inFlight} rps=${c.sent - prev.sent} p99_1s=${p99}ms`;
}

export async function runLoad(opts: LoadOptions): Promise<LoadSummary> {
  const rps = opts.rps, timeoutMs = opts.timeoutMs ?? 1000, maxInFlight = opts.maxInFlight ?? 10000;
  const total = Math.round(rps * opts.durationS);
  const onProgress = opts.onProgress ?? ((l: string) => console.log(l));
  const labelled = opts.scenario === undefined ? null : trafficBodies(opts.scenario, opts.seed ?? 1, rps, opts.durationS);
  const body = labelled?.body ?? makeBodyFactory(opts.seed ?? 1, opts.imps);
  const byLabel: NonNullable<LoadSummary["byLabel"]> = {};
  const sender = makeSender(normaliseTarget(opts.target), opts.connections ?? 256, maxInFlight, opts.client);
  const all = newHistogram(), sec = newHistogram();
  const c: Counters = { sent: 0, ok: 0, nobid: 0, errors: 0, timeouts: 0, dropped: 0 };
  const errorKinds: Record<string, number> = {};
  let prev = { ...c }, inFlight = 0, next = 0, schedEnd = 0;
  const start = performance.now();
  const periodMs = 1000 / rps;

  const rec = (us: number) => { const v = Math.max(1, Math.round(us)); all.recordValue(v); sec.recordValue(v); };
  const fire = (i: number, now: number) => {
    const intended = start + i * periodMs;
    if (inFlight >= maxInFlight) { c.dropped++; rec(timeoutMs * 1000); return; }
    inFlight++; c.sent++;
    sender.post(body(i), now + timeoutMs, (outcome, status, detail) => {
      inFlight--;
      record(c, errorKinds, outcome, status, detail);
      if (labelled !== null) countLabel(byLabel, labelled.label(i), outcome, status);
      rec(outcome === "queue_full" ? timeoutMs * 1000 : (performance.now() - intended) * 1000);
    });
  };

  await new Promise<void>((resolve) => {
    let lastProgress = start, secs = 0;
    const tick = () => {
      const now = performance.now();
      const due = Math.min(total, Math.floor((now - start) / periodMs) + 1);
      while (next < due) fire(next++, now);
      if (next >= total && schedEnd === 0) schedEnd = now;
      if (now - lastProgress >= 1000) {
        lastProgress += 1000; secs++;
        onProgress(progressLine(secs, c, prev, inFlight, sec));
        prev = { ...c }; sec.reset();
      }
      const drained = inFlight === 0 || now - schedEnd > timeoutMs + 2000;
      if (schedEnd !== 0 && drained) { clearInterval(timer); resolve(); }
    };
    const timer = setInterval(tick, 1);
    tick();
  });
  sender.close();
  const window = Math.max(opts.durationS, (schedEnd - start) / 1000);
  return {
    ...c,
    p50: pct(all, 50), p90: pct(all, 90), p99: pct(all, 99), p999: pct(all, 99.9), max: ms2(all.maxValue),
    durationS: Math.round(window * 1000) / 1000, rps: Math.round((c.sent / window) * 10) / 10, client: sender.kind, errorKinds,
    ...(labelled === null ? {} : { byLabel }),
  };
}

function countLabel(byLabel: NonNullable<LoadSummary["byLabel"]>, label: string, outcome: Outcome, status: number): void {
  const l = (byLabel[label] ??= { sent: 0, ok: 0, nobid: 0, errors: 0 });
  l.sent++;
  if (outcome === "ok" && status === 200) l.ok++;
  else if (outcome === "ok" && status === 204) l.nobid++;
  else l.errors++;
}

export function formatSummary(s: LoadSummary): string {
  return JSON.stringify(s);
}

// ---------- flags ----------

function positive(flag: string, v: string, integer: boolean): number {
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n) || n <= 0) throw new Error(`${flag}: expected a positive number, got "${v}"`);
  if (integer && !Number.isInteger(n)) throw new Error(`${flag}: expected an integer, got "${v}"`);
  return n;
}

const SETTERS: Record<string, (o: LoadOptions, v: string, f: string) => void> = {
  "--target": (o, v, f) => {
    let u: URL;
    try { u = new URL(v); } catch { throw new Error(`${f}: not a URL: "${v}"`); }
    if (u.protocol !== "http:") throw new Error(`${f}: only http:// is supported, got "${u.protocol}"`);
    o.target = v;
  },
  "--rps": (o, v, f) => { o.rps = positive(f, v, false); },
  "--duration": (o, v, f) => { o.durationS = positive(f, v, false); },
  "--seed": (o, v, f) => { o.seed = positive(f, v, true); },
  "--imps": (o, v, f) => { o.imps = positive(f, v, true); },
  "--max-in-flight": (o, v, f) => { o.maxInFlight = positive(f, v, true); },
  "--timeout-ms": (o, v, f) => { o.timeoutMs = positive(f, v, false); },
  "--connections": (o, v, f) => { o.connections = positive(f, v, true); },
  "--scenario": (o, v) => { o.scenario = v; },
  "--client": (o, v, f) => {
    if (v !== "http-pool" && v !== "fetch") throw new Error(`${f}: expected http-pool or fetch, got "${v}"`);
    o.client = v;
  },
};

/** --target URL --rps N --duration S [--seed N] [--imps N] [--max-in-flight N] [--timeout-ms N] [--connections N] [--client http-pool|fetch] */
export function parseLoadArgs(argv: string[]): LoadOptions {
  const o: LoadOptions = { target: "", rps: 0, durationS: 0 };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const eq = arg.indexOf("=");
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const set = SETTERS[flag];
    if (!set) throw new Error(`${flag}: unknown flag`);
    const v = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (v === undefined) throw new Error(`${flag}: missing value`);
    set(o, v, flag);
  }
  if (!o.target) throw new Error("--target: required");
  if (!o.rps) throw new Error("--rps: required");
  if (!o.durationS) throw new Error("--duration: required");
  return o;
}
