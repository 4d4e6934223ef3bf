// Distributed caps: two tmax server processes (two "pods", 2 workers each) share one real
// redis-server. A cap of 3 per hour holds across both, with requests for one user alternating
// between the pods. The control: the same two pods without the store let the user win 3 times each.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startSimDspProcess, startTmax, type Proc } from "./support/processes.ts";
import { bidRequest, metric, metrics, postAuction } from "./support/openrtb.ts";
import { useRedis } from "./support/redis.ts";

const redis = useRedis();
/** Longer than the write-behind flush interval configured below, so every win reached Redis. */
const PAUSE_MS = 40;
let dsp: Proc;
const pods: Proc[] = [];

function config(withStore: boolean): Record<string, unknown> {
  return {
    dsps: [{ id: "d1", endpoint: dsp.url }],
    campaigns: [{ id: "c1", advertiserId: "a1", dailyBudget: 100, currency: "USD", frequencyCaps: [{ max: 3, windowSec: 3600 }, { max: 5, windowSec: 86_400 }] }],
    ...(withStore ? { frequencyCapStore: { redisUrl: redis().url, flushMs: 5, fetchTimeoutMs: 50 } } : {}),
  };
}

beforeAll(async () => {
  dsp = await startSimDspProcess(["--latency-ms", "0", "--bid-rate", "1", "--fixed-price", "2", "--campaigns", "c1"]);
  pods.push(...(await Promise.all([startTmax(config(true), 2), startTmax(config(true), 2), startTmax(config(false), 2), startTmax(config(false), 2)])));
});

afterAll(async () => {
  await Promise.all([...pods.map((p) => p.kill()), dsp?.kill()]);
});

async function alternate(a: Proc, b: Proc, user: string, requests: number): Promise<string[]> {
  const outcomes: string[] = [];
  for (let i = 0; i < requests; i++) {
    const res = await postAuction((i % 2 === 0 ? a : b).url, bidRequest({ user: { id: user } }));
    outcomes.push(res.status === 200 ? "win" : String(res.headers.get("x-tmax-no-bid-reason")));
    await Bun.sleep(PAUSE_MS);
  }
  return outcomes;
}

describe("frequency caps across pods through Redis", () => {
  test("a cap of 3 holds across two server processes sharing one redis-server", async () => {
    const [a, b] = pods as [Proc, Proc];
    const outcomes = await alternate(a, b, "user-shared", 8);
    expect(outcomes).toEqual(["win", "win", "win", ...Array(5).fill("frequency_capped")]);
    expect(metric(await metrics(a.url), "tmax_bids_capped_total") + metric(await metrics(b.url), "tmax_bids_capped_total")).toBe(5);
  });

  test("another user has their own count", async () => {
    const [a, b] = pods as [Proc, Proc];
    expect(await alternate(b, a, "user-other", 4)).toEqual(["win", "win", "win", "frequency_capped"]);
  });

  test("control: the same pods without the store cap each machine separately (3 wins each)", async () => {
    const [, , c, d] = pods as [Proc, Proc, Proc, Proc];
    const outcomes = await alternate(c, d, "user-local", 8);
    expect(outcomes.filter((o) => o === "win")).toHaveLength(6);
  });
});
