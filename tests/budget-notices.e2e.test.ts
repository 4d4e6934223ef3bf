// Two-phase spend over real HTTP: an answered impression reserves; its burl (a signed tmax URL)
// commits, its lurl releases; a repeated notice changes nothing; a forged or altered one is refused;
// the DSP's own burl is called after the commit; /admin/budgets needs the bearer token.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startTmax, type Proc } from "./support/processes.ts";
import { bidRequest, metric, metrics, postAuction, readAudit } from "./support/openrtb.ts";
import { bidFor, startStubDsp, type StubDsp } from "./support/stub-dsp.ts";
import { dirname, join } from "node:path";
import { runReconcileCommand } from "../src/audit/ledger/index.ts";
import { clearOfMidnight } from "./support/day.ts";

const TOKEN = "admin-token-0123456789";
let dsp: StubDsp;
let dspNotices: string[] = [];
let dspNoticeServer: ReturnType<typeof Bun.serve>;
let tmax: Proc & { auditDir: string };

beforeAll(async () => {
  await clearOfMidnight(60_000, ["UTC", "America/New_York"]); // reservations start over at the campaign's midnight; reconcile reads the UTC day
  dspNoticeServer = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: (r) => { dspNotices.push(new URL(r.url).pathname + new URL(r.url).search); return new Response(null, { status: 204 }); } });
  const burl = `http://127.0.0.1:${dspNoticeServer.port}/dsp-bill?p=\${AUCTION_PRICE}`;
  dsp = startStubDsp((req) => ({ status: 200, body: bidFor(req, { id: `bid-${req.id}`, price: 2, cid: "c1", burl, lurl: `http://127.0.0.1:${dspNoticeServer.port}/dsp-loss` }) }));
  tmax = await startTmax({
    dsps: [{ id: "stub", endpoint: dsp.url }],
    campaigns: [{ id: "c1", advertiserId: "a1", dailyBudget: "10", currency: "USD", timeZone: "America/New_York", pacing: "asap" }],
    budget: { adminToken: TOKEN, noticeSecret: "notice-secret-0123456789" },
  }, 2);
});

afterAll(async () => {
  await tmax?.kill();
  dsp?.stop();
  dspNoticeServer?.stop(true);
});

async function win(): Promise<{ burl: string; lurl: string; price: number }> {
  const res = await postAuction(tmax.url, bidRequest({ at: 1 }));
  expect(res.status).toBe(200);
  const bid = res.json.seatbid[0].bid[0];
  expect(bid.burl.startsWith(`${tmax.url}/notice/billing?`)).toBe(true);
  expect(bid.lurl.startsWith(`${tmax.url}/notice/loss?`)).toBe(true);
  return { burl: bid.burl.replace("${AUCTION_PRICE}", "2.00"), lurl: bid.lurl.replace("${AUCTION_LOSS}", "102"), price: bid.price };
}

test("billing notice commits once; loss notice releases once; repeats change nothing", async () => {
  const a = await win();
  const b = await win();
  const first = await fetch(a.burl);
  expect(first.status).toBe(200);
  expect(await first.json()).toEqual({ status: "committed" });
  expect(await (await fetch(a.burl)).json()).toEqual({ status: "duplicate" });
  expect(await (await fetch(a.lurl)).json()).toEqual({ status: "duplicate" }); // a billed bid cannot be released
  expect(await (await fetch(b.lurl)).json()).toEqual({ status: "released" });
  expect(await (await fetch(b.burl)).json()).toEqual({ status: "duplicate" });
  const text = await metrics(tmax.url);
  expect(metric(text, 'tmax_campaign_budget_committed_micros{campaign="c1"}')).toBe(2_000);
  expect(metric(text, 'tmax_campaign_budget_released_micros{campaign="c1"}')).toBe(2_000);
  expect(metric(text, 'tmax_campaign_budget_reserved_micros{campaign="c1"}')).toBe(4_000);
  for (let i = 0; i < 100 && dspNotices.length < 2; i++) await Bun.sleep(20);
  expect(dspNotices.sort()).toEqual(["/dsp-bill?p=2", "/dsp-loss"]);
  const events = (await readAudit(tmax.auditDir)).filter((e) => e.event_type === "billing_notice" || e.event_type === "loss_notice");
  expect(events.map((e) => [e.event_type, e.cost_micros, e.campaign_id])).toEqual(expect.arrayContaining([["billing_notice", 2_000, "c1"], ["loss_notice", 2_000, "c1"]]));
  expect(events).toHaveLength(2);
});

