// The control plane's pacing loop: every `pacing.intervalMs` one controller step per campaign, its p
// stored in the shared pacing buffer that workers read (src/budget/pacing-shared.ts).
import { fullRateMicrosPerMs, newPacingState, pacingStep, type PacingGains, type PacingMode, type PacingState } from "../pacing.ts";
import type { PacingWriter } from "../pacing-shared.ts";
import { targetCurve, type TargetCurve } from "./curve.ts";
import type { PacingSettings } from "./config.ts";
import type { DayWindow } from "./day-window.ts";

export interface PacedCampaign {
  slot: number;
  /** Absent = "even" (the default). */
  pacing?: PacingMode;
  dailyBudgetMicros: number;
}

/** Where the loop reads a campaign's day and books (the budget system owns both). */
export interface PacingSource {
  /** The campaign's day containing nowMs, [startMs, endMs), from its time zone (e.g. dayWindowMs in ./day-window.ts). Asked once per day. */
  dayWindow(slot: number, nowMs: number): DayWindow;
  /** Committed + reserved today, integer micros. */
  spentMicros(slot: number): number;
}

/** One campaign's pacing as a status page shows it. */
export interface PacingView {
  mode: PacingMode;
  p: number;
  targetMicros: number;
  spentMicros: number;
  /** Positive: behind the curve. */
  errorMicros: number;
  /** Estimated spend per second at p = 1 (integer micros), null before any observation. */
  fullRateMicrosPerSec: number | null;
}

export class Pacer {
  private readonly curve: TargetCurve;
  private readonly gains: PacingGains;
  private readonly states = new Map<number, PacingState>();
  private readonly windows = new Map<number, DayWindow>();

  constructor(private readonly campaigns: readonly PacedCampaign[], private readonly settings: PacingSettings, private readonly writer: PacingWriter) {
    this.curve = targetCurve(settings.hourlyShape);
    this.gains = settings;
    for (const c of campaigns) this.states.set(c.slot, newPacingState());
  }

  /** One step for every campaign at `nowMs`. */
  tick(nowMs: number, source: PacingSource): void {
    for (const c of this.campaigns) {
      const day = this.window(c.slot, nowMs, source);
      const input = { nowMs, dayStartMs: day.startMs, dayEndMs: day.endMs, budgetMicros: c.dailyBudgetMicros, spentMicros: source.spentMicros(c.slot) };
      this.writer.set(c.slot, pacingStep(this.state(c.slot), c.pacing ?? "even", input, this.curve, this.gains));
    }
  }

  /** Ticks every intervalMs from now on (timer unref'd); returns the stop function. */
  start(source: PacingSource, clock: () => number = Date.now): () => void {
    this.tick(clock(), source);
    const timer = setInterval(() => this.tick(clock(), source), this.settings.intervalMs);
    timer.unref();
    return () => clearInterval(timer);
  }

  view(slot: number): PacingView {
    const c = this.campaigns.find((x) => x.slot === slot);
    if (c === undefined) throw new RangeError(`pacing: no campaign in slot ${slot}`);
    const s = this.state(slot);
    const rate = fullRateMicrosPerMs(s);
    return {
      mode: c.pacing ?? "even", p: s.p, targetMicros: s.targetMicros, spentMicros: s.lastSpentMicros, errorMicros: s.errorMicros,
      fullRateMicrosPerSec: Number.isNaN(rate) ? null : Math.round(rate * 1000),
    };
  }

  /** The cached day window, asked of the source again once now has left it. */
  private window(slot: number, nowMs: number, source: PacingSource): DayWindow {
    const cached = this.windows.get(slot);
    if (cached !== undefined && cached.startMs <= nowMs && nowMs < cached.endMs) return cached;
    const day = source.dayWindow(slot, nowMs);
    this.windows.set(slot, day);
    return day;
  }

  private state(slot: number): PacingState {
    return this.states.get(slot)!;
  }
}
