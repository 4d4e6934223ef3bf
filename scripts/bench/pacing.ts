#!/usr/bin/env bun
// `npm run bench:pacing`: the even-pacing controller over simulated days (seeded), next to the asap
// baseline in the same run. Per scenario: an hourly table of target vs actual cumulative spend (% of
// budget) and the hour's spend, then the RMS and max error of the cumulative curve (sampled each
// minute, % of budget) and the share of the budget delivered. Last, the hot-path check's cost.
// Flags: --seed N (default 42), --days N (controller state carried over; last day reported, default 1).
import { parseArgs } from "node:util";
import { pacingSettings } from "../../src/budget/pacing/config.ts";
import { dailyDemandMicros, DEFAULT_MARKET, DIURNAL_TRAFFIC, simulateDay, type SimResult } from "../../src/budget/pacing/simulate.ts";
import { createPacingBuffer, PacingReader, PacingWriter } from "../../src/budget/pacing-shared.ts";
import { makeRng } from "../../src/util/rng.ts";
import { Pacer } from "../../src/budget/pacing/pacer.ts";
import { LIMITS } from "../../src/config/limits.ts";

const { values } = parseArgs({ options: { seed: { type: "string", default: "42" }, days: { type: "string", default: "1" } } });
const seed = Number(values.seed);
const days = Number(values.days);
if (!Number.isSafeInteger(seed) || !(Number.isInteger(days) && days >= 1 && days <= 30)) {
  console.error("usage: bun scripts/bench/pacing.ts [--seed N] [--days 1..30]");
  process.exit(2);
}

const SCENARIOS = [
  { name: "budget far below demand (10%)", ratio: 0.1, shaped: false },
  { name: "budget below demand (50%)", ratio: 0.5, shaped: false },
  { name: "budget below demand (50%), traffic-shaped curve", ratio: 0.5, shaped: true },
  { name: "budget ~= demand (100%), traffic-shaped curve", ratio: 1.0, shaped: true },
  { name: "budget ~= demand (100%), linear curve", ratio: 1.0, shaped: false },
  { name: "budget far above demand (300%)", ratio: 3.0, shaped: false },
];

const demandMicros = dailyDemandMicros(DEFAULT_MARKET);
const usd = (micros: number) => (micros / 1e6).toFixed(2);
const pct = (part: number, whole: number) => ((100 * part) / whole).toFixed(1).padStart(6);

console.log(`pacing bench: seed ${seed}, ${days} day(s), ${DEFAULT_MARKET.opportunitiesPerSec} opportunities/s on average (diurnal, evening 2x), `
  + `bid CPM lognormal(median ${DEFAULT_MARKET.bidMedianCpm}, sigma ${DEFAULT_MARKET.bidSigma}), win rate ${DEFAULT_MARKET.winRate}, second price; `
  + `demand at p = 1: $${usd(demandMicros)}/day; controller step every ${pacingSettings(undefined).intervalMs} ms`);
const summary: string[] = [];
for (const s of SCENARIOS) {
  const budgetMicros = Math.round(demandMicros * s.ratio);
  const settings = { ...pacingSettings(undefined), hourlyShape: s.shaped ? [...DIURNAL_TRAFFIC] : null };
  const even = simulateDay({ mode: "even", budgetMicros, settings, market: DEFAULT_MARKET, seed, days });
  const asap = simulateDay({ mode: "asap", budgetMicros, settings, market: DEFAULT_MARKET, seed, days });
  printTable(s.name, budgetMicros, even, asap);
  summary.push(`${s.name.padEnd(48)} even: RMS ${even.rmsErrorPct.toFixed(2).padStart(6)}%  max ${even.maxErrorPct.toFixed(2).padStart(6)}%  delivered ${even.deliveredPct.toFixed(2).padStart(6)}%`
    + `  |  asap: RMS ${asap.rmsErrorPct.toFixed(2).padStart(6)}%  delivered ${asap.deliveredPct.toFixed(2).padStart(6)}%`);
}
console.log("\nsummary (cumulative-curve error in % of budget, sampled each minute)");
for (const line of summary) console.log(line);
console.log(`\nhot path: PacingReader.shouldBid ${shouldBidNs().toFixed(1)} ns per call (one Atomics.load, one comparison; draw excluded)`);
console.log(`control plane: one Pacer.tick over ${LIMITS.maxCampaigns} campaigns ${tickMs().toFixed(2)} ms (median of 21; books read from an array)`);

