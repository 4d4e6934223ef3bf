// A DSP simulator: answers OpenRTB 2.6 bid requests like a real DSP would, with configurable
// latency, bid rate, prices, errors and timeouts. Plain Bun.serve (no framework) to stay cheap.
import type { Server } from "bun";
import { makeRng, pick, type Rng } from "./requests.ts";

export interface SimDspOptions {
  port: number; // 0 = pick a free port
  host?: string; // listen address, default 127.0.0.1 (notice URLs use 127.0.0.1 when this is 0.0.0.0)
  latencyMs: [number, number]; // uniform random answer delay
  bidRate: number; // 0..1 share of imps bid on
  priceCpm: [number, number]; // uniform bid price range (USD CPM)
  campaigns: string[]; // campaign ids to bid for (bid.cid)
  errorRate: number; // share answered 500 / malformed JSON
  timeoutRate: number; // share held TIMEOUT_HOLD_MS then 204
  seed?: number;
  seat?: string; // seatbid.seat
  adomain?: string[]; // override of the per-campaign `${cid}-brand.example`
  cat?: string[]; // override of ["IAB1"]
  fixedPriceCpm?: number; // every bid at this price (deterministic tests)
  respectFloor?: boolean; // raise prices under imp.bidfloor to bidfloor + 0.01
  /** Scripted answer for tests; returning undefined falls through to the normal behaviour. Latency still applies. */
  answer?: (req: SimRequest) => { status: number; body: string } | undefined;
}

export interface SimRequest {
  path: string;
  headers: Headers;
  body: string;
  json: any; // parsed body, undefined if it was not JSON
}

export interface SimDspStats {
  requests: number;
  bids: number;
  nobids: number;
  errors: number;
  timeouts: number;
  wins: number;
  bills: number;
  losses: number;
}

export interface SimDsp {
  port: number;
  url: string; // bid endpoint, http://127.0.0.1:PORT/bid
  stop(): Promise<void>;
  stats(): SimDspStats;
}

export const TIMEOUT_HOLD_MS = 5000;

export const SIM_DSP_DEFAULTS: SimDspOptions = {
  port: 0,
  latencyMs: [20, 80],
  bidRate: 0.8,
  priceCpm: [0.5, 5],
  campaigns: ["c1"],
  errorRate: 0,
  timeoutRate: 0,
  seat: "sim",
};

const ORTB_HEADERS = { "x-openrtb-version": "2.6" };
const JSON_HEADERS = { "content-type": "application/json", "x-openrtb-version": "2.6" };

interface Ctx {
  o: SimDspOptions;
  rng: Rng;
  base: string; // http://127.0.0.1:PORT
  st: SimDspStats;
  timers: Set<{ t: ReturnType<typeof setTimeout>; resolve: (r: Response) => void }>;
  nextBid: number;
  bidPrefix: string; // seat-port-, makes bid ids unique across simulators
}

function uniform(rng: Rng, [lo, hi]: [number, number]): number {
  return lo + rng() * (hi - lo);
}

function impSize(imp: any): [number, number] {
  const b = imp?.banner ?? imp?.video ?? {};
  const f = Array.isArray(b.format) ? b.format[0] : undefined;
  return [Number(b.w ?? f?.w ?? 300), Number(b.h ?? f?.h ?? 250)];
}

function bidPrice(c: Ctx, imp: any): number {
  let p = c.o.fixedPriceCpm ?? uniform(c.rng, c.o.priceCpm);
  const floor = Number(imp?.bidfloor ?? 0);
  if (c.o.respectFloor && p < floor) p = floor + 0.01;
  return Math.max(0.01, Math.round(p * 10000) / 10000);
}

function makeBid(c: Ctx, imp: any): object {
  const cid = pick(c.rng, c.o.campaigns);
  const [w, h] = impSize(imp);
  const n = ++c.nextBid;
  return {
    id: `${c.bidPrefix}${n}`,
    impid: String(imp.id),
    price: bidPrice(c, imp),
    adm: `<div class="ad" data-cid="${cid}"><a href="https://${cid}-brand.example/">${cid} ${w}x${h}</a></div>`,
    adomain: c.o.adomain ?? [`${cid}-brand.example`],
    cid,
    crid: `cr-${cid}-${n % 7}`,
    cat: c.o.cat ?? ["IAB1"],
    w,
    h,
    nurl: `${c.base}/win?price=\${AUCTION_PRICE}`,
    burl: `${c.base}/bill?price=\${AUCTION_PRICE}&id=\${AUCTION_ID}`,
    lurl: `${c.base}/loss?reason=\${AUCTION_LOSS}`,
  };
}

