// The latency histograms through a real server: 2 workers, one sim DSP answering in ~20 ms.
// /metrics (any worker) shows the observations of both workers.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { startSimDspProcess, startTmax, type Proc } from "./support/processes.ts";
import { bidRequest, metric, metrics, postAuction, readAudit } from "./support/openrtb.ts";
import { until } from "./support/wait.ts";

let dsp: Proc, tmax: Proc & { auditDir: string };

beforeAll(async () => {
  dsp = await startSimDspProcess(["--latency-ms", "20", "--bid-rate", "1", "--fixed-price", "2", "--campaigns", "c1", "--seat", "sim"]);
  tmax = await startTmax({
    dsps: [{ id: "sim", endpoint: dsp.url }],
    campaigns: [{ id: "c1", advertiserId: "adv-1", dailyBudget: 1000, currency: "USD" }],
  }, 2);
});

afterAll(async () => {
  await Promise.all([tmax?.kill(), dsp?.kill()]);
});

test("request, internal, DSP and fan-out histograms aggregate both workers", async () => {
  // New connections each time, so the kernel spreads them over both workers (reusePort).
  const statuses = await Promise.all(Array.from({ length: 20 }, () => postAuction(tmax.url, bidRequest({ tmax: 200 }), { connection: "close" }).then((r) => r.status)));
  expect(statuses.every((s) => s === 200 || s === 204)).toBe(true);
  const text = await metrics(tmax.url);

  const requests = metric(text, 'tmax_request_duration_seconds_count{outcome="bid"}') + metric(text, 'tmax_request_duration_seconds_count{outcome="nobid"}');
  expect(requests).toBe(20);
  expect(metric(text, 'tmax_request_duration_seconds_bucket{outcome="bid",le="+Inf"}')).toBe(metric(text, 'tmax_request_duration_seconds_count{outcome="bid"}'));
  expect(metric(text, 'tmax_request_duration_seconds_count{outcome="invalid"}')).toBe(0);
  // Each request waited for the ~20 ms DSP.
  expect(metric(text, 'tmax_request_duration_seconds_bucket{outcome="bid",le="0.015"}')).toBe(0);

  const dspCount = metric(text, 'tmax_dsp_request_duration_seconds_count{dsp="sim"}');
  expect(dspCount).toBe(20);
  const under20ms = metric(text, 'tmax_dsp_request_duration_seconds_bucket{dsp="sim",le="0.015"}');
  expect(under20ms).toBeLessThanOrEqual(dspCount / 4); // most mass at >= 0.02 s
  expect(metric(text, 'tmax_dsp_request_duration_seconds_sum{dsp="sim"}')).toBeGreaterThanOrEqual(20 * 0.015);

  expect(metric(text, "tmax_fanout_size_count")).toBe(20);
  expect(metric(text, 'tmax_fanout_size_bucket{le="0"}')).toBe(0);
  expect(metric(text, 'tmax_fanout_size_bucket{le="1"}')).toBe(20);
  expect(metric(text, "tmax_fanout_size_sum")).toBe(20);

  // Internal time excludes the DSP wait: one per auction, and well below the request durations.
  expect(metric(text, "tmax_auction_internal_seconds_count")).toBe(20);
  const requestSum = metric(text, 'tmax_request_duration_seconds_sum{outcome="bid"}') + metric(text, 'tmax_request_duration_seconds_sum{outcome="nobid"}');
  expect(metric(text, "tmax_auction_internal_seconds_sum")).toBeLessThan(requestSum - dspCount * 0.015);
  // Each auction's answer waited for its audit events' group commit: one observation each, inside its internal time.
  expect(metric(text, "tmax_audit_commit_wait_seconds_count")).toBe(20);
  expect(metric(text, "tmax_audit_commit_wait_seconds_sum")).toBeGreaterThan(0);
  expect(metric(text, "tmax_audit_commit_wait_seconds_sum")).toBeLessThanOrEqual(metric(text, "tmax_auction_internal_seconds_sum"));
  // Where the commits' writes ran (sampled each second): the default is the event loop.
  let commits = "";
  await until("the outbox commit counters", async () => metric((commits = await metrics(tmax.url)), 'tmax_audit_commits_total{where="loop"}') >= 1);
  expect(metric(commits, 'tmax_audit_commits_total{where="pool"}')).toBeGreaterThanOrEqual(0);
  expect(metric(commits, "tmax_audit_slow_loop_writes_total")).toBeGreaterThanOrEqual(0);
  // 20 sequential auctions never bring a worker to capacity: the audit consumers never paused, and they catch up.
  expect(metric(commits, "tmax_audit_consumer_yield_seconds_total")).toBe(0);
  expect(metric(commits, "tmax_audit_consumers_yielding")).toBe(0);
  expect(metric(commits, "tmax_audit_consumer_forced_catchups_total")).toBe(0);
  await until("the archive and ledger caught up", async () => {
    const text = await metrics(tmax.url);
    return metric(text, 'tmax_audit_consumer_lag_bytes{consumer="archive"}') === 0 && metric(text, 'tmax_audit_consumer_lag_bytes{consumer="ledger"}') === 0;
  });

  // Both workers ran auctions (their audit records say which), and any worker's /metrics shows the sum.
  const workers = new Set((await readAudit(tmax.auditDir)).map((e) => e.worker));
  expect(workers.size).toBe(2);
  for (let i = 0; i < 4; i++) {
    const again = await (await fetch(`${tmax.url}/metrics`, { headers: { connection: "close" } })).text();
    expect(metric(again, "tmax_fanout_size_count")).toBe(20);
  }
});
