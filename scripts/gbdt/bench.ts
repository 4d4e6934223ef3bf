// ns per row of GBDT scoring on 256-row batches: the WASM release kernel (rows copied into the row
// buffer, and rows already in place) against the plain-TS reference, on the fraud fixture model
// (100 trees of depth 6, 30 features). Usage: bun scripts/gbdt/bench.ts [--seconds 2]
import { buildWasm } from "../build-wasm.ts";
import { createSharedMemory } from "../../src/auction/memory.ts";
import { loadFixture } from "../../src/fraud/gbdt/fixtures.ts";
import { layout as L, writeModel } from "../../src/fraud/gbdt/model.ts";
import { loadWasmScorer, referenceScorer, type GbdtScorer } from "../../src/fraud/gbdt/scorer.ts";

const BATCH_ROWS = L.GBDT_MAX_ROWS;
const ROUNDS = 7; // median of these
const secondsArg = process.argv.indexOf("--seconds");
const ROUND_MS = (secondsArg > 0 ? Number(process.argv[secondsArg + 1]) : 2) * 1000 / ROUNDS;

interface Case {
  readonly name: string;
  readonly scorer: GbdtScorer;
  readonly rows: Float32Array;
}

/** ns per row over one timed round of whole batches (batches cycle through the fixture rows). */
function round(c: Case, batches: Float32Array[], out: Float64Array, featureCount: number): number {
  let rows = 0;
  let b = 0;
  const start = Bun.nanoseconds();
  const until = start + ROUND_MS * 1e6;
  while (Bun.nanoseconds() < until) {
    for (let k = 0; k < 16; k++) {
      const input = c.rows === c.scorer.rows ? c.scorer.rows : (batches[b] as Float32Array);
      c.scorer.scoreBatch(input, BATCH_ROWS, featureCount, out);
      b = (b + 1) % batches.length;
      rows += BATCH_ROWS;
    }
  }
  return (Bun.nanoseconds() - start) / rows;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

function main(): void {
  buildWasm();
  const fixture = loadFixture("fraud");
  const { model, featureCount } = fixture;
  const batchValues = BATCH_ROWS * featureCount;
  const batchCount = Math.floor(fixture.rowCount / BATCH_ROWS);
  const batches = Array.from({ length: batchCount }, (_, i) => fixture.rows.slice(i * batchValues, (i + 1) * batchValues));
  const memory = createSharedMemory();
  writeModel(memory, model);
  const wasm = loadWasmScorer(memory, "release", 0);
  wasm.rows.set(batches[0] as Float32Array);
  const cases: Case[] = [
    { name: "wasm-release, rows in place", scorer: wasm, rows: wasm.rows },
    { name: "wasm-release, rows copied in", scorer: wasm, rows: batches[0] as Float32Array },
    { name: "ts-reference", scorer: referenceScorer(model), rows: batches[0] as Float32Array },
  ];
  const out = new Float64Array(BATCH_ROWS);
  console.log(`gbdt: ${model.roots.length} trees, ${model.values.length} nodes, ${featureCount} features, ${BATCH_ROWS}-row batches`);
  for (const c of cases) {
    round(c, batches, out, featureCount); // warm-up
    const samples = Array.from({ length: ROUNDS }, () => round(c, batches, out, featureCount));
    console.log(`${c.name.padEnd(30)} ${median(samples).toFixed(0).padStart(6)} ns/row (median of ${ROUNDS}, min ${Math.min(...samples).toFixed(0)})`);
  }
}

main();
