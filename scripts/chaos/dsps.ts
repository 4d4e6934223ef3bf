// The chaos run's DSPs: N simulated DSPs (src/sim/dsp-sim.ts) in ONE process, answering after
// --latency-ms A..B (uniform), bidding on every request at 2..5 CPM for campaign c1, so every
// auction that is served has a bid (or the house ad) and every 204 is a shed or a refused request.
// Prints {"url", "urls": [...]} when listening; stops on SIGTERM/SIGINT or when stdin closes.
// usage: bun scripts/chaos/dsps.ts [--count 3] [--latency-ms 20..70] [--seed 2000]
import { parseArgs } from "node:util";
import { startSimDsp } from "../../src/sim/dsp-sim.ts";

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: { count: { type: "string", default: "3" }, "latency-ms": { type: "string", default: "20..70" }, seed: { type: "string", default: "2000" } },
  strict: true,
});
const count = Number(values.count), seed = Number(values.seed);
const [lo, hi] = String(values["latency-ms"]).split("..").map(Number) as [number, number];
if (!Number.isInteger(count) || count < 1 || count > 64) throw new Error(`--count: expected 1..64, got "${values.count}"`);
if (!(lo >= 0 && hi >= lo)) throw new Error(`--latency-ms: expected A..B with 0 <= A <= B, got "${values["latency-ms"]}"`);

const sims = Array.from({ length: count }, (_, i) => startSimDsp({
  port: 0, host: "127.0.0.1", latencyMs: [lo, hi], bidRate: 1, priceCpm: [2, 5], campaigns: ["c1"], seed: seed + i, seat: `dsp${i + 1}`,
}));

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await Promise.all(sims.map((s) => s.stop()));
  process.exit(0);
}
process.on("SIGINT", () => void stop());
process.on("SIGTERM", () => void stop());
process.stdin.on("close", () => void stop());
process.stdin.resume();
console.log(JSON.stringify({ level: "info", msg: "chaos dsps listening", url: sims[0]!.url, urls: sims.map((s) => s.url), pid: process.pid }));
