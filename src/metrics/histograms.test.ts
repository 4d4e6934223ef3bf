import { describe, expect, test } from "bun:test";
import { Registry } from "prom-client";
import { CounterLayout, CounterReader, WorkerCounters } from "./counters.ts";
import { FANOUT_SIZE_BUCKETS, SECONDS_BUCKETS, registerHistograms } from "./histograms.ts";

function setup(dspCount = 2, workers = 2) {
  const layout = new CounterLayout(dspCount, workers);
  const buffer = layout.allocate();
  const writers = Array.from({ length: workers }, (_, i) => new WorkerCounters(layout, buffer, i));
  return { layout, buffer, writers, reader: new CounterReader(layout, buffer) };
}

/** Non-cumulative per-bucket counts (last = above the last bound). */
const perBucket = (cumulative: number[]) => cumulative.map((c, i) => c - (i === 0 ? 0 : cumulative[i - 1]!));

describe("bucket placement", () => {
  test("a value equal to a bound lands in that bound's bucket (le), just above in the next", () => {
    const { writers, reader } = setup();
    writers[0]!.histograms.internal(1); // 0.001 s, exactly the first bound
    writers[0]!.histograms.internal(20); // 0.02 s, exactly a bound
    writers[0]!.histograms.internal(20.0001); // just above 0.02
    writers[0]!.histograms.internal(0); // zero: first bucket
    const s = reader.histograms.internal();
    const b = perBucket(s.cumulative);
    expect(b[SECONDS_BUCKETS.indexOf(0.001)]).toBe(2);
    expect(b[SECONDS_BUCKETS.indexOf(0.02)]).toBe(1);
    expect(b[SECONDS_BUCKETS.indexOf(0.02) + 1]).toBe(1);
    expect(s.count).toBe(4);
    expect(s.sum).toBeCloseTo(0.0410001, 9);
  });

  test("values above the last bound count only in +Inf", () => {
    const { writers, reader } = setup();
    writers[1]!.histograms.dsp(1, 1000); // 1 s: the last bound
    writers[1]!.histograms.dsp(1, 5000); // above every bound
    const s = reader.histograms.dsp(1);
    expect(s.cumulative[SECONDS_BUCKETS.length - 1]).toBe(1);
    expect(s.cumulative[SECONDS_BUCKETS.length]).toBe(2);
    expect(reader.histograms.dsp(0).count).toBe(0); // DSPs do not share cells
  });

  test("fan-out sizes use their own integer buckets", () => {
    const { writers, reader } = setup();
    for (const size of [0, 1, 1, 5, 64, 65]) writers[0]!.histograms.fanoutSize(size);
    const b = perBucket(reader.histograms.fanoutSize().cumulative);
    expect(b[FANOUT_SIZE_BUCKETS.indexOf(0)]).toBe(1);
    expect(b[FANOUT_SIZE_BUCKETS.indexOf(1)]).toBe(2);
    expect(b[FANOUT_SIZE_BUCKETS.indexOf(6)]).toBe(1); // 5 -> le=6
    expect(b[FANOUT_SIZE_BUCKETS.indexOf(64)]).toBe(1);
    expect(b[FANOUT_SIZE_BUCKETS.length]).toBe(1); // 65 -> +Inf only
  });
});

describe("across workers", () => {
  test("the reader sums both workers' rows; histogram cells leave the counters alone", () => {
    const { writers, reader } = setup();
    writers[0]!.histograms.request("bid", 3);
    writers[1]!.histograms.request("bid", 40);
    writers[1]!.histograms.request("nobid", 40);
    writers[0]!.request("bid");
    const bid = reader.histograms.request("bid");
    expect(bid.count).toBe(2);
    expect(bid.sum).toBeCloseTo(0.043, 12);
    expect(bid.cumulative[SECONDS_BUCKETS.indexOf(0.005)]).toBe(1);
    expect(bid.cumulative[SECONDS_BUCKETS.indexOf(0.05)]).toBe(2);
    expect(reader.histograms.request("nobid").count).toBe(1);
    expect(reader.histograms.request("invalid").count).toBe(0);
    expect(reader.requests("bid")).toBe(1);
    expect(reader.requests("nobid")).toBe(0);
  });

  test("the last DSP's series ends the row (no overlap with the next worker)", () => {
    const { layout, writers, reader } = setup(3, 2);
    expect(layout.rowLength).toBe(layout.histograms.end);
    writers[0]!.histograms.dsp(2, 5000);
    expect(reader.histograms.dsp(2).count).toBe(1);
    expect(reader.wins()).toBe(0);
    expect(reader.histograms.request("bid").count).toBe(0);
  });
});

