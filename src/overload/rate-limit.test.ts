import { describe, expect, test } from "bun:test";
import { SharedRateLimiter } from "./rate-limit.ts";
import { rateLimitSettings } from "./config.ts";

const settings = rateLimitSettings({
  exchanges: [{ id: "ex-a", ratePerSec: 100, burst: 10 }, { id: "ex-b", ratePerSec: 1000, burst: 5, answer: 204 }],
  unknown: { ratePerSec: 10, burst: 2 },
})!;

describe("shared token buckets (GCRA)", () => {
  test("a burst passes, then the rate: 10 at once, then one per 10 ms", () => {
    const l = new SharedRateLimiter(settings, SharedRateLimiter.allocate(settings));
    const t0 = 1e12;
    let passed = 0;
    for (let i = 0; i < 50; i++) if (l.refuse("ex-a", t0) === null) passed++;
    expect(passed).toBe(10);
    expect(l.refuse("ex-a", t0 + 5_000)).not.toBeNull();
    expect(l.refuse("ex-a", t0 + 10_000)).toBeNull();
    // one second later: 100 more admitted over that second at most (plus the refilled burst)
    let later = 0;
    for (let ms = 0; ms < 1000; ms++) if (l.refuse("ex-a", t0 + 1_000_000 + ms * 1000) === null) later++;
    expect(later).toBeGreaterThanOrEqual(100);
    expect(later).toBeLessThanOrEqual(110);
  });

  test("two limiters over one buffer (as two workers) share one limit, not two", () => {
    const buffer = SharedRateLimiter.allocate(settings);
    const [w1, w2] = [new SharedRateLimiter(settings, buffer), new SharedRateLimiter(settings, buffer)];
    let passed = 0;
    for (let i = 0; i < 20; i++) {
      if (w1.refuse("ex-a", 5e12) === null) passed++;
      if (w2.refuse("ex-a", 5e12) === null) passed++;
    }
    expect(passed).toBe(10);
  });

  test("exchanges are separate; unknown or missing exchanges share the unknown rule; the verdict says how to answer", () => {
    const l = new SharedRateLimiter(settings, SharedRateLimiter.allocate(settings));
    for (let i = 0; i < 10; i++) l.refuse("ex-a", 7e12);
    expect(l.refuse("ex-a", 7e12)?.rule.answer).toBe(429);
    expect(l.refuse("ex-b", 7e12)).toBeNull();
    for (let i = 0; i < 5; i++) l.refuse("ex-b", 7e12);
    expect(l.refuse("ex-b", 7e12)).toMatchObject({ exchange: 1, rule: { answer: 204 } });
    expect(l.refuse("ex-x", 7e12)).toBeNull();
    expect(l.refuse(null, 7e12)).toBeNull();
    expect(l.refuse("ex-y", 7e12)).toMatchObject({ exchange: -1 });
  });

  test("no unknown rule: unknown exchanges are not limited", () => {
    const s = rateLimitSettings({ exchanges: [{ id: "ex-a", ratePerSec: 1, burst: 1 }] })!;
    const l = new SharedRateLimiter(s, SharedRateLimiter.allocate(s));
    for (let i = 0; i < 100; i++) expect(l.refuse("someone", 1e12)).toBeNull();
  });
});
