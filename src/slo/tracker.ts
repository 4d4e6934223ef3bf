// Sliding-window SLOs over a ring of samples (sample.ts) taken every SLO_SAMPLE_MS: each SLI's
// good/total over the window, its error budget remaining and its burn rate (how fast the window
// spends the error budget: 1 = exactly as fast as the target allows).
import { Cell } from "./sample.ts";
import { SLO_HISTORY_SAMPLES, SLO_WINDOWS, SLOS, type SloName, type SloWindowLabel } from "./definitions.ts";

export interface SloWindowReport {
  seconds: number;
  /** Seconds of history the window actually covers (less than `seconds` right after the start). */
  coveredSeconds: number;
  good: number;
  total: number;
  /** good / total, null when the window saw nothing to measure. */
  ratio: number | null;
  /** 1 - burnRate: the share of the window's error budget left (negative once overspent). */
  errorBudgetRemaining: number | null;
  /** (1 - ratio) / (1 - target). */
  burnRate: number | null;
  met: boolean | null;
}

export interface SloReport {
  name: SloName;
  target: number;
  sli: string;
  windows: Record<SloWindowLabel, SloWindowReport>;
}

export interface SloSnapshot {
  generatedAt: string;
  slos: SloReport[];
  /** Budget accuracy detail: the largest spend above budget now, in micros (0 when none is over). */
  worstOverspendMicros: number;
}

export class SloTracker {
  private readonly ring: Float64Array;
  private readonly scratch = new Float64Array(Cell.Count);
  private next = 0;
  private filled = 0;

  constructor(private readonly capacity = SLO_HISTORY_SAMPLES) {
    this.ring = new Float64Array(capacity * Cell.Count);
  }

  /** Appends a sample; `fill` writes its cells (sample.ts readSample). */
  record(fill: (row: Float64Array) => void): void {
    fill(this.scratch); // a fill that throws leaves the history untouched
    this.ring.set(this.scratch, this.next * Cell.Count);
    this.next = (this.next + 1) % this.capacity;
    this.filled = Math.min(this.filled + 1, this.capacity);
  }

  get samples(): number { return this.filled; }

  private cell(age: number, cell: Cell): number {
    const index = (this.next - 1 - age + this.capacity * 2) % this.capacity;
    return this.ring[index * Cell.Count + cell]!;
  }

  /** Age (in samples, 0 = newest) of the newest sample at least `seconds` older than the newest; else the oldest. */
  private startAge(seconds: number): number {
    const newest = this.cell(0, Cell.TimeMs);
    for (let age = 1; age < this.filled; age++) {
      if (newest - this.cell(age, Cell.TimeMs) >= seconds * 1000) return age;
    }
    return this.filled - 1;
  }

  private window(name: SloName, target: number, seconds: number): SloWindowReport {
    const empty: SloWindowReport = { seconds, coveredSeconds: 0, good: 0, total: 0, ratio: null, errorBudgetRemaining: null, burnRate: null, met: null };
    if (this.filled === 0) return empty;
    const start = this.startAge(seconds);
    const delta = (c: Cell) => this.cell(0, c) - this.cell(start, c);
    const coveredSeconds = Math.round(delta(Cell.TimeMs) / 1000);
    let good: number, total: number;
    switch (name) {
      case "latency": total = delta(Cell.Requests); good = delta(Cell.Fast); break;
      case "availability": total = delta(Cell.Requests); good = total - delta(Cell.Failed); break;
      case "bid_rate": total = delta(Cell.BidEligible); good = delta(Cell.Bids); break;
      case "budget_accuracy": {
        let worst = 0;
        for (let age = 0; age <= start; age++) worst = Math.max(worst, this.cell(age, Cell.CampaignsOver));
        total = this.cell(0, Cell.Campaigns);
        good = total - worst;
        break;
      }
    }
    if (total <= 0) return { ...empty, coveredSeconds };
    const ratio = good / total;
    const burnRate = (1 - ratio) / (1 - target);
    return { seconds, coveredSeconds, good, total, ratio, errorBudgetRemaining: 1 - burnRate, burnRate, met: ratio >= target };
  }

  snapshot(now = new Date()): SloSnapshot {
    const slos = SLOS.map((d) => ({
      name: d.name,
      target: d.target,
      sli: d.sli,
      windows: Object.fromEntries(SLO_WINDOWS.map((w) => [w.label, this.window(d.name, d.target, w.seconds)])) as Record<SloWindowLabel, SloWindowReport>,
    }));
    return { generatedAt: now.toISOString(), slos, worstOverspendMicros: this.filled === 0 ? 0 : Math.max(0, this.cell(0, Cell.WorstOverspendMicros)) };
  }
}
