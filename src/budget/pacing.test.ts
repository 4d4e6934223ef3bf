// The even-pacing controller: tracking on seeded simulated days, the asap baseline, the bounds of p,
// throttling when ahead of the curve, recovery when behind, anti-windup, day rollover.
import { describe, expect, test } from "bun:test";
import { newPacingState, pacingStep, type PacingGains, type PacingInput, type PacingState } from "./pacing.ts";
import { targetCurve } from "./pacing/curve.ts";
import { pacingSettings } from "./pacing/config.ts";
import { dailyDemandMicros, DEFAULT_MARKET, DIURNAL_TRAFFIC, simulateDay, DAY_MS } from "./pacing/simulate.ts";
import { makeRng } from "../util/rng.ts";

const SETTINGS = pacingSettings(undefined);
const GAINS: PacingGains = SETTINGS;
const LINEAR = targetCurve(null);
const DEMAND_MICROS = dailyDemandMicros(DEFAULT_MARKET);
const HOUR_MS = 3_600_000;
/** The bound this controller promises on a seeded day whose demand exceeds its budget (README "Pacing"). */
const RMS_BOUND_PCT = 1;
const MAX_BOUND_PCT = 3;

describe("a simulated day (seeded)", () => {
  for (const seed of [1, 2, 3]) {
    test(`seed ${seed}: budget 30% of demand, linear curve: spend within ${MAX_BOUND_PCT}% of target all day, budget delivered`, () => {
      const r = simulateDay({ mode: "even", budgetMicros: Math.round(DEMAND_MICROS * 0.3), settings: SETTINGS, market: DEFAULT_MARKET, seed });
      expect(r.rmsErrorPct).toBeLessThan(RMS_BOUND_PCT);
      expect(r.maxErrorPct).toBeLessThan(MAX_BOUND_PCT);
      expect(r.deliveredPct).toBeGreaterThan(99);
      expect(r.deliveredPct).toBeLessThanOrEqual(100);
      expect(r.minP).toBeGreaterThanOrEqual(SETTINGS.minParticipation);
    });
  }

  test("a sparse campaign (0.2 opportunities/s: about one win a minute at the p it needs): same bound", () => {
    const market = { ...DEFAULT_MARKET, opportunitiesPerSec: 0.2 };
    const r = simulateDay({ mode: "even", budgetMicros: Math.round(dailyDemandMicros(market) * 0.3), settings: SETTINGS, market, seed: 3 });
    expect(r.rmsErrorPct).toBeLessThan(RMS_BOUND_PCT);
    expect(r.maxErrorPct).toBeLessThan(MAX_BOUND_PCT);
    expect(r.deliveredPct).toBeGreaterThan(99);
  });

  test("budget 60% of demand, curve shaped like the traffic: tracks it as closely", () => {
    const settings = { ...SETTINGS, hourlyShape: [...DIURNAL_TRAFFIC] };
    const r = simulateDay({ mode: "even", budgetMicros: Math.round(DEMAND_MICROS * 0.6), settings, market: DEFAULT_MARKET, seed: 4 });
    expect(r.rmsErrorPct).toBeLessThan(RMS_BOUND_PCT);
    expect(r.maxErrorPct).toBeLessThan(MAX_BOUND_PCT);
    expect(r.deliveredPct).toBeGreaterThan(99);
  });

  test("asap spends at full rate and runs dry early, far off the curve", () => {
    const budgetMicros = Math.round(DEMAND_MICROS * 0.3);
    const asap = simulateDay({ mode: "asap", budgetMicros, settings: SETTINGS, market: DEFAULT_MARKET, seed: 5 });
    const even = simulateDay({ mode: "even", budgetMicros, settings: SETTINGS, market: DEFAULT_MARKET, seed: 5 });
    expect(asap.minP).toBe(1);
    // Hour 0 at p = 1 spends that hour's share of the day's demand (traffic 0.7 of the mean, within noise).
    const hour0DemandMicros = DEMAND_MICROS / 24 * 0.7;
    expect(asap.hours[0]!.hourSpentMicros).toBeGreaterThan(hour0DemandMicros * 0.8);
    expect(asap.hours[0]!.hourSpentMicros).toBeLessThan(hour0DemandMicros * 1.25);
    expect(asap.hours[0]!.hourSpentMicros).toBeGreaterThan(even.hours[0]!.hourSpentMicros * 2); // 0.7 / 0.3 of the curve
    expect(asap.hours[12]!.spentMicros).toBeGreaterThan(budgetMicros * 0.99); // spent before midday
    expect(asap.rmsErrorPct).toBeGreaterThan(10 * even.rmsErrorPct);
  });

  test("budget far above demand: even never throttles, delivers what asap delivers", () => {
    const budgetMicros = DEMAND_MICROS * 3;
    const even = simulateDay({ mode: "even", budgetMicros, settings: SETTINGS, market: DEFAULT_MARKET, seed: 6 });
    const asap = simulateDay({ mode: "asap", budgetMicros, settings: SETTINGS, market: DEFAULT_MARKET, seed: 6 });
    expect(even.minP).toBe(1);
    expect(even.spentMicros).toBe(asap.spentMicros); // same seed, same draws, p = 1 throughout
  });
});

