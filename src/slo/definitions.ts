// The four SLOs of the spec (Phase 6, "SLOs and SLIs"), named once: what each measures, its
// target, and the sliding windows tmax computes them over. Read by the tracker, /slo, /metrics,
// the dashboard and (by name) infra/prometheus/alerts.yml.

export const SLO_NAMES = ["latency", "availability", "budget_accuracy", "bid_rate"] as const;
export type SloName = (typeof SLO_NAMES)[number];

export interface SloDefinition {
  name: SloName;
  /** Target share of good events (0..1). */
  target: number;
  /** What counts as good, for people. */
  sli: string;
}

/** Answers at or under this are fast (the spec: "99.9% of requests < 100ms"); a histogram bound. */
export const LATENCY_SLO_SECONDS = 0.1;
/** A campaign is accurate while its spend exceeds its budget by at most budget / this (0.1%). */
export const BUDGET_TOLERANCE_DIVISOR = 1_000;

export const SLOS: readonly SloDefinition[] = [
  { name: "latency", target: 0.999, sli: "requests answered within 100 ms (arrival to answer inside tmax)" },
  { name: "availability", target: 0.9999, sli: "requests given a valid answer (not a 5xx, not refused because the audit trail was unavailable)" },
  { name: "budget_accuracy", target: 0.999, sli: "campaigns whose spend is within 0.1% of their budget (worst moment in the window; tmax aims at 100%)" },
  { name: "bid_rate", target: 0.8, sli: "valid requests answered with a bid, among those that were not refused for lack of budget" },
];

/** The sliding windows, in seconds, by label. The longest bounds the tracker's memory. */
export const SLO_WINDOWS = [
  { label: "1m", seconds: 60 },
  { label: "5m", seconds: 300 },
  { label: "1h", seconds: 3_600 },
] as const;
export type SloWindowLabel = (typeof SLO_WINDOWS)[number]["label"];

/** How often each worker samples the shared counters into its SLO history. */
export const SLO_SAMPLE_MS = 1_000;
/** Samples kept: the longest window at one per SLO_SAMPLE_MS, plus the one that opens it. */
export const SLO_HISTORY_SAMPLES = SLO_WINDOWS[SLO_WINDOWS.length - 1]!.seconds * (1_000 / SLO_SAMPLE_MS) + 1;
