import { expect, test } from "bun:test";
import { Breaker, BREAKER_CLOSED, BREAKER_HALF_OPEN, BREAKER_OPEN } from "./breaker.ts";

const settings = { failureThreshold: 5, openMs: 30_000, halfOpenSuccesses: 3 };

test("opens after 5 consecutive failures, not after 4 with a success between", () => {
  const b = new Breaker(settings);
  for (let i = 0; i < 4; i++) b.recordFailure(0);
  b.recordSuccess();
  for (let i = 0; i < 4; i++) b.recordFailure(0);
  expect(b.current).toBe(BREAKER_CLOSED);
  b.recordFailure(0);
  expect(b.current).toBe(BREAKER_OPEN);
  expect(b.allows(29_999)).toBe(false);
});

test("half-open after openMs; 3 successes close it, a failure reopens it", () => {
  const seen: number[] = [];
  const b = new Breaker(settings, (s) => seen.push(s));
  for (let i = 0; i < 5; i++) b.recordFailure(1000);
  expect(b.allows(31_000)).toBe(true);
  expect(b.current).toBe(BREAKER_HALF_OPEN);
  b.recordFailure(31_001);
  expect(b.allows(31_002)).toBe(false);
  expect(b.allows(61_001)).toBe(true);
  b.recordSuccess();
  b.recordSuccess();
  expect(b.current).toBe(BREAKER_HALF_OPEN);
  b.recordSuccess();
  expect(b.current).toBe(BREAKER_CLOSED);
  expect(seen).toEqual([BREAKER_OPEN, BREAKER_HALF_OPEN, BREAKER_OPEN, BREAKER_HALF_OPEN, BREAKER_CLOSED]);
});
