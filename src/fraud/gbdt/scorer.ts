// One interface, two implementations of GBDT scoring: the AssemblyScript kernel (debug or release)
// reading the model from the shared memory and the rows from one worker's row buffer, and the
// plain-TypeScript reference scoring a FlatModel. Rows are row-major float32 features, NaN = missing.
import { loadWasm, type TmaxWasm, type WasmVariant } from "../../wasm/load.ts";
import { gbdtRowsOffset, layout as L, type FlatModel } from "./model.ts";
import { rowMargin, sigmoid } from "./reference.ts";

export type ScoreOutput = Float64Array | Float32Array;

export interface GbdtScorer {
  readonly name: string;
  /**
   * A buffer for GBDT_MAX_ROWS rows of up to GBDT_MAX_FEATURES features. Rows written here (packed,
   * `featureCount` per row) are scored in place: for the WASM scorer it is the worker's row buffer.
   */
  readonly rows: Float32Array;
  /** Writes the probability of each of `rowCount` rows of `rows` to out[0..rowCount). Any row count. */
  scoreBatch(rows: Float32Array, rowCount: number, featureCount: number, out: ScoreOutput): void;
  /** Like scoreBatch, but writes the raw margins (log-odds). */
  marginBatch(rows: Float32Array, rowCount: number, featureCount: number, out: ScoreOutput): void;
}

/** Checks a batch; true when `rows` is the scorer's own buffer `own` (scored in place, at most GBDT_MAX_ROWS). */
function checkBatch(rows: Float32Array, rowCount: number, featureCount: number, out: ScoreOutput, modelFeatures: number, own: Float32Array): boolean {
  if (!(Number.isInteger(featureCount) && featureCount >= modelFeatures && featureCount <= L.GBDT_MAX_FEATURES)) {
    throw new RangeError(`gbdt: featureCount ${featureCount} outside ${modelFeatures}..${L.GBDT_MAX_FEATURES} (the model reads ${modelFeatures})`);
  }
  if (!(Number.isInteger(rowCount) && rowCount >= 0)) throw new RangeError(`gbdt: bad rowCount ${rowCount}`);
  if (rows.length < rowCount * featureCount) throw new RangeError(`gbdt: ${rows.length} features for ${rowCount} rows of ${featureCount}`);
  if (out.length < rowCount) throw new RangeError(`gbdt: output holds ${out.length} scores, ${rowCount} rows given`);
  const inPlace = rows.buffer === own.buffer && rows.byteOffset === own.byteOffset;
  if (inPlace && rowCount > L.GBDT_MAX_ROWS) throw new RangeError(`gbdt: the row buffer holds ${L.GBDT_MAX_ROWS} rows, ${rowCount} given`);
  return inPlace;
}

/** The WASM kernel over `memory` (model written by writeModel), using worker `workerIndex`'s row buffer. */
export function loadWasmScorer(memory: WebAssembly.Memory, variant: WasmVariant, workerIndex: number): GbdtScorer {
  const wasm = loadWasm(memory, variant);
  const base = gbdtRowsOffset(workerIndex);
  const rows = new Float32Array(memory.buffer, base, L.GBDT_MAX_ROWS * L.GBDT_MAX_FEATURES);
  const scores = new Float32Array(memory.buffer, base + L.GBDT_SCORES_OFF, L.GBDT_MAX_ROWS);
  const header = new Int32Array(memory.buffer, L.GBDT_BASE, L.GBDT_HEADER_BYTES >> 2);
  const featureCountAt = L.GBDT_FEATURE_COUNT_OFF >> 2;
  const run = (kernel: TmaxWasm["gbdtScore"]) => (input: Float32Array, rowCount: number, featureCount: number, out: ScoreOutput) => {
    const inPlace = checkBatch(input, rowCount, featureCount, out, header[featureCountAt] as number, rows);
    for (let first = 0; first < rowCount; first += L.GBDT_MAX_ROWS) {
      const count = Math.min(L.GBDT_MAX_ROWS, rowCount - first);
      if (!inPlace) rows.set(input.subarray(first * featureCount, (first + count) * featureCount));
      kernel(base, count, featureCount);
      for (let r = 0; r < count; r++) out[first + r] = scores[r] as number;
    }
  };
  return { name: `wasm-${variant}`, rows, scoreBatch: run(wasm.gbdtScore), marginBatch: run(wasm.gbdtMargin) };
}

/** The plain-TypeScript reference, scoring `model` from its own arrays. */
export function referenceScorer(model: FlatModel): GbdtScorer {
  const rows = new Float32Array(L.GBDT_MAX_ROWS * L.GBDT_MAX_FEATURES);
  const run = (probability: boolean) => (input: Float32Array, rowCount: number, featureCount: number, out: ScoreOutput) => {
    checkBatch(input, rowCount, featureCount, out, model.featureCount, rows);
    for (let r = 0; r < rowCount; r++) {
      const margin = rowMargin(model, input, r * featureCount);
      out[r] = probability ? sigmoid(margin) : margin;
    }
  };
  return { name: "ts-reference", rows, scoreBatch: run(true), marginBatch: run(false) };
}
