// A worker's observability: samples the shared counters into its SLO history every SLO_SAMPLE_MS
// (off the request path; every worker keeps the same history, so any worker answers /slo), and adds
// the SLO, business and process metrics to its /metrics registry.
import type { Registry } from "prom-client";
import type { SharedBudget } from "../budget/shared-budget.ts";
import type { TmaxConfig } from "../config/load.ts";
import type { CounterReader } from "../metrics/counters.ts";
import { SLO_SAMPLE_MS } from "../slo/definitions.ts";
import { readSample } from "../slo/sample.ts";
import { SloTracker } from "../slo/tracker.ts";
import { registerObservability } from "./metrics.ts";
import { registerRedisState } from "./redis-state.ts";
import { log } from "../log/logger.ts";
import type { RedisCapStore } from "../freqcap/remote.ts";

export interface WorkerObserve {
  tracker: SloTracker;
  stop(): void;
}

export function startWorkerObserve(config: TmaxConfig, counters: CounterReader, budget: SharedBudget, registry: Registry, capStore: RedisCapStore | null): WorkerObserve {
  const tracker = new SloTracker();
  const sample = () => {
    try {
      tracker.record((row) => readSample(row, Date.now(), counters, budget, config.campaigns));
    } catch (err) {
      log.error("slo sample failed", { error: err }); // e.g. a broken budget invariant; the next second tries again
    }
  };
  sample();
  const timer = setInterval(sample, SLO_SAMPLE_MS);
  timer.unref();
  registerObservability(registry, config, budget, tracker);
  if (capStore !== null) registerRedisState(registry, capStore);
  return { tracker, stop: () => clearInterval(timer) };
}