describe("one controller step", () => {
  const budgetMicros = 86_400_000_000; // $86,400: 1,000 micros per ms on the linear curve

  test("p stays in [0, 1] for any input, at or above the floor while budget remains", () => {
    const rng = makeRng(9);
    const state = newPacingState();
    let spent = 0;
    for (let i = 0; i < 20_000; i++) {
      const nowMs = Math.floor(rng() * DAY_MS);
      spent = Math.min(budgetMicros, Math.max(0, spent + Math.floor((rng() - 0.45) * 1e9)));
      const p = pacingStep(state, "even", { nowMs, dayStartMs: 0, dayEndMs: DAY_MS, budgetMicros, spentMicros: spent }, LINEAR, GAINS);
      expect(p).toBeGreaterThanOrEqual(spent < budgetMicros ? GAINS.minParticipation : 0);
      expect(p).toBeLessThanOrEqual(1);
    }
  });

  test("asap is 1 however far ahead of the curve it is", () => {
    const state = newPacingState();
    expect(pacingStep(state, "asap", at(HOUR_MS, budgetMicros, budgetMicros - 1), LINEAR, GAINS)).toBe(1);
  });

  test("a campaign ahead of its curve is throttled, down to the floor", () => {
    const state = onCurve(budgetMicros, 2_000); // full rate 2x the curve's: p near 0.5
    const steady = state.p;
    expect(steady).toBeGreaterThan(0.4);
    expect(steady).toBeLessThan(0.6);
    const tMs = 6 * HOUR_MS + 1000;
    const target = budgetMicros * tMs / DAY_MS;
    const slightly = pacingStep(copy(state), "even", at(tMs, budgetMicros, Math.round(target + 60_000 * 1_000)), LINEAR, GAINS); // 1 min ahead
    expect(slightly).toBeLessThan(steady);
    expect(slightly).toBeGreaterThan(GAINS.minParticipation);
    const far = pacingStep(copy(state), "even", at(tMs, budgetMicros, Math.round(target + 3_600_000 * 1_000)), LINEAR, GAINS); // 1 h ahead
    expect(far).toBe(GAINS.minParticipation);
  });

  test("a campaign behind its curve speeds up, to 1 near the end of the day", () => {
    const state = onCurve(budgetMicros, 2_000);
    const tMs = 6 * HOUR_MS + 1000;
    const target = budgetMicros * tMs / DAY_MS;
    const behind = pacingStep(copy(state), "even", at(tMs, budgetMicros, Math.round(target - 300_000 * 1_000)), LINEAR, GAINS); // 5 min behind
    expect(behind).toBeGreaterThan(state.p);
    expect(behind).toBeLessThan(1);
    // 10 minutes before the day ends with an hour's worth left: catch up at full rate.
    const late = onCurve(budgetMicros, 2_000, DAY_MS - 20 * 60_000);
    const endMs = DAY_MS - 10 * 60_000;
    expect(pacingStep(late, "even", at(endMs, budgetMicros, Math.round(budgetMicros * (endMs - HOUR_MS) / DAY_MS)), LINEAR, GAINS)).toBe(1);
  });

  test("anti-windup: no integral builds up while p is pinned at 1 behind the curve", () => {
    const state = newPacingState();
    let spent = 0;
    for (let t = 0; t < 4 * HOUR_MS; t += 1000) {
      expect(pacingStep(state, "even", at(t, budgetMicros, spent), LINEAR, GAINS)).toBe(1);
      spent += 500_000; // half the curve's rate at p = 1: demand-limited
    }
    expect(state.errorMicros).toBeGreaterThan(0);
    expect(state.integralMicrosMs).toBe(0);
  });

  test("budget spent: p is 0; a new day clears the integral and starts over", () => {
    const state = onCurve(budgetMicros, 2_000);
    expect(pacingStep(state, "even", at(7 * HOUR_MS, budgetMicros, budgetMicros), LINEAR, GAINS)).toBe(0);
    state.integralMicrosMs = 123;
    const p = pacingStep(state, "even", { nowMs: DAY_MS + 1000, dayStartMs: DAY_MS, dayEndMs: 2 * DAY_MS, budgetMicros, spentMicros: 0 }, LINEAR, GAINS);
    expect(state.integralMicrosMs).toBe(0);
    expect(p).toBeGreaterThan(0);
  });

  test("money must be integer micros", () => {
    expect(() => pacingStep(newPacingState(), "even", at(0, budgetMicros, 1.5), LINEAR, GAINS)).toThrow(RangeError);
  });
});

describe("target curve", () => {
  test("linear, and shaped by hourly weights", async () => {
    const { curveFraction, curveSlope } = await import("./pacing/curve.ts");
    expect(curveFraction(LINEAR, 0.5)).toBeCloseTo(0.5, 12);
    expect(curveSlope(LINEAR, 0.9)).toBeCloseTo(1, 12);
    const night = targetCurve([0, ...new Array<number>(23).fill(1)]);
    expect(curveFraction(night, 1 / 24)).toBe(0);
    expect(curveFraction(night, 1)).toBe(1);
    expect(curveSlope(night, 0.5)).toBeCloseTo(24 / 23, 12);
    expect(() => targetCurve(new Array<number>(24).fill(0))).toThrow(RangeError);
  });
});

function at(nowMs: number, budgetMicros: number, spentMicros: number): PacingInput {
  return { nowMs, dayStartMs: 0, dayEndMs: DAY_MS, budgetMicros, spentMicros };
}

/** A state that has tracked the linear curve exactly for an hour up to `untilMs`, with a full rate of `fullRate` micros/ms. */
function onCurve(budgetMicros: number, fullRate: number, untilMs = 6 * HOUR_MS): PacingState {
  const state = newPacingState();
  for (let t = untilMs - HOUR_MS; t <= untilMs; t += 1000) {
    const spent = Math.round(budgetMicros * t / DAY_MS);
    pacingStep(state, "even", at(t, budgetMicros, spent), LINEAR, GAINS);
    // What the exposure would have produced: keep the estimator's ratio at fullRate.
    state.spendEwmaMicros = state.exposureEwmaMs * fullRate;
  }
  return state;
}

function copy(state: PacingState): PacingState {
  return { ...state };
}
