// Tier 3 on a real server (2 workers): the analyzer tails the audit outboxes, finds a subnet burst
// and a machine-regular device, and its blocks reach every worker live (no restart).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { ROOT, startTmax, type Proc } from "./support/processes.ts";
import { bidRequest, metric, metrics, postAuction } from "./support/openrtb.ts";
import { bidFor, startStubDsp, type StubDsp } from "./support/stub-dsp.ts";

const UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
let dsp: StubDsp;
let tmax: Proc & { auditDir: string };

beforeAll(async () => {
  dsp = startStubDsp((req) => ({ status: 200, body: bidFor(req) }));
  tmax = await startTmax({
    dsps: [{ id: "d0", endpoint: dsp.url }],
    campaigns: [{ id: "c1", advertiserId: "a1", dailyBudget: "1000", currency: "USD" }],
    fraud: {
      enabled: true,
      modelPath: join(ROOT, "tests", "fixtures", "fraud", "rule-model.json"), // scores only user ids: tier 2 stays out of the way
      async: { intervalMs: 100, windowMs: 20_000, subnetBurst: 30, devicesPerSubnet: 1000, regularGapCv: 0.1, blockSec: 600 },
    },
  }, 2);
});

afterAll(async () => {
  await tmax?.kill();
  dsp?.stop();
});

const from = (ip: string, user = `u-${crypto.randomUUID()}`) => bidRequest({ device: { ua: UA, ip, devicetype: 2, os: "Windows" }, user: { id: user } });
const reason = async (body: unknown) => (await postAuction(tmax.url, body, { connection: "close" })).headers.get("x-tmax-fraud-reason");

async function eventually(check: () => Promise<boolean>, ms = 15_000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return true;
    await Bun.sleep(100);
  }
  return false;
}

test("a burst from one /24 gets the whole subnet blocked in every worker", async () => {
  for (let i = 0; i < 40; i++) expect(await reason(from(`84.1.1.${1 + i}`))).toBeNull();
  expect(await eventually(async () => (await reason(from("84.1.1.200"))) === "async_blocklist")).toBe(true);
  for (let i = 0; i < 6; i++) expect(await reason(from(`84.1.1.${100 + i}`))).toBe("async_blocklist");
  expect(await reason(from("84.1.2.1"))).toBeNull();
  expect(metric(await metrics(tmax.url), 'tmax_fraud_async_actions_total{action="block_subnet"}')).toBe(1);
});

test("a device with machine-regular timing is blocked, wherever its IP", async () => {
  const user = "metronome-device";
  const reasons: Array<string | null> = [];
  for (let i = 0; i < 40 && !reasons.includes("async_blocklist"); i++) {
    const started = Date.now();
    reasons.push(await reason(from(`90.${i}.3.4`, user)));
    await Bun.sleep(Math.max(0, 250 - (Date.now() - started)));
  }
  // Judged once it has made REGULAR_MIN_EVENTS (6) requests; allowed until then.
  const first = reasons.indexOf("async_blocklist");
  expect(first).toBeGreaterThanOrEqual(6);
  expect(reasons.slice(0, first).every((r) => r === null)).toBe(true);
  expect(await reason(from("91.9.9.9", user))).toBe("async_blocklist");
  expect(await reason(from("91.9.9.9", "someone-else"))).toBeNull();
  expect(metric(await metrics(tmax.url), 'tmax_fraud_blocks_total{tier="3",reason="async_blocklist"}')).toBeGreaterThanOrEqual(8);
});
