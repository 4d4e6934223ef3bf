// The adaptive concurrency limit: it falls when more than 1% of a period's auctions overrun the
// internal target (in proportion to the overrun), holds for one period after a cut, grows only when
// it is actually reached, and stays within its bounds.
import { expect, test } from "bun:test";
import { AdaptiveLimit } from "./limit.ts";
import { OVERLOAD_LIMITS as L } from "./limits.ts";

const settings = { minInFlight: 8, maxInFlight: 200, initialInFlight: 64, internalTargetMs: 20, lagHighMs: 30 };

/** One control period: `fast` auctions within target, `slow` over it, peak in flight `peak`. */
function period(limit: AdaptiveLimit, clock: { now: number }, fast: number, slow: number, peak: number, lagMs = 0): number {
  for (let i = 0; i < fast; i++) limit.record(5);
  for (let i = 0; i < slow; i++) limit.record(45);
  let current = limit.current;
  for (let t = 0; t < L.limitPeriodMs; t += 10) current = limit.tick((clock.now += 10), peak, lagMs);
  return current;
}

test("starts at initialInFlight and grows by 5% a period while reached and within target, up to maxInFlight", () => {
  const clock = { now: 0 };
  const limit = new AdaptiveLimit(settings);
  limit.tick(clock.now, 0, 0);
  expect(limit.current).toBe(64);
  expect(period(limit, clock, 100, 0, 64)).toBe(67);
  expect(period(limit, clock, 100, 0, 67)).toBe(70);
  for (let i = 0; i < 100; i++) period(limit, clock, 100, 0, limit.current);
  expect(limit.current).toBe(200);
});

test("does not grow while the limit is not reached (an idle worker keeps its limit)", () => {
  const clock = { now: 0 };
  const limit = new AdaptiveLimit(settings);
  for (let i = 0; i < 20; i++) period(limit, clock, 100, 0, 20);
  expect(limit.current).toBe(64);
  limit.refuse(); // a refused request means it was reached, whatever the sampled peak
  expect(period(limit, clock, 100, 0, 20)).toBe(67);
});

test("a period with > 1% over target cuts in proportion to the overrun, then holds one period", () => {
  const clock = { now: 0 };
  const limit = new AdaptiveLimit(settings);
  limit.tick(clock.now, 0, 0);
  expect(period(limit, clock, 99, 1, 64)).toBe(67); // exactly 1%: the p99 is within target
  expect(period(limit, clock, 80, 20, 67)).toBe(53); // 20% over: -20%
  expect(period(limit, clock, 80, 20, 53)).toBe(53); // cooling: the auctions finishing now were admitted before the cut
  expect(period(limit, clock, 98, 2, 53)).toBe(51); // 2% over: at least a 5% cut (of 53.76)
  expect(period(limit, clock, 0, 100, 51)).toBe(51);
  expect(period(limit, clock, 0, 100, 51)).toBe(25); // all over: at most halved
});

test("sustained event-loop lag above its high mark halves the limit; it never goes below minInFlight", () => {
  const clock = { now: 0 };
  const limit = new AdaptiveLimit(settings);
  limit.tick(clock.now, 0, 0);
  expect(period(limit, clock, 100, 0, 64, 31)).toBe(32);
  for (let i = 0; i < 20; i++) period(limit, clock, 100, 0, 64, 31);
  expect(limit.current).toBe(8);
});

test("too few finished auctions in a period say nothing about internal time", () => {
  const clock = { now: 0 };
  const limit = new AdaptiveLimit(settings);
  limit.tick(clock.now, 0, 0);
  expect(period(limit, clock, 0, L.limitMinSamples - 1, 10)).toBe(64);
  expect(period(limit, clock, 0, L.limitMinSamples, 10)).toBe(32);
});