/** The normal DSP answer to a parsed request: bids or 204. */
function bidAnswer(c: Ctx, req: any): { status: number; body: string } {
  const imps: any[] = Array.isArray(req?.imp) ? req.imp : [];
  const bids = imps.filter(() => c.rng() < c.o.bidRate).map((imp) => makeBid(c, imp));
  if (bids.length === 0) {
    c.st.nobids++;
    return { status: 204, body: "" };
  }
  c.st.bids += bids.length;
  const res = { id: req.id, seatbid: [{ seat: c.o.seat, bid: bids }], cur: "USD" };
  return { status: 200, body: JSON.stringify(res) };
}

function errorAnswer(c: Ctx): { status: number; body: string } {
  c.st.errors++;
  if (c.rng() < 0.5) return { status: 500, body: "internal error" };
  return { status: 200, body: '{"id":"x","seatbid":[{"bid":[{"id":' };
}

function toResponse(a: { status: number; body: string }): Response {
  if (a.status === 204) return new Response(null, { status: 204, headers: ORTB_HEADERS });
  return new Response(a.body, { status: a.status, headers: JSON_HEADERS });
}

function delayed(c: Ctx, ms: number, make: () => Response): Response | Promise<Response> {
  if (ms <= 0) return make();
  return new Promise((resolve) => {
    const entry = { t: setTimeout(() => { c.timers.delete(entry); resolve(make()); }, ms), resolve };
    c.timers.add(entry);
  });
}

async function handleBid(c: Ctx, r: Request, path: string): Promise<Response> {
  c.st.requests++;
  const body = await r.text();
  let json: any;
  try { json = JSON.parse(body); } catch { json = undefined; }
  const latency = uniform(c.rng, c.o.latencyMs);
  const scripted = c.o.answer?.({ path, headers: r.headers, body, json });
  if (scripted) return delayed(c, latency, () => toResponse(scripted));
  if (json === undefined || typeof json !== "object") {
    c.st.errors++;
    return toResponse({ status: 400, body: '{"error":"malformed request"}' });
  }
  if (c.o.errorRate > 0 && c.rng() < c.o.errorRate) {
    const a = errorAnswer(c);
    return delayed(c, latency, () => toResponse(a));
  }
  if (c.o.timeoutRate > 0 && c.rng() < c.o.timeoutRate) {
    c.st.timeouts++;
    return delayed(c, TIMEOUT_HOLD_MS, () => toResponse({ status: 204, body: "" }));
  }
  const a = bidAnswer(c, json);
  return delayed(c, latency, () => toResponse(a));
}

function handle(c: Ctx, r: Request): Response | Promise<Response> {
  const path = new URL(r.url).pathname;
  if (r.method === "POST") return handleBid(c, r, path);
  if (path === "/healthz") return new Response("ok");
  if (path === "/win") { c.st.wins++; return new Response("ok"); }
  if (path === "/bill") { c.st.bills++; return new Response("ok"); }
  if (path === "/loss") { c.st.losses++; return new Response("ok"); }
  return new Response("not found", { status: 404 });
}

export function startSimDsp(opts: Partial<SimDspOptions> = {}): SimDsp {
  const o: SimDspOptions = { ...SIM_DSP_DEFAULTS, ...opts };
  validateOptions(o);
  const st: SimDspStats = { requests: 0, bids: 0, nobids: 0, errors: 0, timeouts: 0, wins: 0, bills: 0, losses: 0 };
  const seed = o.seed ?? Math.floor(Math.random() * 0x7fffffff);
  const c: Ctx = { o, rng: makeRng(seed), base: "", st, timers: new Set(), nextBid: 0, bidPrefix: "" };
  const server: Server<undefined> = Bun.serve({
    port: o.port,
    hostname: o.host ?? "127.0.0.1",
    idleTimeout: 30,
    fetch: (r) => handle(c, r),
  });
  const port = server.port ?? o.port;
  const host = !o.host || o.host === "0.0.0.0" ? "127.0.0.1" : o.host;
  c.base = `http://${host}:${port}`;
  c.bidPrefix = `${o.seat}-${port}-`;
  return {
    port,
    url: `${c.base}/bid`,
    stats: () => ({ ...st }),
    async stop() {
      for (const e of c.timers) { clearTimeout(e.t); e.resolve(new Response(null, { status: 503 })); }
      c.timers.clear();
      await server.stop(true);
    },
  };
}

