// The benchmark's DSPs: N simulated DSPs (src/sim/dsp-sim.ts) in ONE process, so their CPU is
// kept apart from the server's. Answers at once (latency 0), bids on ~80% of imps at 0.5..5 CPM
// for campaigns c1..c4, fixed seeds. Prints one JSON line {"url", "urls": [...]} when listening;
// on SIGINT/SIGTERM (or stdin closing) prints {"stats": [...], "lag": {...}} and exits.
// usage: bun scripts/bench/sims.ts [--count 8] [--bid-rate 0.8] [--seed 1000]
import { parseArgs } from "node:util";
import { startSimDsp, type SimDsp } from "../../src/sim/dsp-sim.ts";

const SIM_CAMPAIGNS = ["c1", "c2", "c3", "c4"] as const;

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: { count: { type: "string", default: "8" }, "bid-rate": { type: "string", default: "0.8" }, seed: { type: "string", default: "1000" } },
  strict: true,
});
const count = Number(values.count), bidRate = Number(values["bid-rate"]), seed = Number(values.seed);
if (!Number.isInteger(count) || count < 1 || count > 64) throw new Error(`--count: expected 1..64, got "${values.count}"`);
if (!(bidRate >= 0 && bidRate <= 1)) throw new Error(`--bid-rate: expected 0..1, got "${values["bid-rate"]}"`);
if (!Number.isInteger(seed) || seed < 0) throw new Error(`--seed: expected a non-negative integer, got "${values.seed}"`);

const sims: SimDsp[] = Array.from({ length: count }, (_, i) => startSimDsp({
  port: 0,
  host: "127.0.0.1",
  latencyMs: [0, 0],
  bidRate,
  priceCpm: [0.5, 5],
  campaigns: [...SIM_CAMPAIGNS],
  seed: seed + i,
  seat: `dsp${i + 1}`,
}));

// Event-loop lag of this process (a stall here shows up as DSP timeouts in tmax).
const lag = { maxMs: 0, over50ms: 0 };
let lastTick = performance.now();
const lagTimer = setInterval(() => {
  const now = performance.now(), late = now - lastTick - 20;
  lastTick = now;
  if (late > lag.maxMs) lag.maxMs = Math.round(late);
  if (late > 50) lag.over50ms++;
}, 20);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  clearInterval(lagTimer);
  console.log(JSON.stringify({ stats: sims.map((s) => ({ url: s.url, ...s.stats() })), lag }));
  await Promise.all(sims.map((s) => s.stop()));
  process.exit(0);
}
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
process.stdin.on("end", () => void stop());
process.stdin.on("close", () => void stop());
process.stdin.resume();

console.log(JSON.stringify({ level: "info", msg: "sims listening", url: sims[0]!.url, urls: sims.map((s) => s.url), pid: process.pid }));