function printTable(name: string, budgetMicros: number, even: SimResult, asap: SimResult): void {
  console.log(`\n== ${name}: budget $${usd(budgetMicros)} ==`);
  console.log("hour traffic | cumulative % of budget: target   even   asap | hour's spend $: target    even    asap | even mean p");
  for (let h = 0; h < 24; h++) {
    const e = even.hours[h]!;
    const a = asap.hours[h]!;
    const hourTarget = e.targetMicros - (h === 0 ? 0 : even.hours[h - 1]!.targetMicros);
    console.log(`${String(h).padStart(4)} ${e.traffic.toFixed(2).padStart(7)} | ${" ".repeat(23)}${pct(e.targetMicros, budgetMicros)} ${pct(e.spentMicros, budgetMicros)} ${pct(a.spentMicros, budgetMicros)} | `
      + `${" ".repeat(15)}${usd(hourTarget).padStart(7)} ${usd(e.hourSpentMicros).padStart(7)} ${usd(a.hourSpentMicros).padStart(7)} | ${e.meanP.toFixed(3).padStart(11)}`);
  }
  console.log(`even: RMS error ${even.rmsErrorPct.toFixed(2)}% of budget, max ${even.maxErrorPct.toFixed(2)}%, delivered ${even.deliveredPct.toFixed(2)}%, p in [${even.minP.toFixed(3)}, ${even.maxP.toFixed(3)}]`);
  console.log(`asap: RMS error ${asap.rmsErrorPct.toFixed(2)}% of budget, max ${asap.maxErrorPct.toFixed(2)}%, delivered ${asap.deliveredPct.toFixed(2)}%`);
}

function shouldBidNs(): number {
  const buffer = createPacingBuffer(1024);
  const writer = new PacingWriter(buffer);
  for (let slot = 0; slot < 1024; slot++) writer.set(slot, slot / 1023);
  const reader = new PacingReader(buffer);
  const rng = makeRng(seed);
  const draws = Float64Array.from({ length: 4096 }, () => rng());
  const calls = 5_000_000;
  let yes = 0;
  const started = Bun.nanoseconds();
  for (let i = 0; i < calls; i++) if (reader.shouldBid(i & 1023, draws[i & 4095]!)) yes++;
  const ns = (Bun.nanoseconds() - started) / calls;
  if (yes === 0) throw new Error("unreachable: keeps the loop alive");
  return ns;
}

/** One control step for the largest number of campaigns, with the books a plain array (the budget system's read not included). */
function tickMs(): number {
  const n = LIMITS.maxCampaigns;
  const budget = 86_400_000_000;
  const campaigns = Array.from({ length: n }, (_, slot) => ({ slot, dailyBudgetMicros: budget }));
  const pacer = new Pacer(campaigns, pacingSettings(undefined), new PacingWriter(createPacingBuffer(n)));
  const spent = new Float64Array(n);
  const source = { dayWindow: () => ({ startMs: 0, endMs: 86_400_000 }), spentMicros: (slot: number) => spent[slot]! };
  const times: number[] = [];
  for (let i = 0; i < 21; i++) {
    const nowMs = 3_600_000 + i * 1000;
    for (let slot = 0; slot < n; slot++) spent[slot] = nowMs * 1000 + slot; // on the curve, give or take
    const started = Bun.nanoseconds();
    pacer.tick(nowMs, source);
    times.push((Bun.nanoseconds() - started) / 1e6);
  }
  times.sort((a, b) => a - b);
  return times[10]!;
}
