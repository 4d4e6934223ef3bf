// Figures of the end-to-end benchmark: one phase's result, medians over rounds, the printed table,
// and a digest of tmax's /metrics (Prometheus text) so errors and DSP timeouts cannot hide.

export type Target = "baseline" | "tmax";

export interface PhaseResult {
  target: Target;
  round: number;
  offeredRps: number; // --rps / --baseline-rps
  rps: number; // answered without error (ok + nobid) per second of the send window
  p50: number; // ms from the intended send time (open loop)
  p90: number;
  p99: number;
  max: number;
  ok: number; // 200
  nobid: number; // 204
  errors: number; // other status, transport errors, timeouts
  timeouts: number;
  dropped: number; // never sent: generator's in-flight cap
  served: number; // requests the server counted in the window
  cpuUsPerReq: number; // server process CPU (all threads) / served
  serverCores: number; // server CPU / wall time of the window
  cpuSource: string;
  simsUsPerReq?: number; // DSP simulator process CPU per auction (tmax only)
  loadgenUsPerReq: number; // this process's CPU per request sent
  outcomes?: Record<string, number>; // tmax: requests by outcome in the window (bid, nobid, invalid, error)
  dspCalls?: Record<string, number>; // tmax: DSP calls by outcome in the window
  dspPerReq?: number; // tmax: DSP answers (bid + nobid) per auction in the window; --dsps when clean
  clean: boolean; // no errors, no drops and (tmax) every DSP answered every auction in time
  warnings: string[];
}

export type Summary = Omit<PhaseResult, "round" | "cpuSource" | "warnings" | "outcomes" | "dspCalls">;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? 0 : s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};
const r2 = (x: number): number => Math.round(x * 100) / 100;

/** Medians of rates, latencies and CPU over the rounds; counts are summed so no error disappears. */
export function summarise(results: PhaseResult[], target: Target): Summary {
  const rs = results.filter((r) => r.target === target);
  const med = (f: (r: PhaseResult) => number | undefined) => r2(median(rs.map(f).filter((x): x is number => x !== undefined)));
  const sum = (f: (r: PhaseResult) => number) => rs.reduce((a, r) => a + f(r), 0);
  const s: Summary = {
    target, offeredRps: med((r) => r.offeredRps), rps: med((r) => r.rps),
    p50: med((r) => r.p50), p90: med((r) => r.p90), p99: med((r) => r.p99), max: med((r) => r.max),
    ok: sum((r) => r.ok), nobid: sum((r) => r.nobid), errors: sum((r) => r.errors), timeouts: sum((r) => r.timeouts),
    dropped: sum((r) => r.dropped), served: sum((r) => r.served), clean: rs.every((r) => r.clean),
    cpuUsPerReq: med((r) => r.cpuUsPerReq), serverCores: med((r) => r.serverCores), loadgenUsPerReq: med((r) => r.loadgenUsPerReq),
  };
  if (target === "tmax") { s.simsUsPerReq = med((r) => r.simsUsPerReq); s.dspPerReq = med((r) => r.dspPerReq); }
  return s;
}

export function ratios(base: Summary, tmax: Summary) {
  const q = (a: number, b: number) => (b > 0 ? r2(a / b) : null);
  return {
    cpuPerReq: q(tmax.cpuUsPerReq, base.cpuUsPerReq), // how many times the floor's CPU an auction costs
    p50: q(tmax.p50, base.p50),
    p99: q(tmax.p99, base.p99),
    throughput: q(tmax.rps, base.rps), // achieved at the offered rates (1.0 = both kept up)
    capacity: q(base.cpuUsPerReq, tmax.cpuUsPerReq), // CPU-bound req/s per core, tmax / baseline
  };
}

const COLS = ["", "offered", "rps", "p50 ms", "p90 ms", "p99 ms", "max ms", "cpu us/req", "srv cores", "ok", "nobid", "errors", "dropped", "DSPs/req", "clean"];

function row(label: string, r: Summary): string[] {
  return [label, String(r.offeredRps), r.rps.toFixed(1), r.p50.toFixed(2), r.p90.toFixed(2), r.p99.toFixed(2), r.max.toFixed(2),
    r.cpuUsPerReq.toFixed(1), r.serverCores.toFixed(2), String(r.ok), String(r.nobid), String(r.errors), String(r.dropped),
    r.dspPerReq === undefined ? "-" : r.dspPerReq.toFixed(2), r.clean ? "yes" : "NO"];
}

