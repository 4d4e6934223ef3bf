// Overload through real processes. (1) Shedding, made deterministic by a low in-flight range: at
// 400 rps into one worker with 30 ms DSPs the worker is pressured, sheds a share at once (fast
// 204s, reason "overload" in metrics and audit), lowers its DSP deadline, answers every request,
// and recovers when the load stops. (2) The chaos proof, short: ramp to the maximum sustainable
// rate, then 5x that; asserted with margins a noisy shared 2-core box can meet (the full figures
// against the goals come from `npm run chaos:overload`).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startSimDspProcess, startTmax, type Proc } from "./support/processes.ts";
import { bidRequest, metric, metrics, postAuction, readAudit } from "./support/openrtb.ts";
import { drive } from "../scripts/chaos/driver.ts";
import { sampleRss, startStack } from "../scripts/chaos/stack.ts";
import { consumersCaughtUp, measureMaxRate, spike, spikeLine } from "../scripts/chaos/overload-run.ts";

const TMAX_MS = 100;
/**
 * RSS growth allowed within the short 5x spike. JSC grows its heaps under a burst of allocation before
 * it collects, in proportion to the work done: 150-180 MiB when tmax served ~110% of its measured
 * maximum during the spike, 170-320 MiB at ~140-155% (the one-trip outbox commit serves more). What
 * this catches is a queue without a bound; growth across repeated spikes is judged by
 * `npm run chaos:overload` (last round's peak against the first's).
 */
const SPIKE_RSS_GROWTH_MIB = 512;

describe("shedding under pressure (in-flight signal)", () => {
  let dsp: Proc, tmax: Proc & { auditDir: string };

  beforeAll(async () => {
    dsp = await startSimDspProcess(["--latency-ms", "30", "--bid-rate", "1", "--fixed-price", "3", "--campaigns", "c1", "--seat", "d1"]);
    tmax = await startTmax({
      dsps: [{ id: "d1", endpoint: dsp.url }],
      campaigns: [{ id: "c1", advertiserId: "a1", dailyBudget: 1_000_000, currency: "USD" }],
      overload: { signals: { inFlight: { low: 4, high: 16 } } },
    }, 1);
  });

  afterAll(async () => {
    await Promise.all([tmax?.kill(), dsp?.kill()]);
  });

  test("sheds a share at once with fast 204s, lowers the DSP deadline, answers everything, then recovers", async () => {
    const gauges: number[] = [];
    const sampler = setInterval(async () => {
      gauges.push(metric(await metrics(tmax.url), 'tmax_overload_dsp_timeout_ms{worker="0"}'));
    }, 100);
    const rss = sampleRss(tmax.proc.pid);
    const r = await drive({ url: tmax.url, rps: 400, durationS: 3, tmaxMs: TMAX_MS, timeoutMs: 5_000 });
    const rssSamples = rss.stop();
    clearInterval(sampler);
    console.log(JSON.stringify({ ...r, minDspTimeoutMs: Math.min(...gauges), rss: [rssSamples[0], Math.max(...rssSamples)] }));
    expect(r.failed).toBeLessThanOrEqual(r.sent * 0.01); // every request answered
    expect(r.shed).toBeGreaterThan(r.sent * 0.05);
    expect(r.served).toBeGreaterThan(0);
    expect(Math.min(...gauges)).toBeLessThan(70);
    expect(Math.max(...rssSamples)).toBeLessThan(rssSamples[0]! + 150);

    const text = await metrics(tmax.url);
    const shedByServer = metric(text, "tmax_overload_shed_total");
    expect(shedByServer).toBeGreaterThan(0);
    expect(metric(text, 'tmax_no_bids_total{reason="overload"}')).toBe(shedByServer);
    // Inside the server (the client's clock also counts this box's scheduling): shed answers are
    // fast, no bid was answered before the DSP's 30 ms.
    const within = (outcome: string, le: string) => metric(text, `tmax_request_duration_seconds_bucket{outcome="${outcome}",le="${le}"}`);
    const nobids = metric(text, 'tmax_request_duration_seconds_count{outcome="nobid"}');
    expect(within("nobid", "0.01")).toBeGreaterThan(nobids * 0.5);
    expect(within("bid", "0.02")).toBe(0);

    await Bun.sleep(2_000); // pressure releases (~200 ms time constant)
    const calm = await metrics(tmax.url);
    expect(metric(calm, 'tmax_overload_pressure{worker="0"}')).toBeLessThan(0.1);
    expect(metric(calm, 'tmax_overload_dsp_timeout_ms{worker="0"}')).toBeGreaterThanOrEqual(68);
    for (let i = 0; i < 5; i++) expect((await postAuction(tmax.url, bidRequest({}, { bidfloor: 0.1 }))).status).toBe(200);

    const shedEvents = (await readAudit(tmax.auditDir)).filter((e) => e.event_type === "auction_result" && e.no_bid_reason === "overload");
    const shedRequests = new Set(shedEvents.map((e) => e.request_id));
    expect(shedRequests.size).toBeGreaterThan(0);
    // Every shed by value is audited; sheds before parsing (the limit, extreme pressure) are counted only.
    expect(shedRequests.size).toBe(shedByServer - metric(text, "tmax_overload_shed_before_parse_total"));
  });
});

describe("chaos, short: max sustainable rate, then 5x", () => {
  // Behaviour, not speed: this box is shared and often saturated by other runs (a start rate of
  // 25 rps has been seen to miss tmax), so the timing goals are printed here and measured by
  // `npm run chaos:overload`; asserted is what must hold however slow the machine is.
  test("at 5x: the guard sheds, every request is answered (none lost), sheds are quick inside the server, RSS bounded, audit consumers pause and catch up", async () => {
    const stack = await startStack({ workers: 2, dsps: 3, dspLatencyMs: "10..40" });
    try {
      const startRps = 25;
      const { maxRps } = await measureMaxRate(stack, { startRps, growth: 1.5, maxRps: 3_000, stepS: 1.5, tmaxMs: TMAX_MS }, console.log);
      const s = await spike(stack, Math.max(maxRps, startRps), 5, 3, TMAX_MS, 5_000);
      console.log(spikeLine(s, TMAX_MS));
      expect(s.served + s.houseAds + s.shed + s.failed).toBe(s.sent);
      expect(s.failed).toBeLessThanOrEqual(s.sent * 0.02);
      expect(s.shedByServer).toBeGreaterThan(0);
      expect(s.rssMiB.max).toBeLessThan(s.rssMiB.first + SPIKE_RSS_GROWTH_MIB);
      const text = await (await fetch(`${stack.url}/metrics`)).text();
      const sheds = metric(text, 'tmax_no_bids_total{reason="overload"}');
      const quickNoBids = metric(text, 'tmax_request_duration_seconds_bucket{outcome="nobid",le="0.03"}');
      expect(quickNoBids).toBeGreaterThan(sheds * 0.5); // every shed is a no-bid; most of them took < 30 ms inside
      // At capacity the archive and ledger paused for the auctions, and once it was over they caught up.
      expect(s.consumerYield.seconds).toBeGreaterThan(0);
      await consumersCaughtUp(stack);
    } finally {
      await stack.stop();
    }
  });
});
