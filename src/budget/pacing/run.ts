// The pacing controller wired to the budget system: the main thread steps every campaign's
// controller (pacer.ts) each pacing.intervalMs and stores its participation probability in the
// shared pacing buffer the workers read before the auction (src/pipeline/collect.ts).
//
// What it paces, without a network call: this pod's own spend today (its reservations minus what
// loss notices released: committed + still reserved) against the part of the budget this pod is
// expected to spend: all of it in the embedded default; in redis mode its region's trafficShare
// (several pods in one region each pace to the region's share, and their leases still bound what
// they can spend: pacing shapes the spend over the day, the lease hierarchy enforces the budget).
import { BOARD_RELEASED, type BudgetBoard } from "../board.ts";
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
  const share = podBudgetShare(config);
  const campaigns = config.campaigns.map((c) => ({ ...c, dailyBudgetMicros: Math.floor(c.dailyBudgetMicros * share) }));
  const pacer = new Pacer(campaigns, config.pacing, new PacingWriter(buffer));
  const zones = new Map(config.campaigns.map((c) => [c.slot, c.timeZone ?? "UTC"]));
  const stop = pacer.start({
    dayWindow: (slot, nowMs) => dayWindowMs(nowMs, zones.get(slot) ?? "UTC"),
    spentMicros: (slot) => podSpentTodayMicros(slots.books(slot).reservedMicros, board.get(slot, BOARD_RELEASED)),
  });
  return { buffer, pacer, stop };
}

/** The share of each campaign's daily budget this pod paces to: 1 embedded, its region's trafficShare in redis mode. */
export function podBudgetShare(config: TmaxConfig): number {
  if (config.budget.mode === "embedded") return 1;
  return config.budget.regions.find((r) => r.id === config.budget.region)?.trafficShare ?? 1;
}

/** This pod's reservations today minus what loss notices released (never below 0). */
export function podSpentTodayMicros(reservedMicros: number, releasedMicros: number): number {
  return Math.max(0, reservedMicros - releasedMicros);
}
