// The auction through real processes: tmax serve + sim-dsp processes over real HTTP.
// Prices are fixed per DSP so every clearing price is known exactly.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startSimDspProcess, startTmax, type Proc } from "./support/processes.ts";
import { bidRequest, metric, metrics, postAuction, readAudit } from "./support/openrtb.ts";
import { auditEventProblem } from "../src/audit/schema.ts";

let dspLow: Proc, dspHigh: Proc, tmax: Proc & { auditDir: string };

beforeAll(async () => {
  [dspLow, dspHigh] = await Promise.all([
    startSimDspProcess(["--latency-ms", "0", "--bid-rate", "1", "--fixed-price", "2", "--campaigns", "c-low", "--seat", "low", "--cat", "IAB3"]),
    startSimDspProcess(["--latency-ms", "0", "--bid-rate", "1", "--fixed-price", "3", "--campaigns", "c-high", "--seat", "high", "--cat", "IAB7-3"]),
  ]);
  tmax = await startTmax({
    dsps: [{ id: "low", endpoint: dspLow.url }, { id: "high", endpoint: dspHigh.url }],
    campaigns: [
      { id: "c-low", advertiserId: "adv-low", dailyBudget: 1000, currency: "USD" },
      { id: "c-high", advertiserId: "adv-high", dailyBudget: 1000, currency: "USD" },
    ],
  });
});

afterAll(async () => {
  await Promise.all([tmax?.kill(), dspLow?.kill(), dspHigh?.kill()]);
});

function onlyBid(json: any) {
  expect(json.seatbid).toHaveLength(1);
  expect(json.seatbid[0].bid).toHaveLength(1);
  return { seat: json.seatbid[0].seat as string, bid: json.seatbid[0].bid[0] };
}

describe("second price (at=2)", () => {
  test("the highest bid wins and pays the runner-up + 0.01", async () => {
    const req = bidRequest({ at: 2 }, { bidfloor: 0.5 });
    const res = await postAuction(tmax.url, req);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-openrtb-version")).toBe("2.6");
    expect(res.json.id).toBe(req.id);
    const { seat, bid } = onlyBid(res.json);
    expect(seat).toBe("high");
    expect(bid.price).toBe(2.01);
    expect(bid.impid).toBe("1");
    expect(bid.cid).toBe("c-high");
    expect(bid.adomain).toEqual(["c-high-brand.example"]);
    expect(typeof bid.adm).toBe("string");
    expect(bid.crid).toBeTruthy();
  });

  test("OpenRTB macros are substituted in nurl, burl and adm-free urls", async () => {
    const req = bidRequest({ at: 2 }, { bidfloor: 0.5 });
    const { bid } = onlyBid((await postAuction(tmax.url, req)).json);
    expect(bid.nurl).toContain("price=2.01");
    // burl is tmax's signed billing notice URL; the DSP's own burl (macros substituted) rides in `u`.
    const dspBurl = new URL(bid.burl).searchParams.get("u")!;
    expect(dspBurl).toContain("price=2.01");
    expect(dspBurl).toContain(`id=${encodeURIComponent(req.id as string)}`);
    expect(bid.nurl).not.toContain("${AUCTION_PRICE}");
  });

  test("a floor above the runner-up sets the price: floor + 0.01", async () => {
    const { bid } = onlyBid((await postAuction(tmax.url, bidRequest({ at: 2 }, { bidfloor: 2.5 }))).json);
    expect(bid.price).toBe(2.51);
  });

  test("a floor just under the winner's bid: capped at the bid", async () => {
    const { bid } = onlyBid((await postAuction(tmax.url, bidRequest({ at: 2 }, { bidfloor: 2.995 }))).json);
    expect(bid.price).toBe(3);
  });

  test("a floor above every bid: 204 below_floor", async () => {
    const res = await postAuction(tmax.url, bidRequest({ at: 2 }, { bidfloor: 3.5 }));
    expect(res.status).toBe(204);
    expect(res.headers.get("x-tmax-no-bid-reason")).toBe("below_floor");
  });
});

describe("first price (at=1)", () => {
  test("the winner pays its own bid", async () => {
    const { seat, bid } = onlyBid((await postAuction(tmax.url, bidRequest({ at: 1 }, { bidfloor: 0.5 }))).json);
    expect(seat).toBe("high");
    expect(bid.price).toBe(3);
  });
});

