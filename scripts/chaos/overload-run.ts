// The overload proof, shared by `npm run chaos:overload` and its short test variant:
// 1. ramp: drive open-loop steps of growing rate with the guard on; a step is healthy when >= 99.9%
//    of requests were answered within tmax, the served p99 is under tmax and at most 0.1% failed (an
//    unhealthy step is tried once more: the shared machine is noisy). The knee of the throughput
//    curve is the healthy step of highest goodput (auctions served with a DSP's bid within tmax, per
//    second); counting only steps where nothing was shed would make the guard's own sheds (or a DSP
//    answering late now and then) end the ramp below it. The ramp stops after two steps in a row that
//    stay unhealthy, or once the offered rate is PAST_KNEE x the best goodput (the served rate no
//    longer follows the offered one). The knee is then confirmed: its rate again for CONFIRM_STEPS
//    steps' time, and the confirmation's goodput is the maximum sustainable rate (the best of a dozen
//    3-second steps on a noisy box is a lucky peak, not a sustained rate); if it is unhealthy twice,
//    the second-best step's goodput. `npm run chaos:overload` ramps a server whose audit consumers
//    never pause (audit.consumerYieldMaxMs 0): by default they pause while a worker is at capacity,
//    which moves their work out of a short step rather than paying for it, and a ramp would then
//    measure a rate the server cannot keep up for good;
// 2. spikes: on a fresh server as configured (warmed up; each spike starts once the audit consumers
//    have caught up, consumersCaughtUp) drive 2x and 5x that rate for a fixed time, sampling the
//    server's RSS, and report the share answered within tmax (shed included), the served p99,
//    goodput as a share of the maximum, and RSS; memory is bounded when the last round's RSS peak is
//    no higher than the first round's plus RSS_GROWTH_ALLOWANCE_MIB (with one round: the 5x spike's,
//    2.5x the requests, against the 2x one's). The concurrency limit bounds what is in flight, so a
//    steady working set breathes with the garbage collector but stays put, while anything kept per
//    request would climb round by round.
import { availableParallelism } from "node:os";
import { drive, type PhaseResult } from "./driver.ts";
import { cpuMs, sampleRss, scrape, type Stack } from "./stack.ts";
import { SECONDS_BUCKETS } from "../../src/metrics/histograms.ts";

export interface RampOptions { startRps: number; growth: number; maxRps: number; stepS: number; tmaxMs: number }
export interface SpikeResult extends PhaseResult {
  multiplier: number;
  goodputShare: number;
  shedByServer: number;
  /** Of shedByServer, those answered before the body was read (the rest were parsed, valued and audited). */
  shedBeforeParse: number;
  rssMiB: { first: number; max: number; last: number; samples: number };
  /** CPU used during the spike, % of one core (the box has os.availableParallelism() of them). */
  cpuPct: { tmax: number; dsps: number; generator: number };
  consumerYield: ConsumerYield;
  /** Answers (200 or 204) the generator got after tmax, and of all answers those tmax itself timed over tmax. */
  late: { seen: { served: number; houseAds: number; shed: number }; byServer: number; serverBoundMs: number };
}

/** The issue's goals for a spike; the first also makes a ramp step healthy. */
const GOAL_WITHIN_TMAX_SHARE = 0.999;
const GOAL_GOODPUT_SHARE = 0.9;
const HEALTHY_FAILED_SHARE = 0.001;
/** The ramp ends once the offered rate is this multiple of the best goodput so far. */
const PAST_KNEE = 1.5;
/** The confirmation of the knee lasts this many steps. */
const CONFIRM_STEPS = 3;
/** The last round's RSS peak may exceed the first's by this much and still count as no growth (the heap breathes). */
export const RSS_GROWTH_ALLOWANCE_MIB = 64;
/** Quiet time between phases so the pressure controller settles. */
export const SETTLE_MS = 1_500;
/** The longest wait for the audit consumers to catch up before a spike (the archive acks every few seconds). */
export const CATCH_UP_MAX_MS = 60_000;
/** A fresh server is driven this long at the maximum before the first spike (JIT, keep-alive sockets), not measured. */
export const WARM_UP_S = 3;

export function healthy(r: PhaseResult, tmaxMs: number): boolean {
  return r.withinTmaxShare >= GOAL_WITHIN_TMAX_SHARE && r.servedP99Ms < tmaxMs && r.failed <= HEALTHY_FAILED_SHARE * r.sent && r.served > 0;
}

