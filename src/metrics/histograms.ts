// Latency and fan-out histograms, in the same shared rows as the counters (see counters.ts): each
// worker adds into its own row (no atomics, no allocation: find the bucket, add three cells),
// /metrics sums the rows at scrape time and renders them through prom-client as histograms.
import type { Metric, MetricValueWithName, Registry } from "prom-client";
import { REQUEST_OUTCOMES, type RequestOutcome } from "./counters.ts";

/** Upper bounds (le, seconds) of the latency buckets: fine below the usual 100 ms budget, coarse above. */
export const SECONDS_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1] as const;
/** Upper bounds of the DSPs-called-per-auction buckets (at most LIMITS.maxDsps DSPs). */
export const FANOUT_SIZE_BUCKETS = [0, 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64] as const;

/**
 * Cells of one series: one per bucket (not cumulative), one for values above the last bound,
 * then the sum and the count. The whole region is bounded: (request outcomes + 2 + DSPs) series.
 */
const seriesLength = (bounds: readonly number[]) => bounds.length + 3;

/** Where each histogram's series sit inside a counter row, starting at `base`. */
export class HistogramLayout {
  readonly secondsSeries = seriesLength(SECONDS_BUCKETS);
  readonly fanoutSeries = seriesLength(FANOUT_SIZE_BUCKETS);
  /** tmax_request_duration_seconds, one series per request outcome. */
  readonly requestAt: number;
  /** tmax_auction_internal_seconds. */
  readonly internalAt: number;
  /** tmax_audit_commit_wait_seconds. */
  readonly auditWaitAt: number;
  /** tmax_fanout_size. */
  readonly fanoutAt: number;
  /** tmax_dsp_request_duration_seconds, one series per DSP. */
  readonly dspAt: number;
  readonly end: number;

  constructor(readonly base: number, readonly dspCount: number) {
    this.requestAt = base;
    this.internalAt = this.requestAt + REQUEST_OUTCOMES.length * this.secondsSeries;
    this.auditWaitAt = this.internalAt + this.secondsSeries;
    this.fanoutAt = this.auditWaitAt + this.secondsSeries;
    this.dspAt = this.fanoutAt + this.fanoutSeries;
    this.end = this.dspAt + dspCount * this.secondsSeries;
  }
}

/** Adds one observation to the series at `at` of `row`. */
function observe(row: Float64Array, at: number, bounds: readonly number[], value: number): void {
  let i = 0;
  const n = bounds.length;
  while (i < n && value > bounds[i]!) i++; // le semantics: a value equal to a bound goes in that bucket
  row[at + i]! += 1;
  row[at + n + 1]! += value;
  row[at + n + 2]! += 1;
}

/** One worker's writer over the histogram cells of its own row. Times are taken in ms. */
export class WorkerHistograms {
  constructor(private readonly layout: HistogramLayout, private readonly row: Float64Array) {}

  /** End to end inside tmax, arrival to answer. */
  request(outcome: RequestOutcome, ms: number): void {
    observe(this.row, this.layout.requestAt + REQUEST_OUTCOMES.indexOf(outcome) * this.layout.secondsSeries, SECONDS_BUCKETS, ms / 1000);
  }
  /** An auction's own processing time: its total minus the fan-out wait. */
  internal(ms: number): void {
    observe(this.row, this.layout.internalAt, SECONDS_BUCKETS, ms / 1000);
  }
  /** An auction's wait for its audit events to be durable (append to group commit), before it answers. */
  auditWait(ms: number): void {
    observe(this.row, this.layout.auditWaitAt, SECONDS_BUCKETS, ms / 1000);
  }
  /** One DSP call, from sending to its answer (or timeout). */
  dsp(dsp: number, ms: number): void {
    observe(this.row, this.layout.dspAt + dsp * this.layout.secondsSeries, SECONDS_BUCKETS, ms / 1000);
  }
  /** DSPs called by one auction. */
  fanoutSize(size: number): void {
    observe(this.row, this.layout.fanoutAt, FANOUT_SIZE_BUCKETS, size);
  }
}

export interface HistogramSnapshot {
  /** Cumulative counts, one per bound, then +Inf (equal to count). */
  cumulative: number[];
  sum: number;
  count: number;
}

