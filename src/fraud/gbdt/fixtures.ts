// The committed XGBoost fixtures (tests/fixtures/gbdt/, written by scripts/gbdt/make_fixtures.py):
// a model, its input rows and XGBoost's own predictions. Used by the tests and the benchmark; no
// Python is needed to read them.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { FlatModel } from "./model.ts";
import { loadXgboostModel } from "./xgboost.ts";

export const FIXTURES_DIR = join(import.meta.dir, "..", "..", "..", "tests", "fixtures", "gbdt");

/** tiny: 3 trees, exact method, base_score 0.5; forest: 3 parallel lossguide trees per round; fraud: 100 trees of depth 6 on 30 features. */
export const FIXTURE_NAMES = ["tiny", "forest", "fraud"] as const;
export type FixtureName = (typeof FIXTURE_NAMES)[number];

export interface Fixture {
  readonly name: FixtureName;
  readonly modelPath: string;
  readonly model: FlatModel;
  /** rowCount x featureCount float32 features, row-major, NaN = missing. */
  readonly rows: Float32Array;
  readonly rowCount: number;
  readonly featureCount: number;
  /** XGBoost's predictions (float32 values), output_margin and probability. */
  readonly margins: readonly number[];
  readonly probabilities: readonly number[];
  readonly xgboostVersion: string;
}

interface ExpectedJson {
  xgboost: string;
  rowCount: number;
  featureCount: number;
  margins: number[];
  probabilities: number[];
}

export function fixturePath(...parts: string[]): string {
  return join(FIXTURES_DIR, ...parts);
}

export function loadFixture(name: FixtureName): Fixture {
  const modelPath = fixturePath(name, "model.json");
  const expected = JSON.parse(readFileSync(fixturePath(name, "expected.json"), "utf8")) as ExpectedJson;
  const bytes = readFileSync(fixturePath(name, "inputs.f32"));
  const rows = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  if (rows.length !== expected.rowCount * expected.featureCount) {
    throw new Error(`fixture ${name}: inputs.f32 holds ${rows.length} values, expected ${expected.rowCount} x ${expected.featureCount}`);
  }
  return {
    name, modelPath, model: loadXgboostModel(modelPath), rows,
    rowCount: expected.rowCount, featureCount: expected.featureCount,
    margins: expected.margins, probabilities: expected.probabilities, xgboostVersion: expected.xgboost,
  };
}
