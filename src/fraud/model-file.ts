// The tier 2 model file: `fraud.modelPath`, else the default model shipped with tmax
// (src/fraud/model/default.json, trained by scripts/fraud/train.py). A model must read the features
// src/fraud/features.ts writes: no more than FEATURE_COUNT, and, when it saved feature names, the
// same names in the same order.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { loadXgboostModel } from "./gbdt/xgboost.ts";
import type { FlatModel } from "./gbdt/model.ts";
import { FEATURE_COUNT, FEATURE_NAMES } from "./features.ts";
import { BUNFS_ROOT, IS_COMPILED } from "../worker-url.ts";

export const DEFAULT_MODEL_NAME = "default.json";

/** The shipped default model (inside a compiled binary: its embedded copy). */
export function defaultModelPath(): string {
  return IS_COMPILED ? join(BUNFS_ROOT, DEFAULT_MODEL_NAME) : join(import.meta.dir, "model", "default.json");
}

/** Loads the configured or default model (null when neither exists). Throws a plain Error saying what is wrong. */
export function loadFraudModelFile(modelPath: string | null, checkFeatures: boolean): FlatModel | null {
  const path = modelPath ?? defaultModelPath();
  if (modelPath === null && !existsSync(path)) return null;
  const model = loadXgboostModel(path);
  if (checkFeatures) checkModelFeatures(model);
  return model;
}

export function checkModelFeatures(model: FlatModel): void {
  if (model.featureCount > FEATURE_COUNT) {
    throw new Error(`gbdt model ${model.source}: reads ${model.featureCount} features, tmax writes ${FEATURE_COUNT} (src/fraud/features.ts)`);
  }
  model.featureNames.forEach((name, i) => {
    if (name !== FEATURE_NAMES[i]) throw new Error(`gbdt model ${model.source}: feature ${i} is "${name}", tmax writes "${FEATURE_NAMES[i]}" there (src/fraud/features.ts)`);
  });
}
