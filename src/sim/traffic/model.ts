// The traffic model: labelled humans and bots, reproducible from a seed. A scenario says how much
// of the traffic each kind makes; makeTraffic builds enough actors to fill a run of `durationMs` at
// about `rps` and returns every request in time order with its label and due time (ms from start).
// The label never travels in the request body: a replay keeps it by request id (and may send it in
// the x-tmax-label header, which the server ignores).
import { makeRng, type Rng } from "../requests.ts";
import { clickFarm, crawler, datacenterBot, human, LABELS, residentialIp, residentialProxy, spoofedUa, type Actor, type Label } from "./actors.ts";

export interface Scenario {
  name: string;
  /** Share of requests per label (sums to 1). */
  mix: Readonly<Record<Label, number>>;
}

export const SCENARIOS: Readonly<Record<string, Scenario>> = {
  mixed: { name: "mixed", mix: { human: 0.8, datacenter_bot: 0.04, crawler: 0.03, spoofed_ua: 0.04, residential_proxy: 0.045, click_farm: 0.045 } },
  humans: { name: "humans", mix: { human: 1, datacenter_bot: 0, crawler: 0, spoofed_ua: 0, residential_proxy: 0, click_farm: 0 } },
  sophisticated: { name: "sophisticated", mix: { human: 0.7, datacenter_bot: 0, crawler: 0, spoofed_ua: 0.1, residential_proxy: 0.1, click_farm: 0.1 } },
};

export interface LabelledRequest {
  label: Label;
  /** Due time, ms from the start of the run. */
  atMs: number;
  body: Record<string, unknown>;
}

export interface TrafficOptions { scenario: Scenario; seed: number; rps: number; durationMs: number }

export function makeTraffic(opts: TrafficOptions): LabelledRequest[] {
  const rng = makeRng(opts.seed);
  const target = opts.rps * (opts.durationMs / 1000);
  const natIps = Array.from({ length: 20 }, () => residentialIp(rng));
  const farmIps = Array.from({ length: 4 }, () => residentialIp(rng));
  const actors: Actor[] = [];
  for (const label of LABELS) {
    const want = target * opts.scenario.mix[label];
    let made = 0;
    while (made < want) {
      const actor = makeActor(label, rng, opts.durationMs, natIps, farmIps);
      actors.push(actor);
      made += actor.times.length;
    }
  }
  const out: LabelledRequest[] = [];
  for (const actor of actors) {
    actor.times.forEach((atMs, n) => out.push({ label: actor.label, atMs, body: actor.request(rng, n) }));
  }
  return out.sort((a, b) => a.atMs - b.atMs);
}

function makeActor(label: Label, rng: Rng, durationMs: number, natIps: string[], farmIps: string[]): Actor {
  switch (label) {
    case "human": return human(rng, durationMs, natIps);
    case "datacenter_bot": return datacenterBot(rng, durationMs);
    case "crawler": return crawler(rng, durationMs);
    case "spoofed_ua": return spoofedUa(rng, durationMs);
    case "residential_proxy": return residentialProxy(rng, durationMs);
    case "click_farm": return clickFarm(rng, durationMs, farmIps);
  }
}

export function scenarioByName(name: string): Scenario {
  const s = SCENARIOS[name];
  if (s === undefined) throw new Error(`unknown scenario "${name}" (one of ${Object.keys(SCENARIOS).join(", ")})`);
  return s;
}
