// Frequency caps through real processes: tmax serve (2 workers) + two sim-dsp processes at fixed
// prices. Campaign c-high (3.00 CPM) is capped at 3 per hour per user; c-low (2.00) is not.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startSimDspProcess, startTmax, type Proc } from "./support/processes.ts";
import { bidRequest, metric, metrics, postAuction, readAudit } from "./support/openrtb.ts";

let dspLow: Proc, dspHigh: Proc, tmax: Proc & { auditDir: string }, tmaxAllow: Proc & { auditDir: string };

function config(auction: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    auction,
    dsps: [{ id: "low", endpoint: dspLow.url }, { id: "high", endpoint: dspHigh.url }],
    campaigns: [
      { id: "c-low", advertiserId: "adv-low", dailyBudget: 1000, currency: "USD" },
      { id: "c-high", advertiserId: "adv-high", dailyBudget: 1000, currency: "USD", frequencyCaps: [{ max: 3, windowSec: 3600 }] },
    ],
  };
}

beforeAll(async () => {
  [dspLow, dspHigh] = await Promise.all([
    startSimDspProcess(["--latency-ms", "0", "--bid-rate", "1", "--fixed-price", "2", "--campaigns", "c-low", "--seat", "low"]),
    startSimDspProcess(["--latency-ms", "0", "--bid-rate", "1", "--fixed-price", "3", "--campaigns", "c-high", "--seat", "high"]),
  ]);
  [tmax, tmaxAllow] = await Promise.all([startTmax(config(), 2), startTmax(config({ frequencyCapNoKey: "allow" }), 1)]);
});

afterAll(async () => {
  await Promise.all([tmax?.kill(), tmaxAllow?.kill(), dspLow?.kill(), dspHigh?.kill()]);
});

const freshUser = () => `user-${crypto.randomUUID()}`;
const KEYLESS = { user: undefined, device: {} };

/** Posts one auction and names the winning seat, or the no-bid reason. */
async function winner(url: string, overrides: Record<string, unknown>): Promise<string> {
  const res = await postAuction(url, bidRequest({ at: 2, id: `req-${crypto.randomUUID()}`, ...overrides }, { bidfloor: 0.5 }));
  if (res.status === 204) return `204 ${res.headers.get("x-tmax-no-bid-reason")}`;
  expect(res.status).toBe(200);
  return res.json.seatbid[0].seat as string;
}

async function sequence(url: string, overrides: Record<string, unknown>, n: number): Promise<string[]> {
  const seats: string[] = [];
  for (let i = 0; i < n; i++) seats.push(await winner(url, overrides));
  return seats;
}

describe("frequency caps end to end", () => {
  test("the same user wins 3 times, then the next bidder wins at its own second price; another user is unaffected", async () => {
    const alice = { user: { id: freshUser() } };
    expect(await sequence(tmax.url, alice, 3)).toEqual(["high", "high", "high"]);
    const fourth = await postAuction(tmax.url, bidRequest({ at: 2, ...alice }, { bidfloor: 0.5 }));
    expect(fourth.json.seatbid[0].seat).toBe("low");
    expect(fourth.json.seatbid[0].bid[0].price).toBe(0.51); // the capped 3.00 bid sets no price
    expect(await winner(tmax.url, { user: { id: freshUser() } })).toBe("high");
  });

  test("the key falls back to device.ifa, then ip + ua", async () => {
    const ifa = { user: undefined, device: { ifa: crypto.randomUUID(), ip: "203.0.113.9", ua: "UA-ifa" } };
    expect(await sequence(tmax.url, ifa, 4)).toEqual(["high", "high", "high", "low"]);
    const ipUa = { user: undefined, device: { ip: "198.51.100.7", ua: `UA-${crypto.randomUUID()}` } };
    expect(await sequence(tmax.url, ipUa, 4)).toEqual(["high", "high", "high", "low"]);
  });

  test("everything eligible capped: 204 frequency_capped, and capped bids are counted", async () => {
    const bob = { user: { id: freshUser() } };
    await sequence(tmax.url, bob, 3);
    const before = metric(await metrics(tmax.url), "tmax_bids_capped_total");
    expect(await winner(tmax.url, { ...bob, badv: ["c-low-brand.example"] })).toBe("204 frequency_capped");
    const after = await metrics(tmax.url);
    expect(metric(after, "tmax_bids_capped_total") - before).toBe(1);
    expect(metric(after, 'tmax_no_bids_total{reason="frequency_capped"}')).toBeGreaterThanOrEqual(1);
  });

  test('no user key, policy "deny" (the default): the capped campaign never bids', async () => {
    expect(await sequence(tmax.url, KEYLESS, 2)).toEqual(["low", "low"]);
  });

  test('no user key, policy "allow": caps do not apply and nothing is counted', async () => {
    expect(await sequence(tmaxAllow.url, KEYLESS, 5)).toEqual(["high", "high", "high", "high", "high"]);
    expect(await sequence(tmaxAllow.url, { user: { id: freshUser() } }, 4)).toEqual(["high", "high", "high", "low"]);
  });

  test("caps hold with 2 workers: 24 concurrent requests for one user win c-high exactly 3 times", async () => {
    const carol = { user: { id: freshUser() } };
    const ids = Array.from({ length: 24 }, () => `carol-${crypto.randomUUID()}`);
    const seats = await Promise.all(ids.map((id) => winner(tmax.url, { ...carol, id })));
    expect(seats.filter((s) => s === "high")).toHaveLength(3);
    expect(seats.filter((s) => s === "low")).toHaveLength(21);
    const served = (await readAudit(tmax.auditDir)).filter((e) => ids.includes(e.request_id)).map((e) => e.worker);
    expect(new Set(served).size).toBe(2); // both workers answered some of them
  });
});
