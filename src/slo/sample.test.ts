// readSample over real shared counters (two workers' rows) and real budget slots: which answers are
// fast, failed, eligible for a bid, and which campaigns are over budget.
import { expect, test } from "bun:test";
import { budgetSlotOffset, createSharedMemory, layout as L } from "../auction/memory.ts";
import { SharedBudget } from "../budget/shared-budget.ts";
import { CounterLayout, CounterReader, WorkerCounters } from "../metrics/counters.ts";
import { Cell, readSample } from "./sample.ts";
import { SloTracker } from "./tracker.ts";

test("a sample maps the shared counters and budget books onto the four SLIs", () => {
  const layout = new CounterLayout(1, 2);
  const buffer = layout.allocate();
  const [w0, w1] = [new WorkerCounters(layout, buffer, 0), new WorkerCounters(layout, buffer, 1)];
  const answer = (w: WorkerCounters, outcome: "bid" | "nobid" | "invalid" | "error", ms: number, reason?: "no_budget" | "audit_unavailable" | "no_bids") => {
    w.request(outcome);
    if (reason) w.noBid(reason);
    w.histograms.request(outcome, ms);
  };
  answer(w0, "bid", 20);
  answer(w1, "bid", 100); // exactly 100 ms still counts as within
  answer(w0, "bid", 150); // slow
  answer(w1, "nobid", 5, "no_budget"); // not eligible for the bid rate
  answer(w0, "nobid", 5, "no_bids"); // eligible, missed
  answer(w1, "nobid", 3, "audit_unavailable"); // failed (and eligible)
  answer(w0, "error", 1); // failed
  answer(w1, "invalid", 1); // valid answer, not eligible

  const memory = createSharedMemory();
  const budget = new SharedBudget(memory);
  budget.reset(0, 1_000_000);
  budget.reset(1, 2_000_000);
  const campaigns = [{ slot: 0, dailyBudgetMicros: 1_000_000 }, { slot: 1, dailyBudgetMicros: 2_000_000 }];
  const row = new Float64Array(Cell.Count);
  readSample(row, 1234, new CounterReader(layout, buffer), budget, campaigns);
  expect(Array.from(row)).toEqual([1234, 8, 7, 2, 5, 3, 2, 0, 0]); // time, requests, fast, failed, eligible, bids, campaigns, over, worst overspend

  // Spend in the books (as the kernel's reservations leave it): slot 0 at exactly +0.1%, slot 1 one micro past it.
  const i64 = new BigInt64Array(memory.buffer);
  i64[(budgetSlotOffset(0) + L.BUDGET_RESERVED_OFF) / 8] = 1_001_000n;
  i64[(budgetSlotOffset(1) + L.BUDGET_RESERVED_OFF) / 8] = 2_002_001n;
  readSample(row, 2000, new CounterReader(layout, buffer), budget, campaigns);
  expect([row[Cell.Campaigns], row[Cell.CampaignsOver], row[Cell.WorstOverspendMicros]]).toEqual([2, 1, 2_001]);
});

test("availability and bid rate over a window of real samples", () => {
  const layout = new CounterLayout(0, 1);
  const buffer = layout.allocate();
  const w = new WorkerCounters(layout, buffer, 0);
  const reader = new CounterReader(layout, buffer);
  const budget = new SharedBudget(createSharedMemory());
  const tracker = new SloTracker(10);
  tracker.record((r) => readSample(r, 0, reader, budget, []));
  for (let i = 0; i < 9_998; i++) { w.request("bid"); w.histograms.request("bid", 10); }
  w.request("error"); w.histograms.request("error", 1);
  w.request("nobid"); w.noBid("audit_unavailable"); w.histograms.request("nobid", 1);
  tracker.record((r) => readSample(r, 60_000, reader, budget, []));
  const get = (name: string) => tracker.snapshot().slos.find((s) => s.name === name)!.windows["1m"];
  const availability = get("availability");
  expect(availability).toMatchObject({ total: 10_000, good: 9_998, met: false });
  expect(availability.burnRate!).toBeCloseTo(2, 6); // 0.02% failed against 0.01% allowed
  expect(get("bid_rate")).toMatchObject({ total: 9_999, good: 9_998, met: true });
  expect(get("budget_accuracy")).toMatchObject({ total: 0, ratio: null }); // no campaigns: no data
});
