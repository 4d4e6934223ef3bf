import { describe, expect, test } from "bun:test";
import { Breaker, BREAKER_CLOSED, BREAKER_HALF_OPEN, BREAKER_OPEN, type BreakerSettings } from "./breaker.ts";
import { makeRng as seeded } from "../util/rng.ts"; // seeded, so the random-failure test is the same run every time

const settings: BreakerSettings = { failureThreshold: 5, failureRate: 0.5, windowMs: 5_000, openMs: 30_000, halfOpenSuccesses: 3 };

/** A breaker opened at `atMs` by 5 failures. */
function opened(atMs: number, onChange?: (s: number) => void): Breaker {
  const b = new Breaker(settings, onChange);
  for (let i = 0; i < 5; i++) b.recordFailure(atMs);
  expect(b.current).toBe(BREAKER_OPEN);
  return b;
}

describe("closed: the failure rate over the window", () => {
  test("opens once half the window's calls failed (and at least failureThreshold did), not before", () => {
    const b = new Breaker(settings);
    for (let i = 0; i < 10; i++) b.recordSuccess(100);
    for (let i = 0; i < 9; i++) b.recordFailure(200);
    expect(b.current).toBe(BREAKER_CLOSED); // 9 of 19
    b.recordFailure(200);
    expect(b.current).toBe(BREAKER_OPEN); // 10 of 20
    expect(b.allows(200 + 29_999)).toBe(false);
  });

  test("a 10% random failure rate with stalls (5+ failures in a row) at 3000 calls/s never opens it", () => {
    const random = seeded(42);
    const changes: number[] = [];
    const b = new Breaker(settings, (s) => changes.push(s));
    let run = 0, longestRun = 0, failures = 0, calls = 0;
    for (let nowMs = 0; nowMs < 20_000; nowMs += 1 / 3) {
      // Every second (from 0.5 s: an empty window's first 5 failures do open it) a stall of this
      // machine makes 8 calls in flight late together.
      const fail = Math.abs((nowMs % 1000) - 500) < 4 / 3 || random() < 0.1;
      expect(b.allows(nowMs)).toBe(true);
      if (fail) b.recordFailure(nowMs);
      else b.recordSuccess(nowMs);
      calls++;
      failures += fail ? 1 : 0;
      run = fail ? run + 1 : 0;
      longestRun = Math.max(longestRun, run);
    }
    expect(calls).toBeGreaterThan(59_000);
    expect(failures / calls).toBeGreaterThan(0.09);
    expect(failures / calls).toBeLessThan(0.12);
    expect(longestRun).toBeGreaterThanOrEqual(8); // the old 5-in-a-row breaker opened on this
    expect(changes).toEqual([]);
  });

  test("fewer than failureThreshold failures never open it, even at 100%", () => {
    const b = new Breaker(settings);
    for (let i = 0; i < 4; i++) b.recordFailure(0);
    expect(b.current).toBe(BREAKER_CLOSED);
    b.recordFailure(0);
    expect(b.current).toBe(BREAKER_OPEN);

    const high = new Breaker({ ...settings, failureThreshold: 1000 });
    for (let i = 0; i < 999; i++) high.recordFailure(i);
    expect(high.current).toBe(BREAKER_CLOSED);
    high.recordFailure(999);
    expect(high.current).toBe(BREAKER_OPEN);
  });

  test("neutral results count for nothing", () => {
    const b = new Breaker(settings);
    for (let i = 0; i < 4; i++) {
      b.recordFailure(0);
      for (let j = 0; j < 10; j++) b.recordNeutral();
    }
    expect(b.current).toBe(BREAKER_CLOSED);
    b.recordFailure(0); // 5 of 5: would be 5 of 45 if neutrals counted as calls
    expect(b.current).toBe(BREAKER_OPEN);
  });

  test("failures and successes older than the window age out (10 buckets of windowMs / 10)", () => {
    const window = { ...settings, windowMs: 1_000 };
    // Bucket 0 (0..99 ms) is still in the window at 999 ms, gone from 1000 ms.
    const inside = new Breaker(window);
    for (let i = 0; i < 4; i++) inside.recordFailure(0);
    inside.recordFailure(999);
    expect(inside.current).toBe(BREAKER_OPEN);
    const aged = new Breaker(window);
    for (let i = 0; i < 4; i++) aged.recordFailure(0);
    aged.recordFailure(1_000);
    expect(aged.current).toBe(BREAKER_CLOSED); // 1 failure in the window
    for (let i = 0; i < 3; i++) aged.recordFailure(1_050);
    expect(aged.current).toBe(BREAKER_CLOSED); // 4
    aged.recordFailure(1_950);
    expect(aged.current).toBe(BREAKER_OPEN); // 5

    // Successes age out too: 5 failures among 20 successes do not open it; once the successes are
    // out of the window, one more failure does (6 of 6).
    const rate = new Breaker(window);
    for (let i = 0; i < 20; i++) rate.recordSuccess(0);
    for (let i = 0; i < 5; i++) rate.recordFailure(500);
    expect(rate.current).toBe(BREAKER_CLOSED);
    rate.recordFailure(1_000);
    expect(rate.current).toBe(BREAKER_OPEN);

    // A long quiet spell clears every bucket, not just the ten after the newest.
    const quiet = new Breaker(window);
    for (let i = 0; i < 4; i++) quiet.recordFailure(50);
    quiet.recordFailure(1_000_050);
    expect(quiet.current).toBe(BREAKER_CLOSED);
  });
});

