// One shared suite for every GBDT scorer (WASM debug, WASM release, TS reference) against XGBoost's own
// predictions on the committed fixtures, plus the differential test: random rows on which the WASM
// builds must agree with the TS reference.
import { beforeAll, describe, expect, test } from "bun:test";
import { buildWasm } from "../../../scripts/build-wasm.ts";
import { createSharedMemory } from "../../auction/memory.ts";
import { loadWasm } from "../../wasm/load.ts";
import { FIXTURE_NAMES, loadFixture, type Fixture } from "./fixtures.ts";
import { gbdtRowsOffset, layout as L, writeModel, type FlatModel } from "./model.ts";
import { loadWasmScorer, referenceScorer, type GbdtScorer } from "./scorer.ts";

beforeAll(() => void buildWasm());

/** XGBoost's probabilities must be matched within this (absolute); margins must match exactly. */
const PROBABILITY_TOLERANCE = 1e-6;
const WORKER = 5;

// Each WASM scorer gets a memory of its own: a debug and a release instance must never share one,
// as their static data segments overlap (each instantiation rewrites its own).
type Factory = (model: FlatModel) => GbdtScorer;
const SCORERS: Record<string, Factory> = {
  "wasm-debug": (model) => wasmScorer(model, "debug"),
  "wasm-release": (model) => wasmScorer(model, "release"),
  "ts-reference": (model) => referenceScorer(model),
};

function wasmScorer(model: FlatModel, variant: "debug" | "release"): GbdtScorer {
  const memory = createSharedMemory();
  writeModel(memory, model);
  return loadWasmScorer(memory, variant, WORKER);
}

const fixtures = new Map<string, Fixture>();
function fixture(name: (typeof FIXTURE_NAMES)[number]): Fixture {
  let loaded = fixtures.get(name);
  if (loaded === undefined) fixtures.set(name, (loaded = loadFixture(name)));
  return loaded;
}

function hasMissing(f: Fixture, row: number): boolean {
  return f.rows.subarray(row * f.featureCount, (row + 1) * f.featureCount).some(Number.isNaN);
}

for (const [scorerName, factory] of Object.entries(SCORERS)) {
  describe(`gbdt scorer: ${scorerName}`, () => {
    for (const name of FIXTURE_NAMES) {
      test(`${name}: XGBoost's margins exactly, its probabilities within ${PROBABILITY_TOLERANCE}, every row`, () => {
        const f = fixture(name);
        const scorer = factory(f.model);
        const margins = new Float64Array(f.rowCount);
        const probabilities = new Float64Array(f.rowCount);
        scorer.marginBatch(f.rows, f.rowCount, f.featureCount, margins);
        scorer.scoreBatch(f.rows, f.rowCount, f.featureCount, probabilities);
        let missingRows = 0;
        for (let r = 0; r < f.rowCount; r++) {
          if (hasMissing(f, r)) missingRows++;
          if (margins[r] !== f.margins[r]) throw new Error(`${name} row ${r}: margin ${margins[r]}, XGBoost ${f.margins[r]}`);
          const diff = Math.abs((probabilities[r] as number) - (f.probabilities[r] as number));
          if (!(diff <= PROBABILITY_TOLERANCE)) throw new Error(`${name} row ${r}: probability ${probabilities[r]}, XGBoost ${f.probabilities[r]}`);
        }
        expect(missingRows).toBeGreaterThan(f.rowCount / 4); // ~10% of values are missing: a third of tiny's rows, most of fraud's
      });
    }

    test("float32 output, any batch size (chunked by the row buffer), extra trailing features ignored", () => {
      const f = fixture("tiny");
      const scorer = factory(f.model);
      const wide = f.featureCount + 3;
      const rows = new Float32Array(f.rowCount * wide).fill(123);
      for (let r = 0; r < f.rowCount; r++) rows.set(f.rows.subarray(r * f.featureCount, (r + 1) * f.featureCount), r * wide);
      const out = new Float32Array(f.rowCount);
      scorer.scoreBatch(rows, f.rowCount, wide, out);
      expect(Array.from(out)).toEqual(f.probabilities.map(Math.fround));
    });

    test("rows written into the scorer's own buffer are scored in place", () => {
      const f = fixture("fraud");
      const scorer = factory(f.model);
      const count = L.GBDT_MAX_ROWS;
      scorer.rows.set(f.rows.subarray(0, count * f.featureCount));
      const out = new Float64Array(count);
      scorer.scoreBatch(scorer.rows, count, f.featureCount, out);
      expect(Array.from(out)).toEqual(f.probabilities.slice(0, count));
      expect(() => scorer.scoreBatch(scorer.rows, count + 1, f.featureCount, new Float64Array(count + 1))).toThrow(RangeError);
    });

    test("a batch narrower than the model, or an output too short, is refused", () => {
      const f = fixture("fraud");
      const scorer = factory(f.model);
      expect(() => scorer.scoreBatch(f.rows, 2, f.featureCount - 1, new Float64Array(2))).toThrow(/featureCount 29 outside 30\.\.64/);
      expect(() => scorer.scoreBatch(f.rows, 2, L.GBDT_MAX_FEATURES + 1, new Float64Array(2))).toThrow(RangeError);
      expect(() => scorer.scoreBatch(f.rows, 3, f.featureCount, new Float64Array(2))).toThrow(/output holds 2 scores/);
      expect(() => scorer.scoreBatch(f.rows.subarray(0, 10), 1, f.featureCount, new Float64Array(1))).toThrow(RangeError);
    });

    test("a model without trees scores sigmoid(base margin); zero rows is a no-op", () => {
      const model: FlatModel = {
        source: "empty", featureCount: 2, featureNames: [], baseMargin: Math.fround(Math.log(3)), roots: new Int32Array(0),
        values: new Float32Array(0), links: new Int32Array(0),
      };
      const scorer = factory(model);
      const out = new Float64Array([9, 9, 9]);
      scorer.scoreBatch(new Float32Array([1, 2, NaN, NaN]), 2, 2, out);
      expect(out[0]).toBeCloseTo(0.75, 6);
      expect(out[1]).toBe(out[0] as number);
      scorer.scoreBatch(new Float32Array(0), 0, 2, out);
      expect(out[2]).toBe(9);
    });
  });
}

describe("wasm-debug bounds assertion", () => {
  test("a row pointer that is not a row buffer, or too many rows, traps", () => {
    const memory = createSharedMemory();
    writeModel(memory, fixture("tiny").model);
    const wasm = loadWasm(memory, "debug");
    const rows = gbdtRowsOffset(0);
    expect(() => wasm.gbdtScore(rows + 4, 1, 4)).toThrow(/wasm assertion failed/);
    expect(() => wasm.gbdtScore(rows, L.GBDT_MAX_ROWS + 1, 4)).toThrow(/wasm assertion failed/);
    expect(() => wasm.gbdtScore(rows, 1, 3)).toThrow(/wasm assertion failed/);
    expect(() => wasm.gbdtScore(gbdtRowsOffset(L.MAX_WORKERS - 1), 1, 4)).not.toThrow();
  });
});