describe("exposition", () => {
  test("prom-client renders cumulative _bucket{le}, +Inf = _count, and _sum", async () => {
    const { writers, reader } = setup();
    const registry = new Registry();
    registerHistograms(registry, reader.histograms, ["alpha", "beta"]);
    writers[0]!.histograms.dsp(0, 4);
    writers[1]!.histograms.dsp(0, 25);
    writers[1]!.histograms.dsp(0, 2000);
    writers[0]!.histograms.fanoutSize(2);
    writers[0]!.histograms.request("invalid", 0.5);
    const text = await registry.metrics();
    expect(text).toContain("# TYPE tmax_dsp_request_duration_seconds histogram");
    expect(text).toContain("# HELP tmax_request_duration_seconds ");
    expect(text).toContain('tmax_dsp_request_duration_seconds_bucket{dsp="alpha",le="0.001"} 0\n');
    expect(text).toContain('tmax_dsp_request_duration_seconds_bucket{dsp="alpha",le="0.005"} 1\n');
    expect(text).toContain('tmax_dsp_request_duration_seconds_bucket{dsp="alpha",le="0.03"} 2\n');
    expect(text).toContain('tmax_dsp_request_duration_seconds_bucket{dsp="alpha",le="1"} 2\n');
    expect(text).toContain('tmax_dsp_request_duration_seconds_bucket{dsp="alpha",le="+Inf"} 3\n');
    expect(text).toContain('tmax_dsp_request_duration_seconds_count{dsp="alpha"} 3\n');
    expect(text).toContain('tmax_dsp_request_duration_seconds_sum{dsp="alpha"} 2.029\n');
    expect(text).toContain('tmax_dsp_request_duration_seconds_bucket{dsp="beta",le="+Inf"} 0\n');
    expect(text).toContain('tmax_fanout_size_bucket{le="1"} 0\n');
    expect(text).toContain('tmax_fanout_size_bucket{le="2"} 1\n');
    expect(text).toContain("tmax_fanout_size_count 1\n");
    expect(text).toContain('tmax_request_duration_seconds_bucket{outcome="invalid",le="0.001"} 1\n');
    expect(text).toContain('tmax_request_duration_seconds_count{outcome="invalid"} 1\n');
    expect(text).toContain("tmax_auction_internal_seconds_count 0\n");
    writers[1]!.histograms.auditWait(3);
    const withWait = await registry.metrics();
    expect(withWait).toContain('tmax_audit_commit_wait_seconds_bucket{le="0.0025"} 0\n');
    expect(withWait).toContain('tmax_audit_commit_wait_seconds_bucket{le="0.005"} 1\n');
    expect(withWait).toContain("tmax_auction_internal_seconds_count 0\n"); // its own cells, not the internal series'

    // Every series: buckets never decrease and +Inf equals _count.
    const lines = text.split("\n");
    const buckets = new Map<string, number[]>();
    for (const line of lines) {
      const m = /^(\w+)_bucket\{(.*?),?le="([^"]+)"\} (\S+)$/.exec(line);
      if (m === null) continue;
      const key = `${m[1]}{${m[2]}}`;
      buckets.set(key, [...(buckets.get(key) ?? []), Number(m[4])]);
    }
    expect(buckets.size).toBe(4 + 1 + 1 + 2 + 1); // 4 outcomes, internal, audit commit wait, 2 DSPs, fan-out
    for (const [key, values] of buckets) {
      for (let i = 1; i < values.length; i++) expect(values[i]!).toBeGreaterThanOrEqual(values[i - 1]!);
      const [name, labels] = [key.slice(0, key.indexOf("{")), key.slice(key.indexOf("{") + 1, -1)];
      const count = lines.find((l) => l.startsWith(`${name}_count${labels === "" ? "" : `{${labels}}`} `))!;
      expect(Number(count.split(" ")[1])).toBe(values[values.length - 1]!);
    }
  });
});

describe("cost", () => {
  test("an observation costs well under a microsecond and allocates nothing", () => {
    const { writers } = setup(8, 1);
    const h = writers[0]!.histograms;
    const N = 2_000_000;
    for (let i = 0; i < 100_000; i++) h.dsp(i & 7, (i % 300) * 0.7); // warm up
    const heapBefore = process.memoryUsage().heapUsed;
    const started = Bun.nanoseconds();
    for (let i = 0; i < N; i++) h.dsp(i & 7, (i % 300) * 0.7);
    const ns = (Bun.nanoseconds() - started) / N;
    const grown = process.memoryUsage().heapUsed - heapBefore;
    console.log(`histogram observe: ${ns.toFixed(1)} ns per call`);
    expect(ns).toBeLessThan(1_000); // typically ~5-20 ns; generous for loaded CI machines
    expect(grown).toBeLessThan(8 * 1024 * 1024); // 2M calls: no per-call garbage
  });
});