/** Sums one series over all workers' rows. */
export function readSeries(all: Float64Array, rowLength: number, workerCount: number, at: number, bounds: readonly number[]): HistogramSnapshot {
  const n = bounds.length;
  const cells = new Array<number>(n + 3).fill(0);
  for (let w = 0; w < workerCount; w++) {
    const start = w * rowLength + at;
    for (let c = 0; c < n + 3; c++) cells[c]! += all[start + c]!;
  }
  const cumulative: number[] = [];
  let running = 0;
  for (let i = 0; i <= n; i++) cumulative.push((running += cells[i]!));
  return { cumulative, sum: cells[n + 1]!, count: cells[n + 2]! };
}

/** Reader of the histograms over all workers (for /metrics and tests). */
export class HistogramReader {
  constructor(private readonly layout: HistogramLayout, private readonly all: Float64Array, private readonly rowLength: number, private readonly workerCount: number) {}

  private read(at: number, bounds: readonly number[]): HistogramSnapshot {
    return readSeries(this.all, this.rowLength, this.workerCount, at, bounds);
  }
  request(outcome: RequestOutcome): HistogramSnapshot {
    return this.read(this.layout.requestAt + REQUEST_OUTCOMES.indexOf(outcome) * this.layout.secondsSeries, SECONDS_BUCKETS);
  }
  internal(): HistogramSnapshot { return this.read(this.layout.internalAt, SECONDS_BUCKETS); }
  auditWait(): HistogramSnapshot { return this.read(this.layout.auditWaitAt, SECONDS_BUCKETS); }
  dsp(dsp: number): HistogramSnapshot { return this.read(this.layout.dspAt + dsp * this.layout.secondsSeries, SECONDS_BUCKETS); }
  fanoutSize(): HistogramSnapshot { return this.read(this.layout.fanoutAt, FANOUT_SIZE_BUCKETS); }
}

type Labels = Record<string, string>;

/** What prom-client's Registry reads from a metric: its MetricObject with values. */
export interface HistogramObject {
  name: string;
  help: string;
  type: "histogram";
  aggregator: "sum";
  values: MetricValueWithName<string>[];
}

/**
 * A histogram for prom-client's Registry whose values are read at scrape time: the Registry takes
 * any metric object with a name and `get()` returning {name, help, type, values}, and renders the
 * `_bucket{le}`, `_sum` and `_count` samples itself (as for its own Histogram).
 */
export class SharedHistogram {
  readonly type = "histogram" as const;

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
    private readonly series: () => Array<[labels: Labels, snapshot: HistogramSnapshot]>,
  ) {}

  get(): HistogramObject {
    const values: MetricValueWithName<string>[] = [];
    for (const [labels, s] of this.series()) {
      this.bounds.forEach((le, i) => values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le }, value: s.cumulative[i]! }));
      values.push({ metricName: `${this.name}_bucket`, labels: { ...labels, le: "+Inf" }, value: s.cumulative[this.bounds.length]! });
      values.push({ metricName: `${this.name}_sum`, labels, value: s.sum });
      values.push({ metricName: `${this.name}_count`, labels, value: s.count });
    }
    return { name: this.name, help: this.help, type: "histogram", aggregator: "sum", values };
  }

  register(registry: Registry): this {
    registry.registerMetric(this as unknown as Metric); // prom-client's typings list its own classes only
    return this;
  }
}

/** The histograms, registered on `registry`; `dspIds` in config order. */
export function registerHistograms(registry: Registry, reader: HistogramReader, dspIds: readonly string[]): void {
  new SharedHistogram("tmax_request_duration_seconds", "Time inside tmax from a request's arrival to its answer, by outcome.", SECONDS_BUCKETS,
    () => REQUEST_OUTCOMES.map((o) => [{ outcome: o }, reader.request(o)])).register(registry);
  new SharedHistogram("tmax_auction_internal_seconds", "An auction's processing time excluding the wait for DSPs (total minus the fan-out).", SECONDS_BUCKETS,
    () => [[{}, reader.internal()]]).register(registry);
  new SharedHistogram("tmax_audit_commit_wait_seconds", "An auction's wait for its audit events to be durable (the outbox's group commit) before it answers.", SECONDS_BUCKETS,
    () => [[{}, reader.auditWait()]]).register(registry);
  new SharedHistogram("tmax_dsp_request_duration_seconds", "Each DSP call, from sending to its answer or timeout.", SECONDS_BUCKETS,
    () => dspIds.map((id, i) => [{ dsp: id }, reader.dsp(i)])).register(registry);
  new SharedHistogram("tmax_fanout_size", "DSPs called per auction.", FANOUT_SIZE_BUCKETS,
    () => [[{}, reader.fanoutSize()]]).register(registry);
}
