// Even pacing through a real server: a campaign far ahead of its spend curve is throttled by the
// control plane (its bids are left out of the auction, counted in tmax_bids_paced_total, shown in
// /admin/budgets), while an asap campaign bidding on the same requests keeps taking part.
//
// The campaign's day is made to start within the last hour by choosing its time zone (one of the
// Etc/GMT fixed offsets is always just past midnight), so its target is at most ~4% of the budget:
// a handful of wins puts it far ahead, whatever the hour the test runs at.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTmax, type Proc } from "./support/processes.ts";
import { bidRequest, metric, metrics, postAuction } from "./support/openrtb.ts";
import { startStubDsp, type StubDsp } from "./support/stub-dsp.ts";

const TOKEN = "pacing-admin-token-0123";
let dsp: StubDsp;
let tmax: Proc;

/** The Etc/GMT zone whose local time is the fewest minutes past midnight now. */
function zoneJustPastMidnight(): string {
  let best = { zone: "UTC", minutes: Infinity };
  for (let offset = -14; offset <= 12; offset++) {
    const zone = offset === 0 ? "Etc/GMT" : `Etc/GMT${offset > 0 ? "+" : ""}${offset}`;
    const parts = new Intl.DateTimeFormat("en-GB", { timeZone: zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).formatToParts(new Date());
    const minutes = Number(parts.find((p) => p.type === "hour")!.value) * 60 + Number(parts.find((p) => p.type === "minute")!.value);
    if (minutes < best.minutes) best = { zone, minutes };
  }
  return best.zone;
}

beforeAll(async () => {
  // Two bids on every imp: the even campaign's (higher) and the asap campaign's.
  dsp = startStubDsp((req) => ({
    status: 200,
    body: JSON.stringify({
      id: req.id,
      seatbid: [{ seat: "stub", bid: [
        { id: `even-${req.id}`, impid: req.imp[0].id, price: 50, cid: "even", crid: "cr1", adm: "<div/>", adomain: ["a.example"] },
        { id: `asap-${req.id}`, impid: req.imp[0].id, price: 40, cid: "asap", crid: "cr2", adm: "<div/>", adomain: ["b.example"] },
      ] }],
    }),
  }));
  tmax = await startTmax({
    dsps: [{ id: "stub", endpoint: dsp.url }],
    campaigns: [
      { id: "even", advertiserId: "a1", dailyBudget: "2", currency: "USD", timeZone: zoneJustPastMidnight(), pacing: "even" },
      { id: "asap", advertiserId: "a2", dailyBudget: "1000", currency: "USD", pacing: "asap" },
    ],
    pacing: { intervalMs: 100 },
    budget: { adminToken: TOKEN },
  }, 2);
});

afterAll(async () => {
  await tmax?.kill();
  dsp?.stop();
});

async function winners(n: number): Promise<Map<string, number>> {
  const wins = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const res = await postAuction(tmax.url, bidRequest({ at: 1 }));
    const cid = res.status === 200 ? String(res.json.seatbid[0].bid[0].cid) : `nobid:${res.headers.get("x-tmax-no-bid-reason")}`;
    wins.set(cid, (wins.get(cid) ?? 0) + 1);
  }
  return wins;
}

async function pacingOf(campaign: string): Promise<{ mode: string; state: string; participation: number | null }> {
  const res = await fetch(`${tmax.url}/admin/budgets?campaign=${campaign}`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { campaigns: { pacing: { mode: string; state: string; participation: number | null } }[] }).campaigns[0]!.pacing;
}

test("a campaign ahead of its curve is throttled; the asap campaign keeps bidding and wins instead", async () => {
  // 20 wins at 50 CPM = $1 of the even campaign's $2: far past a target of at most ~4% ($0.08).
  const early = await winners(20);
  expect(early.get("even") ?? 0).toBeGreaterThan(0);
  let state = await pacingOf("even");
  for (let i = 0; i < 100 && state.state !== "throttled"; i++) {
    await Bun.sleep(50);
    state = await pacingOf("even");
  }
  expect(state).toMatchObject({ mode: "even", state: "throttled" });
  expect(state.participation!).toBeLessThan(0.2);
  expect(await pacingOf("asap")).toEqual({ mode: "asap", state: "full", participation: 1 });

  const later = await winners(100);
  console.log(`pacing e2e: first 20 auctions ${JSON.stringify(Object.fromEntries(early))}; after throttling, 100 auctions ${JSON.stringify(Object.fromEntries(later))}; even p=${state.participation}`);
  expect(later.get("asap") ?? 0).toBeGreaterThanOrEqual(70); // the even campaign takes part in ~p of them at most
  expect(later.get("even") ?? 0).toBeLessThanOrEqual(30);
  const text = await metrics(tmax.url);
  expect(metric(text, "tmax_bids_paced_total")).toBeGreaterThanOrEqual(later.get("asap")!);
});
