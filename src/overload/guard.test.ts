// The guard's tick: the DSP deadline follows saturation of the concurrency limit even when the
// pressure signals read calm (the limit sheds before queues can build, so they stay calm).
import { expect, test } from "bun:test";
import { parseConfig } from "../config/load.ts";
import { allocateOverloadShared, OverloadGuard, SATURATED_SHARE } from "./guard.ts";

const base = {
  dsps: [{ id: "d1", endpoint: "http://127.0.0.1:9/" }],
  campaigns: [{ id: "c1", advertiserId: "a1", dailyBudget: "10", currency: "USD" }],
};
const config = parseConfig({ ...base, overload: { maxInFlight: 40 } });

test("at >= 75% of overload.maxInFlight in flight the DSP deadline drops to the pressured one; it recovers below", () => {
  let inFlight = 0;
  const guard = new OverloadGuard(config, allocateOverloadShared(config), 0, { inFlight: () => inFlight, outboxPendingBytes: () => 0 });
  let now = 1_000;
  const tick = () => guard.tick((now += 10));
  tick();
  expect(guard.dspTimeoutMs).toBe(config.auction.dspTimeoutMs);
  inFlight = Math.ceil(40 * SATURATED_SHARE) - 1;
  tick();
  expect(guard.dspTimeoutMs).toBe(config.auction.dspTimeoutMs); // below the share: calm signals, full deadline
  inFlight = Math.ceil(40 * SATURATED_SHARE);
  tick();
  expect(guard.dspTimeoutMs).toBe(config.overload.pressuredDspTimeoutMs);
  inFlight = 2;
  tick();
  expect(guard.dspTimeoutMs).toBe(config.auction.dspTimeoutMs);
});

test("with the guard off, saturation changes nothing", () => {
  const off = parseConfig({ ...base, overload: { enabled: false, maxInFlight: 40 } });
  const guard = new OverloadGuard(off, allocateOverloadShared(off), 0, { inFlight: () => 40, outboxPendingBytes: () => 0 });
  guard.tick(1_010);
  expect(guard.dspTimeoutMs).toBe(off.auction.dspTimeoutMs);
});
