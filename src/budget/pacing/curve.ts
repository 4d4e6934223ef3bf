// The target spend curve of a campaign's day: the fraction of the daily budget that should be spent
// by a given point of the day. Linear by default; with a 24-entry hourly traffic shape the curve
// rises in proportion to each hour's weight (piecewise linear within an hour). Hours are 1/24 of the
// campaign's day window, so a 23- or 25-hour day (a DST change) stretches them evenly.
import { PACING_LIMITS } from "./limits.ts";
import { clamp01 } from "../../util/clamp.ts";

export interface TargetCurve {
  /** Cumulative fraction at the start of each hour, 25 entries from 0 to 1. */
  readonly cumulative: Float64Array;
}

const HOURS = PACING_LIMITS.shapeHours;

/** A curve from hourly weights (any non-negative numbers with a positive sum), or linear for null. */
export function targetCurve(hourlyShape: readonly number[] | null): TargetCurve {
  const weights = hourlyShape ?? new Array<number>(HOURS).fill(1);
  if (weights.length !== HOURS) throw new RangeError(`hourly shape needs ${HOURS} weights, got ${weights.length}`);
  let sum = 0;
  for (const w of weights) {
    if (!(Number.isFinite(w) && w >= 0)) throw new RangeError(`hourly shape weight must be a finite number >= 0, got ${w}`);
    sum += w;
  }
  if (!(sum > 0)) throw new RangeError("hourly shape weights must not all be 0");
  const cumulative = new Float64Array(HOURS + 1);
  for (let h = 0; h < HOURS; h++) cumulative[h + 1] = cumulative[h]! + weights[h]! / sum;
  cumulative[HOURS] = 1;
  return { cumulative };
}

/** Fraction of the budget the curve wants spent at `dayFraction` (0 = day start, 1 = day end). */
export function curveFraction(curve: TargetCurve, dayFraction: number): number {
  const x = clamp01(dayFraction) * HOURS;
  const h = Math.min(HOURS - 1, Math.floor(x));
  const c = curve.cumulative;
  return c[h]! + (c[h + 1]! - c[h]!) * (x - h);
}

/** The curve's slope at `dayFraction`: fraction of the budget per unit of day fraction. */
export function curveSlope(curve: TargetCurve, dayFraction: number): number {
  const h = Math.min(HOURS - 1, Math.floor(clamp01(dayFraction) * HOURS));
  return (curve.cumulative[h + 1]! - curve.cumulative[h]!) * HOURS;
}
