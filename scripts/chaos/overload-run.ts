// The overload proof, shared by `npm run chaos:overload` and its short test variant:
// 1. ramp: drive open-loop steps of growing rate with the guard on; a step is healthy when >= 99.9%
//    of requests were answered within tmax, the served p99 is under tmax and at most 0.1% failed (an
//    unhealthy step is tried once more: the shared machine is noisy). The maximum sustainable rate is
//    the highest goodput (auctions served with a DSP's bid within tmax, per second) of a healthy
//    step: the knee of the throughput curve. Counting only steps where nothing was shed would make
//    the guard's own sheds (or a DSP answering late now and then) end the ramp below the knee. The ramp
//    stops after two steps in a row that stay unhealthy, or once the offered rate is PAST_KNEE x the
//    maximum (the served rate no longer follows the offered one);
// 2. spikes: drive 2x and 5x that rate for a fixed time, sampling the server's RSS, and report the
//    share answered within tmax (shed included), the served p99, goodput as a share of the maximum,
//    and memory (bounded: no growth from the first half of the spike to the second).
import { drive, type PhaseResult } from "./driver.ts";
import { sampleRss, scrape, type Stack } from "./stack.ts";

export interface RampOptions { startRps: number; growth: number; maxRps: number; stepS: number; tmaxMs: number }
export interface SpikeResult extends PhaseResult {
  multiplier: number;
  goodputShare: number;
  shedByServer: number;
  /**
   * `growth`: the median of the last quarter of samples minus that of the second quarter (MiB; the first
   * quarter is the heap growing to the new load); bounded when within RSS_GROWTH_ALLOWANCE_MIB.
   */
  rssMiB: { first: number; max: number; last: number; samples: number; growth: number; bounded: boolean };
}

const HEALTHY_WITHIN_TMAX_SHARE = 0.999;
const HEALTHY_FAILED_SHARE = 0.001;
/** The ramp ends once the offered rate is this multiple of the best goodput so far. */
const PAST_KNEE = 1.5;
/** RSS may rise this much from the spike's second quarter to its last and still count as no growth. */
export const RSS_GROWTH_ALLOWANCE_MIB = 32;
/** Quiet time between phases so the pressure controller settles. */
export const SETTLE_MS = 1_500;

export function healthy(r: PhaseResult, tmaxMs: number): boolean {
  return r.withinTmaxShare >= HEALTHY_WITHIN_TMAX_SHARE && r.servedP99Ms < tmaxMs && r.failed <= HEALTHY_FAILED_SHARE * r.sent && r.served > 0;
}

export async function measureMaxRate(stack: Stack, o: RampOptions, log: (line: string) => void): Promise<{ maxRps: number; steps: PhaseResult[] }> {
  await drive({ url: stack.url, rps: o.startRps, durationS: 1, tmaxMs: o.tmaxMs }); // warm-up (JIT, keep-alive sockets)
  await Bun.sleep(SETTLE_MS);
  const steps: PhaseResult[] = [];
  let maxRps = 0, unhealthySteps = 0;
  for (let rps = o.startRps; rps <= o.maxRps; rps = Math.round(rps * o.growth)) {
    let ok = false;
    for (let attempt = 0; attempt < 2 && !ok; attempt++) {
      if (attempt > 0) await Bun.sleep(SETTLE_MS);
      const r = await drive({ url: stack.url, rps, durationS: o.stepS, tmaxMs: o.tmaxMs });
      steps.push(r);
      ok = healthy(r, o.tmaxMs);
      if (ok) maxRps = Math.max(maxRps, Math.round(r.goodputRps));
      log(`ramp ${rps} rps: goodput ${Math.round(r.goodputRps)}/s, answered within tmax ${pct(r.withinTmaxShare)}, served p99 ${r.servedP99Ms} ms, ` +
        `house ads ${r.houseAds}, shed ${r.shed}, failed ${r.failed} -> ${ok ? "healthy" : "unhealthy"}`);
    }
    unhealthySteps = ok ? 0 : unhealthySteps + 1;
    if (unhealthySteps >= 2 || (maxRps > 0 && rps >= PAST_KNEE * maxRps)) break;
    await Bun.sleep(SETTLE_MS);
  }
  return { maxRps, steps };
}

export async function spike(stack: Stack, maxRps: number, multiplier: number, durationS: number, tmaxMs: number, timeoutMs?: number): Promise<SpikeResult> {
  await Bun.sleep(SETTLE_MS);
  const shedBefore = await scrape(stack.url, "tmax_overload_shed_total");
  const rss = sampleRss(stack.tmax.pid);
  const r = await drive({ url: stack.url, rps: Math.round(maxRps * multiplier), durationS, tmaxMs, timeoutMs });
  const samples = rss.stop();
  const shedByServer = (await scrape(stack.url, "tmax_overload_shed_total")) - shedBefore;
  return {
    ...r, multiplier, shedByServer,
    goodputShare: maxRps === 0 ? 0 : r.goodputRps / maxRps,
    rssMiB: rssSummary(samples),
  };
}

function rssSummary(samples: number[]): SpikeResult["rssMiB"] {
  const quarter = (k: number) => samples.slice(Math.floor((k * samples.length) / 4), Math.max(Math.floor(((k + 1) * samples.length) / 4), Math.floor((k * samples.length) / 4) + 1));
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const growth = median(quarter(3)) - median(quarter(1));
  return {
    first: samples[0]!, max: Math.max(...samples), last: samples[samples.length - 1]!, samples: samples.length,
    growth, bounded: growth <= RSS_GROWTH_ALLOWANCE_MIB,
  };
}

export function pct(x: number): string {
  return `${(x * 100).toFixed(2)}%`;
}

/** Each of the issue's goals for one spike: met or not. */
export function goals(s: SpikeResult, tmaxMs: number): Record<"withinTmax" | "servedP99" | "goodput" | "memory", boolean> {
  return { withinTmax: s.withinTmaxShare >= 0.999, servedP99: s.servedP99Ms < tmaxMs, goodput: s.goodputShare >= 0.9, memory: s.rssMiB.bounded };
}

export function goalsLine(s: SpikeResult, tmaxMs: number): string {
  const g = goals(s, tmaxMs);
  const missed = Object.entries(g).filter(([, ok]) => !ok).map(([name]) => name);
  return `${s.multiplier}x goals: ${missed.length === 0 ? "all met" : `MISSED ${missed.join(", ")}`}`;
}

export function spikeLine(s: SpikeResult, tmaxMs: number): string {
  return `${s.multiplier}x (${s.rps} rps, ${s.durationS} s): answered within tmax ${pct(s.withinTmaxShare)} (goal >= 99.9%), ` +
    `served p99 ${s.servedP99Ms} ms (goal < ${tmaxMs}), goodput ${pct(s.goodputShare)} of max (goal >= 90%), ` +
    `house ads ${s.houseAds}, shed ${s.shed} (server: ${s.shedByServer}, p99 ${s.shedP99Ms} ms), failed ${s.failed} ${JSON.stringify(s.failures)}, ` +
    `RSS ${s.rssMiB.first} -> max ${s.rssMiB.max} -> ${s.rssMiB.last} MiB (last quarter vs second ${s.rssMiB.growth >= 0 ? "+" : ""}${s.rssMiB.growth} MiB: ` +
    `${s.rssMiB.bounded ? "bounded" : "GROWING"})`;
}
