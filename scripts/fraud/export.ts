// Exports labelled feature rows from the traffic model for scripts/fraud/train.py, through the
// server's own Screener and feature extractor. Reproducible: the same seeds give the same file.
// Usage: bun scripts/fraud/export.ts OUT.csv [--seeds 1,2,3] [--rps 150,300] [--seconds 20]
// (several rates: the traffic model's farms and NAT pools are denser at higher rates)
import { writeFileSync } from "node:fs";
import { labelledRows } from "../../src/fraud/training.ts";
import { FEATURE_COUNT, FEATURE_NAMES } from "../../src/fraud/features.ts";
import { SCENARIOS } from "../../src/sim/traffic/model.ts";

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : fallback;
}

const out = process.argv[2];
if (out === undefined || out.startsWith("--")) throw new Error("usage: bun scripts/fraud/export.ts OUT.csv [--seeds 1,2,3] [--rps 150,300] [--seconds 20]");
const seeds = flag("seeds", "1,2,3,4,5,6").split(",").map(Number);
const rates = flag("rps", "150,300").split(",").map(Number);
const seconds = Number(flag("seconds", "20"));
const lines = [["label", "kind", ...FEATURE_NAMES].join(",")];
for (const seed of seeds) {
  for (const [scenario, rps] of [SCENARIOS.mixed!, SCENARIOS.sophisticated!].flatMap((sc) => rates.map((r) => [sc, r] as const))) {
    const { features, labels, tier1Blocked } = labelledRows(scenario, seed, rps, seconds * 1000);
    labels.forEach((label, r) => {
      const row = Array.from(features.subarray(r * FEATURE_COUNT, (r + 1) * FEATURE_COUNT), (x) => (Number.isNaN(x) ? "" : String(x)));
      lines.push([label === "human" ? 0 : 1, label, ...row].join(","));
    });
    console.error(JSON.stringify({ seed, scenario: scenario.name, rps, rows: labels.length, tier1Blocked }));
  }
}
writeFileSync(out, lines.join("\n") + "\n");
console.error(`wrote ${lines.length - 1} rows to ${out}`);
