// Tier 3's no-render clusters on a real server (2 workers, real outboxes): one /24 wins auctions
// whose burl is never called, another /24's wins are billed through tmax's own signed burl. The
// analyzer joins the wins to the billing notices from the outbox tail and marks the first subnet
// suspect (the default noRenderAction "flag"): every worker then flags its requests live (the DSP
// sees ext.tmax.ivt.flagged, the audit says async_suspect); the billed subnet is left alone.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { ROOT, startTmax, type Proc } from "./support/processes.ts";
import { bidRequest, metric, metrics, postAuction, readAudit } from "./support/openrtb.ts";
import { bidFor, startStubDsp, type StubDsp } from "./support/stub-dsp.ts";

const UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
const BOTS = "84.20.20"; // wins, never renders
const HUMANS = "85.20.20"; // wins, renders: the exchange calls the burl
let dsp: StubDsp;
let tmax: Proc & { auditDir: string };
/** What the DSP was told about each request id (ext.tmax.ivt, or undefined). */
const ivtSeen = new Map<string, { flagged?: boolean } | undefined>();

beforeAll(async () => {
  dsp = startStubDsp((req) => {
    ivtSeen.set(req.id, req.ext?.tmax?.ivt);
    return { status: 200, body: bidFor(req) };
  });
  tmax = await startTmax({
    dsps: [{ id: "d0", endpoint: dsp.url }],
    campaigns: [{ id: "c1", advertiserId: "a1", dailyBudget: "1000", currency: "USD", pacing: "asap" }],
    fraud: {
      enabled: true,
      modelPath: join(ROOT, "tests", "fixtures", "fraud", "rule-model.json"), // scores only user ids: tier 2 stays out of the way
      // noRenderAction left to its default ("flag").
      async: { intervalMs: 100, windowMs: 30_000, noRenderMinWins: 10, noRenderMaxBilledShare: 0.5, noRenderGraceMs: 2_000, blockSec: 600 },
    },
  }, 2);
});

afterAll(async () => {
  await tmax?.kill();
  dsp?.stop();
});

let host = 0;
const from = (subnet: string) => bidRequest({ device: { ua: UA, ip: `${subnet}.${1 + (host++ % 250)}`, devicetype: 2, os: "Windows" }, user: { id: `u-${crypto.randomUUID()}` } });

/** One auction on a new connection (spread over the workers); its id and, when it won, its burl with the price filled in. */
async function auction(subnet: string): Promise<{ id: string; burl: string | null }> {
  const body = from(subnet);
  const res = await postAuction(tmax.url, body, { connection: "close" });
  expect(res.status).toBe(200);
  const bid = res.json?.seatbid?.[0]?.bid?.[0];
  return { id: body.id as string, burl: bid?.burl === undefined ? null : String(bid.burl).replace("${AUCTION_PRICE}", "1.50") };
}

test("a subnet whose wins are never billed is flagged in every worker; a billed subnet is not", async () => {
  for (let i = 0; i < 12; i++) {
    const bot = await auction(BOTS);
    expect(bot.burl).not.toBeNull(); // a win, its burl never called
    if (i < 10) expect(ivtSeen.get(bot.id)).toBeUndefined(); // fewer than noRenderMinWins wins so far: nothing to act on yet
    const human = await auction(HUMANS);
    expect(human.burl).not.toBeNull();
    const billed = await fetch(human.burl!);
    expect(await billed.json()).toEqual({ status: "committed" });
  }
  // The wins pass the 2 s grace; the analyzer (every 100 ms) marks the bots' /24 suspect.
  const until = Date.now() + 20_000;
  let flaggedLive = false;
  while (!flaggedLive && Date.now() < until) {
    const probe = await auction(BOTS);
    flaggedLive = ivtSeen.get(probe.id)?.flagged === true;
    if (!flaggedLive) await Bun.sleep(200);
  }
  expect(flaggedLive).toBe(true);

  const bots: string[] = [];
  const humans: string[] = [];
  for (let i = 0; i < 16; i++) {
    bots.push((await auction(BOTS)).id);
    const human = await auction(HUMANS);
    humans.push(human.id);
    if (human.burl !== null) await fetch(human.burl);
  }
  expect(bots.map((id) => ivtSeen.get(id)?.flagged)).toEqual(bots.map(() => true));
  expect(humans.map((id) => ivtSeen.get(id))).toEqual(humans.map(() => undefined));

  // The audit: every one of those bot requests flagged by tier 3, by both workers (the shared table is live in each).
  const requests = new Map<string, any>();
  for (const e of await readAudit(tmax.auditDir)) if (e.event_type === "bid_request") requests.set(e.request_id, e);
  for (const id of bots) expect(requests.get(id)?.fraud).toMatchObject({ result: "flag", tier: 3, reason: "async_suspect", ip_subnet: `${BOTS}.0/24` });
  expect(new Set(bots.map((id) => requests.get(id).worker))).toEqual(new Set([0, 1]));
  for (const id of humans) expect(requests.get(id)?.fraud?.result).toBe("allow");

  const text = await metrics(tmax.url);
  expect(metric(text, 'tmax_fraud_async_actions_total{action="no_render_suspect"}')).toBe(1);
  expect(metric(text, 'tmax_fraud_async_actions_total{action="no_render_block"}')).toBe(0);
}, 90_000);
