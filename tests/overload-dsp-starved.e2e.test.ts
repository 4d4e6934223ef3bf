// The adaptive concurrency limit and DSPs that cannot keep up, through a real `tmax serve`: while the
// DSP answers in time the limit, reached, grows; once every auction's DSP call times out it stops
// growing, although the worker's own (internal) time stays small: more auctions would only be more
// timeouts for a DSP at its limit.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTmax, type Proc } from "./support/processes.ts";
import { metric, metrics } from "./support/openrtb.ts";
import { bidFor, startStubDsp, type StubDsp } from "./support/stub-dsp.ts";
import { drive } from "../scripts/chaos/driver.ts";
import { OVERLOAD_LIMITS } from "../src/overload/limits.ts";

const START_LIMIT = 8;
/** Open-loop load well past what START_LIMIT auctions in flight can serve, so the limit is reached. */
const LOAD = { rps: 600, durationS: 1.5, tmaxMs: 1_000 };
let dsp: StubDsp, tmax: Proc;

beforeAll(async () => {
  dsp = startStubDsp((req) => ({ status: 200, body: bidFor(req, { price: 1.5 }), delayMs: 20 }));
  tmax = await startTmax({
    dsps: [{ id: "d1", endpoint: dsp.url }],
    campaigns: [{ id: "c1", advertiserId: "a1", dailyBudget: 100_000, currency: "USD" }],
    // A generous internal target, so only the DSP's answers decide here (not this box's noise).
    overload: { initialInFlight: START_LIMIT, minInFlight: START_LIMIT, internalTargetMs: 100 },
  }, 1);
});

afterAll(async () => {
  dsp?.stop();
  await tmax?.kill();
});

const limitNow = async () => metric(await metrics(tmax.url), 'tmax_overload_in_flight_limit{worker="0"}');

test("the limit grows while the DSP answers in time, and stops growing once every DSP call times out", async () => {
  await drive({ url: tmax.url, ...LOAD });
  const grown = await limitNow();
  expect(grown).toBeGreaterThan(START_LIMIT);

  // The last auctions of the first load finish in time; a control period holding them and the second
  // load's start (its limit full, its timeouts not yet in) would grow the limit once: let it close first.
  await Bun.sleep(3 * OVERLOAD_LIMITS.limitPeriodMs);
  dsp.reply = (req) => ({ status: 200, body: bidFor(req, { price: 1.5 }), delayMs: 500 }); // past every deadline
  await drive({ url: tmax.url, ...LOAD });
  const starved = await limitNow();
  console.log(`limit ${START_LIMIT} -> ${grown} (DSP in time) -> ${starved} (every DSP call timed out)`);
  expect(starved).toBeLessThanOrEqual(grown);
  const text = await metrics(tmax.url);
  expect(metric(text, 'tmax_dsp_requests_total{dsp="d1",outcome="timeout"}')).toBeGreaterThan(0);
}, 60_000);