describe("brand safety", () => {
  test("badv blocks the top bidder's domain: the next bid wins at floor + 0.01", async () => {
    const res = await postAuction(tmax.url, bidRequest({ at: 2, badv: ["c-high-brand.example"] }, { bidfloor: 0.5 }));
    const { seat, bid } = onlyBid(res.json);
    expect(seat).toBe("low");
    expect(bid.price).toBe(0.51);
  });

  test("bcat blocks a subcategory of a blocked category", async () => {
    const { seat } = onlyBid((await postAuction(tmax.url, bidRequest({ at: 2, bcat: ["IAB7"] }, { bidfloor: 0.5 }))).json);
    expect(seat).toBe("low");
  });

  test("everything blocked: 204 blocked, counted per reason", async () => {
    const before = await metrics(tmax.url);
    const res = await postAuction(tmax.url, bidRequest({ badv: ["c-high-brand.example"], bcat: ["IAB3"] }));
    expect(res.status).toBe(204);
    expect(res.headers.get("x-tmax-no-bid-reason")).toBe("blocked");
    const after = await metrics(tmax.url);
    expect(metric(after, 'tmax_bids_blocked_total{reason="badv"}') - metric(before, 'tmax_bids_blocked_total{reason="badv"}')).toBe(1);
    expect(metric(after, 'tmax_bids_blocked_total{reason="bcat"}') - metric(before, 'tmax_bids_blocked_total{reason="bcat"}')).toBe(1);
  });
});

describe("several imps", () => {
  test("each imp has its own auction and floor", async () => {
    const req = bidRequest({ at: 2 });
    req.imp = [
      { id: "a", banner: { w: 300, h: 250 }, bidfloor: 0.5 },
      { id: "b", banner: { w: 728, h: 90 }, bidfloor: 2.5 },
      { id: "c", video: { w: 640, h: 480, mimes: ["video/mp4"] }, bidfloor: 9 },
    ];
    const res = await postAuction(tmax.url, req);
    expect(res.status).toBe(200);
    const bids = res.json.seatbid.flatMap((s: any) => s.bid).sort((x: any, y: any) => x.impid.localeCompare(y.impid));
    expect(bids.map((b: any) => [b.impid, b.price])).toEqual([["a", 2.01], ["b", 2.51]]);
  });
});

describe("audit and books", () => {
  test("every answered request is in the audit outbox: request, DSP answers, bids, and the win in micros", async () => {
    const req = bidRequest({ at: 2 }, { bidfloor: 0.5 });
    await postAuction(tmax.url, req);
    const events = (await readAudit(tmax.auditDir)).filter((e) => e.request_id === req.id);
    const byType = (type: string) => events.filter((e) => e.event_type === type);
    expect(byType("bid_request")).toHaveLength(1);
    expect(byType("dsp_response").map((e) => [e.dsp_id, e.outcome]).sort()).toEqual([["high", "bid"], ["low", "bid"]]);
    expect(byType("dsp_response").flatMap((e) => e.bids).map((b: any) => [b.campaign_id, b.bid_price_micros]).sort()).toEqual([["c-high", 3_000_000], ["c-low", 2_000_000]]);
    expect(byType("auction_result")).toEqual([expect.objectContaining({
      imp_id: "1", dsp_id: "high", campaign_id: "c-high", advertiser_id: "adv-high",
      bid_price_micros: 3_000_000, win_price_micros: 2_010_000, cost_micros: 2_010, no_bid_reason: null,
    })]);
    for (const e of events) expect(auditEventProblem(e)).toBeNull();
  });

  test("reserved spend in the books equals the sum of costs answered", async () => {
    const text = await metrics(tmax.url);
    const reserved = metric(text, 'tmax_campaign_budget_reserved_micros{campaign="c-high"}') + metric(text, 'tmax_campaign_budget_reserved_micros{campaign="c-low"}');
    expect(reserved).toBe(metric(text, "tmax_budget_reserved_micros_total"));
    const remaining = metric(text, 'tmax_campaign_budget_remaining_micros{campaign="c-high"}');
    expect(remaining + metric(text, 'tmax_campaign_budget_reserved_micros{campaign="c-high"}')).toBe(1000_000_000);
  });
});
