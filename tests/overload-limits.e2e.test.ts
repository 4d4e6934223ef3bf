// Per-exchange rate limits shared by two workers, house ads, and the flash-crash alert, through a
// real `tmax serve`.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startTmax, type Proc } from "./support/processes.ts";
import { bidRequest, metric, metrics, postAuction } from "./support/openrtb.ts";
import { bidFor, startStubDsp, type StubDsp } from "./support/stub-dsp.ts";

let dsp: StubDsp, tmax: Proc;
const RATE = 20, BURST = 20;

beforeAll(async () => {
  dsp = startStubDsp((req) => ({ status: 200, body: bidFor(req, { price: 1.5 }) }));
  tmax = await startTmax({
    dsps: [{ id: "d1", endpoint: dsp.url }],
    campaigns: [{ id: "c1", advertiserId: "a1", dailyBudget: 1000, currency: "USD" }],
    rateLimits: {
      exchanges: [{ id: "ex-a", ratePerSec: RATE, burst: BURST }, { id: "ex-quiet", ratePerSec: 1, burst: 1, answer: 204 }],
    },
    houseAd: { adm: "<div>house</div>", price: 0.5, crid: "house-1", adomain: ["house.example"] },
    // No shedding here: these tests are about limits and fills, not pressure (a burst of 120 would be).
    overload: { enabled: false, flashCrash: { windowSec: 1, baselineSec: 3, minRequests: 10, dropShare: 0.8 } },
  }, 2);
});

afterAll(async () => {
  dsp?.stop();
  await tmax?.kill();
});

describe("per-exchange rate limits", () => {
  test("two workers share one bucket: a burst of 120 from one exchange gets about the burst, not twice it", async () => {
    const started = performance.now();
    const answers = await Promise.all(Array.from({ length: 120 }, () => postAuction(tmax.url, bidRequest(), { "x-exchange-id": "ex-a" })));
    const elapsedS = (performance.now() - started) / 1000;
    const ok = answers.filter((a) => a.status === 200).length;
    const limited = answers.filter((a) => a.status === 429);
    expect(ok + limited.length).toBe(120);
    expect(ok).toBeGreaterThanOrEqual(BURST);
    expect(ok).toBeLessThanOrEqual(BURST + Math.ceil(RATE * elapsedS) + 1);
    expect(limited[0]!.headers.get("retry-after")).toBe("1");
    expect(limited[0]!.json).toEqual({ error: "rate_limited", exchange: "ex-a" });
    const text = await metrics(tmax.url);
    expect(metric(text, 'tmax_rate_limited_total{exchange="ex-a"}')).toBe(limited.length);
    // Other exchanges (and requests without the header) are not limited by ex-a's bucket.
    expect((await postAuction(tmax.url, bidRequest(), { "x-exchange-id": "ex-b" })).status).toBe(200);
    expect((await postAuction(tmax.url, bidRequest())).status).toBe(200);
  });

  test("an exchange configured to get 204 gets a no-bid with the reason", async () => {
    const first = await postAuction(tmax.url, bidRequest(), { "x-exchange-id": "ex-quiet" });
    const second = await postAuction(tmax.url, bidRequest(), { "x-exchange-id": "ex-quiet" });
    expect(first.status).toBe(200);
    expect(second.status).toBe(204);
    expect(second.headers.get("x-tmax-no-bid-reason")).toBe("rate_limited");
  });
});

describe("house ads and the flash-crash alert", () => {
  test("bids stop across all DSPs: the house ad is answered (where it meets the floor) and the alert rises", async () => {
    const until = performance.now() + 3_500; // the baseline: the DSP bids
    while (performance.now() < until) expect((await postAuction(tmax.url, bidRequest({}, { bidfloor: 0.1 }))).status).toBe(200);
    expect(metric(await metrics(tmax.url), "tmax_flash_crash_alert")).toBe(0);

    dsp.reply = () => ({ status: 204 });
    const house = await postAuction(tmax.url, bidRequest({}, { bidfloor: 0.1 }));
    expect(house.status).toBe(200);
    expect(house.headers.get("x-tmax-house-ad")).toBe("1");
    expect(house.json.seatbid[0]).toMatchObject({ seat: "house", bid: [{ impid: "1", price: 0.5, adm: "<div>house</div>", crid: "house-1", adomain: ["house.example"] }] });
    const aboveFloor = await postAuction(tmax.url, bidRequest({}, { bidfloor: 0.9 }));
    expect(aboveFloor.status).toBe(204);
    expect(aboveFloor.headers.get("x-tmax-no-bid-reason")).toBe("no_bids");

    let alert = 0;
    const deadline = performance.now() + 5_000;
    while (alert === 0 && performance.now() < deadline) {
      for (let i = 0; i < 10; i++) await postAuction(tmax.url, bidRequest({}, { bidfloor: 0.1 }));
      alert = metric(await metrics(tmax.url), "tmax_flash_crash_alert");
    }
    expect(alert).toBe(1);
    expect(metric(await metrics(tmax.url), "tmax_house_ads_total")).toBeGreaterThan(10);
  });
});