export function table(results: PhaseResult[], base: Summary, tmax: Summary): string {
  const rows: string[][] = [COLS];
  for (const r of results) rows.push(row(`${r.target} #${r.round}`, r));
  if (results.length > 2) rows.push(row("baseline median", base), row("tmax median", tmax));
  const widths = COLS.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  const lines = rows.map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  "));
  const x = ratios(base, tmax);
  const perCore = (us: number) => (us > 0 ? Math.round(1e6 / us) : 0);
  lines.push(
    "",
    `tmax / baseline: cpu per request x${x.cpuPerReq}, p50 x${x.p50}, p99 x${x.p99}, throughput x${x.throughput}`,
    `CPU-bound capacity (1e6 / cpu us per req): baseline ~${perCore(base.cpuUsPerReq)} req/s/core, tmax ~${perCore(tmax.cpuUsPerReq)} auctions/s/core`,
    `other processes per auction: DSP sims ${tmax.simsUsPerReq?.toFixed(1) ?? "?"} us, load generator ${tmax.loadgenUsPerReq.toFixed(1)} us (baseline run: ${base.loadgenUsPerReq.toFixed(1)} us)`,
  );
  for (const r of results) for (const w of r.warnings) lines.push(`warning (${r.target} #${r.round}): ${w}`);
  return lines.join("\n");
}

// ---------- /metrics ----------

export interface Sample { name: string; labels: Record<string, string>; value: number }

export function parseProm(text: string): Sample[] {
  const out: Sample[] = [];
  const re = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)$/;
  for (const line of text.split("\n")) {
    if (line === "" || line.startsWith("#")) continue;
    const m = re.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]!] = l[2]!;
    out.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return out;
}

/** Sum of a metric's samples grouped by one label (zeros left out). */
export function byLabel(samples: Sample[], name: string, label: string): Record<string, number> {
  const acc: Record<string, number> = {};
  for (const s of samples) {
    if (s.name !== name || s.value === 0) continue;
    const k = s.labels[label] ?? "";
    acc[k] = (acc[k] ?? 0) + s.value;
  }
  return acc;
}

export function total(samples: Sample[], name: string): number {
  return samples.filter((s) => s.name === name).reduce((a, s) => a + s.value, 0);
}

export function metricsDigest(samples: Sample[]) {
  const perDspBad: Record<string, Record<string, number>> = {};
  for (const s of samples) {
    if (s.name !== "tmax_dsp_requests_total" || s.value === 0 || s.labels.outcome === "bid" || s.labels.outcome === "nobid") continue;
    (perDspBad[s.labels.dsp ?? "?"] ??= {})[s.labels.outcome ?? "?"] = s.value;
  }
  return {
    requests: byLabel(samples, "tmax_requests_total", "outcome"),
    noBids: byLabel(samples, "tmax_no_bids_total", "reason"),
    dspCalls: byLabel(samples, "tmax_dsp_requests_total", "outcome"),
    dspProblems: perDspBad, // timeouts, errors, skips per DSP
    bidsRejected: byLabel(samples, "tmax_dsp_bids_rejected_total", "reason"),
    bidsBlocked: byLabel(samples, "tmax_bids_blocked_total", "reason"),
    wins: total(samples, "tmax_auction_wins_total"),
    budgetRefusals: total(samples, "tmax_budget_refusals_total"),
    breakersNotClosed: byLabel(samples, "tmax_dsp_breaker_state", "dsp"),
  };
}

export function formatDigest(d: ReturnType<typeof metricsDigest>): string {
  const kv = (o: Record<string, number>) => (Object.keys(o).length === 0 ? "none" : Object.entries(o).map(([k, v]) => `${k}=${v}`).join(" "));
  const problems = Object.entries(d.dspProblems).map(([dsp, o]) => `${dsp}: ${kv(o)}`).join("; ");
  return [
    "tmax /metrics (cumulative, warm-ups included):",
    `  requests       ${kv(d.requests)}`,
    `  no-bid reasons ${kv(d.noBids)}`,
    `  DSP calls      ${kv(d.dspCalls)}`,
    `  DSP problems   ${problems === "" ? "none" : problems}`,
    `  bids rejected  ${kv(d.bidsRejected)}   blocked ${kv(d.bidsBlocked)}`,
    `  wins ${d.wins}   budget refusals ${d.budgetRefusals}   breakers not closed: ${kv(d.breakersNotClosed)}`,
  ].join("\n");
}
