// Which DSPs a pressured worker still calls. Per DSP it keeps moving averages of the answer latency
// (a timeout counts as the time waited) and of the bid rate (answers carrying a bid). Each tick:
// - no pressure: every DSP (the breaker alone decides);
// - pressure >= slowSkipPressure (0.4): DSPs whose average latency is at least slowDspShare of the effective deadline are
//   skipped ("slow": they would mostly time out anyway);
// - pressure >= overload.heavyPressure: only the top overload.topDsps by bid rate per ms of latency.
// A skipped DSP still gets one call in dspProbeEvery so its averages can recover. Never skips all.
import { OVERLOAD_LIMITS as L } from "./limits.ts";
import type { OverloadCells } from "./metrics.ts";

/** What the fan-out asks before calling a DSP and tells after (src/dsp/fanout.ts). */
export interface FanoutObserver {
  allows(dsp: number): boolean;
  observe(dsp: number, bid: boolean, latencyMs: number): void;
  /** Was a DSP told `toldMs` (its own timeout `dspTimeoutMs`) because the guard cut the deadline? */
  shortened(toldMs: number, dspTimeoutMs: number): boolean;
}

const ALLOWED = 0, SLOW = 1, NOT_TOP = 2;

export class DspSelector implements FanoutObserver {
  readonly latencyMs: Float64Array;
  readonly bidRate: Float64Array;
  private readonly seen: Uint32Array;
  private readonly verdict: Uint8Array;
  private readonly skips: Uint32Array;
  private readonly order: number[];

  constructor(readonly dspCount: number, private readonly topDsps: number, private readonly heavyPressure: number, private readonly cells?: OverloadCells) {
    this.latencyMs = new Float64Array(dspCount);
    this.bidRate = new Float64Array(dspCount);
    this.seen = new Uint32Array(dspCount);
    this.verdict = new Uint8Array(dspCount);
    this.skips = new Uint32Array(dspCount);
    this.order = Array.from({ length: dspCount }, (_, i) => i);
  }

  observe(dsp: number, bid: boolean, latencyMs: number): void {
    const w = this.seen[dsp] === 0 ? 1 : L.dspStatsWeight;
    this.latencyMs[dsp] = this.latencyMs[dsp]! + (latencyMs - this.latencyMs[dsp]!) * w;
    this.bidRate[dsp] = this.bidRate[dsp]! + ((bid ? 1 : 0) - this.bidRate[dsp]!) * w;
    if (this.seen[dsp]! < 0xffffffff) this.seen[dsp]!++;
  }

  /** Set by the guard each tick: the effective DSP deadline is below auction.dspTimeoutMs. */
  cutting = false;

  shortened(toldMs: number, dspTimeoutMs: number): boolean {
    return this.cutting && toldMs < dspTimeoutMs;
  }

  allows(dsp: number): boolean {
    const why = this.verdict[dsp]!;
    if (why === ALLOWED) return true;
    if (++this.skips[dsp]! % L.dspProbeEvery === 0) return true;
    this.cells?.dspSkipped(dsp, why === SLOW ? "slow" : "not_top");
    return false;
  }

  /** Recomputes who is called, for the current pressure and effective deadline (once per tick). */
  refresh(pressure: number, dspTimeoutMs: number): void {
    this.verdict.fill(ALLOWED);
    if (pressure < L.slowSkipPressure) return;
    let fast = 0;
    for (let i = 0; i < this.dspCount; i++) {
      if (this.seen[i]! > 0 && this.latencyMs[i]! >= L.slowDspShare * dspTimeoutMs) this.verdict[i] = SLOW;
      else fast++;
    }
    const heavy = pressure >= this.heavyPressure;
    if (fast > 0 && !heavy) return;
    this.order.sort((a, b) => this.score(b) - this.score(a));
    if (fast === 0) this.verdict[this.order[0]!] = ALLOWED; // all slow: keep the best one
    if (!heavy) return;
    let kept = 0;
    for (const i of this.order) {
      if (this.verdict[i] !== ALLOWED) continue;
      if (kept < this.topDsps) kept++;
      else this.verdict[i] = NOT_TOP;
    }
  }

  /** Bids per ms waited; an unseen DSP ranks first (optimistic until it has answered). */
  score(dsp: number): number {
    if (this.seen[dsp] === 0) return Number.MAX_VALUE;
    return this.bidRate[dsp]! / Math.max(1, this.latencyMs[dsp]!);
  }

  isAllowed(dsp: number): boolean {
    return this.verdict[dsp] === ALLOWED;
  }
}
