// Embedded books with `budget.journal`: a restart (same audit dir) continues the day's books instead
// of granting the whole budget again.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { startCli, tempDir, type Proc } from "./support/processes.ts";
import { clearOfMidnight } from "./support/day.ts";
import { bidRequest, postAuction } from "./support/openrtb.ts";
import { bidFor, startStubDsp, type StubDsp } from "./support/stub-dsp.ts";
import { buildWasm } from "../scripts/build-wasm.ts";

const TOKEN = "admin-token-0123456789";
let dsp: StubDsp;
let server: Proc | undefined;
const dir = tempDir("tmax-budget-journal-");
const configFile = join(dir, "tmax.json");

beforeAll(() => {
  buildWasm();
  dsp = startStubDsp((req) => ({ status: 200, body: bidFor(req, { price: 2, cid: "c1" }) }));
  writeFileSync(configFile, JSON.stringify({
    server: { host: "127.0.0.1" },
    fraud: { enabled: false }, // one test device and IP replayed: not what the fraud stage is tested on here
    dsps: [{ id: "stub", endpoint: dsp.url }],
    campaigns: [{ id: "c1", advertiserId: "a1", dailyBudget: "1", currency: "USD", pacing: "asap" }], // spends the budget in seconds
    audit: { dir: join(dir, "audit") },
    budget: { journal: true, adminToken: TOKEN, maxLeaseFraction: 0.5, leaseShare: 0.5 },
  }));
});

afterAll(async () => {
  await server?.kill("SIGKILL");
  dsp?.stop();
});

async function status(url: string): Promise<{ reservedMicros: number; inLeasesMicros: number; remainingMicros: number }> {
  const res = await fetch(`${url}/admin/budgets?campaign=c1`, { headers: { authorization: `Bearer ${TOKEN}` } });
  return ((await res.json()) as { campaigns: Array<{ reservedMicros: number; inLeasesMicros: number; remainingMicros: number }> }).campaigns[0]!;
}

test("wins before a restart stay spent after it; the rest of the budget is still there", async () => {
  await clearOfMidnight(60_000); // a restart after midnight rightly starts a new day's books
  server = await startCli(["serve", "--config", configFile, "--port", "0", "--workers", "1"]);
  let wins = 0;
  for (let i = 0; i < 10; i++) if ((await postAuction(server.url, bidRequest({ at: 1 }))).status === 200) wins++;
  expect(wins).toBe(10);
  expect((await status(server.url)).reservedMicros).toBe(10 * 2_000);
  await server.kill("SIGTERM"); // a clean stop settles the leases into the journal
  server = await startCli(["serve", "--config", configFile, "--port", "0", "--workers", "1"]);
  const after = await status(server.url);
  expect(after.reservedMicros).toBe(0); // this process has spent nothing yet
  expect(after.remainingMicros).toBe(1_000_000 - 10 * 2_000); // not the whole budget again
});
