// A rogue DSP that starts answering in 500 ms costs the auction nothing once its breaker opens:
// before, it wins (it bids highest); while it fails, auctions wait for the deadline; after its
// breaker opens it is not called at all, auctions finish as soon as the healthy DSPs answer (far
// below the deadline) and the healthy DSPs' bids win.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startSimDspProcess, startTmax, type Proc } from "./support/processes.ts";
import { bidRequest, metric, metrics, postAuction } from "./support/openrtb.ts";
import { bidFor, startStubDsp, type StubDsp } from "./support/stub-dsp.ts";

const THRESHOLD = 5;
let fastA: Proc, fastB: Proc, tmax: Proc, rogue: StubDsp;

beforeAll(async () => {
  rogue = startStubDsp((req) => ({ status: 200, body: bidFor(req, { price: 4 }) }));
  [fastA, fastB] = await Promise.all([
    startSimDspProcess(["--latency-ms", "5", "--bid-rate", "1", "--fixed-price", "1", "--campaigns", "c1", "--seat", "a"]),
    startSimDspProcess(["--latency-ms", "5", "--bid-rate", "1", "--fixed-price", "2", "--campaigns", "c1", "--seat", "b"]),
  ]);
  tmax = await startTmax({
    dsps: [{ id: "a", endpoint: fastA.url }, { id: "b", endpoint: fastB.url }, { id: "rogue", endpoint: rogue.url }],
    campaigns: [{ id: "c1", advertiserId: "a1", dailyBudget: 1000, currency: "USD" }],
    // A window longer than the test, so the 10 healthy calls are all still in it when the rogue fails.
    breaker: { failureThreshold: THRESHOLD, failureRate: 0.5, windowMs: 60_000, openMs: 600_000, halfOpenSuccesses: 3 },
  }, 1);
});

afterAll(async () => {
  rogue?.stop();
  await Promise.all([tmax?.kill(), fastA?.kill(), fastB?.kill()]);
});

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describe("a rogue DSP", () => {
  test("answering in 500 ms costs nothing after its breaker opens: latency back near the healthy DSPs', their bids win", async () => {
    const healthy: number[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await postAuction(tmax.url, bidRequest({ at: 1 }));
      expect(res.status).toBe(200);
      expect(res.json.seatbid[0].bid[0].price).toBe(4); // the rogue bids highest while healthy
      healthy.push(res.ms);
    }
    rogue.reply = (req) => ({ status: 200, body: bidFor(req, { price: 4 }), delayMs: 500 });
    // The breaker opens on the failure rate: after 10 successes, THRESHOLD failures are not enough;
    // it takes half the window's calls (10 failures, more if a failure was our own stall: neutral).
    const failing: number[] = [];
    let state = 0;
    while (state !== 1 && failing.length < 40) {
      const res = await postAuction(tmax.url, bidRequest({ at: 1 }));
      expect(res.status).toBe(200);
      expect(res.json.seatbid[0].seat).toBe("b");
      failing.push(res.ms);
      state = metric(await metrics(tmax.url), 'tmax_dsp_breaker_state{dsp="rogue"}');
    }
    expect(state).toBe(1);
    expect(failing.length).toBeGreaterThan(THRESHOLD);
    expect(failing.length).toBeGreaterThanOrEqual(10);
    expect(median(failing)).toBeGreaterThanOrEqual(65); // waited for the 70 ms deadline
    const callsWhenOpened = rogue.calls;
    const after: number[] = [];
    for (let i = 0; i < 20; i++) {
      const res = await postAuction(tmax.url, bidRequest({ at: 1 }));
      expect(res.status).toBe(200);
      expect(res.json.seatbid[0].seat).toBe("b");
      expect(res.json.seatbid[0].bid[0].price).toBe(2);
      after.push(res.ms);
    }
    expect(rogue.calls).toBe(callsWhenOpened);
    // Near the healthy DSPs' latency: far from the deadline the rogue used to cost.
    expect(median(after)).toBeLessThan(median(failing) - 30);
    expect(median(after)).toBeLessThan(median(healthy) + 25);
  });
});