test("a forged or altered notice is refused: 403 for a bad signature, 400 naming a missing field", async () => {
  const { lurl, burl } = await win();
  const altered = lurl.replace(/([?&])m=\d+/, "$1m=999999");
  const res = await fetch(altered);
  expect(res.status).toBe(403);
  expect(await res.json()).toMatchObject({ error: "bad_signature", field: "s" });
  const asLoss = burl.replace("/notice/billing?", "/notice/loss?"); // a billing URL turned into a release
  expect((await fetch(asLoss)).status).toBe(403);
  const missing = await fetch(lurl.replace(/([?&])c=[^&]*/, "$1"));
  expect(missing.status).toBe(400);
  expect(await missing.json()).toMatchObject({ error: "invalid_notice", field: "c" });
  expect(metric(await metrics(tmax.url), 'tmax_campaign_budget_released_micros{campaign="c1"}')).toBe(2_000);
});

test("/admin/budgets: 401 without the token; with it, per campaign budget, committed, reserved, in leases, remaining, pacing", async () => {
  expect((await fetch(`${tmax.url}/admin/budgets`)).status).toBe(401);
  expect((await fetch(`${tmax.url}/admin/budgets`, { headers: { authorization: "Bearer wrong-token-000000000" } })).status).toBe(401);
  const res = await fetch(`${tmax.url}/admin/budgets?campaign=c1`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(res.status).toBe(200);
  const body: any = await res.json();
  const row = body.campaigns[0];
  expect(row).toMatchObject({ campaign: "c1", budgetMicros: 10_000_000, committedMicros: 2_000, releasedMicros: 2_000, pacing: { mode: "asap", state: "full", participation: 1 } });
  expect(row.reservedMicros).toBeGreaterThanOrEqual(6_000);
  expect(row.inLeasesMicros + row.reservedMicros).toBe(10_000_000); // embedded: one lease holds the whole budget
  expect(row.remainingMicros).toBe(row.inLeasesMicros);
  expect((await fetch(`${tmax.url}/admin/budgets?campaign=nope`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(404);
});

test("billing reconcile compares the ledger's billed cost with the committed gauge (and won cost with reserved on request)", async () => {
  const config = join(dirname(tmax.auditDir), "tmax.json");
  const day = new Date().toISOString().slice(0, 10);
  const run = async (extra: string[]) => {
    const out: string[] = [];
    const code = await runReconcileCommand(["--config", config, "--date", day, "--server", tmax.url, ...extra], { out: (l) => out.push(l), err: (l) => out.push(l) });
    return { code, out };
  };
  let result = await run([]);
  for (let i = 0; i < 100 && result.code !== 0; i++) {
    await Bun.sleep(50); // the ledger is fed from the outbox by a consumer thread
    result = await run([]);
  }
  expect(result.out).toContain(`budget: tmax_campaign_budget_committed_micros from ${tmax.url}/metrics`);
  expect(result.out.at(-1)).toBe("discrepancies: 0");
  expect(result.code).toBe(0);
  let reserved = await run(["--spend", "reserved"]);
  for (let i = 0; i < 100 && reserved.code !== 0; i++) {
    await Bun.sleep(50);
    reserved = await run(["--spend", "reserved"]);
  }
  expect(reserved.out.at(-1)).toBe("discrepancies: 0");
});
