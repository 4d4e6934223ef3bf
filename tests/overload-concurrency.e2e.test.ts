// The overload guard's hard concurrency limit through a real `tmax serve`: with overload.maxInFlight
// auctions already running in a worker, the next request is answered 204 "overload" before its body
// is parsed, and every request still gets an answer. The DSP is slow (each auction holds its slot
// for its whole DSP deadline), and the burst is far below the pressure signals' thresholds, so only
// the limit can shed here.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTmax, type Proc } from "./support/processes.ts";
import { bidRequest, metric, metrics, postAuction } from "./support/openrtb.ts";
import { bidFor, startStubDsp, type StubDsp } from "./support/stub-dsp.ts";

const LIMIT = 6;
const BURST = 40;
let dsp: StubDsp, tmax: Proc;

beforeAll(async () => {
  dsp = startStubDsp((req) => ({ status: 200, body: bidFor(req, { price: 1.5 }), delayMs: 40 }));
  tmax = await startTmax({
    dsps: [{ id: "d1", endpoint: dsp.url }],
    campaigns: [{ id: "c1", advertiserId: "a1", dailyBudget: 1000, currency: "USD" }],
    overload: { maxInFlight: LIMIT },
  }, 1);
});

afterAll(async () => {
  dsp?.stop();
  await tmax?.kill();
});

test("past overload.maxInFlight a request is shed at once; none is lost", async () => {
  const answers = await Promise.all(Array.from({ length: BURST }, () => postAuction(tmax.url, bidRequest())));
  const shed = answers.filter((a) => a.status === 204 && a.headers.get("x-tmax-no-bid-reason") === "overload").length;
  const won = answers.filter((a) => a.status === 200).length;
  console.log(`concurrency limit ${LIMIT}: burst ${BURST} -> ${won} bids, ${shed} shed, statuses ${JSON.stringify(answers.map((a) => a.status))}`);
  expect(answers.every((a) => a.status === 200 || a.status === 204)).toBe(true);
  expect(won).toBeGreaterThanOrEqual(1);
  expect(shed).toBeGreaterThanOrEqual(BURST - 3 * LIMIT); // a few slots free up while the burst arrives
  const text = await metrics(tmax.url);
  expect(metric(text, 'tmax_no_bids_total{reason="overload"}')).toBe(shed);
  expect(metric(text, "tmax_overload_shed_total")).toBe(shed);
  expect(metric(text, "tmax_overload_shed_before_parse_total")).toBe(shed); // only the limit sheds here: before parsing, all of them
  expect(metric(text, 'tmax_overload_in_flight_limit{worker="0"}')).toBe(LIMIT); // the adaptive limit never passes maxInFlight
  // Afterwards, one at a time, nothing is shed.
  for (let i = 0; i < 5; i++) expect((await postAuction(tmax.url, bidRequest())).status).toBe(200);
});
