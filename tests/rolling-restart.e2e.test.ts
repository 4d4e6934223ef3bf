// Rolling restart under load: SIGHUP makes `tmax serve` replace its workers one at a time (start a
// fresh one, wait until it serves, drain the old one). Open-loop traffic through it all: every sent
// request gets an answer (no connection error, no timeout), wins keep coming, and afterwards the
// server is ready with the same number of workers; a second restart reuses the freed slots.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startSimDspProcess, startTmax, type Proc } from "./support/processes.ts";
import { metric, metrics } from "./support/openrtb.ts";
import { drive } from "../scripts/chaos/driver.ts";

let dsp: Proc, tmax: Proc;

beforeAll(async () => {
  dsp = await startSimDspProcess(["--latency-ms", "10..30", "--bid-rate", "1", "--price", "2..4", "--campaigns", "c1", "--seat", "d1"]);
  tmax = await startTmax({
    dsps: [{ id: "d1", endpoint: dsp.url }],
    campaigns: [{ id: "c1", advertiserId: "a1", dailyBudget: 1_000_000, currency: "USD" }],
    overload: { enabled: false }, // every request is auctioned: a lost one cannot hide among sheds
  }, 2);
});

afterAll(async () => {
  await Promise.all([tmax?.kill(), dsp?.kill()]);
});

async function restartDone(count: number, withinMs: number): Promise<void> {
  const deadline = performance.now() + withinMs;
  while ((tmax.output().match(/rolling restart done/g) ?? []).length < count) {
    if (performance.now() > deadline) throw new Error(`no rolling restart done within ${withinMs} ms:\n${tmax.output()}`);
    await Bun.sleep(50);
  }
}

describe("rolling restart (SIGHUP)", () => {
  test("replaces both workers under open-loop load; every request is answered", async () => {
    let loadDone = false;
    const load = drive({ url: tmax.url, rps: 100, durationS: 6, tmaxMs: 1_000, timeoutMs: 5_000 }).finally(() => (loadDone = true));
    await Bun.sleep(1_000);
    tmax.proc.kill("SIGHUP");
    await restartDone(1, 15_000);
    expect(loadDone).toBe(false); // the whole restart happened under load
    const r = await load;
    console.log(JSON.stringify(r));
    expect(r.failed).toBe(0);
    expect(r.served + r.shed).toBe(r.sent);
    expect(r.served).toBeGreaterThan(r.sent * 0.9);
    expect((tmax.output().match(/"msg":"worker replaced"/g) ?? []).length).toBe(2);
    const text = await metrics(tmax.url);
    expect(metric(text, "tmax_workers_ready")).toBe(2);
    expect((await fetch(`${tmax.url}/readyz`)).status).toBe(200);
  });

  test("a second restart reuses the freed slots and still loses nothing", async () => {
    let loadDone = false;
    const load = drive({ url: tmax.url, rps: 100, durationS: 5, tmaxMs: 1_000, timeoutMs: 5_000 }).finally(() => (loadDone = true));
    await Bun.sleep(500);
    tmax.proc.kill("SIGHUP");
    await restartDone(2, 15_000);
    expect(loadDone).toBe(false);
    const r = await load;
    expect(r.failed).toBe(0);
    expect(r.served + r.shed).toBe(r.sent);
    expect(metric(await metrics(tmax.url), "tmax_workers_ready")).toBe(2);
  });
});