describe("open and half-open", () => {
  test("skips the DSP for openMs, then admits only halfOpenSuccesses trials", () => {
    const b = opened(1_000);
    expect(b.allows(30_999)).toBe(false);
    expect(b.current).toBe(BREAKER_OPEN);
    expect([b.allows(31_000), b.allows(31_000), b.allows(31_001)]).toEqual([true, true, true]);
    expect(b.current).toBe(BREAKER_HALF_OPEN);
    expect(b.allows(31_002)).toBe(false);
    expect(b.allows(31_500)).toBe(false);
  });

  test("halfOpenSuccesses successful trials close it, with a fresh window", () => {
    const seen: number[] = [];
    const b = opened(1_000, (s) => seen.push(s));
    expect(b.allows(31_000)).toBe(true);
    b.recordSuccess(31_010);
    expect(b.allows(31_020)).toBe(true);
    expect(b.allows(31_020)).toBe(true);
    b.recordSuccess(31_030);
    expect(b.current).toBe(BREAKER_HALF_OPEN);
    expect(b.allows(31_030)).toBe(false); // 2 successes + 1 in flight: all 3 slots used
    b.recordSuccess(31_040);
    expect(b.current).toBe(BREAKER_CLOSED);
    expect(seen).toEqual([BREAKER_OPEN, BREAKER_HALF_OPEN, BREAKER_CLOSED]);
  });

  test("closing clears the window: the failures that opened it do not count again", () => {
    const quick = new Breaker({ ...settings, openMs: 1_000 }); // back well within the 5 s window
    for (let i = 0; i < 5; i++) quick.recordFailure(0);
    for (let i = 0; i < 3; i++) expect(quick.allows(1_000)).toBe(true);
    for (let i = 0; i < 3; i++) quick.recordSuccess(1_010);
    expect(quick.current).toBe(BREAKER_CLOSED);
    for (let i = 0; i < 4; i++) quick.recordFailure(1_100);
    expect(quick.current).toBe(BREAKER_CLOSED);
    quick.recordFailure(1_100);
    expect(quick.current).toBe(BREAKER_OPEN);
  });

  test("a failed trial opens it again for openMs", () => {
    const seen: number[] = [];
    const b = opened(1_000, (s) => seen.push(s));
    expect(b.allows(31_000)).toBe(true);
    expect(b.allows(31_000)).toBe(true);
    b.recordSuccess(31_010);
    b.recordFailure(31_020);
    expect(b.current).toBe(BREAKER_OPEN);
    expect(b.allows(61_019)).toBe(false);
    expect(b.allows(61_020)).toBe(true);
    expect(seen).toEqual([BREAKER_OPEN, BREAKER_HALF_OPEN, BREAKER_OPEN, BREAKER_HALF_OPEN]);
  });

  test("a trial with a neutral result frees its slot", () => {
    const b = opened(1_000);
    for (let i = 0; i < 3; i++) expect(b.allows(31_000)).toBe(true);
    expect(b.allows(31_001)).toBe(false);
    b.recordNeutral();
    expect(b.current).toBe(BREAKER_HALF_OPEN);
    expect(b.allows(31_002)).toBe(true);
    expect(b.allows(31_002)).toBe(false);
  });

  test("trials unanswered for longer than openMs are forgotten, so new trials may go", () => {
    const b = opened(1_000);
    for (let i = 0; i < 3; i++) expect(b.allows(31_000)).toBe(true);
    expect(b.allows(61_000)).toBe(false);
    expect(b.allows(61_001)).toBe(true);
    b.recordSuccess(61_010);
    b.recordSuccess(61_010); // a forgotten trial's late answer is not taken for a second trial
    expect(b.allows(61_020)).toBe(true);
    expect(b.allows(61_020)).toBe(true);
    b.recordSuccess(61_030);
    b.recordSuccess(61_030);
    expect(b.current).toBe(BREAKER_CLOSED);
  });

  test("late answers to calls made before it opened change nothing while open", () => {
    const b = opened(1_000);
    for (let i = 0; i < 10; i++) b.recordSuccess(1_010);
    b.recordFailure(1_020);
    expect(b.allows(30_999)).toBe(false);
    expect(b.allows(31_000)).toBe(true);
  });
});
