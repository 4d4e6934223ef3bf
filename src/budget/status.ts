// Per-campaign budget status, as one pod sees it (GET /admin/budgets) or as the stores hold it
// (`tmax budget status`, Redis mode). Integer micros throughout.
import { BOARD_COMMITTED, BOARD_DAY, BOARD_LEASES, BOARD_RELEASED, BOARD_UPSTREAM_LEFT, type BudgetBoard } from "./board.ts";
import type { SharedBudget } from "./shared-budget.ts";
import type { CampaignSettings } from "../config/load.ts";
import type { PacingReader } from "./pacing-shared.ts";

/**
 * `participation`: the controller's probability that the campaign takes part in an auction (1 = every
 * one); `state`: "full" (p = 1: on or behind its curve, or asap), "throttled" (ahead of its curve),
 * "stopped" (p = 0: the day's budget is spent), or "n/a" where no controller runs (the stores' view).
 */
export interface PacingStatus { mode: "even" | "asap"; state: "full" | "throttled" | "stopped" | "n/a"; participation: number | null }

export interface PodBudgetStatus {
  campaign: string;
  day: number;
  budgetMicros: number;
  /** Billing notices received by this pod today. */
  committedMicros: number;
  /** Reserved by this pod's wins today (committed + released + not yet notified). */
  reservedMicros: number;
  releasedMicros: number;
  /** Still spendable in this pod's leases. */
  inLeasesMicros: number;
  leases: number;
  /** Not yet spent anywhere as far as this pod knows: its leases + what the hierarchy had left when last asked. */
  remainingMicros: number;
  pacing: PacingStatus;
}

export function podStatus(c: CampaignSettings, slots: SharedBudget, board: BudgetBoard, pacing?: PacingReader): PodBudgetStatus {
  const books = slots.books(c.slot);
  return {
    campaign: c.id,
    day: board.get(c.slot, BOARD_DAY),
    budgetMicros: c.dailyBudgetMicros,
    committedMicros: board.get(c.slot, BOARD_COMMITTED),
    reservedMicros: books.reservedMicros,
    releasedMicros: board.get(c.slot, BOARD_RELEASED),
    inLeasesMicros: books.remainingMicros,
    leases: board.get(c.slot, BOARD_LEASES),
    remainingMicros: books.remainingMicros + board.get(c.slot, BOARD_UPSTREAM_LEFT),
    pacing: pacingStatus(c, pacing),
  };
}

/** The controller's current probability for the campaign, as the workers read it. */
export function pacingStatus(c: CampaignSettings, pacing?: PacingReader): PacingStatus {
  const mode = c.pacing ?? "even";
  if (pacing === undefined) return { mode, state: "n/a", participation: null };
  const p = pacing.probability(c.slot);
  return { mode, state: p >= 1 ? "full" : p <= 0 ? "stopped" : "throttled", participation: Math.round(p * 1e6) / 1e6 };
}
