// The fraud stage in a real server (2 workers): blocked requests are answered 204 with the OpenRTB
// no-bid reason before any DSP is called, counted per tier and reason, and audited with a fraud
// block; flagged requests (tier 2) reach fewer DSPs and carry ext.tmax.ivt.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { ROOT, startTmax, type Proc } from "./support/processes.ts";
import { bidRequest, metric, metrics, postAuction, readAudit } from "./support/openrtb.ts";
import { bidFor, startStubDsp, type StubDsp } from "./support/stub-dsp.ts";

const UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
let dsps: StubDsp[] = [];
let tmax: Proc & { auditDir: string };
const seen: any[][] = [[], [], [], []];

beforeAll(async () => {
  dsps = [0, 1, 2, 3].map((i) => startStubDsp((req) => { seen[i]!.push(req); return { status: 200, body: bidFor(req) }; }));
  tmax = await startTmax({
    dsps: dsps.map((d, i) => ({ id: `d${i}`, endpoint: d.url })),
    campaigns: [{ id: "c1", advertiserId: "a1", dailyBudget: "1000", currency: "USD" }],
    fraud: {
      enabled: true,
      modelPath: join(ROOT, "tests", "fixtures", "fraud", "rule-model.json"),
      rateLimits: { windowMs: 60_000, maxPerIp: 1000, maxPerDevice: 3 },
      schain: { sellers: ["good.example"] },
    },
  }, 2);
});

afterAll(async () => {
  await tmax?.kill();
  for (const d of dsps) d.stop();
});

const human = (over: Record<string, unknown> = {}) => bidRequest({ device: { ua: UA, ip: "81.2.3.4", devicetype: 2, os: "Windows", geo: { country: "GBR" } }, user: { id: `u-${crypto.randomUUID()}` }, ...over });

test.each([
  ["a data-center IP", { device: { ua: UA, ip: "34.120.1.1" } }, 5, "datacenter_ip"],
  ["a crawler", { device: { ua: "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", ip: "81.2.3.4" } }, 3, "crawler_ua"],
  ["an incomplete supply chain", { source: { schain: { complete: 0, ver: "1.0", nodes: [{ asi: "good.example", sid: "1", hp: 1 }] } } }, 16, "schain_incomplete"],
  ["a seller off the allow-list", { source: { schain: { complete: 1, ver: "1.0", nodes: [{ asi: "bad.example", sid: "1", hp: 1 }] } } }, 17, "schain_seller_blocked"],
  ["a model score above 0.95", { user: { id: "u-x", eids: [1, 2, 3, 4, 5, 6] } }, 4, "model_score"],
])("%s is answered 204 with its nbr before any DSP is called", async (_name, over, nbr, reason) => {
  const before = dsps.map((d) => d.calls);
  const res = await postAuction(tmax.url, human(over));
  expect(res.status).toBe(204);
  expect(res.headers.get("x-tmax-nbr")).toBe(String(nbr));
  expect(res.headers.get("x-tmax-no-bid-reason")).toBe("invalid_traffic");
  expect(res.headers.get("x-tmax-fraud-reason")).toBe(reason as string);
  expect(dsps.map((d) => d.calls)).toEqual(before);
});

test("the device rate limit holds across workers (new connections spread over both)", async () => {
  const body = human({ user: { id: "rate-limited-user" } });
  const statuses: number[] = [];
  for (let i = 0; i < 6; i++) statuses.push((await postAuction(tmax.url, { ...body, id: `rl-${i}` }, { connection: "close" })).status);
  expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
  expect(statuses.slice(3)).toEqual([204, 204, 204]);
});

test("a clean request goes to every DSP without a flag; a flagged one to half of them, with ext.tmax.ivt", async () => {
  const clean = human();
  expect((await postAuction(tmax.url, clean)).status).toBe(200);
  expect(seen.map((s) => s.some((r) => r.id === clean.id))).toEqual([true, true, true, true]);
  expect(seen[0]!.find((r) => r.id === clean.id).ext?.tmax?.ivt).toBeUndefined();

  const flagged = human({ user: undefined });
  expect((await postAuction(tmax.url, flagged)).status).toBe(200);
  expect(seen.map((s) => s.some((r) => r.id === flagged.id))).toEqual([true, true, false, false]);
  const ivt = seen[0]!.find((r) => r.id === flagged.id).ext.tmax.ivt;
  expect(ivt.flagged).toBe(true);
  expect(ivt.score).toBeCloseTo(0.7, 2);
});

test("blocks are counted per tier and reason, and audited with the fraud block", async () => {
  const text = await metrics(tmax.url);
  expect(metric(text, 'tmax_fraud_blocks_total{tier="1",reason="datacenter_ip"}')).toBe(1);
  expect(metric(text, 'tmax_fraud_blocks_total{tier="1",reason="device_rate"}')).toBe(3);
  expect(metric(text, 'tmax_fraud_blocks_total{tier="2",reason="model_score"}')).toBe(1);
  expect(metric(text, "tmax_fraud_flagged_total")).toBe(1);
  expect(metric(text, 'tmax_no_bids_total{reason="invalid_traffic"}')).toBe(8);
  const deadline = Date.now() + 10_000;
  let requests: any[] = [];
  while (Date.now() < deadline) {
    requests = (await readAudit(tmax.auditDir)).filter((e) => e.event_type === "bid_request");
    if (requests.some((e) => e.fraud?.reason === "crawler_ua")) break;
    await Bun.sleep(100);
  }
  const crawler = requests.find((e) => e.fraud?.reason === "crawler_ua");
  expect(crawler.fraud).toMatchObject({ result: "block", tier: 1, nbr: 3, ip_subnet: "81.2.3.0/24" });
  expect(requests.find((e) => e.fraud?.result === "flag").fraud.score).toBeCloseTo(0.7, 2);
  expect(requests.every((e) => e.fraud !== undefined)).toBe(true);
});
