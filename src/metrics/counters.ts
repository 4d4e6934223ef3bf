// Counters every worker updates and /metrics reads, in one SharedArrayBuffer: one row per worker,
// each worker writes only its own row (no atomics, no allocation on the hot path), readers sum rows.
// Float64 cells count exactly up to 2^53.
import { NO_BID_REASONS, type NoBidReason } from "../openrtb/nbr.ts";
import { HistogramLayout, HistogramReader, WorkerHistograms } from "./histograms.ts";

export const REQUEST_OUTCOMES = ["bid", "nobid", "invalid", "error"] as const;
export type RequestOutcome = (typeof REQUEST_OUTCOMES)[number];

export const DSP_OUTCOMES = ["bid", "nobid", "timeout", "error", "skipped_breaker", "skipped_deadline", "queue_full"] as const;
export type DspOutcome = (typeof DSP_OUTCOMES)[number];

export const BID_REJECTIONS = ["malformed", "wrong_id", "unknown_impid", "bad_price", "unknown_campaign", "bad_currency", "too_many_bids"] as const;
export type BidRejection = (typeof BID_REJECTIONS)[number];

export const BID_BLOCKS = ["badv", "bcat"] as const;
export type BidBlock = (typeof BID_BLOCKS)[number];

const enum Fixed {
  WinsTotal, ReservedMicrosTotal, BudgetSkipsTotal, WorkersReady, BidsCappedTotal, CapNoRoomTotal,
  OutboxPendingBytes, OutboxUnhealthy, RelayLagRecords, RelayLagBytes, RelayDisconnected, BidsPacedTotal,
  AuditCommits, AuditLoopCommits, AuditSlowLoopWrites, ConsumersYielding, ConsumerYieldMs, ConsumerForcedCatchUps, ArchiveLagBytes, LedgerLagBytes, Count,
}

export class CounterLayout {
  readonly requestsAt = Fixed.Count;
  readonly noBidAt = this.requestsAt + REQUEST_OUTCOMES.length;
  readonly blocksAt = this.noBidAt + NO_BID_REASONS.length;
  readonly dspAt = this.blocksAt + BID_BLOCKS.length;
  readonly perDsp = DSP_OUTCOMES.length + BID_REJECTIONS.length + 1; // + breaker state
  /** The latency and fan-out histograms (histograms.ts), after the counters. */
  readonly histograms: HistogramLayout;
  readonly rowLength: number;

  constructor(readonly dspCount: number, readonly workerCount: number) {
    this.histograms = new HistogramLayout(this.dspAt + dspCount * this.perDsp, dspCount);
    this.rowLength = this.histograms.end;
  }

  allocate(): SharedArrayBuffer {
    return new SharedArrayBuffer(this.rowLength * this.workerCount * Float64Array.BYTES_PER_ELEMENT);
  }
}

/** One worker's writer over its own row. */
export class WorkerCounters {
  private readonly row: Float64Array;
  /** This worker's histograms (request, internal and DSP durations, fan-out size). */
  readonly histograms: WorkerHistograms;

  constructor(readonly layout: CounterLayout, buffer: SharedArrayBuffer, workerIndex: number) {
    this.row = new Float64Array(buffer, workerIndex * layout.rowLength * 8, layout.rowLength);
    this.histograms = new WorkerHistograms(layout.histograms, this.row);
  }

  request(outcome: RequestOutcome): void {
    this.row[this.layout.requestsAt + REQUEST_OUTCOMES.indexOf(outcome)]! += 1;
  }
  noBid(reason: NoBidReason): void {
    this.row[this.layout.noBidAt + NO_BID_REASONS.indexOf(reason)]! += 1;
  }
  bidBlocked(block: BidBlock): void {
    this.row[this.layout.blocksAt + BID_BLOCKS.indexOf(block)]! += 1;
  }
  dsp(dsp: number, outcome: DspOutcome): void {
    this.row[this.dspBase(dsp) + DSP_OUTCOMES.indexOf(outcome)]! += 1;
  }
  bidRejected(dsp: number, reason: BidRejection): void {
    this.row[this.dspBase(dsp) + DSP_OUTCOMES.length + BID_REJECTIONS.indexOf(reason)]! += 1;
  }
  breakerState(dsp: number, state: number): void {
    this.row[this.dspBase(dsp) + this.layout.perDsp - 1] = state;
  }
  win(costMicros: number): void {
    this.row[Fixed.WinsTotal]! += 1;
    this.row[Fixed.ReservedMicrosTotal]! += costMicros;
  }
  budgetSkips(count: number): void {
    this.row[Fixed.BudgetSkipsTotal]! += count;
  }
  /** Bids made ineligible by frequency caps; `noRoom` of them because the cap table was full. */
  bidsCapped(count: number, noRoom: number): void {
    this.row[Fixed.BidsCappedTotal]! += count;
    this.row[Fixed.CapNoRoomTotal]! += noRoom;
  }
  /** Bids left out of the auction by their campaign's even pacing. */
  bidsPaced(count: number): void {
    this.row[Fixed.BidsPacedTotal]! += count;
  }
  markReady(): void {
    this.row[Fixed.WorkersReady] = 1;
  }
  /** A stopped worker (its slot may be reused by a rolling restart): not ready, its gauges cleared; counters stay. */
  markStopped(): void {
    this.row[Fixed.WorkersReady] = 0;
    this.auditState(0, true, null);
    this.row[Fixed.ConsumersYielding] = 0;
    this.row[Fixed.ArchiveLagBytes] = 0;
    this.row[Fixed.LedgerLagBytes] = 0;
    for (let dsp = 0; dsp < this.layout.dspCount; dsp++) this.breakerState(dsp, 0);
  }
  /** This worker's outbox totals (Outbox.stats()): group commits, those written in the loop, slow in-loop writes. */
  auditCommits(commits: number, loopCommits: number, slowLoopWrites: number): void {
    this.row[Fixed.AuditCommits] = commits;
    this.row[Fixed.AuditLoopCommits] = loopCommits;
    this.row[Fixed.AuditSlowLoopWrites] = slowLoopWrites;
  }
  /** What this worker's archive and ledger consumers did under overload (YieldSignal.stats()), and how far behind they are. */
  consumers(yielding: number, yieldedMs: number, forcedCatchUps: number, lagBytes: { archive: number; ledger: number }): void {
    this.row[Fixed.ConsumersYielding] = yielding;
    this.row[Fixed.ConsumerYieldMs] = yieldedMs;
    this.row[Fixed.ConsumerForcedCatchUps] = forcedCatchUps;
    this.row[Fixed.ArchiveLagBytes] = lagBytes.archive;
    this.row[Fixed.LedgerLagBytes] = lagBytes.ledger;
  }
  /** The worker's audit trail as of now (gauges, overwritten by a periodic sampler). */
  auditState(outboxPendingBytes: number, outboxHealthy: boolean, relay: { lagRecords: number; lagBytes: number; connected: boolean } | null): void {
    this.row[Fixed.OutboxPendingBytes] = outboxPendingBytes;
    this.row[Fixed.OutboxUnhealthy] = outboxHealthy ? 0 : 1;
    this.row[Fixed.RelayLagRecords] = relay?.lagRecords ?? 0;
    this.row[Fixed.RelayLagBytes] = relay?.lagBytes ?? 0;
    this.row[Fixed.RelayDisconnected] = relay === null || relay.connected ? 0 : 1;
  }
  private dspBase(dsp: number): number {
    return this.layout.dspAt + dsp * this.layout.perDsp;
  }
}

