// Even pacing: one campaign's participation probability p in [0, 1], recomputed by the control plane
// every `pacing.intervalMs`, so that cumulative spend tracks a target curve through the campaign's
// day (README "Pacing" has the derivation). Pure: no clock, no I/O; the caller passes the time,
// window and books, and keeps one PacingState per campaign.
//
//   e      = target(t) - spent                       micros behind the curve (< 0: ahead)
//   u      = target'(t) + e / min(Tc, time left) + (integral of e dt) / (Tc * Ti)   wanted spend rate
//   r      = EWMA(spend) / EWMA(p * dt)              estimated spend rate at p = 1
//   p      = clamp(u / r, pMin, 1)                    0 once the budget is spent; asap: always 1
//
// Dividing by r schedules the gain: the loop behaves the same for a campaign whose demand is 10x its
// budget and one whose demand barely reaches it, and through the day's 2x traffic swings.
import { curveFraction, curveSlope, type TargetCurve } from "./pacing/curve.ts";
import { PACING_LIMITS } from "./pacing/limits.ts";

export type PacingMode = "even" | "asap";

export interface PacingGains {
  /** Floor of p while budget remains (0..1). */
  minParticipation: number;
  /** Proportional horizon Tc (ms): a gap is closed over about this long. */
  catchUpMs: number;
  /** Integral time Ti (ms). */
  integralMs: number;
  /** Time constant of the full-rate estimate (ms). */
  rateWindowMs: number;
}

export interface PacingInput {
  nowMs: number;
  /** The campaign's current day: [dayStartMs, dayEndMs), from its time zone. */
  dayStartMs: number;
  dayEndMs: number;
  budgetMicros: number;
  /** Committed + reserved today (integer micros). */
  spentMicros: number;
}

export interface PacingState {
  dayStartMs: number;
  lastNowMs: number;
  lastSpentMicros: number;
  /** Time since the step before (0 on a day's first step). */
  lastStepDtMs: number;
  /** The probability published by the last step (in force until the next one). */
  p: number;
  /** Exponentially weighted spend (micros) and exposure (p * ms): their ratio is the full-rate estimate. */
  spendEwmaMicros: number;
  exposureEwmaMs: number;
  /** Integral of the error over time (micros * ms), clamped (anti-windup). */
  integralMicrosMs: number;
  /** Last step's target and error, for status pages. */
  targetMicros: number;
  errorMicros: number;
}

/** A fresh state: p = 1 until the first step (the shared slots start at 1 too). */
export function newPacingState(): PacingState {
  return {
    dayStartMs: NaN, lastNowMs: NaN, lastSpentMicros: 0, lastStepDtMs: 0, p: 1,
    spendEwmaMicros: 0, exposureEwmaMs: 0, integralMicrosMs: 0, targetMicros: 0, errorMicros: 0,
  };
}

/** One control step: updates `state` and returns the new p (also in state.p). */
export function pacingStep(state: PacingState, mode: PacingMode, input: PacingInput, curve: TargetCurve, gains: PacingGains): number {
  checkInput(input);
  if (state.dayStartMs !== input.dayStartMs) startDay(state, input);
  else observe(state, input, gains.rateWindowMs);
  const dayMs = input.dayEndMs - input.dayStartMs;
  const x = (input.nowMs - input.dayStartMs) / dayMs;
  state.targetMicros = Math.floor(input.budgetMicros * curveFraction(curve, x));
  state.errorMicros = state.targetMicros - input.spentMicros;
  state.p = mode === "asap" ? 1 : evenP(state, input, curve, gains, x, dayMs);
  return state.p;
}

/** Spend rate at p = 1 in micros per ms, NaN before anything was observed. */
export function fullRateMicrosPerMs(state: PacingState): number {
  return state.exposureEwmaMs > 0 ? state.spendEwmaMicros / state.exposureEwmaMs : NaN;
}

function evenP(state: PacingState, input: PacingInput, curve: TargetCurve, gains: PacingGains, x: number, dayMs: number): number {
  if (input.spentMicros >= input.budgetMicros) return 0;
  const e = state.errorMicros;
  const horizonMs = Math.max(1, Math.min(gains.catchUpMs, input.dayEndMs - input.nowMs));
  const curveRate = input.budgetMicros * curveSlope(curve, x) / dayMs;
  const wanted = curveRate + e / horizonMs + state.integralMicrosMs / (gains.catchUpMs * gains.integralMs);
  const rate = fullRateMicrosPerMs(state);
  const raw = wanted <= 0 ? 0 : rate > 0 ? wanted / rate : 1; // nothing seen yet, or nothing at p = 1: go full
  integrate(state, input, gains, raw, dayMs);
  return Math.min(1, Math.max(gains.minParticipation, raw));
}

/**
 * Conditional integration (anti-windup): the error is not integrated while p is pinned at 1 and
 * behind, or at the floor and ahead, since the integral could not act there and would only
 * overshoot later. Its contribution is also clamped to +-maxIntegralRateRatio x the average rate.
 */
function integrate(state: PacingState, input: PacingInput, gains: PacingGains, raw: number, dayMs: number): void {
  const e = state.errorMicros;
  const saturated = (raw >= 1 && e > 0) || (raw <= gains.minParticipation && e < 0);
  const dtMs = state.lastStepDtMs;
  if (!saturated && dtMs > 0) state.integralMicrosMs += e * dtMs;
  const bound = PACING_LIMITS.maxIntegralRateRatio * (input.budgetMicros / dayMs) * gains.catchUpMs * gains.integralMs;
  state.integralMicrosMs = Math.min(bound, Math.max(-bound, state.integralMicrosMs));
}

/** Feeds the spend since the last step into the full-rate estimate (the p then in force was state.p). */
function observe(state: PacingState, input: PacingInput, rateWindowMs: number): void {
  const dtMs = input.nowMs - state.lastNowMs;
  state.lastStepDtMs = dtMs > 0 ? dtMs : 0;
  if (!(dtMs > 0)) return; // a repeated or backward tick: its spend counts in the next interval
  const decay = Math.exp(-dtMs / rateWindowMs);
  const spent = Math.max(0, input.spentMicros - state.lastSpentMicros); // a loss notice's release is not negative demand
  state.spendEwmaMicros = state.spendEwmaMicros * decay + spent;
  state.exposureEwmaMs = state.exposureEwmaMs * decay + state.p * dtMs;
  state.lastNowMs = input.nowMs;
  state.lastSpentMicros = input.spentMicros;
}

/** A new day: the books start over, the error integral too; the full-rate estimate carries over. */
function startDay(state: PacingState, input: PacingInput): void {
  state.dayStartMs = input.dayStartMs;
  state.lastNowMs = input.nowMs;
  state.lastSpentMicros = input.spentMicros;
  state.lastStepDtMs = 0;
  state.integralMicrosMs = 0;
}

function checkInput(input: PacingInput): void {
  const { nowMs, dayStartMs, dayEndMs, budgetMicros, spentMicros } = input;
  if (!(Number.isFinite(nowMs) && Number.isFinite(dayStartMs) && dayEndMs > dayStartMs)) {
    throw new RangeError(`pacing: bad day window [${dayStartMs}, ${dayEndMs}) at ${nowMs}`);
  }
  if (!(Number.isSafeInteger(budgetMicros) && budgetMicros >= 0 && Number.isSafeInteger(spentMicros) && spentMicros >= 0)) {
    throw new RangeError(`pacing: budget and spend must be non-negative integer micros, got ${budgetMicros} / ${spentMicros}`);
  }
}
