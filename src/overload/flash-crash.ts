// Flash-crash detection: a sudden drop of bids across (most of) the DSPs at once. Per DSP it counts
// calls and bids in one-second buckets; each second it compares the bid rate (bids per call) of
// the last windowSec against the baselineSec before it. A DSP is judged when its baseline had
// minRequests calls and some bids and the window had its share of minRequests calls (a worker that
// simply got no traffic says nothing; DSPs skipped by open breakers show in the breaker gauges and
// in no-bid reason no_dsps); it "dropped" when its recent rate fell by at least dropShare. The alert
// is on when a strict majority of the judged DSPs dropped: one DSP's drop is left to its breaker.
import type { FlashCrashSettings } from "./config.ts";

export class FlashCrashDetector {
  private readonly seconds: number;
  private readonly calls: Float64Array;
  private readonly bids: Float64Array;
  private currentSec = -1;
  alert = false;

  constructor(readonly dspCount: number, private readonly s: FlashCrashSettings) {
    this.seconds = s.windowSec + s.baselineSec + 1;
    this.calls = new Float64Array(this.seconds * dspCount);
    this.bids = new Float64Array(this.seconds * dspCount);
  }

  record(dsp: number, bid: boolean, nowMs: number): void {
    this.advance(nowMs);
    const at = (this.currentSec % this.seconds) * this.dspCount + dsp;
    this.calls[at]! += 1;
    if (bid) this.bids[at]! += 1;
  }

  /** Moves to the second of `nowMs` (clearing skipped buckets) and re-evaluates on each new second. */
  advance(nowMs: number): boolean {
    const sec = Math.floor(nowMs / 1000);
    if (sec === this.currentSec) return this.alert;
    const first = this.currentSec < 0 ? sec : this.currentSec + 1;
    for (let t = Math.max(first, sec - this.seconds + 1); t <= sec; t++) {
      const base = (t % this.seconds) * this.dspCount;
      this.calls.fill(0, base, base + this.dspCount);
      this.bids.fill(0, base, base + this.dspCount);
    }
    this.currentSec = sec;
    this.alert = this.evaluate();
    return this.alert;
  }

  /** Over the finished seconds: [sec - windowSec, sec) recent, the baselineSec before that. */
  private evaluate(): boolean {
    let active = 0, dropped = 0;
    for (let d = 0; d < this.dspCount; d++) {
      const recent = this.sum(d, this.currentSec - this.s.windowSec, this.currentSec);
      const base = this.sum(d, this.currentSec - this.s.windowSec - this.s.baselineSec, this.currentSec - this.s.windowSec);
      if (base.calls < this.s.minRequests || base.bids === 0) continue;
      if (recent.calls < Math.max(1, (this.s.minRequests * this.s.windowSec) / this.s.baselineSec)) continue;
      active++;
      const baseRate = base.bids / base.calls;
      const recentRate = recent.bids / recent.calls;
      if (recentRate <= baseRate * (1 - this.s.dropShare)) dropped++;
    }
    return active > 0 && dropped * 2 > active;
  }

  private sum(dsp: number, fromSec: number, toSec: number): { calls: number; bids: number } {
    let calls = 0, bids = 0;
    for (let t = Math.max(fromSec, this.currentSec - this.seconds + 1); t < toSec; t++) {
      const at = (((t % this.seconds) + this.seconds) % this.seconds) * this.dspCount + dsp;
      calls += this.calls[at]!;
      bids += this.bids[at]!;
    }
    return { calls, bids };
  }
}
