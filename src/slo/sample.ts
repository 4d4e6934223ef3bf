// One SLO sample: the cumulative counts every SLI is a ratio of, read from the shared counters
// (summed over workers) and the shared budget books at one instant. Windows are differences of two
// samples (counts) or the worst sample in between (budget state, which is not a count).
import { REQUEST_OUTCOMES, type CounterReader } from "../metrics/counters.ts";
import { SECONDS_BUCKETS } from "../metrics/histograms.ts";
import type { SharedBudget } from "../budget/shared-budget.ts";
import { BUDGET_TOLERANCE_DIVISOR, LATENCY_SLO_SECONDS } from "./definitions.ts";

/** Cells of a sample, in a Float64Array row. */
export const enum Cell {
  TimeMs, Requests, Fast, Failed, BidEligible, Bids, Campaigns, CampaignsOver, WorstOverspendMicros, Count,
}

const FAST_BUCKET = SECONDS_BUCKETS.indexOf(LATENCY_SLO_SECONDS as (typeof SECONDS_BUCKETS)[number]);
if (FAST_BUCKET < 0) throw new Error(`LATENCY_SLO_SECONDS ${LATENCY_SLO_SECONDS} must be a request histogram bound`);

export interface BudgetedCampaign { slot: number; dailyBudgetMicros: number }

/** True when `spentMicros` exceeds `budgetMicros` by more than 0.1% of it (integer micros, no floats). */
export function overBudget(spentMicros: number, budgetMicros: number): boolean {
  return spentMicros - budgetMicros > Math.floor(budgetMicros / BUDGET_TOLERANCE_DIVISOR);
}

/** Reads one sample into `row` (length Cell.Count). */
export function readSample(row: Float64Array, nowMs: number, counters: CounterReader, budget: SharedBudget, campaigns: readonly BudgetedCampaign[]): void {
  let requests = 0, fast = 0;
  for (const outcome of REQUEST_OUTCOMES) {
    const h = counters.histograms.request(outcome);
    requests += h.count;
    fast += h.cumulative[FAST_BUCKET]!;
  }
  const bids = counters.requests("bid");
  row[Cell.TimeMs] = nowMs;
  row[Cell.Requests] = requests;
  row[Cell.Fast] = fast;
  row[Cell.Failed] = counters.requests("error") + counters.noBids("audit_unavailable");
  // Valid requests we could have bid on: not those refused because no campaign could pay.
  row[Cell.BidEligible] = bids + counters.requests("nobid") - counters.noBids("no_budget");
  row[Cell.Bids] = bids;
  let over = 0, worst = 0;
  for (const c of campaigns) {
    const spent = budget.books(c.slot).reservedMicros;
    if (overBudget(spent, c.dailyBudgetMicros)) over++;
    worst = Math.max(worst, spent - c.dailyBudgetMicros);
  }
  row[Cell.Campaigns] = campaigns.length;
  row[Cell.CampaignsOver] = over;
  row[Cell.WorstOverspendMicros] = worst;
}
