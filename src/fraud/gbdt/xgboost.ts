// Loading a model saved by XGBoost (`booster.save_model("m.json")`, 1.x to 3.x JSON) into a FlatModel:
// binary:logistic, gbtree, numeric splits, one output. Anything else is refused with a GbdtModelError
// naming the file and what is wrong, e.g.
//   gbdt model m.json: objective "multi:softprob" is not supported (binary:logistic only)
import { readFileSync, statSync } from "node:fs";
import { layout as L, type FlatModel } from "./model.ts";
import { appendTree, FlatNodes } from "./flatten.ts";
import {
  arrayAt, asObject, baseScoreAt, GbdtModelError, intParamAt, JsonPlace, objectAt, stringAt, type JsonObject,
} from "./json-read.ts";

export { GbdtModelError };

export const SUPPORTED_OBJECTIVE = "binary:logistic";
export const SUPPORTED_BOOSTER = "gbtree";
/** The largest model file read: far above what the model region holds, far below what hurts to parse. */
export const MAX_MODEL_FILE_BYTES = 64 * 1024 * 1024;

export function loadXgboostModel(path: string): FlatModel {
  return parseXgboostModel(readModelFile(path), path);
}

function readModelFile(path: string): string {
  let bytes: number;
  try {
    bytes = statSync(path).size;
  } catch (error) {
    throw new GbdtModelError(path, `cannot read the file (${(error as Error).message})`);
  }
  if (bytes > MAX_MODEL_FILE_BYTES) throw new GbdtModelError(path, `the file has ${bytes} bytes, at most ${MAX_MODEL_FILE_BYTES}`);
  return readFileSync(path, "utf8");
}

/** Parses and flattens the text of an XGBoost JSON model; `source` names it in error messages. */
export function parseXgboostModel(text: string, source: string): FlatModel {
  return flattenXgboostJson(parseJson(text, source), source);
}

/** Validates and flattens an already parsed XGBoost JSON model. */
export function flattenXgboostJson(json: unknown, source: string): FlatModel {
  const top = new JsonPlace(source, "");
  const learner = objectAt(asObject(json, top), "learner", top);
  const place = top.child("learner");
  checkObjective(learner, place, top);
  const params = objectAt(learner, "learner_model_param", place);
  const featureCount = checkOutputsAndFeatures(params, place.child("learner_model_param"), top);
  checkFeatureTypes(learner, top);
  const model = gbtreeModel(learner, place, top);
  const trees = checkTreeList(model.json, model.place);
  const nodes = new FlatNodes();
  trees.forEach((tree, t) => appendTree(tree, featureCount, nodes, model.place.child("trees").child(t)));
  return {
    source,
    featureCount,
    featureNames: featureNames(learner, featureCount, place),
    baseMargin: logisticMargin(baseScoreAt(params, "base_score", place.child("learner_model_param")), place),
    roots: Int32Array.from(nodes.roots),
    values: Float32Array.from(nodes.values),
    links: Int32Array.from(nodes.links),
  };
}

function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const hint = "save the model as JSON: booster.save_model(\"model.json\"); the binary UBJSON and legacy formats are not read";
    throw new GbdtModelError(source, `not valid JSON (${(error as Error).message}); ${hint}`);
  }
}

// What the model is (objective, outputs, booster) is reported without a field path: `top` is the file.
function checkObjective(learner: JsonObject, place: JsonPlace, top: JsonPlace): void {
  const objective = stringAt(objectAt(learner, "objective", place), "name", place.child("objective"));
  if (objective !== SUPPORTED_OBJECTIVE) top.fail(`objective ${JSON.stringify(objective)} is not supported (${SUPPORTED_OBJECTIVE} only)`);
}

