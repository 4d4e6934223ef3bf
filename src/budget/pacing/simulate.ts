// A simulated day for one campaign under a pacing mode: diurnal traffic, random bid prices and
// wins, a hard budget (as the auction kernel enforces it), and the controller stepping every
// intervalMs through the real shared buffer. Used by the tests and `npm run bench:pacing`.
import { makeRng, type Rng } from "../../util/rng.ts";
import { newPacingState, pacingStep, type PacingMode } from "../pacing.ts";
import { createPacingBuffer, PacingReader, PacingWriter } from "../pacing-shared.ts";
import { curveFraction, targetCurve } from "./curve.ts";
import type { PacingSettings } from "./config.ts";

export const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

/** Relative opportunities per hour of day: a night low, a 2x evening peak (the spec's seasonality). */
export const DIURNAL_TRAFFIC = [
  0.7, 0.55, 0.45, 0.4, 0.4, 0.45, 0.6, 0.8, 0.95, 1.0, 1.05, 1.1,
  1.15, 1.1, 1.05, 1.05, 1.1, 1.2, 1.4, 1.6, 1.75, 1.7, 1.4, 1.0,
];

export interface SimMarket {
  /** Mean eligible opportunities per second over the day (traffic shape averages 1). */
  opportunitiesPerSec: number;
  /** Relative traffic per hour (24 entries). */
  traffic: readonly number[];
  /** Bid CPM: lognormal with this median and log-sigma. */
  bidMedianCpm: number;
  bidSigma: number;
  winRate: number;
}

export const DEFAULT_MARKET: SimMarket = { opportunitiesPerSec: 10, traffic: DIURNAL_TRAFFIC, bidMedianCpm: 2, bidSigma: 0.5, winRate: 0.25 };

export interface SimDay {
  mode: PacingMode;
  budgetMicros: number;
  settings: PacingSettings;
  market: SimMarket;
  seed: number;
  /** Days simulated back to back (the controller state carries over); the last one is reported. */
  days?: number;
}

export interface SimResult {
  /** Per hour of the reported day: target and actual cumulative spend at the hour's end, and spend within it. */
  hours: Array<{ hour: number; traffic: number; targetMicros: number; spentMicros: number; hourSpentMicros: number; meanP: number }>;
  /** RMS and max |spent - target| of the cumulative curve, sampled each minute, in % of budget. */
  rmsErrorPct: number;
  maxErrorPct: number;
  deliveredPct: number;
  spentMicros: number;
  minP: number;
  maxP: number;
}

/** Expected spend per day at p = 1 with an unlimited budget (integer micros). */
export function dailyDemandMicros(market: SimMarket): number {
  const meanTraffic = market.traffic.reduce((a, b) => a + b, 0) / market.traffic.length;
  const meanBidMicros = market.bidMedianCpm * Math.exp(market.bidSigma ** 2 / 2) * 1000;
  return Math.round(market.opportunitiesPerSec * meanTraffic * 86_400 * market.winRate * meanBidMicros * CLEARING_MEAN);
}

const CLEARING_MEAN = 0.75; // second price: clearing is 50..100% of the bid