/** Sums over all workers' rows (for /metrics, /readyz and tests). */
export class CounterReader {
  private readonly all: Float64Array;
  readonly histograms: HistogramReader;

  constructor(readonly layout: CounterLayout, buffer: SharedArrayBuffer) {
    this.all = new Float64Array(buffer);
    this.histograms = new HistogramReader(layout.histograms, this.all, layout.rowLength, layout.workerCount);
  }

  private sum(cell: number): number {
    let total = 0;
    for (let w = 0; w < this.layout.workerCount; w++) total += this.all[w * this.layout.rowLength + cell]!;
    return total;
  }

  requests(outcome: RequestOutcome): number { return this.sum(this.layout.requestsAt + REQUEST_OUTCOMES.indexOf(outcome)); }
  noBids(reason: NoBidReason): number { return this.sum(this.layout.noBidAt + NO_BID_REASONS.indexOf(reason)); }
  bidsBlocked(block: BidBlock): number { return this.sum(this.layout.blocksAt + BID_BLOCKS.indexOf(block)); }
  dsp(dsp: number, outcome: DspOutcome): number { return this.sum(this.dspBase(dsp) + DSP_OUTCOMES.indexOf(outcome)); }
  bidsRejected(dsp: number, reason: BidRejection): number {
    return this.sum(this.dspBase(dsp) + DSP_OUTCOMES.length + BID_REJECTIONS.indexOf(reason));
  }
  /** The worst breaker state any worker sees (0 closed, 1 open, 2 half-open; open wins). */
  breakerState(dsp: number): number {
    const cell = this.dspBase(dsp) + this.layout.perDsp - 1;
    let open = false, half = false;
    for (let w = 0; w < this.layout.workerCount; w++) {
      const v = this.all[w * this.layout.rowLength + cell];
      open ||= v === 1;
      half ||= v === 2;
    }
    return open ? 1 : half ? 2 : 0;
  }
  wins(): number { return this.sum(Fixed.WinsTotal); }
  reservedMicros(): number { return this.sum(Fixed.ReservedMicrosTotal); }
  budgetSkips(): number { return this.sum(Fixed.BudgetSkipsTotal); }
  bidsPaced(): number { return this.sum(Fixed.BidsPacedTotal); }
  bidsCapped(): number { return this.sum(Fixed.BidsCappedTotal); }
  capNoRoom(): number { return this.sum(Fixed.CapNoRoomTotal); }
  workersReady(): number { return this.sum(Fixed.WorkersReady); }
  outboxPendingBytes(): number { return this.sum(Fixed.OutboxPendingBytes); }
  outboxesUnhealthy(): number { return this.sum(Fixed.OutboxUnhealthy); }
  auditCommits(where: "loop" | "pool"): number {
    const loop = this.sum(Fixed.AuditLoopCommits);
    return where === "loop" ? loop : this.sum(Fixed.AuditCommits) - loop;
  }
  auditSlowLoopWrites(): number { return this.sum(Fixed.AuditSlowLoopWrites); }
  consumersYielding(): number { return this.sum(Fixed.ConsumersYielding); }
  consumerYieldSeconds(): number { return this.sum(Fixed.ConsumerYieldMs) / 1000; }
  consumerForcedCatchUps(): number { return this.sum(Fixed.ConsumerForcedCatchUps); }
  consumerLagBytes(consumer: "archive" | "ledger"): number { return this.sum(consumer === "archive" ? Fixed.ArchiveLagBytes : Fixed.LedgerLagBytes); }
  relayLagRecords(): number { return this.sum(Fixed.RelayLagRecords); }
  relayLagBytes(): number { return this.sum(Fixed.RelayLagBytes); }
  relaysDisconnected(): number { return this.sum(Fixed.RelayDisconnected); }
  private dspBase(dsp: number): number {
    return this.layout.dspAt + dsp * this.layout.perDsp;
  }
}
