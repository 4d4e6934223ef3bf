// One worker's adaptive concurrency limit (AIMD on internal-processing time). A request arriving
// with `current` auctions already running is answered 204 before its body is parsed (stage.ts).
//
// Every control period (OVERLOAD_LIMITS.limitPeriodMs):
//   over     = share of the auctions finished in the period whose internal processing took longer
//              than overload.internalTargetMs (their total minus the DSP window; see auction.ts)
//   over > 1% (the period's p99 is above target), or sustained event-loop lag above its high mark:
//              limit = limit * (1 - clamp(over, limitMinDecrease, limitMaxDecrease))   decrease, in
//              proportion to how far over; then one period without a decrease (the auctions that
//              finish next were admitted under the old limit). A mild over (at most
//              limitSevereOverShare) cuts only when the period before was over too: on a shared box
//              one stall (a GC pause, a neighbour's burst) makes a lone period look overloaded, and
//              cutting for each left the limit well below what the CPU could serve.
//   else, if the limit was reached (a request refused, or peak in flight >= limitBindingShare of it)
//   and the period's p99 has headroom (at most 1% over limitGrowHeadroom x the target):
//              limit = limit + max(1, limit * limitIncreaseShare)                        probe upwards
//   (between the two marks it holds: growing right up to the target would make the limit saw-tooth
//   through it, and each tooth is a burst of late answers), and only while at most limitStarvedShare of
//   the period's auctions heard from no DSP in time (every DSP called timed out): the DSPs are at their
//   own limit, and more auctions would only be more timeouts (internal time, which leaves out the DSP
//   window, cannot see it; seen in the overload chaos run, whose DSP simulators share the box: the
//   limit grew on quick house-ad answers until 65% of the auctions got no bid in time, and the box stalled)
// held within [overload.minInFlight, overload.maxInFlight]. So the limit settles just where the
// worker still finishes its own work within target: where DSP waits dominate (I/O-bound) it grows
// far above what the CPU-bound case allows, and a static size fits no machine.
import { OVERLOAD_LIMITS as L } from "./limits.ts";
import { clamp } from "../util/clamp.ts";

export interface LimitSettings { minInFlight: number; maxInFlight: number; initialInFlight: number; internalTargetMs: number; lagHighMs: number }

export class AdaptiveLimit {
  /** Whole auctions allowed in flight now. */
  current: number;
  /** Whether the limit was reached in the last period (a request refused, or nearly full). */
  reached = false;
  private limit: number;
  private samples = 0;
  private over = 0;
  private overHeadroom = 0;
  private peakInFlight = 0;
  private refused = 0;
  private starved = 0;
  private periodStartMs = -1;
  private cooling = false;
  /** The previous period was mildly over target (a mild over cuts only when it persists). */
  private mildBefore = false;

  constructor(private readonly s: LimitSettings) {
    this.limit = clamp(s.initialInFlight, s.minInFlight, s.maxInFlight);
    this.current = Math.floor(this.limit);
  }

  /** One auction's internal processing time (ms). */
  record(internalMs: number): void {
    this.samples++;
    if (internalMs > this.s.internalTargetMs * L.limitGrowHeadroom) {
      this.overHeadroom++;
      if (internalMs > this.s.internalTargetMs) this.over++;
    }
  }

  /** An auction whose every DSP timed out (recorded next to its internal time). */
  recordStarved(): void {
    this.starved++;
  }

  /** A request was refused because the limit was reached. */
  refuse(): void {
    this.refused++;
  }

  /** Called every guard tick; adapts once per period. Returns the limit. */
  tick(nowMs: number, inFlight: number, lagMs: number): number {
    if (inFlight > this.peakInFlight) this.peakInFlight = inFlight;
    if (this.periodStartMs < 0) this.periodStartMs = nowMs;
    if (nowMs - this.periodStartMs < L.limitPeriodMs) return this.current;
    this.adapt(lagMs);
    this.periodStartMs = nowMs;
    this.samples = this.over = this.overHeadroom = this.peakInFlight = this.refused = this.starved = 0;
    return this.current;
  }

  private adapt(lagMs: number): void {
    this.reached = this.refused > 0 || this.peakInFlight >= this.limit * L.limitBindingShare;
    const overShare = this.samples >= L.limitMinSamples ? this.over / this.samples : 0;
    const lagging = lagMs > this.s.lagHighMs;
    const over = overShare > L.limitOverShare;
    const mild = over && !lagging && overShare <= L.limitSevereOverShare;
    const overloaded = (over && (!mild || this.mildBefore)) || lagging;
    this.mildBefore = mild;
    if (overloaded && !this.cooling) {
      const cut = clamp(Math.max(overShare, lagging ? L.limitMaxDecrease : 0), L.limitMinDecrease, L.limitMaxDecrease);
      this.limit = Math.max(this.s.minInFlight, this.limit * (1 - cut));
      this.cooling = true;
    } else {
      this.cooling = false;
      const headroom = this.samples >= L.limitMinSamples && this.overHeadroom / this.samples <= L.limitOverShare;
      const dspsKeepUp = this.starved <= this.samples * L.limitStarvedShare;
      if (!over && !lagging && this.reached && headroom && dspsKeepUp) {
        this.limit = Math.min(this.s.maxInFlight, this.limit + Math.max(1, this.limit * L.limitIncreaseShare));
      }
    }
    this.current = Math.floor(this.limit);
  }
}
