// The fast signals of one worker's load, each cheap enough to read every tick:
// - event-loop lag: a timer-drift probe (how late the controller's own tick fires);
// - internal-processing p99 over a sliding window (a ring of the newest durations, max age bounded);
// in-flight requests and the outbox's pending bytes are read where they live (see guard.ts).
import { OVERLOAD_LIMITS } from "./limits.ts";
import type { SignalRange } from "./config.ts";

/** Where `value` sits in [low, high], clamped to 0..1. */
export function normalized(value: number, range: SignalRange): number {
  if (value <= range.low) return 0;
  if (value >= range.high) return 1;
  return (value - range.low) / (range.high - range.low);
}

/**
 * Event-loop lag from timer drift: call `tick(now)` from a timer expected every `periodMs`. Returns
 * the smallest lateness of the last `span` ticks: a loop that stays busy is late on every tick and
 * reads as lag within `span` ticks, while one stall (a GC pause, the machine's other tenants) makes
 * only one tick late and reads as none.
 */
export class LagProbe {
  private expectedAt = -1;
  private readonly recent: Float64Array;
  private next = 0;
  /** The sustained lateness in ms (0 when on time). */
  lagMs = 0;

  constructor(private readonly periodMs: number, span: number = OVERLOAD_LIMITS.lagSpanTicks) {
    this.recent = new Float64Array(span);
  }

  tick(nowMs: number): number {
    const late = this.expectedAt < 0 ? 0 : Math.max(0, nowMs - this.expectedAt);
    this.expectedAt = nowMs + this.periodMs;
    this.recent[this.next] = late;
    this.next = (this.next + 1) % this.recent.length;
    let min = Infinity;
    for (let i = 0; i < this.recent.length; i++) if (this.recent[i]! < min) min = this.recent[i]!;
    this.lagMs = min;
    return min;
  }
}

/**
 * p99 of the durations recorded within the last `windowMs` (at most `capacity` of them), no
 * allocation; 0 with fewer than `minSamples` (too few to say anything).
 */
export class SlidingP99 {
  private readonly values: Float64Array;
  private readonly times: Float64Array;
  private readonly scratch: Float64Array;
  private next = 0;
  private size = 0;

  constructor(
    readonly capacity = OVERLOAD_LIMITS.internalWindowSamples, readonly windowMs: number = OVERLOAD_LIMITS.internalWindowMs,
    readonly minSamples: number = OVERLOAD_LIMITS.internalMinSamples,
  ) {
    this.values = new Float64Array(capacity);
    this.times = new Float64Array(capacity);
    this.scratch = new Float64Array(capacity);
  }

  record(durationMs: number, nowMs: number): void {
    this.values[this.next] = durationMs;
    this.times[this.next] = nowMs;
    this.next = (this.next + 1) % this.capacity;
    if (this.size < this.capacity) this.size++;
  }

  /** The 99th percentile of recent samples; 0 with none. */
  p99(nowMs: number): number {
    let n = 0;
    const oldest = nowMs - this.windowMs;
    for (let i = 0; i < this.size; i++) {
      if (this.times[i]! >= oldest) this.scratch[n++] = this.values[i]!;
    }
    if (n === 0 || n < this.minSamples) return 0;
    const recent = this.scratch.subarray(0, n).sort();
    return recent[Math.min(n - 1, Math.ceil(n * 0.99) - 1)]!;
  }
}
