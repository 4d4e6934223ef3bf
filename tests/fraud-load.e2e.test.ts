// `tmax load --scenario`: the load generator drives a real server with labelled traffic and counts
// outcomes per label; with the fraud stage on, the obvious bots get no bids.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { runCli, startSimDspProcess, startTmax, type Proc } from "./support/processes.ts";

let dsp: Proc, tmax: Proc;

beforeAll(async () => {
  dsp = await startSimDspProcess(["--latency-ms", "1..3", "--bid-rate", "1", "--fixed-price", "2", "--campaigns", "c1"]);
  tmax = await startTmax({
    dsps: [{ id: "d1", endpoint: dsp.url }],
    campaigns: [{ id: "c1", advertiserId: "a1", dailyBudget: "1000000", currency: "USD" }],
    fraud: { enabled: true },
  }, 2);
});

afterAll(async () => {
  await Promise.all([tmax?.kill(), dsp?.kill()]);
});

test("per-label outcomes: data-center bots and crawlers never get a bid, humans mostly do", async () => {
  const { code, stdout } = await runCli(["load", "--target", tmax.url, "--rps", "150", "--duration", "4", "--scenario", "mixed", "--seed", "3"]);
  expect(code).toBe(0);
  const summary = JSON.parse(stdout.trim().split("\n").at(-1)!);
  const by = summary.byLabel as Record<string, { sent: number; ok: number; nobid: number; errors: number }>;
  expect(by.datacenter_bot!.sent).toBeGreaterThan(0);
  expect(by.datacenter_bot!.ok).toBe(0);
  expect(by.crawler!.ok).toBe(0);
  // Humans pass the screen (0 blocked in the evaluation); some still get no bid when a DSP answer
  // is late on a busy machine, hence not all of them.
  expect(by.human!.ok).toBeGreaterThan(by.human!.sent * 0.6);
}, 60_000);
