// The adaptive concurrency limit: it falls when more than 1% of a period's auctions overrun the
// internal target (in proportion to the overrun; a mild overrun only when it persists for two
// periods), holds for one period after a cut, grows only when
// it is actually reached and the p99 has headroom, holds in between, and stays within its bounds.
import { expect, test } from "bun:test";
import { AdaptiveLimit } from "./limit.ts";
import { OVERLOAD_LIMITS as L } from "./limits.ts";

const settings = { minInFlight: 8, maxInFlight: 200, initialInFlight: 64, internalTargetMs: 20, lagHighMs: 30 };

/** One control period: `fast` auctions within target, `slow` over it, peak in flight `peak`. */
function period(limit: AdaptiveLimit, clock: { now: number }, fast: number, slow: number, peak: number, lagMs = 0, slowMs = 45): number {
  for (let i = 0; i < fast; i++) limit.record(5);
  for (let i = 0; i < slow; i++) limit.record(slowMs);
  let current = limit.current;
  for (let t = 0; t < L.limitPeriodMs; t += 10) current = limit.tick((clock.now += 10), peak, lagMs);
  return current;
}

test("starts at initialInFlight and grows by 2% a period while reached and well within target, up to maxInFlight", () => {
  const clock = { now: 0 };
  const limit = new AdaptiveLimit(settings);
  limit.tick(clock.now, 0, 0);
  expect(limit.current).toBe(64);
  expect(period(limit, clock, 100, 0, 64)).toBe(65); // 65.28
  expect(period(limit, clock, 100, 0, 65)).toBe(66); // 66.59
  for (let i = 0; i < 100; i++) period(limit, clock, 100, 0, limit.current);
  expect(limit.current).toBe(200);
});

test("does not grow while the limit is not reached (an idle worker keeps its limit)", () => {
  const clock = { now: 0 };
  const limit = new AdaptiveLimit(settings);
  for (let i = 0; i < 20; i++) period(limit, clock, 100, 0, 20);
  expect(limit.current).toBe(64);
  limit.refuse(); // a refused request means it was reached, whatever the sampled peak
  expect(period(limit, clock, 100, 0, 20)).toBe(65);
});

test("holds while the p99 sits between 75% of the target and the target: no saw-tooth through it", () => {
  const clock = { now: 0 };
  const limit = new AdaptiveLimit(settings);
  limit.tick(clock.now, 0, 0);
  for (let i = 0; i < 10; i++) expect(period(limit, clock, 98, 2, 64, 0, 17)).toBe(64); // 2% at 17 ms: over 15, under 20
  expect(period(limit, clock, 99, 1, 64, 0, 17)).toBe(65); // 1% over 15 ms: the p99 has headroom again
});

test("a period with > 1% over target cuts in proportion to the overrun, then holds one period", () => {
  const clock = { now: 0 };
  const limit = new AdaptiveLimit(settings);
  limit.tick(clock.now, 0, 0);
  expect(period(limit, clock, 99, 1, 64)).toBe(65); // exactly 1%: the p99 is within target (65.28)
  expect(period(limit, clock, 80, 20, 65)).toBe(52); // 20% over: -20% at once (52.2)
  expect(period(limit, clock, 80, 20, 52)).toBe(52); // cooling: the auctions finishing now were admitted before the cut
  expect(period(limit, clock, 98, 2, 52)).toBe(52); // 2% over is mild: one such period is noise ...
  expect(period(limit, clock, 98, 2, 52)).toBe(49); // ... two in a row cut, at least 5% (49.6)
  expect(period(limit, clock, 0, 100, 49)).toBe(49);
  expect(period(limit, clock, 0, 100, 49)).toBe(24); // all over: at most halved
  expect(period(limit, clock, 98, 2, 24)).toBe(24); // cooling
  expect(period(limit, clock, 100, 0, 24)).toBe(25); // calm and reached: grows
  expect(period(limit, clock, 98, 2, 25)).toBe(25); // a lone mild over neither cuts nor grows
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

test("does not grow while more than limitStarvedShare of the auctions heard from no DSP in time; grows again once they do", () => {
  const clock = { now: 0 };
  const limit = new AdaptiveLimit(settings);
  limit.tick(clock.now, 0, 0);
  const starvedPeriod = (starved: number) => {
    for (let i = 0; i < starved; i++) limit.recordStarved();
    return period(limit, clock, 100, 0, limit.current);
  };
  expect(starvedPeriod(100 * L.limitStarvedShare + 5)).toBe(64); // internal time fine, but the DSPs cannot keep up: hold
  expect(starvedPeriod(100 * L.limitStarvedShare + 5)).toBe(64);
  expect(starvedPeriod(3)).toBe(65); // the usual few all-timeout auctions do not stop it
});
