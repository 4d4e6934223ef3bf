// Per-exchange rate limits shared by all workers: one GCRA cell (the token bucket's "theoretical
// arrival time", microseconds of wall-clock time) per configured exchange, plus one for unknown
// exchanges, in a SharedArrayBuffer updated with Atomics.compareExchange, so N workers share one
// limit instead of multiplying it. A request is admitted when, after adding one emission interval
// (1 / ratePerSec), the bucket is at most `burst` intervals ahead of now.
import type { RateLimitRule, RateLimitSettings } from "./config.ts";

/** A request's exchange: the configured header's value, looked up among the rules. */
export interface RateVerdict { rule: RateLimitRule; exchange: number }

const CAS_ATTEMPTS = 64;

export class SharedRateLimiter {
  private readonly cells: BigInt64Array;
  private readonly byId: Map<string, number>;
  private readonly intervalUs: number[];

  constructor(readonly settings: RateLimitSettings, buffer: SharedArrayBuffer) {
    this.cells = new BigInt64Array(buffer);
    this.byId = new Map(settings.exchanges.map((e, i) => [e.id, i]));
    this.intervalUs = [...settings.exchanges, settings.unknown].map((r) => (r === null ? 0 : 1e6 / r.ratePerSec));
  }

  static allocate(settings: RateLimitSettings | null): SharedArrayBuffer {
    return new SharedArrayBuffer(8 * ((settings?.exchanges.length ?? 0) + 1));
  }

  /** The rule that refuses this request now, or null when it may pass (or no rule applies). */
  refuse(exchangeId: string | null, nowUs = wallClockUs()): RateVerdict | null {
    const known = exchangeId === null ? undefined : this.byId.get(exchangeId);
    const slot = known ?? this.settings.exchanges.length;
    const rule = known === undefined ? this.settings.unknown : this.settings.exchanges[known]!;
    if (rule === null) return null;
    return this.take(slot, rule, nowUs) ? null : { rule, exchange: known ?? -1 };
  }

  private take(slot: number, rule: RateLimitRule, nowUs: number): boolean {
    const interval = this.intervalUs[slot]!;
    const limit = rule.burst * interval;
    for (let attempt = 0; attempt < CAS_ATTEMPTS; attempt++) {
      const tat = Atomics.load(this.cells, slot);
      const next = Math.max(Number(tat), nowUs) + interval;
      if (next - nowUs > limit) return false;
      if (Atomics.compareExchange(this.cells, slot, tat, BigInt(Math.round(next))) === tat) return true;
    }
    return false; // heavy contention on one bucket: refusing is the safe side
  }
}

/** Wall-clock microseconds, comparable across worker threads (each has its own timeOrigin). */
export function wallClockUs(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}
