// Bounds and defaults of the pacing controller (src/budget/pacing.ts), named once. Config may choose
// values inside these bounds (src/budget/pacing/config.ts), never outside.

export const PACING_LIMITS = {
  /** Shortest / longest control interval: how often p is recomputed for every campaign. */
  minIntervalMs: 100,
  maxIntervalMs: 60_000,
  /** Time constants (catch-up, integral, rate estimate) may be set from 1 s to 24 h. */
  minTimeConstantMs: 1_000,
  maxTimeConstantMs: 86_400_000,
  /** Hours in a traffic-shape curve (one weight per hour of the campaign's day). */
  shapeHours: 24,
  /** Largest weight of one hour in a shape curve (weights are relative, so this is a sanity bound). */
  maxShapeWeight: 1_000_000,
  /** The integral term may add or remove at most this many times the curve's own rate (anti-windup clamp). */
  maxIntegralRateRatio: 1,
} as const;

export const PACING_DEFAULTS = {
  intervalMs: 1_000,
  /** p never drops below this while budget remains: a campaign ahead of its curve still bids a little. */
  minParticipation: 0.01,
  /** Proportional horizon: a gap to the curve is closed over about this long (shrinks to the time left). */
  catchUpMs: 900_000,
  /** Integral time: with integralMs >= 4 * catchUpMs the loop is (at least) critically damped. */
  integralMs: 3_600_000,
  /** Window of the full-rate spend estimate (exponentially weighted). */
  rateWindowMs: 600_000,
} as const;
