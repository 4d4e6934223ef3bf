// The overload guard's gauges and counters, in a SharedArrayBuffer of their own (one Float64 row
// per worker, each worker writes only its row; /metrics reads them all at scrape time).
import { Counter, Gauge, type Registry } from "prom-client";
import type { TmaxConfig } from "../config/load.ts";

const enum Cell { Pressure, ShedShare, DspTimeoutMs, LagMs, InternalP99Ms, InFlight, InFlightLimit, FlashCrash, ShedOverload, ShedBeforeParse, HouseAds, Count }

export const DSP_SKIPS = ["slow", "not_top"] as const;
export type DspSkip = (typeof DSP_SKIPS)[number];

export class OverloadLayout {
  readonly rateLimitedAt = Cell.Count;
  readonly dspSkipsAt: number;
  readonly rowLength: number;

  /** `exchanges`: rate-limited exchanges in config order, then one cell for unknown ones. */
  constructor(readonly dspCount: number, readonly exchangeCount: number, readonly workerCount: number) {
    this.dspSkipsAt = this.rateLimitedAt + exchangeCount + 1;
    this.rowLength = this.dspSkipsAt + dspCount * DSP_SKIPS.length;
  }

  static of(config: TmaxConfig, rows = config.server.workers): OverloadLayout {
    return new OverloadLayout(config.dsps.length, config.rateLimits?.exchanges.length ?? 0, rows);
  }

  allocate(): SharedArrayBuffer {
    return new SharedArrayBuffer(this.rowLength * this.workerCount * 8);
  }
}

/** One worker's writer. */
export class OverloadCells {
  private readonly row: Float64Array;

  constructor(readonly layout: OverloadLayout, buffer: SharedArrayBuffer, workerIndex: number) {
    this.row = new Float64Array(buffer, workerIndex * layout.rowLength * 8, layout.rowLength);
  }

  state(pressure: number, shedShare: number, dspTimeoutMs: number, lagMs: number, internalP99Ms: number, inFlight: number, inFlightLimit: number): void {
    const r = this.row;
    r[Cell.Pressure] = pressure;
    r[Cell.ShedShare] = shedShare;
    r[Cell.DspTimeoutMs] = dspTimeoutMs;
    r[Cell.LagMs] = lagMs;
    r[Cell.InternalP99Ms] = internalP99Ms;
    r[Cell.InFlight] = inFlight;
    r[Cell.InFlightLimit] = inFlightLimit;
  }
  flashCrash(on: boolean): void { this.row[Cell.FlashCrash] = on ? 1 : 0; }
  /** A shed by value, after the body was parsed (audited). */
  shed(): void { this.row[Cell.ShedOverload]! += 1; }
  /** A shed before the body was read (limit reached or extreme pressure; counted, not audited). */
  shedBeforeParse(): void {
    this.row[Cell.ShedOverload]! += 1;
    this.row[Cell.ShedBeforeParse]! += 1;
  }
  houseAd(): void { this.row[Cell.HouseAds]! += 1; }
  /** `exchange`: index in rateLimits.exchanges, or -1 for an unknown exchange. */
  rateLimited(exchange: number): void {
    this.row[this.layout.rateLimitedAt + (exchange < 0 ? this.layout.exchangeCount : exchange)]! += 1;
  }
  dspSkipped(dsp: number, why: DspSkip): void {
    this.row[this.layout.dspSkipsAt + dsp * DSP_SKIPS.length + DSP_SKIPS.indexOf(why)]! += 1;
  }
}

/** Sums (counters), maxima or averages (gauges) over all workers. */
export class OverloadReader {
  private readonly all: Float64Array;

  constructor(readonly layout: OverloadLayout, buffer: SharedArrayBuffer) {
    this.all = new Float64Array(buffer);
  }

  private cells(cell: number): number[] {
    const out: number[] = [];
    for (let w = 0; w < this.layout.workerCount; w++) out.push(this.all[w * this.layout.rowLength + cell]!);
    return out;
  }
  private sum(cell: number): number { return this.cells(cell).reduce((a, b) => a + b, 0); }
  private max(cell: number): number { return Math.max(0, ...this.cells(cell)); }

