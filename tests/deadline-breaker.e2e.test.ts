// The deadline and the breaker through a real server: a slow DSP never holds the answer past the
// deadline, partial results are used, and a failing DSP is skipped once half its calls in the
// breaker's window failed (at least 5 of them) and comes back.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startSimDspProcess, startTmax, type Proc } from "./support/processes.ts";
import { bidRequest, metric, metrics, postAuction } from "./support/openrtb.ts";
import { bidFor, startStubDsp, type StubDsp } from "./support/stub-dsp.ts";

/** Slack for a noisy shared 2-core machine; the slow DSP takes 500 ms, far beyond it. */
const MARGIN_MS = 60;
const OPEN_MS = 1_500;

let fast: Proc, slow: Proc, tmax: Proc, flaky: StubDsp;

beforeAll(async () => {
  flaky = startStubDsp();
  [fast, slow] = await Promise.all([
    startSimDspProcess(["--latency-ms", "5", "--bid-rate", "1", "--fixed-price", "1", "--campaigns", "c1", "--seat", "fast"]),
    startSimDspProcess(["--latency-ms", "500", "--bid-rate", "1", "--fixed-price", "4", "--campaigns", "c1", "--seat", "slow"]),
  ]);
  tmax = await startTmax({
    dsps: [{ id: "fast", endpoint: fast.url }, { id: "slow", endpoint: slow.url }, { id: "flaky", endpoint: flaky.url }],
    campaigns: [{ id: "c1", advertiserId: "a1", dailyBudget: 1000, currency: "USD" }],
    // A window longer than the whole file's run, so which calls it holds does not depend on timing.
    breaker: { failureThreshold: 5, failureRate: 0.5, windowMs: 60_000, openMs: OPEN_MS, halfOpenSuccesses: 3 },
  }, 1);
});

afterAll(async () => {
  flaky?.stop();
  await Promise.all([tmax?.kill(), fast?.kill(), slow?.kill()]);
});

describe("one deadline for all DSPs", () => {
  test("a DSP answering in 500 ms does not delay the answer past the deadline; the fast DSP's bid wins", async () => {
    flaky.reply = () => ({ status: 204 });
    for (const tmaxMs of [100, 60]) {
      const deadlineMs = Math.min(70, tmaxMs - 10 - 5);
      const res = await postAuction(tmax.url, bidRequest({ tmax: tmaxMs }, { bidfloor: 0.1 }));
      expect(res.status).toBe(200);
      expect(res.json.seatbid[0].seat).toBe("fast");
      expect(res.ms).toBeGreaterThanOrEqual(deadlineMs - 2);
      expect(res.ms).toBeLessThan(deadlineMs + MARGIN_MS);
    }
    const text = await metrics(tmax.url);
    expect(metric(text, 'tmax_dsp_requests_total{dsp="slow",outcome="timeout"}')).toBeGreaterThanOrEqual(2);
  });

  test("each DSP is told its own tmax: the time left, never more than the deadline", async () => {
    let told = -1;
    flaky.reply = (req) => ((told = req.tmax), { status: 204 });
    await postAuction(tmax.url, bidRequest({ tmax: 60 }));
    expect(told).toBeGreaterThan(35 - 5);
    expect(told).toBeLessThanOrEqual(45);
  });
});

describe("circuit breaker", () => {
  // Before: 3 successes (the deadline tests' 204s), so the 5th failure makes 5 of 8 calls (>= 50%).
  test("opens after 5 failures in a row (5 of 8 calls), skips the DSP, and closes after 3 successful trials in half-open", async () => {
    flaky.reply = () => ({ status: 200, body: "", delayMs: 300 });
    const before = flaky.calls;
    for (let i = 0; i < 5; i++) await postAuction(tmax.url, bidRequest());
    expect(flaky.calls - before).toBe(5);
    let text = await metrics(tmax.url);
    expect(metric(text, 'tmax_dsp_breaker_state{dsp="flaky"}')).toBe(1);
    for (let i = 0; i < 3; i++) await postAuction(tmax.url, bidRequest());
    expect(flaky.calls - before).toBe(5); // skipped while open
    text = await metrics(tmax.url);
    expect(metric(text, 'tmax_dsp_requests_total{dsp="flaky",outcome="skipped_breaker"}')).toBeGreaterThanOrEqual(3);

    flaky.reply = (req) => ({ status: 200, body: bidFor(req, { price: 0.5 }) });
    await Bun.sleep(OPEN_MS + 100);
    for (let i = 0; i < 3; i++) await postAuction(tmax.url, bidRequest());
    expect(flaky.calls - before).toBe(8);
    text = await metrics(tmax.url);
    expect(metric(text, 'tmax_dsp_breaker_state{dsp="flaky"}')).toBe(0);
  });

  // Closing cleared the window; the 6 good answers keep it closed until 6 of 12 calls failed.
  test("malformed answers count as failures too; a bad bid in a good answer does not", async () => {
    flaky.reply = (req) => ({ status: 200, body: bidFor(req, { impid: "nope" }) });
    for (let i = 0; i < 6; i++) await postAuction(tmax.url, bidRequest());
    expect(metric(await metrics(tmax.url), 'tmax_dsp_breaker_state{dsp="flaky"}')).toBe(0);
    flaky.reply = () => ({ status: 200, body: "{not json" });
    for (let i = 0; i < 5; i++) await postAuction(tmax.url, bidRequest());
    expect(metric(await metrics(tmax.url), 'tmax_dsp_breaker_state{dsp="flaky"}')).toBe(0); // 5 of 11
    await postAuction(tmax.url, bidRequest());
    expect(metric(await metrics(tmax.url), 'tmax_dsp_breaker_state{dsp="flaky"}')).toBe(1); // 6 of 12
  });
});
