import { describe, expect, test } from "bun:test";
import { FlashCrashDetector } from "./flash-crash.ts";

const settings = { windowSec: 2, baselineSec: 10, dropShare: 0.8, minRequests: 20 };

/** `perSec` calls per DSP per second for `secs` seconds from `fromSec`, with each DSP's bid rate. */
function feed(d: FlashCrashDetector, fromSec: number, secs: number, rates: number[], perSec = 20): number {
  for (let s = fromSec; s < fromSec + secs; s++) {
    for (let i = 0; i < perSec; i++) rates.forEach((rate, dsp) => d.record(dsp, i < rate * perSec, s * 1000 + i));
  }
  return fromSec + secs;
}

describe("flash-crash detection", () => {
  test("steady bidding: no alert", () => {
    const d = new FlashCrashDetector(3, settings);
    const t = feed(d, 100, 15, [0.5, 0.6, 0.4]);
    expect(d.advance(t * 1000)).toBe(false);
  });

  test("bids collapse across all DSPs: alert within the window; recovers once the baseline catches up", () => {
    const d = new FlashCrashDetector(3, settings);
    let t = feed(d, 100, 12, [0.5, 0.6, 0.4]);
    t = feed(d, t, 2, [0, 0.05, 0]);
    expect(d.advance(t * 1000)).toBe(true);
    t = feed(d, t, 14, [0.5, 0.6, 0.4]);
    expect(d.advance(t * 1000)).toBe(false);
  });

  test("one DSP's drop is left to its breaker: no alert", () => {
    const d = new FlashCrashDetector(3, settings);
    let t = feed(d, 100, 12, [0.5, 0.6, 0.4]);
    t = feed(d, t, 2, [0, 0.6, 0.4]);
    expect(d.advance(t * 1000)).toBe(false);
  });

  test("a worker that stops getting traffic says nothing: no alert", () => {
    const d = new FlashCrashDetector(2, settings);
    const t = feed(d, 100, 12, [0.5, 0.5]);
    expect(d.advance((t + 2) * 1000)).toBe(false);
  });

  test("too little traffic in the baseline: no alert", () => {
    const d = new FlashCrashDetector(2, settings);
    let t = feed(d, 100, 12, [0.5, 0.5], 1);
    t = feed(d, t, 2, [0, 0], 1);
    expect(d.advance(t * 1000)).toBe(false);
  });
});