export function simulateDay(sim: SimDay): SimResult {
  const rng = makeRng(sim.seed);
  const buffer = createPacingBuffer(1);
  const writer = new PacingWriter(buffer);
  const reader = new PacingReader(buffer);
  const curve = targetCurve(sim.settings.hourlyShape);
  const state = newPacingState();
  const stepMs = sim.settings.intervalMs;
  const days = sim.days ?? 1;
  let result: SimResult | null = null;
  for (let day = 0; day < days; day++) {
    const dayStartMs = day * DAY_MS;
    const acc = newAccumulator();
    let spent = 0;
    let pSum = 0;
    let pSteps = 0;
    for (let t = 0; t < DAY_MS; t += stepMs) {
      const p = pacingStep(state, sim.mode, { nowMs: dayStartMs + t, dayStartMs, dayEndMs: dayStartMs + DAY_MS, budgetMicros: sim.budgetMicros, spentMicros: spent }, curve, sim.settings);
      writer.set(0, p);
      acc.minP = Math.min(acc.minP, p);
      acc.maxP = Math.max(acc.maxP, p);
      pSum += p;
      pSteps++;
      spent += stepSpend(rng, reader, sim.market, t, stepMs, sim.budgetMicros - spent);
      const end = t + stepMs;
      if (end % MINUTE_MS === 0) acc.sampleError(spent - Math.floor(sim.budgetMicros * curveFraction(curve, end / DAY_MS)), sim.budgetMicros);
      if (end % HOUR_MS === 0) {
        acc.hour(end / HOUR_MS - 1, sim.market.traffic, Math.floor(sim.budgetMicros * curveFraction(curve, end / DAY_MS)), spent, pSum / pSteps);
        pSum = 0;
        pSteps = 0;
      }
    }
    result = acc.result(spent, sim.budgetMicros);
  }
  return result!;
}

/** Spend of one control interval: Poisson opportunities, each bid only if the reader says so. */
function stepSpend(rng: Rng, reader: PacingReader, market: SimMarket, tMs: number, stepMs: number, leftMicros: number): number {
  const n = poisson(rng, market.opportunitiesPerSec * trafficAt(market.traffic, tMs) * stepMs / 1000);
  let spent = 0;
  for (let i = 0; i < n; i++) {
    if (!reader.shouldBid(0, rng())) continue;
    if (rng() >= market.winRate) continue;
    const bidMicros = market.bidMedianCpm * Math.exp(market.bidSigma * gaussian(rng)) * 1000;
    const costMicros = Math.round(bidMicros * (0.5 + 0.5 * rng()));
    if (costMicros <= leftMicros - spent) spent += costMicros; // the kernel never reserves past the budget
  }
  return spent;
}

/** Relative traffic at a time of day, interpolated between hour midpoints (no steps at the hour). */
export function trafficAt(traffic: readonly number[], tMs: number): number {
  const x = tMs / HOUR_MS - 0.5;
  const h0 = Math.floor(x);
  const f = x - h0;
  const a = traffic[(h0 + 24) % 24]!;
  const b = traffic[(h0 + 25) % 24]!;
  return a + (b - a) * f;
}

function poisson(rng: Rng, mean: number): number {
  if (mean > 500) return Math.max(0, Math.round(mean + Math.sqrt(mean) * gaussian(rng)));
  const limit = Math.exp(-mean);
  let k = 0;
  let prod = rng();
  while (prod > limit) {
    k++;
    prod *= rng();
  }
  return k;
}

function gaussian(rng: Rng): number {
  const u = 1 - rng();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rng());
}

function newAccumulator() {
  const hours: SimResult["hours"] = [];
  let sumSq = 0;
  let samples = 0;
  let maxAbs = 0;
  let lastSpent = 0;
  return {
    minP: 1,
    maxP: 0,
    sampleError(errorMicros: number, budgetMicros: number) {
      const pct = budgetMicros > 0 ? (100 * errorMicros) / budgetMicros : 0;
      sumSq += pct * pct;
      samples++;
      maxAbs = Math.max(maxAbs, Math.abs(pct));
    },
    hour(hour: number, traffic: readonly number[], targetMicros: number, spentMicros: number, meanP: number) {
      hours.push({ hour, traffic: traffic[hour]!, targetMicros, spentMicros, hourSpentMicros: spentMicros - lastSpent, meanP });
      lastSpent = spentMicros;
    },
    result(this: { minP: number; maxP: number }, spentMicros: number, budgetMicros: number): SimResult {
      return {
        hours, rmsErrorPct: Math.sqrt(sumSq / Math.max(1, samples)), maxErrorPct: maxAbs,
        deliveredPct: budgetMicros > 0 ? (100 * spentMicros) / budgetMicros : 0, spentMicros, minP: this.minP, maxP: this.maxP,
      };
    },
  };
}
