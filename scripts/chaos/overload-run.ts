// The overload proof, shared by `npm run chaos:overload` and its short test variant:
// 1. ramp: drive open-loop steps of growing rate; the maximum sustainable rate is the last step
//    where >= 99% of requests were served with a DSP's bid (not shed, no house ad) within tmax
//    (so the served p99 is under tmax) and at most 0.1% failed; a failing step is tried once more
//    (the shared machine is noisy) before the ramp stops;
// 2. spikes: drive 2x and 5x that rate for a fixed time, sampling the server's RSS, and report the
//    share answered within tmax (shed included), the served p99, goodput as a share of the maximum,
//    and memory.
import { drive, type PhaseResult } from "./driver.ts";
import { sampleRss, scrape, type Stack } from "./stack.ts";

export interface RampOptions { startRps: number; growth: number; maxRps: number; stepS: number; tmaxMs: number }
export interface SpikeResult extends PhaseResult {
  multiplier: number;
  goodputShare: number;
  shedByServer: number;
  rssMiB: { first: number; max: number; last: number; samples: number };
}

const SUSTAINED_SERVED_SHARE = 0.99;
const SUSTAINED_FAILED_SHARE = 0.001;
/** Quiet time between phases so the pressure controller settles. */
export const SETTLE_MS = 1_500;

export function sustainable(r: PhaseResult, tmaxMs: number): boolean {
  return r.servedWithinTmax >= SUSTAINED_SERVED_SHARE * r.sent && r.failed <= SUSTAINED_FAILED_SHARE * r.sent;
}

export async function measureMaxRate(stack: Stack, o: RampOptions, log: (line: string) => void): Promise<{ maxRps: number; steps: PhaseResult[] }> {
  await drive({ url: stack.url, rps: o.startRps, durationS: 1, tmaxMs: o.tmaxMs }); // warm-up (JIT, keep-alive sockets)
  await Bun.sleep(SETTLE_MS);
  const steps: PhaseResult[] = [];
  let maxRps = 0;
  for (let rps = o.startRps; rps <= o.maxRps; rps = Math.round(rps * o.growth)) {
    let ok = false;
    for (let attempt = 0; attempt < 2 && !ok; attempt++) {
      if (attempt > 0) await Bun.sleep(SETTLE_MS);
      const r = await drive({ url: stack.url, rps, durationS: o.stepS, tmaxMs: o.tmaxMs });
      steps.push(r);
      ok = sustainable(r, o.tmaxMs);
      log(`ramp ${rps} rps: served ${pct(r.servedWithinTmax / r.sent)} within tmax, served p99 ${r.servedP99Ms} ms, house ads ${r.houseAds}, shed ${r.shed}, failed ${r.failed} -> ${ok ? "sustained" : "not sustained"}`);
    }
    if (!ok) break;
    maxRps = rps;
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
    rssMiB: { first: samples[0]!, max: Math.max(...samples), last: samples[samples.length - 1]!, samples: samples.length },
  };
}

export function pct(x: number): string {
  return `${(x * 100).toFixed(2)}%`;
}

export function spikeLine(s: SpikeResult, tmaxMs: number): string {
  return `${s.multiplier}x (${s.rps} rps, ${s.durationS} s): answered within tmax ${pct(s.withinTmaxShare)} (goal >= 99.9%), ` +
    `served p99 ${s.servedP99Ms} ms (goal < ${tmaxMs}), goodput ${pct(s.goodputShare)} of max (goal >= 90%), ` +
    `house ads ${s.houseAds}, shed ${s.shed} (server: ${s.shedByServer}, p99 ${s.shedP99Ms} ms), failed ${s.failed} ${JSON.stringify(s.failures)}, ` +
    `RSS ${s.rssMiB.first} -> max ${s.rssMiB.max} -> ${s.rssMiB.last} MiB`;
}