/** One output (no multi-class, no multi-target) and a feature count the row buffer can carry. */
function checkOutputsAndFeatures(params: JsonObject, place: JsonPlace, top: JsonPlace): number {
  const classes = intParamAt(params, "num_class", place, 0);
  if (classes > 1) top.fail(`num_class ${classes}: multi-class models are not supported (binary only)`);
  const targets = intParamAt(params, "num_target", place, 1);
  if (targets > 1) top.fail(`num_target ${targets}: multi-target models are not supported`);
  const features = intParamAt(params, "num_feature", place);
  if (features < 1) top.fail(`num_feature ${features}: the model reads no feature`);
  if (features > L.GBDT_MAX_FEATURES) top.fail(`num_feature ${features}: more features than the ${L.GBDT_MAX_FEATURES} a GBDT row holds`);
  return features;
}

function checkFeatureTypes(learner: JsonObject, top: JsonPlace): void {
  const types = learner["feature_types"];
  if (!Array.isArray(types)) return;
  const at = types.indexOf("c");
  if (at >= 0) top.fail(`feature ${at} is categorical ("c"): categorical features are not supported (numeric splits only)`);
}

function featureNames(learner: JsonObject, featureCount: number, place: JsonPlace): string[] {
  if (learner["feature_names"] === undefined) return [];
  const names = arrayAt(learner, "feature_names", place);
  if (names.length === 0) return [];
  if (names.length !== featureCount) place.fail(`feature_names has ${names.length} entries but num_feature is ${featureCount}`);
  return names.map((name, i) => (typeof name === "string" ? name : place.child("feature_names").child(i).fail("must be a string")));
}

function gbtreeModel(learner: JsonObject, place: JsonPlace, top: JsonPlace): { json: JsonObject; place: JsonPlace } {
  const booster = objectAt(learner, "gradient_booster", place);
  const boosterPlace = place.child("gradient_booster");
  const name = booster["name"] === undefined ? SUPPORTED_BOOSTER : stringAt(booster, "name", boosterPlace);
  if (name !== SUPPORTED_BOOSTER) top.fail(`booster ${JSON.stringify(name)} is not supported (${SUPPORTED_BOOSTER} only)`);
  return { json: objectAt(booster, "model", boosterPlace), place: boosterPlace.child("model") };
}

/** The trees, checked against num_trees and tree_info (every tree must add to output group 0). */
function checkTreeList(model: JsonObject, place: JsonPlace): unknown[] {
  const trees = arrayAt(model, "trees", place);
  if (trees.length > L.GBDT_MAX_TREES) place.child("trees").fail(`${trees.length} trees, more than the ${L.GBDT_MAX_TREES} the GBDT model region holds`);
  const params = model["gbtree_model_param"];
  if (params !== undefined) {
    const declared = intParamAt(asObject(params, place.child("gbtree_model_param")), "num_trees", place.child("gbtree_model_param"));
    if (declared !== trees.length) place.fail(`gbtree_model_param.num_trees is ${declared} but trees has ${trees.length} entries`);
  }
  const info = model["tree_info"] === undefined ? undefined : arrayAt(model, "tree_info", place);
  if (info !== undefined) {
    if (info.length !== trees.length) place.fail(`tree_info has ${info.length} entries but trees has ${trees.length}`);
    const other = info.findIndex((group) => group !== 0);
    if (other >= 0) place.fail(`tree ${other} belongs to output group ${JSON.stringify(info[other])} in tree_info: multi-class models are not supported`);
  }
  return trees;
}

/**
 * XGBoost keeps base_score as a probability; binary:logistic turns it into a margin with
 * -log(1/p - 1), computed in float32 (ProbToMargin). The same steps here give the same float32.
 */
function logisticMargin(baseScore: number, place: JsonPlace): number {
  const p = Math.fround(baseScore);
  if (!(p > 0 && p < 1)) place.child("learner_model_param").child("base_score").fail(`${baseScore} is not a probability strictly between 0 and 1`);
  const odds = Math.fround(Math.fround(1 / p) - 1);
  return Math.fround(-Math.log(odds));
}
