// Fan-out: one bid request to every enabled DSP whose breaker allows, in parallel, each told its
// own tmax, all bounded by one deadline. Each DSP has a bounded keep-alive socket pool (per worker).
// Resolves once every queried DSP has answered or timed out (the pool fires timeouts at the
// deadline), so late answers never delay the auction.
import { HttpPool, type HttpOutcome } from "./http-pool.ts";
import { Breaker } from "./breaker.ts";
import { dspTmaxMs, type DeadlineSettings } from "../pipeline/deadline.ts";
import type { DspSettings, TmaxConfig } from "../config/load.ts";
import type { WorkerCounters } from "../metrics/counters.ts";
import { LIMITS } from "../config/limits.ts";
import type { FanoutObserver } from "../overload/dsp-select.ts";

export interface DspReply {
  dsp: number;
  outcome: HttpOutcome;
  status: number;
  body: string;
  /** The pool's reason for a non-ok outcome ("deadline", "stalled", "ECONNREFUSED", ...). */
  detail: string;
  latencyMs: number;
}

/** What a reply tells the DSP's breaker: it worked, it failed, or it says nothing about the DSP. */
export type BreakerVerdict = "success" | "failure" | "neutral";

const OPENRTB_HEADERS = "x-openrtb-version: 2.6\r\n";
/** A timeout's detail when the overload guard had cut the DSP's time below its own timeout (not the DSP's fault). */
export const OVERLOAD_DEADLINE = "overload_deadline";

export class DspFanout {
  readonly dsps: DspSettings[];
  private readonly pools: HttpPool[];
  private readonly breakers: Breaker[];
  /** The overload guard: may skip DSPs under pressure, learns each DSP's latency and bid rate. */
  observer: FanoutObserver | null = null;

  constructor(config: TmaxConfig, private readonly counters: WorkerCounters, workerCount: number) {
    this.dsps = config.dsps;
    this.pools = config.dsps.map((d) => new HttpPool({
      url: d.endpoint,
      maxSockets: Math.max(1, Math.ceil(d.maxConnections / workerCount)),
      maxQueued: LIMITS.maxQueuedPerDsp,
      maxResponseBytes: LIMITS.maxDspResponseBytes,
    }));
    this.breakers = config.dsps.map((_, i) => new Breaker(config.breaker, (state) => counters.breakerState(i, state)));
  }

  /**
   * Sends `request` (its tmax rewritten per DSP) to every eligible DSP; `deadlineAt` is in
   * performance.now() ms; at most `dspLimit` enabled DSPs are considered, in config order. Returns the replies of the DSPs that were called (possibly none).
   */
  fanOut(request: { tmax?: number }, deadlineAt: number, settings: DeadlineSettings, dspLimit = Number.POSITIVE_INFINITY): Promise<DspReply[]> {
    const nowMs = performance.now();
    const replies: DspReply[] = [];
    const bodies = new Map<number, string>();
    let pending = 1; // the loop itself, so a callback fired synchronously cannot finish early
    let finish: (r: DspReply[]) => void = () => {};
    const done = new Promise<DspReply[]>((resolve) => (finish = resolve));
    for (let i = 0; i < this.dsps.length; i++) {
      const dsp = this.dsps[i]!;
      if (!dsp.enabled) continue;
      if (dspLimit-- <= 0) break; // a flagged request (src/pipeline/fraud.ts) goes to the first N enabled DSPs
      if (!this.breakers[i]!.allows(nowMs)) {
        this.counters.dsp(i, "skipped_breaker");
        continue;
      }
      if (this.observer !== null && !this.observer.allows(i)) continue;
      const tmaxMs = dspTmaxMs(deadlineAt, dsp.timeoutMs, nowMs, settings);
      if (tmaxMs === 0) {
        this.counters.dsp(i, "skipped_deadline");
        continue;
      }
      pending++;
      this.pools[i]!.post(bodyFor(request, tmaxMs, bodies), OPENRTB_HEADERS, nowMs + tmaxMs, (outcome, status, body, poolDetail) => {
        const detail = outcome === "timeout" && this.observer?.shortened(tmaxMs, dsp.timeoutMs) ? OVERLOAD_DEADLINE : poolDetail;
        replies.push({ dsp: i, outcome, status, body, detail, latencyMs: performance.now() - nowMs });
        this.observer?.observe(i, outcome === "ok" && status === 200 && body.length > 0, performance.now() - nowMs);
        if (--pending === 0) finish(replies);
      });
    }
    if (--pending === 0) finish(replies);
    return done;
  }

  /** Feeds a DSP's result into its breaker: timeouts, transport errors, 5xx and malformed answers fail. */
  recordResult(dsp: number, verdict: BreakerVerdict): void {
    const breaker = this.breakers[dsp]!;
    if (verdict === "success") breaker.recordSuccess(performance.now());
    else if (verdict === "failure") breaker.recordFailure(performance.now());
    else breaker.recordNeutral(); // frees a half-open trial's slot
  }

  close(): void {
    for (const pool of this.pools) pool.close();
  }
}

function bodyFor(request: { tmax?: number }, tmaxMs: number, cache: Map<number, string>): string {
  let body = cache.get(tmaxMs);
  if (body === undefined) {
    request.tmax = tmaxMs;
    body = JSON.stringify(request);
    cache.set(tmaxMs, body);
  }
  return body;
}
