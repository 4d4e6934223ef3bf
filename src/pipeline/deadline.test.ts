import { describe, expect, test } from "bun:test";
import { dspTmaxMs, fanoutWindowMs } from "./deadline.ts";

const s = { dspTimeoutMs: 70, networkBufferMs: 10, responseReserveMs: 5, minDspTimeoutMs: 10, defaultTmaxMs: 100 };

describe("deadline arithmetic", () => {
  test("the configured DSP timeout caps a generous tmax", () => expect(fanoutWindowMs(500, s)).toBe(70));
  test("a tight tmax leaves room for the wire and the answer", () => expect(fanoutWindowMs(60, s)).toBe(45));
  test("absent or zero tmax means the default", () => {
    expect(fanoutWindowMs(undefined, s)).toBe(70);
    expect(fanoutWindowMs(0, s)).toBe(70);
  });
  test("a tmax smaller than the reserves leaves no time", () => expect(fanoutWindowMs(12, s)).toBeLessThanOrEqual(0));
  test("each DSP is told the time left, capped by its own timeout", () => {
    expect(dspTmaxMs(1070, 70, 1003.4, s)).toBe(66);
    expect(dspTmaxMs(1070, 40, 1003.4, s)).toBe(40);
  });
  test("a DSP that cannot make it is skipped", () => expect(dspTmaxMs(1008, 70, 1000, s)).toBe(0));
});
