// The guard's concurrency limit: past it a request is refused; the limit follows the internal
// processing times the guard is fed, through the guard's own tick; with the guard off nothing is refused.
import { expect, test } from "bun:test";
import { parseConfig } from "../config/load.ts";
import { allocateOverloadShared, OverloadGuard } from "./guard.ts";
import { OVERLOAD_LIMITS as L } from "./limits.ts";

const base = {
  dsps: [{ id: "d1", endpoint: "http://127.0.0.1:9/" }],
  campaigns: [{ id: "c1", advertiserId: "a1", dailyBudget: "10", currency: "USD" }],
};

function guardOf(overload: Record<string, unknown>, inFlight: { n: number }, atCapacity: boolean[] = []) {
  const config = parseConfig({ ...base, overload });
  return new OverloadGuard(config, allocateOverloadShared(config), 0, {
    inFlight: () => inFlight.n, outboxPendingBytes: () => 0, atCapacity: (busy) => void atCapacity.push(busy),
  });
}

test("refuses past the limit; internal times over target shrink it, the guard's tick applies it", () => {
  const inFlight = { n: 0 };
  const guard = guardOf({ initialInFlight: 40, internalTargetMs: 20 }, inFlight);
  expect(guard.overLimit(40)).toBe(false);
  expect(guard.overLimit(41)).toBe(true);
  let now = 1_000;
  inFlight.n = 40;
  for (let i = 0; i < 100; i++) guard.recordInternal(i < 70 ? 5 : 60); // 30% over target
  for (let t = 0; t <= L.limitPeriodMs; t += L.tickMs) guard.tick((now += L.tickMs));
  expect(guard.limit.current).toBe(28);
  expect(guard.overLimit(29)).toBe(true);
  expect(guard.overLimit(28)).toBe(false);
});

test("with the limit reached the DSP deadline drops as at limitReachedPressure (55 ms) even with calm signals, and background work is told to pause; below it the pause ends at once, the deadline after limitReachedHoldMs", () => {
  const inFlight = { n: 20 };
  const atCapacity: boolean[] = [];
  const guard = guardOf({ initialInFlight: 40 }, inFlight, atCapacity);
  let now = 1_000;
  const period = () => { for (let t = 0; t < L.limitPeriodMs; t += L.tickMs) guard.tick((now += L.tickMs)); };
  period();
  period();
  expect(guard.dspTimeoutMs).toBe(70); // half full: calm
  expect(atCapacity.at(-1)).toBe(false);
  expect(atCapacity).not.toContain(true);
  inFlight.n = 40;
  period();
  period();
  expect(guard.limit.reached).toBe(true);
  expect(guard.dspTimeoutMs).toBe(70 - (70 - 50) * L.limitReachedPressure);
  expect(guard.dspTimeoutMs).toBe(55);
  expect(atCapacity.at(-1)).toBe(true);
  inFlight.n = 10;
  period();
  period();
  expect(atCapacity.at(-1)).toBe(false);
  expect(guard.dspTimeoutMs).toBe(55); // a worker near capacity misses the limit now and then: the deadline holds
  const belowSince = now - L.limitPeriodMs; // the first period below ended here
  while (now - belowSince < L.limitReachedHoldMs - L.limitPeriodMs) period();
  expect(guard.dspTimeoutMs).toBe(55);
  period();
  period();
  expect(guard.dspTimeoutMs).toBe(70);
  inFlight.n = 40;
  period();
  period();
  expect(atCapacity.at(-1)).toBe(true);
  guard.stop(); // a stopping worker's consumers must not stay paused
  expect(atCapacity.at(-1)).toBe(false);
});

test("with the guard off nothing is refused and background work never pauses", () => {
  const atCapacity: boolean[] = [];
  const inFlight = { n: 1_000 };
  const guard = guardOf({ enabled: false, maxInFlight: 4 }, inFlight, atCapacity);
  expect(guard.overLimit(1_000)).toBe(false);
  let now = 1_000;
  for (let t = 0; t < 3 * L.limitPeriodMs; t += L.tickMs) guard.tick((now += L.tickMs));
  expect(atCapacity.length).toBeGreaterThan(0);
  expect(atCapacity).not.toContain(true);
});
