// One worker's overload guard: a 10 ms tick samples the signals (in-flight requests, event-loop lag,
// internal-processing p99, outbox pending bytes), runs the pressure controller (pressure.ts) and the
// adaptive concurrency limit (limit.ts), sets the effective DSP deadline (deadline.ts), re-ranks the
// DSPs (dsp-select.ts) and advances the flash-crash detector; requests then read the results
// without computing anything.
import { OVERLOAD_LIMITS as L } from "./limits.ts";
import { LagProbe, SlidingP99 } from "./signals.ts";
import { PressureController } from "./pressure.ts";
import { AdaptiveLimit } from "./limit.ts";
import { ValueShedder } from "./shed.ts";
import { DspSelector, type FanoutObserver } from "./dsp-select.ts";
import { FlashCrashDetector } from "./flash-crash.ts";
import { SharedRateLimiter } from "./rate-limit.ts";
import { OverloadCells, OverloadLayout } from "./metrics.ts";
import { pressuredDspTimeoutMs } from "../pipeline/deadline.ts";
import type { TmaxConfig } from "../config/load.ts";

/** Shared between the main thread and every worker (allocated in src/server/start.ts). */
export interface OverloadShared { cells: SharedArrayBuffer; rateBuckets: SharedArrayBuffer; rows: number }

/** `rows`: worker slots (server.workers plus the rolling restart's spare). */
export function allocateOverloadShared(config: TmaxConfig, rows = config.server.workers): OverloadShared {
  return { cells: OverloadLayout.of(config, rows).allocate(), rateBuckets: SharedRateLimiter.allocate(config.rateLimits), rows };
}

export interface GuardSources {
  inFlight(): number;
  outboxPendingBytes(): number;
  /** Told every tick whether the worker is at capacity (at its concurrency limit or shedding): background work pauses. */
  atCapacity(busy: boolean): void;
}

export class OverloadGuard implements FanoutObserver {
  readonly cells: OverloadCells;
  readonly controller: PressureController;
  readonly limit: AdaptiveLimit;
  readonly shedder: ValueShedder;
  readonly selector: DspSelector;
  readonly flashCrash: FlashCrashDetector;
  readonly rateLimiter: SharedRateLimiter | null;
  readonly enabled: boolean;
  /** The DSP deadline to use now (ms): auction.dspTimeoutMs, lower under pressure. */
  dspTimeoutMs: number;
  private readonly lag = new LagProbe(L.tickMs);
  private readonly internal = new SlidingP99();
  private timer: ReturnType<typeof setInterval> | null = null;
  private lastTickAt = performance.now();
  /** When the concurrency limit was last seen reached (performance.now() ms). */
  private limitReachedAtMs = Number.NEGATIVE_INFINITY;

  constructor(private readonly config: TmaxConfig, shared: OverloadShared, workerIndex: number, private readonly sources: GuardSources) {
    const o = config.overload;
    this.enabled = o.enabled;
    this.cells = new OverloadCells(OverloadLayout.of(config, shared.rows), shared.cells, workerIndex);
    this.controller = new PressureController(o);
    this.limit = new AdaptiveLimit({ ...o, lagHighMs: o.signals.eventLoopLagMs.high });
    this.shedder = new ValueShedder(o);
    this.selector = new DspSelector(config.dsps.length, o.topDsps, o.heavyPressure, this.cells);
    this.flashCrash = new FlashCrashDetector(config.dsps.length, o.flashCrash);
    this.rateLimiter = config.rateLimits === null ? null : new SharedRateLimiter(config.rateLimits, shared.rateBuckets);
    this.dspTimeoutMs = config.auction.dspTimeoutMs;
  }

  start(): this {
    this.timer = setInterval(() => this.tick(performance.now()), L.tickMs);
    this.timer.unref();
    return this;
  }

  stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.cells.state(0, 0, 0, 0, 0, 0, 0); // a stopped worker's slot shows nothing (it may be reused)
    this.sources.atCapacity(false); // a draining worker's consumers write and ack what they hold
    this.cells.flashCrash(false);
  }

  /** One controller step (the timer calls it; tests may call it with their own clock). */
  tick(nowMs: number): void {
    const lagMs = this.lag.tick(nowMs);
    const p99 = this.internal.p99(nowMs);
    const inFlight = this.sources.inFlight();
    const dtMs = Math.max(1, nowMs - this.lastTickAt);
    this.lastTickAt = nowMs;
    const pressure = this.enabled
      ? this.controller.update({ inFlight, eventLoopLagMs: lagMs, internalP99Ms: p99, outboxPendingBytes: this.sources.outboxPendingBytes() }, dtMs)
      : 0;
    const limit = this.enabled ? this.limit.tick(nowMs, inFlight, lagMs) : 0;
    if (this.enabled && this.limit.reached) this.limitReachedAtMs = nowMs;
    const limitPressure = nowMs - this.limitReachedAtMs < L.limitReachedHoldMs ? L.limitReachedPressure : 0;
    this.dspTimeoutMs = pressuredDspTimeoutMs(this.config.auction.dspTimeoutMs, this.config.overload.pressuredDspTimeoutMs, Math.max(pressure, limitPressure));
    if (this.enabled) this.selector.refresh(pressure, this.dspTimeoutMs);
    this.selector.cutting = this.dspTimeoutMs < this.config.auction.dspTimeoutMs;
    this.sources.atCapacity(this.enabled && (this.limit.reached || this.controller.shedShare > 0));
    this.cells.flashCrash(this.flashCrash.advance(Date.now()));
    this.cells.state(pressure, this.enabled ? this.controller.shedShare : 0, this.dspTimeoutMs, lagMs, p99, inFlight, limit);
  }

  /** Internal processing time of one auction (its total minus the wait for DSPs). */
  recordInternal(ms: number): void {
    this.internal.record(ms, performance.now());
    this.limit.record(ms);
  }

  /** An auction's fan-out ended with every DSP it called timed out (the DSPs may be at their limit). */
  recordStarved(): void {
    this.limit.recordStarved();
  }

  /** Whether a worker with `inFlight` auctions running (this request included) is past its concurrency limit. */
  overLimit(inFlight: number): boolean {
    if (!this.enabled || inFlight <= this.limit.current) return false;
    this.limit.refuse();
    return true;
  }

  get shedShare(): number {
    return this.enabled ? this.controller.shedShare : 0;
  }

  allows(dsp: number): boolean {
    return !this.enabled || this.selector.allows(dsp);
  }

  shortened(toldMs: number, dspTimeoutMs: number): boolean {
    return this.selector.shortened(toldMs, dspTimeoutMs);
  }

  observe(dsp: number, bid: boolean, latencyMs: number): void {
    this.selector.observe(dsp, bid, latencyMs);
    this.flashCrash.record(dsp, bid, Date.now());
  }
}
