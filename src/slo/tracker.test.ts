import { describe, expect, test } from "bun:test";
import { Cell, overBudget } from "./sample.ts";
import { SloTracker } from "./tracker.ts";

type Counts = Partial<Record<"requests" | "fast" | "failed" | "eligible" | "bids" | "campaigns" | "over", number>>;

function record(tracker: SloTracker, tMs: number, c: Counts): void {
  tracker.record((row) => {
    row.fill(0);
    row[Cell.TimeMs] = tMs;
    row[Cell.Requests] = c.requests ?? 0;
    row[Cell.Fast] = c.fast ?? 0;
    row[Cell.Failed] = c.failed ?? 0;
    row[Cell.BidEligible] = c.eligible ?? 0;
    row[Cell.Bids] = c.bids ?? 0;
    row[Cell.Campaigns] = c.campaigns ?? 0;
    row[Cell.CampaignsOver] = c.over ?? 0;
  });
}
const slo = (tracker: SloTracker, name: string) => tracker.snapshot().slos.find((s) => s.name === name)!;

describe("SloTracker", () => {
  test("no samples, or nothing measured in the window: no data, not a pass", () => {
    const tracker = new SloTracker(10);
    expect(slo(tracker, "latency").windows["5m"].ratio).toBeNull();
    record(tracker, 0, { campaigns: 2 });
    record(tracker, 1000, { campaigns: 2 });
    const w = slo(tracker, "latency").windows["5m"];
    expect(w).toMatchObject({ ratio: null, burnRate: null, errorBudgetRemaining: null, met: null, total: 0, coveredSeconds: 1 });
  });

  test("windows are differences from the sample that opens them; burn rate against the target", () => {
    const tracker = new SloTracker(4000);
    // 1 h ago: 0; 5 m ago: 10,000 requests all fast; now: 20,000 requests of which 20 slow (in the last 5 m).
    record(tracker, 0, { requests: 0, fast: 0 });
    for (let s = 1; s <= 3300; s++) record(tracker, s * 1000, { requests: Math.round((10_000 * s) / 3300), fast: Math.round((10_000 * s) / 3300) });
    for (let s = 3301; s <= 3600; s++) {
      const done = 10_000 + Math.round((10_000 * (s - 3300)) / 300);
      record(tracker, s * 1000, { requests: done, fast: done - Math.round((20 * (s - 3300)) / 300) });
    }
    const latency = slo(tracker, "latency");
    expect(latency.windows["5m"]).toMatchObject({ seconds: 300, coveredSeconds: 300, total: 10_000, good: 9_980, met: false });
    expect(latency.windows["5m"].burnRate!).toBeCloseTo(2, 6); // 0.2% slow against 0.1% allowed
    expect(latency.windows["5m"].errorBudgetRemaining!).toBeCloseTo(-1, 6);
    expect(latency.windows["1h"]).toMatchObject({ coveredSeconds: 3600, total: 20_000, good: 19_980, met: true });
    expect(latency.windows["1h"].burnRate!).toBeCloseTo(1, 6);
    expect(latency.windows["1m"].total).toBe(2_000);
  });

  test("a young process: windows cover what history there is", () => {
    const tracker = new SloTracker(4000);
    record(tracker, 0, {});
    record(tracker, 30_000, { requests: 100, fast: 100, eligible: 100, bids: 85 });
    const bidRate = slo(tracker, "bid_rate").windows["1h"];
    expect(bidRate).toMatchObject({ coveredSeconds: 30, total: 100, good: 85, met: true });
    expect(bidRate.burnRate!).toBeCloseTo(0.75, 6); // 15% missed of the 20% allowed
    expect(slo(tracker, "availability").windows["1h"]).toMatchObject({ ratio: 1, burnRate: 0, errorBudgetRemaining: 1 });
  });

  test("budget accuracy is the worst moment in the window, over the campaigns", () => {
    const tracker = new SloTracker(1000);
    record(tracker, 0, { campaigns: 1000 });
    record(tracker, 100_000, { campaigns: 1000, over: 2 });
    record(tracker, 200_000, { campaigns: 1000, over: 0 });
    for (let s = 1; s <= 70; s++) record(tracker, 200_000 + s * 1000, { campaigns: 1000 });
    const b = slo(tracker, "budget_accuracy");
    expect(b.windows["1m"]).toMatchObject({ total: 1000, good: 1000, ratio: 1 });
    expect(b.windows["5m"]).toMatchObject({ total: 1000, good: 998, met: false });
    expect(b.windows["5m"].burnRate!).toBeCloseTo(2, 6);
  });

  test("a sample that fails to read leaves the history as it was", () => {
    const tracker = new SloTracker(2);
    record(tracker, 0, { requests: 0 });
    record(tracker, 1000, { requests: 10, fast: 10 });
    expect(() => tracker.record((row) => { row[Cell.Requests] = 999; throw new Error("books broken"); })).toThrow("books broken");
    expect(tracker.samples).toBe(2);
    expect(slo(tracker, "latency").windows["1m"]).toMatchObject({ total: 10, good: 10 });
  });

  test("the ring forgets samples older than its capacity", () => {
    const tracker = new SloTracker(3);
    for (let s = 0; s < 10; s++) record(tracker, s * 1000, { requests: s * 10, fast: s * 10 });
    expect(tracker.samples).toBe(3);
    expect(slo(tracker, "latency").windows["1h"]).toMatchObject({ coveredSeconds: 2, total: 20 });
  });
});

test("overBudget: more than 0.1% above the budget, in integer micros", () => {
  expect(overBudget(1_001_000, 1_000_000)).toBe(false); // exactly +0.1%
  expect(overBudget(1_001_001, 1_000_000)).toBe(true);
  expect(overBudget(0, 0)).toBe(false);
  expect(overBudget(1, 0)).toBe(true);
  expect(overBudget(999, 1_000)).toBe(false);
});
