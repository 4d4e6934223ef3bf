// The traffic model as `tmax load` bodies (--scenario NAME): request i is the i-th request of the
// scenario in time order (the load generator keeps its own fixed arrival rate), with a unique id;
// its label stays here, looked up by i, and the load summary counts outcomes per label.
import { makeTraffic, scenarioByName } from "./model.ts";
import type { Label } from "./actors.ts";

export interface LabelledBodies {
  body(i: number): string;
  label(i: number): Label;
}

export function trafficBodies(scenario: string, seed: number, rps: number, durationS: number): LabelledBodies {
  const traffic = makeTraffic({ scenario: scenarioByName(scenario), seed, rps, durationMs: durationS * 1000 });
  if (traffic.length === 0) throw new Error(`--scenario ${scenario}: no traffic for ${rps} rps x ${durationS} s`);
  const run = `${seed.toString(36)}-${Date.now().toString(36)}`;
  return {
    body: (i) => JSON.stringify({ ...traffic[i % traffic.length]!.body, id: `${run}-${i}` }),
    label: (i) => traffic[i % traffic.length]!.label,
  };
}
