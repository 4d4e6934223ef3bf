// Differential test: on many random rows (missing values, infinities, values exactly on and one ulp
// around split conditions) the WASM debug and release kernels must give the TS reference's margins
// exactly and its probabilities within 1e-7, for the XGBoost fraud model and for random models.
import { beforeAll, describe, expect, test } from "bun:test";
import { makeRng } from "../../util/rng.ts";
import { buildWasm } from "../../../scripts/build-wasm.ts";
import { createSharedMemory } from "../../auction/memory.ts";
import { loadFixture } from "./fixtures.ts";
import { layout as L, packLink, writeModel, type FlatModel } from "./model.ts";
import { loadWasmScorer, referenceScorer, type GbdtScorer } from "./scorer.ts";

beforeAll(() => void buildWasm());

const PROBABILITY_TOLERANCE = 1e-7;
const FRAUD_ROWS = 12_000;
const RANDOM_MODELS = 24;
const ROWS_PER_RANDOM_MODEL = 1_000;

const f32Bits = new Float32Array(1);
const u32Bits = new Uint32Array(f32Bits.buffer);
/** The float32 next to `x` towards +inf (up) or -inf (down); x finite and non-zero. */
function nextFloat32(x: number, up: boolean): number {
  f32Bits[0] = x;
  u32Bits[0] = (u32Bits[0] as number) + ((x > 0) === up ? 1 : -1);
  return f32Bits[0] as number;
}

const SPECIALS = [NaN, Infinity, -Infinity, 0, -0, 1e-40, -1e-40, 3e38, -3e38];

/** A random feature value, a third of the time on or one ulp beside one of the model's split conditions. */
function randomValue(rng: () => number, conditions: Float32Array): number {
  const roll = rng();
  if (roll < 0.15) return NaN;
  if (roll < 0.18) return SPECIALS[Math.floor(rng() * SPECIALS.length)] as number;
  if (roll < 0.5 && conditions.length > 0) {
    const c = conditions[Math.floor(rng() * conditions.length)] as number;
    const near = rng();
    return near < 0.5 || c === 0 ? c : nextFloat32(c, near < 0.75);
  }
  return (rng() - 0.5) * 6;
}

function splitConditions(model: FlatModel): Float32Array {
  return model.values.filter((_, n) => (model.links[n] as number) !== L.GBDT_LEAF_LINK);
}

function randomRows(rng: () => number, model: FlatModel, rowCount: number, featureCount: number): Float32Array {
  const conditions = splitConditions(model);
  const rows = new Float32Array(rowCount * featureCount);
  for (let i = 0; i < rows.length; i++) rows[i] = randomValue(rng, conditions);
  return rows;
}

/** A random model in the flat layout: trees of random shape and depth, children allocated in pairs. */
function randomModel(rng: () => number, featureCount: number): FlatModel {
  const roots: number[] = [];
  const values: number[] = [];
  const links: number[] = [];
  const trees = 1 + Math.floor(rng() * 60);
  const maxDepth = 1 + Math.floor(rng() * 12);
  for (let t = 0; t < trees; t++) {
    roots.push(values.length);
    const pending: Array<[number, number]> = [[values.length, 0]];
    values.push(0);
    links.push(L.GBDT_LEAF_LINK);
    while (pending.length > 0) {
      const [at, depth] = pending.shift() as [number, number];
      if (depth >= maxDepth || (depth > 0 && rng() < 0.25)) {
        values[at] = Math.fround((rng() - 0.5) * 0.8);
        continue;
      }
      const left = values.length;
      values.push(0, 0);
      links.push(L.GBDT_LEAF_LINK, L.GBDT_LEAF_LINK);
      values[at] = Math.fround((rng() - 0.5) * 5);
      links[at] = packLink(left, rng() < 0.5, Math.floor(rng() * featureCount));
      pending.push([left, depth + 1], [left + 1, depth + 1]);
    }
  }
  return {
    source: "random", featureCount, featureNames: [], baseMargin: Math.fround((rng() - 0.5) * 2),
    roots: Int32Array.from(roots), values: Float32Array.from(values), links: Int32Array.from(links),
  };
}

function wasmScorers(model: FlatModel): GbdtScorer[] {
  return (["debug", "release"] as const).map((variant) => {
    const memory = createSharedMemory(); // one variant per memory: their static data overlap
    writeModel(memory, model);
    return loadWasmScorer(memory, variant, 0);
  });
}

/** Scores `rows` with every scorer; returns how many probabilities were not bit-identical. */
function compare(model: FlatModel, rows: Float32Array, rowCount: number, featureCount: number, label: string): number {
  const reference = referenceScorer(model);
  const want = { margins: new Float64Array(rowCount), probabilities: new Float64Array(rowCount) };
  reference.marginBatch(rows, rowCount, featureCount, want.margins);
  reference.scoreBatch(rows, rowCount, featureCount, want.probabilities);
  let inexact = 0;
  for (const scorer of wasmScorers(model)) {
    const margins = new Float64Array(rowCount);
    const probabilities = new Float64Array(rowCount);
    scorer.marginBatch(rows, rowCount, featureCount, margins);
    scorer.scoreBatch(rows, rowCount, featureCount, probabilities);
    for (let r = 0; r < rowCount; r++) {
      if (!Object.is(margins[r], want.margins[r])) throw new Error(`${label} ${scorer.name} row ${r}: margin ${margins[r]}, reference ${want.margins[r]}`);
      const diff = Math.abs((probabilities[r] as number) - (want.probabilities[r] as number));
      if (!(diff <= PROBABILITY_TOLERANCE)) throw new Error(`${label} ${scorer.name} row ${r}: probability ${probabilities[r]}, reference ${want.probabilities[r]}`);
      if (diff !== 0) inexact++;
    }
  }
  return inexact;
}

describe("differential: WASM debug and release agree with the TS reference", () => {
  test(`${FRAUD_ROWS} random rows on the XGBoost fraud model`, () => {
    const { model, featureCount } = loadFixture("fraud");
    const rng = makeRng(20261204);
    const rows = randomRows(rng, model, FRAUD_ROWS, featureCount);
    expect(compare(model, rows, FRAUD_ROWS, featureCount, "fraud")).toBe(0);
  }, 60_000);

  test(`${RANDOM_MODELS} random models of up to 60 trees and depth 12, ${ROWS_PER_RANDOM_MODEL} rows each`, () => {
    const rng = makeRng(7);
    let inexact = 0;
    for (let m = 0; m < RANDOM_MODELS; m++) {
      const featureCount = 1 + Math.floor(rng() * L.GBDT_MAX_FEATURES);
      const model = randomModel(rng, featureCount);
      const rows = randomRows(rng, model, ROWS_PER_RANDOM_MODEL, featureCount);
      inexact += compare(model, rows, ROWS_PER_RANDOM_MODEL, featureCount, `model ${m}`);
    }
    expect(inexact).toBe(0);
  }, 60_000);
});
