// The fraud admin API on a real server with 2 workers: a reload picks up the blocklist file and the
// model file in every worker without a restart; an operator block is live at once; the token is
// required; a bad file changes nothing.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { copyFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, startTmax, tempDir, type Proc } from "./support/processes.ts";
import { bidRequest, postAuction } from "./support/openrtb.ts";
import { bidFor, startStubDsp, type StubDsp } from "./support/stub-dsp.ts";

const TOKEN = "test-admin-token-0123456789";
const UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
const dir = tempDir();
const blocklist = join(dir, "blocklist.txt");
const model = join(dir, "model.json");
let dsp: StubDsp;
let tmax: Proc & { auditDir: string };

beforeAll(async () => {
  writeFileSync(blocklist, "# nothing yet\n");
  copyFileSync(join(ROOT, "tests", "fixtures", "fraud", "rule-model.json"), model);
  dsp = startStubDsp((req) => ({ status: 200, body: bidFor(req) }));
  tmax = await startTmax({
    dsps: [{ id: "d0", endpoint: dsp.url }],
    campaigns: [{ id: "c1", advertiserId: "a1", dailyBudget: "1000", currency: "USD" }],
    fraud: { enabled: true, adminToken: TOKEN, ipBlocklistPath: blocklist, modelPath: model },
  }, 2);
});

afterAll(async () => {
  await tmax?.kill();
  dsp?.stop();
});

const from = (ip: string) => bidRequest({ device: { ua: UA, ip, devicetype: 2, os: "Windows" }, user: { id: `u-${crypto.randomUUID()}` } });
const admin = (path: string, token: string | null, body?: unknown) => fetch(`${tmax.url}/admin/fraud/${path}`, {
  method: "POST", headers: token === null ? {} : { authorization: `Bearer ${token}` }, body: body === undefined ? undefined : JSON.stringify(body),
});
/** Several fresh connections, so both workers answer some. */
async function statuses(ip: string, n = 8): Promise<Array<string | null>> {
  const out: Array<string | null> = [];
  for (let i = 0; i < n; i++) out.push((await postAuction(tmax.url, from(ip), { connection: "close" })).headers.get("x-tmax-fraud-reason"));
  return out;
}

test("the admin endpoints need the bearer token", async () => {
  expect((await admin("reload", null)).status).toBe(401);
  expect((await admin("reload", "wrong-token-0123456789abc")).status).toBe(401);
  expect((await admin("block", null, { target: "81.1.1.0/24" })).status).toBe(401);
});

test("a reload applies the new blocklist and model in every worker", async () => {
  expect(await statuses("81.9.9.9")).toEqual(Array(8).fill(null));
  writeFileSync(blocklist, "81.9.9.0/24\n2a02:1::/32\n");
  copyFileSync(join(ROOT, "src", "fraud", "model", "default.json"), model);
  const res = await admin("reload", TOKEN);
  expect(res.status).toBe(200);
  expect(((await res.json()) as { model: string }).model).toBe("80 trees, 25 features");
  expect(await statuses("81.9.9.10")).toEqual(Array(8).fill("ip_blocklist"));
  const ready = (await (await fetch(`${tmax.url}/readyz`)).json()) as { fraudModel: string };
  expect(ready.fraudModel).toBe("80 trees, 25 features");
});

test("a bad blocklist is refused with its line and changes nothing", async () => {
  writeFileSync(blocklist, "81.9.9.0/24\nnot-a-range\n");
  const res = await admin("reload", TOKEN);
  expect(res.status).toBe(422);
  expect(((await res.json()) as { reason: string }).reason).toMatch(/fraud\.ipBlocklistPath.*line 2/);
  expect(await statuses("81.9.9.11", 4)).toEqual(Array(4).fill("ip_blocklist"));
});

test("an operator block of a subnet is live in every worker at once, and checked", async () => {
  expect((await admin("block", TOKEN, { target: "nonsense" })).status).toBe(400);
  expect((await admin("block", TOKEN, { target: "82.7.7.0/24", seconds: 0 })).status).toBe(400);
  expect((await admin("block", TOKEN, { target: "82.7.7.0/24", seconds: 60 })).status).toBe(200);
  expect(await statuses("82.7.7.200")).toEqual(Array(8).fill("async_blocklist"));
  expect(await statuses("82.7.8.1", 2)).toEqual([null, null]);
});
