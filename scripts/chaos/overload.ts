// `npm run chaos:overload`: the server's maximum sustainable rate on this machine, then 2x and 5x
// that rate open-loop with DSPs answering in 20..70 ms (--rounds times: one spike says little on a
// noisy box); prints each figure next to its goal, how many rounds met each goal, memory over the
// run, then the same spikes once against the same server with the overload guard off (the baseline).
// usage: bun scripts/chaos/overload.ts [--workers 2] [--dsps 3] [--dsp-latency-ms 20..70] [--rounds 1]
//        [--start-rps 200] [--growth 1.25] [--max-rps 20000] [--step-s 3] [--spike-s 10] [--tmax-ms 100]
//        [--consumer-yield-max-ms N] [--internal-target-ms N]
import { parseArgs } from "node:util";
import { EXTERNAL_NICE, favour, startStack, type Stack } from "./stack.ts";
import { consumersCaughtUp, goals, goalsLine, measureMaxRate, memoryBounded, roundsSummary, spike, spikeLine, warmUp, type SpikeResult } from "./overload-run.ts";
import { stopAll } from "../bench/procs.ts";

const { values: v } = parseArgs({
  args: process.argv.slice(2),
  options: {
    workers: { type: "string", default: "2" }, dsps: { type: "string", default: "3" }, "dsp-latency-ms": { type: "string", default: "20..70" },
    "start-rps": { type: "string", default: "200" }, growth: { type: "string", default: "1.25" }, "max-rps": { type: "string", default: "20000" },
    "step-s": { type: "string", default: "3" }, "spike-s": { type: "string", default: "10" }, "tmax-ms": { type: "string", default: "100" },
    rounds: { type: "string", default: "1" },
    // The server's audit.consumerYieldMaxMs (default: the server's own); 0 = the archive and ledger never pause for auctions.
    "consumer-yield-max-ms": { type: "string" },
    // The server's overload.internalTargetMs (default: the server's own), for A/B runs of the limit's target.
    "internal-target-ms": { type: "string" },
  },
  strict: true,
});
const nonNegative = (text: string, flag: string) => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${flag}: expected a whole number >= 0, got "${text}"`);
  return n;
};
const num = (name: keyof typeof v) => {
  const n = Number(v[name]);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name}: expected a positive number, got "${v[name]}"`);
  return n;
};
const tmaxMs = num("tmax-ms");
const audit = v["consumer-yield-max-ms"] === undefined ? undefined : { consumerYieldMaxMs: nonNegative(v["consumer-yield-max-ms"], "consumer-yield-max-ms") };

const overload = v["internal-target-ms"] === undefined ? undefined : { internalTargetMs: num("internal-target-ms") };

const favoured = favour(process.pid);
const options = { workers: num("workers"), dsps: num("dsps"), dspLatencyMs: String(v["dsp-latency-ms"]), overload };
const describe = (what: string, s: Stack) => console.log(`${what}: tmax ${s.url} (pid ${s.tmax.pid}), ${num("dsps")} DSPs at ${v["dsp-latency-ms"]} ms, ${num("workers")} workers${overload === undefined ? "" : `, overload.internalTargetMs ${overload.internalTargetMs}`}; ` +
  (favoured ? `load generator and DSPs at nice ${EXTERNAL_NICE} (they stand for other machines)` : "load generator and DSPs at tmax's priority (no permission to raise theirs)"));
// The maximum is what the server sustains for good: its audit consumers keep up as it goes, never
// pausing for the auctions (a pause only moves their work, and a ramp at capacity would hide it).
const ramp = await startStack({ ...options, audit: { consumerYieldMaxMs: 0 } });
let maxRps: number;
try {
  describe("ramp (audit.consumerYieldMaxMs 0)", ramp);
  ({ maxRps } = await measureMaxRate(ramp, { startRps: num("start-rps"), growth: num("growth"), maxRps: num("max-rps"), stepS: num("step-s"), tmaxMs }, console.log));
} finally {
  await ramp.stop();
}
console.log(`maximum sustainable rate: ${maxRps} rps`);
if (maxRps === 0) throw new Error("not even the start rate was sustained: lower --start-rps");
// The spikes: the server as configured, warmed up at the maximum, each spike starting with its audit consumers caught up.
const stack = await startStack({ ...options, audit });
try {
  describe(`spikes (${audit === undefined ? "audit.consumerYieldMaxMs default" : `audit.consumerYieldMaxMs ${audit.consumerYieldMaxMs}`})`, stack);
  await warmUp(stack, maxRps, tmaxMs);
  const results: SpikeResult[] = [];
  for (let round = 0; round < num("rounds"); round++) {
    for (const multiplier of [2, 5]) {
      const waitedS = await consumersCaughtUp(stack);
      console.log(`audit consumers caught up (waited ${waitedS} s)`);
      const s = await spike(stack, maxRps, multiplier, num("spike-s"), tmaxMs);
      results.push(s);
      console.log(spikeLine(s, tmaxMs));
      console.log(goalsLine(s, tmaxMs));
    }
  }
  for (const line of roundsSummary(results, tmaxMs)) console.log(line);
  const memory = memoryBounded(results, 2);
  console.log(memory.line);
  await stack.stop();
  // The baseline, same run, same rates: the same server with the overload guard off.
  const off = await startStack({ ...options, overload: { enabled: false }, audit });
  const baseline: SpikeResult[] = [];
  try {
    for (const multiplier of [2, 5]) {
      const s = await spike(off, maxRps, multiplier, num("spike-s"), tmaxMs);
      baseline.push(s);
      console.log(`baseline, guard off: ${spikeLine(s, tmaxMs)}`);
    }
  } finally {
    await off.stop();
  }
  const brief = (list: typeof results) => list.map((s) => {
    const { multiplier, rps, withinTmaxShare, servedP99Ms, goodputShare, houseAds, shed, failed, rssMiB } = s;
    return { multiplier, rps, withinTmaxShare, servedP99Ms, goodputShare, houseAds, shed, failed, rssMiB, goals: goals(s, tmaxMs) };
  });
  console.log(JSON.stringify({ maxRps, spikes: brief(results), memoryBounded: memory.bounded, baselineGuardOff: brief(baseline) }));
} finally {
  await stack.stop();
  await stopAll();
}
