import { describe, expect, test } from "bun:test";
import { PressureController } from "./pressure.ts";
import { LagProbe, SlidingP99, normalized } from "./signals.ts";
import { OVERLOAD_DEFAULTS } from "./config.ts";
import { pressuredDspTimeoutMs, fanoutWindowMs } from "../pipeline/deadline.ts";

const calm = { inFlight: 0, eventLoopLagMs: 0, internalP99Ms: 5, outboxPendingBytes: 0 };
const hot = { ...calm, eventLoopLagMs: 100 };

describe("pressure controller", () => {
  test("stays at 0 with calm signals; rises within a few ticks when one signal saturates", () => {
    const c = new PressureController(OVERLOAD_DEFAULTS);
    for (let i = 0; i < 50; i++) c.update(calm, 10);
    expect(c.pressure).toBe(0);
    expect(c.shedShare).toBe(0);
    c.update(hot, 10);
    c.update(hot, 10);
    expect(c.pressure).toBeGreaterThanOrEqual(0.75);
    expect(c.shedShare).toBeGreaterThan(0.4);
  });

  test("the shed share keeps growing while pressure stays above target, then decays back to 0 once calm", () => {
    const c = new PressureController(OVERLOAD_DEFAULTS);
    const shares: number[] = [];
    for (let i = 0; i < 60; i++) shares.push((c.update(hot, 10), c.shedShare));
    expect(shares[59]!).toBeGreaterThan(shares[2]!);
    expect(shares[59]!).toBe(1);
    for (let i = 0; i < 300; i++) c.update(calm, 10);
    expect(c.pressure).toBeLessThan(0.05);
    expect(c.shedShare).toBe(0);
  });

  test("any one signal is enough: in-flight, internal p99, outbox bytes", () => {
    for (const v of [{ inFlight: 10_000 }, { internalP99Ms: 1_000 }, { outboxPendingBytes: 1e9 }]) {
      const c = new PressureController(OVERLOAD_DEFAULTS);
      for (let i = 0; i < 5; i++) c.update({ ...calm, ...v }, 10);
      expect(c.pressure).toBeGreaterThan(0.9);
    }
  });
});

describe("signals", () => {
  test("normalized clamps to 0..1 between low and high", () => {
    expect(normalized(5, { low: 10, high: 20 })).toBe(0);
    expect(normalized(15, { low: 10, high: 20 })).toBe(0.5);
    expect(normalized(50, { low: 10, high: 20 })).toBe(1);
  });

  test("the lag probe reports sustained lateness, not one stray late tick", () => {
    const p = new LagProbe(10, 3);
    expect(p.tick(1000)).toBe(0);
    expect(p.tick(1010)).toBe(0);
    expect(p.tick(1120)).toBe(0); // one 100 ms stall: ignored
    expect(p.tick(1130)).toBe(0);
    expect(p.tick(1160)).toBe(0);
    expect(p.tick(1190)).toBe(0); // the loop stays 20 ms late ...
    expect(p.tick(1220)).toBe(20); // ... for 3 ticks: lag
  });

  test("sliding p99 forgets samples older than its window", () => {
    const few = new SlidingP99(512, 1000, 20);
    for (let i = 0; i < 19; i++) few.record(500, 0);
    expect(few.p99(1)).toBe(0); // too few samples to say anything
    const w = new SlidingP99(512, 1000, 1);
    for (let i = 0; i < 100; i++) w.record(i < 99 ? 1 : 100, 0);
    expect(w.p99(10)).toBe(1);
    w.record(500, 10);
    w.record(500, 10);
    expect(w.p99(10)).toBe(500);
    w.record(2, 2000);
    expect(w.p99(2000)).toBe(2);
    expect(new SlidingP99().p99(0)).toBe(0);
  });
});

describe("adaptive DSP deadline (deadline.ts)", () => {
  test("70 ms with no pressure, 50 ms at full pressure, linear between, recovers", () => {
    expect(pressuredDspTimeoutMs(70, 50, 0)).toBe(70);
    expect(pressuredDspTimeoutMs(70, 50, 0.5)).toBe(60);
    expect(pressuredDspTimeoutMs(70, 50, 1)).toBe(50);
    expect(pressuredDspTimeoutMs(70, 50, 7)).toBe(50);
    const s = { dspTimeoutMs: 70, networkBufferMs: 10, responseReserveMs: 5, minDspTimeoutMs: 10, defaultTmaxMs: 100 };
    expect(fanoutWindowMs(200, s, 50)).toBe(50);
    expect(fanoutWindowMs(60, s, 50)).toBe(45);
    expect(fanoutWindowMs(200, s)).toBe(70);
  });
});
