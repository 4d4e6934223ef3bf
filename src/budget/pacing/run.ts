// The pacing controller wired to the budget system: the main thread steps every campaign's
// controller (pacer.ts) each pacing.intervalMs and stores its participation probability in the
// shared pacing buffer the workers read before the auction (src/pipeline/collect.ts).
//
// Spend today, as this pod can know it without a network call: the campaign's budget minus what is
// still spendable (this pod's leases + what the hierarchy had left when last asked). In the embedded
// default that is exact (committed + reserved - released); with several pods, other pods' unspent
// leases count as spent until they are settled, so pacing errs on the side of throttling a little
// early (leases are at most budget.maxLeaseFraction of the budget).
import { BOARD_UPSTREAM_LEFT, type BudgetBoard } from "../board.ts";
import type { SharedBudget } from "../shared-budget.ts";
import type { TmaxConfig } from "../../config/load.ts";
import { createPacingBuffer, PacingWriter } from "../pacing-shared.ts";
import { dayWindowMs } from "./day-window.ts";
import { Pacer } from "./pacer.ts";

export interface PacingRuntime {
  /** The probabilities workers read (PacingReader). */
  buffer: SharedArrayBuffer;
  pacer: Pacer;
  stop(): void;
}

export function startPacing(config: TmaxConfig, slots: SharedBudget, board: BudgetBoard): PacingRuntime {
  const buffer = createPacingBuffer(Math.max(1, config.campaigns.length));
  const pacer = new Pacer(config.campaigns, config.pacing, new PacingWriter(buffer));
  const bySlot = new Map(config.campaigns.map((c) => [c.slot, c]));
  const stop = pacer.start({
    dayWindow: (slot, nowMs) => dayWindowMs(nowMs, bySlot.get(slot)?.timeZone ?? "UTC"),
    spentMicros: (slot) => spentTodayMicros(bySlot.get(slot)!.dailyBudgetMicros, slots.books(slot).remainingMicros, board.get(slot, BOARD_UPSTREAM_LEFT)),
  });
  return { buffer, pacer, stop };
}

/** Budget - (this pod's spendable leases + what the hierarchy had left), never below 0 or above the budget. */
export function spentTodayMicros(budgetMicros: number, inLeasesMicros: number, upstreamLeftMicros: number): number {
  return Math.min(budgetMicros, Math.max(0, budgetMicros - inLeasesMicros - upstreamLeftMicros));
}