export async function measureMaxRate(stack: Stack, o: RampOptions, log: (line: string) => void): Promise<{ maxRps: number; steps: PhaseResult[] }> {
  await drive({ url: stack.url, rps: o.startRps, durationS: 1, tmaxMs: o.tmaxMs }); // warm-up (JIT, keep-alive sockets)
  await Bun.sleep(SETTLE_MS);
  const steps: PhaseResult[] = [];
  let maxRps = 0, unhealthySteps = 0;
  const line = (what: string, r: PhaseResult, ok: boolean, paused: ConsumerYield) => log(`${what} ${r.rps} rps: goodput ${Math.round(r.goodputRps)}/s, answered within tmax ${pct(r.withinTmaxShare)}, ` +
    `served p99 ${r.servedP99Ms} ms, house ads ${r.houseAds}, shed ${r.shed}, failed ${r.failed}, ${pausedText(paused)} -> ${ok ? "healthy" : "unhealthy"}`);
  const step = async (rps: number, durationS: number) => {
    const before = await consumerYield(stack.url);
    const r = await drive({ url: stack.url, rps, durationS, tmaxMs: o.tmaxMs });
    return { r, paused: since(before, await consumerYield(stack.url)) };
  };
  for (let rps = o.startRps; rps <= o.maxRps; rps = Math.round(rps * o.growth)) {
    let ok = false;
    for (let attempt = 0; attempt < 2 && !ok; attempt++) {
      if (attempt > 0) await Bun.sleep(SETTLE_MS);
      const { r, paused } = await step(rps, o.stepS);
      steps.push(r);
      ok = healthy(r, o.tmaxMs);
      if (ok) maxRps = Math.max(maxRps, Math.round(r.goodputRps));
      line("ramp", r, ok, paused);
    }
    unhealthySteps = ok ? 0 : unhealthySteps + 1;
    if (unhealthySteps >= 2 || (maxRps > 0 && rps >= PAST_KNEE * maxRps)) break;
    await Bun.sleep(SETTLE_MS);
  }
  const ranked = steps.filter((r) => healthy(r, o.tmaxMs)).sort((a, b) => b.goodputRps - a.goodputRps);
  if (ranked.length === 0) return { maxRps: 0, steps };
  for (let attempt = 0; attempt < 2; attempt++) {
    await Bun.sleep(SETTLE_MS);
    const { r: confirm, paused } = await step(ranked[0]!.rps, o.stepS * CONFIRM_STEPS);
    steps.push(confirm);
    const confirmed = healthy(confirm, o.tmaxMs);
    line("confirm", confirm, confirmed, paused);
    if (confirmed) return { maxRps: Math.round(confirm.goodputRps), steps };
  }
  return { maxRps: Math.round((ranked[1] ?? ranked[0]!).goodputRps), steps };
}

/** Drives a fresh server at `rps` for WARM_UP_S, unmeasured. */
export async function warmUp(stack: Stack, rps: number, tmaxMs: number): Promise<void> {
  await drive({ url: stack.url, rps, durationS: WARM_UP_S, tmaxMs });
}

/**
 * Waits until the archive and ledger have acked everything committed (tmax_audit_consumer_lag_bytes 0),
 * so that a spike starts with nothing deferred; returns the seconds waited (throws past CATCH_UP_MAX_MS).
 */
export async function consumersCaughtUp(stack: Stack): Promise<number> {
  const start = performance.now();
  while ((await scrape(stack.url, "tmax_audit_consumer_lag_bytes")) > 0) {
    if (performance.now() - start > CATCH_UP_MAX_MS) throw new Error(`audit consumers still behind after ${CATCH_UP_MAX_MS} ms`);
    await Bun.sleep(250);
  }
  return Math.round((performance.now() - start) / 100) / 10;
}

