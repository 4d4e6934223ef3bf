// Per-campaign budget status, as one pod sees it (GET /admin/budgets) or as the stores hold it
// (`tmax budget status`, Redis mode). Integer micros throughout.
import { BOARD_COMMITTED, BOARD_DAY, BOARD_LEASES, BOARD_RELEASED, BOARD_UPSTREAM_LEFT, type BudgetBoard } from "./board.ts";
import type { SharedBudget } from "./shared-budget.ts";
import type { CampaignSettings } from "../config/load.ts";

export interface PacingStatus { mode: "even" | "asap"; state: string }

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

export function podStatus(c: CampaignSettings, slots: SharedBudget, board: BudgetBoard): PodBudgetStatus {
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
    // The pacing controller (src/budget/pacing.ts) is wired by the integrator; until then its state is "n/a".
    pacing: { mode: c.pacing ?? "even", state: "n/a" },
  };
}
