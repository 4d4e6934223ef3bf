// Labelled feature rows from the traffic model, through the server's own Screener and feature
// extractor (src/fraud/features.ts): what scripts/fraud/export.ts writes for scripts/fraud/train.py.
// The Screener runs with a capturing scorer (one more GbdtScorer implementation) so a row is exactly
// what the WASM kernel would have scored; requests tier 1 blocks never reach the model and are not
// exported. Time is the traffic's own (due times), so the rows are reproducible from the seed.
import { Screener } from "./screen.ts";
import { fraudSettings, type FraudConfig } from "./settings.ts";
import { loadFraudLists } from "./lists.ts";
import { createFraudState } from "./stage.ts";
import { FEATURE_COUNT } from "./features.ts";
import { layout as L } from "./gbdt/model.ts";
import type { GbdtScorer, ScoreOutput } from "./gbdt/scorer.ts";
import type { BidRequest } from "../openrtb/request.ts";
import { makeTraffic, type Scenario } from "../sim/traffic/model.ts";
import { makeRng } from "../util/rng.ts";
import type { Label } from "../sim/traffic/actors.ts";

/** Up to this much random delay is added to each request's due time (arrival order kept). */
export const ARRIVAL_NOISE_MS = 40;

export interface LabelledRows {
  /** rowCount x FEATURE_COUNT, row-major. */
  features: Float32Array;
  labels: Label[];
  /** Requests of each label that tier 1 blocked (not in the rows). */
  tier1Blocked: Record<string, number>;
}

/** A scorer that records the rows it is given and scores them 0. */
export function capturingScorer(sink: (row: Float32Array) => void): GbdtScorer {
  const rows = new Float32Array(L.GBDT_MAX_ROWS * L.GBDT_MAX_FEATURES);
  const capture = (input: Float32Array, rowCount: number, featureCount: number, out: ScoreOutput) => {
    for (let r = 0; r < rowCount; r++) {
      sink(input.slice(r * featureCount, (r + 1) * featureCount));
      out[r] = 0;
    }
  };
  return { name: "capture", rows, scoreBatch: capture, marginBatch: capture };
}

export function labelledRows(scenario: Scenario, seed: number, rps: number, durationMs: number, config: FraudConfig = {}): LabelledRows {
  const settings = fraudSettings(config);
  const captured: Float32Array[] = [];
  const start = Date.UTC(2026, 0, 1) + seed * 1000;
  // The tables' clock starts with the traffic (not the wall clock): the rows depend on the seed alone.
  const screener = new Screener(settings, loadFraudLists(settings), createFraudState(1, start), capturingScorer((row) => captured.push(row)));
  const labels: Label[] = [];
  const tier1Blocked: Record<string, number> = {};
  // Arrival noise (network, a busy server, group commits): the model must not rely on perfect timing.
  const noise = makeRng(seed ^ 0x5eed);
  let lastMs = start;
  for (const item of makeTraffic({ scenario, seed, rps, durationMs })) {
    const before = captured.length;
    lastMs = Math.max(lastMs, start + item.atMs + noise() * ARRIVAL_NOISE_MS);
    screener.screen(item.body as BidRequest, lastMs);
    if (captured.length > before) labels.push(item.label);
    else tier1Blocked[item.label] = (tier1Blocked[item.label] ?? 0) + 1;
  }
  const features = new Float32Array(captured.length * FEATURE_COUNT);
  captured.forEach((row, i) => features.set(row, i * FEATURE_COUNT));
  return { features, labels, tier1Blocked };
}