// ---------- flags ----------

function fail(flag: string, reason: string): never {
  throw new Error(`${flag}: ${reason}`);
}

function num(flag: string, v: string, min: number, max: number, integer = false): number {
  const n = Number(v);
  if (v.trim() === "" || !Number.isFinite(n)) fail(flag, `not a number: "${v}"`);
  if (integer && !Number.isInteger(n)) fail(flag, `not an integer: "${v}"`);
  if (n < min || n > max) fail(flag, `${n} out of range [${min}, ${max}]`);
  return n;
}

function range(flag: string, v: string, min: number, max: number): [number, number] {
  const parts = v.split("..");
  if (parts.length > 2) fail(flag, `expected N or LO..HI, got "${v}"`);
  const lo = num(flag, parts[0] ?? "", min, max);
  const hi = parts.length === 2 ? num(flag, parts[1] ?? "", min, max) : lo;
  if (lo > hi) fail(flag, `low ${lo} > high ${hi}`);
  return [lo, hi];
}

function list(flag: string, v: string): string[] {
  const items = v.split(",").map((s) => s.trim()).filter((s) => s !== "");
  if (items.length === 0) fail(flag, "empty list");
  return items;
}

function validateOptions(o: SimDspOptions): void {
  num("--port", String(o.port), 0, 65535, true);
  range("--latency-ms", o.latencyMs.join(".."), 0, 600_000);
  num("--bid-rate", String(o.bidRate), 0, 1);
  range("--price", o.priceCpm.join(".."), 0, 1_000_000);
  num("--error-rate", String(o.errorRate), 0, 1);
  num("--timeout-rate", String(o.timeoutRate), 0, 1);
  if (o.campaigns.length === 0) fail("--campaigns", "empty list");
  if (!o.seat) fail("--seat", "empty");
}

const SETTERS: Record<string, (o: SimDspOptions, v: string, f: string) => void> = {
  "--port": (o, v, f) => { o.port = num(f, v, 0, 65535, true); },
  "--host": (o, v, f) => { if (v.trim() === "") fail(f, "empty"); o.host = v; },
  "--latency-ms": (o, v, f) => { o.latencyMs = range(f, v, 0, 600_000); },
  "--bid-rate": (o, v, f) => { o.bidRate = num(f, v, 0, 1); },
  "--price": (o, v, f) => { o.priceCpm = range(f, v, 0, 1_000_000); },
  "--fixed-price": (o, v, f) => { o.fixedPriceCpm = num(f, v, 0.01, 1_000_000); },
  "--campaigns": (o, v, f) => { o.campaigns = list(f, v); },
  "--adomain": (o, v, f) => { o.adomain = list(f, v); },
  "--cat": (o, v, f) => { o.cat = list(f, v); },
  "--error-rate": (o, v, f) => { o.errorRate = num(f, v, 0, 1); },
  "--timeout-rate": (o, v, f) => { o.timeoutRate = num(f, v, 0, 1); },
  "--seed": (o, v, f) => { o.seed = num(f, v, 0, 0xffffffff, true); },
  "--seat": (o, v, f) => { if (v.trim() === "") fail(f, "empty"); o.seat = v; },
};

/** Parses `--flag value` or `--flag=value` pairs; unknown flags and bad values throw naming the flag. */
export function parseSimDspArgs(argv: string[]): SimDspOptions {
  const o: SimDspOptions = { ...SIM_DSP_DEFAULTS, latencyMs: [...SIM_DSP_DEFAULTS.latencyMs], priceCpm: [...SIM_DSP_DEFAULTS.priceCpm], campaigns: [...SIM_DSP_DEFAULTS.campaigns] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const eq = arg.indexOf("=");
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const set = SETTERS[flag];
    if (!set) fail(flag, "unknown flag");
    const v = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (v === undefined) fail(flag, "missing value");
    set(o, v, flag);
  }
  return o;
}