export async function spike(stack: Stack, maxRps: number, multiplier: number, durationS: number, tmaxMs: number, timeoutMs?: number): Promise<SpikeResult> {
  await Bun.sleep(SETTLE_MS);
  const shedBefore = await scrape(stack.url, "tmax_overload_shed_total");
  const beforeParseBefore = await scrape(stack.url, "tmax_overload_shed_before_parse_total");
  const yieldBefore = await consumerYield(stack.url);
  const serverBoundS = SECONDS_BUCKETS.find((le) => le * 1000 >= tmaxMs) ?? SECONDS_BUCKETS[SECONDS_BUCKETS.length - 1]!;
  const overBefore = await answeredOver(stack.url, serverBoundS);
  const rss = sampleRss(stack.tmax.pid);
  const cpuBefore = { tmax: cpuMs(stack.tmax.pid), dsps: cpuMs(stack.dsps.pid), generator: cpuMs(process.pid), at: performance.now() };
  const r = await drive({ url: stack.url, rps: Math.round(maxRps * multiplier), durationS, tmaxMs, timeoutMs });
  const wallMs = performance.now() - cpuBefore.at;
  const share = (now: number, before: number) => Math.round(((now - before) / wallMs) * 100);
  const cpuPct = { tmax: share(cpuMs(stack.tmax.pid), cpuBefore.tmax), dsps: share(cpuMs(stack.dsps.pid), cpuBefore.dsps), generator: share(cpuMs(process.pid), cpuBefore.generator) };
  const samples = rss.stop();
  const shedByServer = (await scrape(stack.url, "tmax_overload_shed_total")) - shedBefore;
  const shedBeforeParse = (await scrape(stack.url, "tmax_overload_shed_before_parse_total")) - beforeParseBefore;
  const consumerYieldNow = since(yieldBefore, await consumerYield(stack.url));
  const seen = { served: r.served - r.servedWithinTmax, houseAds: r.houseAds - r.houseAdsWithinTmax, shed: r.shed - r.shedWithinTmax };
  const late = { seen, byServer: (await answeredOver(stack.url, serverBoundS)) - overBefore, serverBoundMs: serverBoundS * 1000 };
  return {
    ...r, multiplier, shedByServer, shedBeforeParse, cpuPct, consumerYield: consumerYieldNow, late,
    goodputShare: maxRps === 0 ? 0 : r.goodputRps / maxRps,
    rssMiB: { first: samples[0]!, max: Math.max(...samples), last: samples[samples.length - 1]!, samples: samples.length },
  };
}

/**
 * Requests tmax answered more than `boundS` after it read them, by its own clock
 * (tmax_request_duration_seconds): set against the late answers the generator saw, it tells time
 * spent inside tmax's handlers from time spent before them (socket queues, a busy loop not yet
 * reading) or in the generator.
 */
async function answeredOver(url: string, boundS: number): Promise<number> {
  const all = await scrape(url, "tmax_request_duration_seconds_count");
  return all - (await scrape(url, "tmax_request_duration_seconds_bucket", `le="${boundS}"`));
}

/** Seconds the archive and ledger consumers paused for the auctions (summed over consumers), and pauses cut short by audit.consumerYieldMaxMs. */
export interface ConsumerYield { seconds: number; forcedCatchUps: number }

async function consumerYield(url: string): Promise<ConsumerYield> {
  return { seconds: await scrape(url, "tmax_audit_consumer_yield_seconds_total"), forcedCatchUps: await scrape(url, "tmax_audit_consumer_forced_catchups_total") };
}

function since(before: ConsumerYield, after: ConsumerYield): ConsumerYield {
  return { seconds: Math.round((after.seconds - before.seconds) * 10) / 10, forcedCatchUps: after.forcedCatchUps - before.forcedCatchUps };
}

function pausedText(y: ConsumerYield): string {
  return `audit consumers paused ${y.seconds} s (${y.forcedCatchUps} cut short)`;
}

export function pct(x: number): string {
  return `${(x * 100).toFixed(2)}%`;
}

/** Each of the issue's goals for one spike: met or not. */
export function goals(s: SpikeResult, tmaxMs: number): Record<"withinTmax" | "servedP99" | "goodput", boolean> {
  return { withinTmax: s.withinTmaxShare >= GOAL_WITHIN_TMAX_SHARE, servedP99: s.servedP99Ms < tmaxMs, goodput: s.goodputShare >= GOAL_GOODPUT_SHARE };
}