  pressure(worker: number): number { return this.all[worker * this.layout.rowLength + Cell.Pressure]!; }
  shedShare(worker: number): number { return this.all[worker * this.layout.rowLength + Cell.ShedShare]!; }
  dspTimeoutMs(worker: number): number { return this.all[worker * this.layout.rowLength + Cell.DspTimeoutMs]!; }
  maxPressure(): number { return this.max(Cell.Pressure); }
  flashCrash(): number { return this.max(Cell.FlashCrash); }
  shedTotal(): number { return this.sum(Cell.ShedOverload); }
  shedBeforeParseTotal(): number { return this.sum(Cell.ShedBeforeParse); }
  houseAds(): number { return this.sum(Cell.HouseAds); }
  rateLimited(exchange: number): number { return this.sum(this.layout.rateLimitedAt + (exchange < 0 ? this.layout.exchangeCount : exchange)); }
  dspSkipped(dsp: number, why: DspSkip): number { return this.sum(this.layout.dspSkipsAt + dsp * DSP_SKIPS.length + DSP_SKIPS.indexOf(why)); }
  perWorker(cell: "pressure" | "shed_share" | "dsp_timeout_ms" | "lag_ms" | "internal_p99_ms" | "in_flight" | "in_flight_limit"): number[] {
    const at = {
      pressure: Cell.Pressure, shed_share: Cell.ShedShare, dsp_timeout_ms: Cell.DspTimeoutMs, lag_ms: Cell.LagMs,
      internal_p99_ms: Cell.InternalP99Ms, in_flight: Cell.InFlight, in_flight_limit: Cell.InFlightLimit,
    }[cell];
    return this.cells(at);
  }
}

type Sample = [labels: Record<string, string>, value: number];

/** Adds the overload metrics to a worker's /metrics registry. */
export function registerOverloadMetrics(registry: Registry, config: TmaxConfig, r: OverloadReader): void {
  const counter = (name: string, help: string, labelNames: string[], samples: () => Sample[]) =>
    new Counter({ name, help, labelNames, registers: [registry], collect() { this.reset(); for (const [l, v] of samples()) this.inc(l, v); } });
  const gauge = (name: string, help: string, labelNames: string[], samples: () => Sample[]) =>
    new Gauge({ name, help, labelNames, registers: [registry], collect() { this.reset(); for (const [l, v] of samples()) this.set(l, v); } });
  const workers = (cell: Parameters<OverloadReader["perWorker"]>[0]) => () => r.perWorker(cell).map((v, w): Sample => [{ worker: String(w) }, v]);
  gauge("tmax_overload_pressure", "Overload pressure per worker, 0 (comfortable) .. 1 (saturated).", ["worker"], workers("pressure"));
  gauge("tmax_overload_shed_share", "Shed controller output per worker, 0..1 (what share of low-value traffic is refused).", ["worker"], workers("shed_share"));
  gauge("tmax_overload_dsp_timeout_ms", "Effective DSP deadline per worker (auction.dspTimeoutMs down to overload.pressuredDspTimeoutMs under pressure).", ["worker"], workers("dsp_timeout_ms"));
  gauge("tmax_overload_event_loop_lag_ms", "Event-loop lag per worker (timer drift).", ["worker"], workers("lag_ms"));
  gauge("tmax_overload_internal_p99_ms", "Internal processing p99 over the sliding window, per worker.", ["worker"], workers("internal_p99_ms"));
  gauge("tmax_overload_in_flight", "Requests in flight per worker.", ["worker"], workers("in_flight"));
  gauge("tmax_overload_in_flight_limit", "Adaptive concurrency limit per worker (past it requests are shed before parsing).", ["worker"], workers("in_flight_limit"));
  counter("tmax_overload_shed_total", "Requests answered 204 at once because the worker was overloaded (also in tmax_no_bids_total{reason=\"overload\"}).", [], () => [[{}, r.shedTotal()]]);
  counter("tmax_overload_shed_before_parse_total", "Of tmax_overload_shed_total, those answered before the body was read (concurrency limit reached or extreme pressure): the cheap ones, counted but not audited.", [], () => [[{}, r.shedBeforeParseTotal()]]);
  const exchanges = (config.rateLimits?.exchanges ?? []).map((e, i) => [e.id, i] as const);
  counter("tmax_rate_limited_total", "Requests refused by an exchange's token bucket.", ["exchange"],
    () => [...exchanges.map(([id, i]): Sample => [{ exchange: id }, r.rateLimited(i)]), [{ exchange: "(unknown)" }, r.rateLimited(-1)]]);
  counter("tmax_overload_dsp_skipped_total", "DSP calls skipped under pressure: slow (consistently near the deadline) or not among the top N.", ["dsp", "reason"],
    () => config.dsps.flatMap((d, i) => DSP_SKIPS.map((why): Sample => [{ dsp: d.id, reason: why }, r.dspSkipped(i, why)])));
  gauge("tmax_flash_crash_alert", "1 when the bid rate across all DSPs dropped suddenly against its trailing baseline (any worker).", [], () => [[{}, r.flashCrash()]]);
  counter("tmax_house_ads_total", "House ads answered because no DSP bid.", [], () => [[{}, r.houseAds()]]);
}
