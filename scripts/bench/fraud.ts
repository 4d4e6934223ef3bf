// `npm run bench:fraud`: the fraud screen (tier 1 rules + tier 2 features and WASM score, shared
// tables) per request, next to a baseline measured in the same run on the same requests: the
// request parse the server does anyway (JSON.parse + TypeBox/OpenRTB validation).
// Goal (issue #6): tier 1 + tier 2 < 20 us median per request.
// Usage: bun scripts/bench/fraud.ts [--requests 20000] [--rounds 5]
import { buildWasm } from "../build-wasm.ts";
import { createSharedMemory } from "../../src/auction/memory.ts";
import { writeModel } from "../../src/fraud/gbdt/model.ts";
import { loadWasmScorer } from "../../src/fraud/gbdt/scorer.ts";
import { loadFraudModelFile } from "../../src/fraud/model-file.ts";
import { fraudSettings } from "../../src/fraud/settings.ts";
import { loadFraudLists } from "../../src/fraud/lists.ts";
import { createFraudState } from "../../src/fraud/stage.ts";
import { Screener } from "../../src/fraud/screen.ts";
import { validateBidRequest } from "../../src/openrtb/validate.ts";
import { makeTraffic, SCENARIOS } from "../../src/sim/traffic/model.ts";
import type { BidRequest } from "../../src/openrtb/request.ts";

const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const REQUESTS = arg("requests", 20_000);
const ROUNDS = arg("rounds", 5);

buildWasm();
const memory = createSharedMemory();
const model = loadFraudModelFile(null, true);
if (model === null) throw new Error("no default model (src/fraud/model/default.json)");
writeModel(memory, model);
const settings = fraudSettings({ rateLimits: { windowMs: 10_000, maxPerIp: 1e7, maxPerDevice: 1e7 } }); // measure every stage, nothing cut short by a rate block
const traffic = makeTraffic({ scenario: SCENARIOS.mixed!, seed: 42, rps: REQUESTS / 20, durationMs: 20_000 });
const bodies = traffic.map((t) => JSON.stringify(t.body));
const parsed = bodies.map((b) => JSON.parse(b) as BidRequest);
const start = Date.now();

function median(values: Float64Array): number {
  const sorted = Float64Array.from(values).sort();
  return sorted[sorted.length >> 1]!;
}

function timeEach(run: (i: number) => void): { medianUs: number; p99Us: number } {
  const ns = new Float64Array(bodies.length);
  for (let i = 0; i < bodies.length; i++) {
    const t0 = Bun.nanoseconds();
    run(i);
    ns[i] = Bun.nanoseconds() - t0;
  }
  const sorted = ns.sort();
  return { medianUs: median(sorted) / 1000, p99Us: sorted[Math.floor(sorted.length * 0.99)]! / 1000 };
}

const results: Array<{ round: number; parseUs: number; screenUs: number; screenP99Us: number }> = [];
for (let round = 0; round < ROUNDS; round++) {
  // A fresh shared state per round: the tables see the traffic as the server would, from empty.
  const screener = new Screener(settings, loadFraudLists(settings), createFraudState(1), loadWasmScorer(memory, "release", 0));
  const parse = timeEach((i) => { validateBidRequest(JSON.parse(bodies[i]!), 10); });
  const screen = timeEach((i) => { screener.screen(parsed[i]!, start + traffic[i]!.atMs); });
  results.push({ round, parseUs: round3(parse.medianUs), screenUs: round3(screen.medianUs), screenP99Us: round3(screen.p99Us) });
  console.log(`round ${round + 1}/${ROUNDS}: baseline parse+validate median ${parse.medianUs.toFixed(2)} us | fraud screen (tier 1 + tier 2) median ${screen.medianUs.toFixed(2)} us, p99 ${screen.p99Us.toFixed(2)} us`);
}
const best = results.slice(1); // round 1 warms the JIT
const screenMedian = median(Float64Array.from(best.map((r) => r.screenUs)));
const parseMedian = median(Float64Array.from(best.map((r) => r.parseUs)));
console.log(JSON.stringify({ requests: bodies.length, model: `${model.roots.length} trees`, parseMedianUs: parseMedian, screenMedianUs: screenMedian, goalUs: 20, met: screenMedian < 20 }));

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