/** Per multiplier: each goal's figure over the rounds (median, range) and in how many rounds it was met. */
export function roundsSummary(spikes: SpikeResult[], tmaxMs: number): string[] {
  const multipliers = [...new Set(spikes.map((s) => s.multiplier))];
  return multipliers.map((m) => {
    const mine = spikes.filter((s) => s.multiplier === m);
    const met = (goal: keyof ReturnType<typeof goals>) => `${mine.filter((s) => goals(s, tmaxMs)[goal]).length}/${mine.length}`;
    const spread = (xs: number[], fmt: (x: number) => string) => {
      const sorted = [...xs].sort((a, b) => a - b);
      return `median ${fmt(sorted[Math.floor(sorted.length / 2)]!)} (${fmt(sorted[0]!)}..${fmt(sorted[sorted.length - 1]!)})`;
    };
    return `${m}x over ${mine.length} round(s): within tmax ${spread(mine.map((s) => s.withinTmaxShare), pct)}, met ${met("withinTmax")}; ` +
      `served p99 ${spread(mine.map((s) => s.servedP99Ms), (x) => `${x} ms`)}, met ${met("servedP99")}; ` +
      `goodput ${spread(mine.map((s) => s.goodputShare), pct)}, met ${met("goodput")}`;
  });
}

/**
 * Memory over the run (`spikes` in run order, `perRound` of them a round): bounded when the last
 * round's RSS peak is within the allowance of the first round's; with one round, the last spike's
 * against the first's.
 */
export function memoryBounded(spikes: SpikeResult[], perRound: number): { bounded: boolean; line: string } {
  const rounds = Math.ceil(spikes.length / perRound);
  const peak = (list: SpikeResult[]) => Math.max(...list.map((s) => s.rssMiB.max));
  const [first, last] = rounds > 1
    ? [peak(spikes.slice(0, perRound)), peak(spikes.slice((rounds - 1) * perRound))]
    : [spikes[0]!.rssMiB.max, spikes[spikes.length - 1]!.rssMiB.max];
  const bounded = last <= first + RSS_GROWTH_ALLOWANCE_MIB;
  const peaks = spikes.map((s) => `${s.multiplier}x ${s.rssMiB.max}`).join(", ");
  const what = rounds > 1 ? "last round vs first" : "last spike vs first";
  return { bounded, line: `memory: RSS peaks (MiB) ${peaks}; ${what} ${last} vs ${first} (allowance +${RSS_GROWTH_ALLOWANCE_MIB}): ${bounded ? "bounded" : "GROWING"}` };
}

export function goalsLine(s: SpikeResult, tmaxMs: number): string {
  const g = goals(s, tmaxMs);
  const missed = Object.entries(g).filter(([, ok]) => !ok).map(([name]) => name);
  return `${s.multiplier}x goals: ${missed.length === 0 ? "all met" : `MISSED ${missed.join(", ")}`}`;
}

export function spikeLine(s: SpikeResult, tmaxMs: number): string {
  return `${s.multiplier}x (${s.rps} rps, ${s.durationS} s): answered within tmax ${pct(s.withinTmaxShare)} (goal >= ${pct(GOAL_WITHIN_TMAX_SHARE)}), ` +
    `served p99 ${s.servedP99Ms} ms (goal < ${tmaxMs}), goodput ${pct(s.goodputShare)} of max (goal >= ${pct(GOAL_GOODPUT_SHARE)}), ` +
    `house ads ${s.houseAds}, shed ${s.shed} (server: ${s.shedByServer}, ${s.shedByServer === 0 ? 0 : Math.round((100 * s.shedBeforeParse) / s.shedByServer)}% before parsing, p99 ${s.shedP99Ms} ms), failed ${s.failed} ${JSON.stringify(s.failures)}, ` +
    `RSS ${s.rssMiB.first} -> max ${s.rssMiB.max} -> ${s.rssMiB.last} MiB, ` +
    `late ${s.late.seen.served + s.late.seen.houseAds + s.late.seen.shed} (served ${s.late.seen.served}, house ads ${s.late.seen.houseAds}, shed ${s.late.seen.shed}; ` +
    `tmax's own clock: ${s.late.byServer} over ${s.late.serverBoundMs} ms), late or failed by second [${s.missedBySecond.join(" ")}], ` +
    `generator stalls ${s.generator.stalls} (longest ${s.generator.longestStallMs} ms; late but for them ${s.generator.lateFromStalls}), ` +
    `CPU tmax ${s.cpuPct.tmax}%, DSPs ${s.cpuPct.dsps}%, load generator ${s.cpuPct.generator}% (of ${availableParallelism() * 100}%), ` +
    pausedText(s.consumerYield);
}
