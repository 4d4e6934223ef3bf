// The tier 2 model file: `fraud.modelPath`, else the default model shipped with tmax
// (src/fraud/model/default.json, trained by scripts/fraud/train.py). A model must read the features
// src/fraud/features.ts writes: no more than FEATURE_COUNT, and, when it saved feature names, the
// same names in the same order.
import { loadXgboostModel, parseXgboostModel } from "./gbdt/xgboost.ts";
import type { FlatModel } from "./gbdt/model.ts";
import { FEATURE_COUNT, FEATURE_NAMES } from "./features.ts";
// Imported as text: bundled into the one-file binary too (bun build --compile), no path to resolve.
import defaultModelJson from "./model/default.json" with { type: "text" };

export const DEFAULT_MODEL_SOURCE = "src/fraud/model/default.json (shipped)";

/** Loads the configured model, or the shipped default. Throws a plain Error saying what is wrong. */
export function loadFraudModelFile(modelPath: string | null, checkFeatures: boolean): FlatModel {
  const model = modelPath === null ? parseXgboostModel(defaultModelJson as unknown as string, DEFAULT_MODEL_SOURCE) : loadXgboostModel(modelPath);
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
