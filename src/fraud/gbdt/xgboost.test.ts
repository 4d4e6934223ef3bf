// Loading XGBoost JSON models: the formats XGBoost writes are read, and every malformed or unsupported
// model is refused with an error naming the file and what is wrong.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { fixturePath } from "./fixtures.ts";
import { layout as L, linkLeftChild } from "./model.ts";
import { referenceScorer } from "./scorer.ts";
import { flattenXgboostJson, GbdtModelError, loadXgboostModel, parseXgboostModel } from "./xgboost.ts";

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any -- mutated freely below

const TINY = readFileSync(fixturePath("tiny", "model.json"), "utf8");
const tiny = (): Json => JSON.parse(TINY);
const trees = (m: Json): Json[] => m.learner.gradient_booster.model.trees;
const params = (m: Json): Json => m.learner.learner_model_param;

function refusal(mutate: (m: Json) => void): string {
  const model = tiny();
  mutate(model);
  try {
    flattenXgboostJson(model, "m.json");
  } catch (error) {
    expect(error).toBeInstanceOf(GbdtModelError);
    return (error as Error).message;
  }
  throw new Error("the model was accepted");
}

/** A one-split tree: feature 0 < cond goes to node `left` (value -1), else node `right` (value +1). */
function stump(m: Json, overrides: Record<string, unknown> = {}): void {
  const tree = trees(m)[0];
  Object.assign(tree, {
    left_children: [1, -1, -1], right_children: [2, -1, -1], split_indices: [0, 0, 0],
    split_conditions: [0.5, -1, 1], default_left: [1, 0, 0], split_type: [0, 0, 0],
    tree_param: { ...tree.tree_param, num_nodes: "3" }, ...overrides,
  });
  m.learner.gradient_booster.model.trees = [tree];
  m.learner.gradient_booster.model.tree_info = [0];
  m.learner.gradient_booster.model.gbtree_model_param.num_trees = "1";
}

function scoreMargins(m: Json, rows: number[][]): number[] {
  const model = flattenXgboostJson(m, "m.json");
  const out = new Float64Array(rows.length);
  referenceScorer(model).marginBatch(Float32Array.from(rows.flat()), rows.length, model.featureCount, out);
  return Array.from(out);
}

describe("reading what XGBoost writes", () => {
  test("base_score as \"5E-1\" (1.x/2.0), \"[5E-1]\" (2.1+) or a number: logit(0.5) = 0", () => {
    for (const baseScore of ["5E-1", "[5E-1]", 0.5, [0.5]]) {
      const m = tiny();
      params(m).base_score = baseScore;
      expect(Math.abs(flattenXgboostJson(m, "m.json").baseMargin)).toBe(0); // -0, as in XGBoost: -log(1)
    }
  });

  test("the margin of a probability base_score is computed in float32 like XGBoost", () => {
    const m = tiny();
    params(m).base_score = "[3.195E-1]";
    expect(flattenXgboostJson(m, "m.json").baseMargin).toBe(Math.fround(-Math.log(Math.fround(Math.fround(1 / Math.fround(0.3195)) - 1))));
  });

  test("x < condition goes left, x == condition goes right, NaN follows default_left (booleans of 1.x too)", () => {
    const m = tiny();
    params(m).base_score = "5E-1";
    stump(m, { default_left: [true, false, false] });
    const f = Math.fround(0.5);
    expect(scoreMargins(m, [[0.25, 0, 0, 0], [f, 0, 0, 0], [0.75, 0, 0, 0], [NaN, 0, 0, 0]])).toEqual([-1, 1, 1, -1]);
    stump(m, { default_left: [0, 0, 0] });
    expect(scoreMargins(m, [[NaN, 0, 0, 0]])).toEqual([1]);
  });

  test("children anywhere in the arrays are renumbered adjacent; unreachable (deleted) nodes are dropped", () => {
    const m = tiny();
    params(m).base_score = "5E-1";
    // root -> left 3, right 1; node 2 is deleted; without split_type (older files)
    stump(m, {
      left_children: [3, -1, -1, -1], right_children: [1, -1, -1, -1], split_indices: [2, 0, 0, 0],
      split_conditions: [0, 7, 99, -7], default_left: [0, 0, 0, 0], split_type: undefined,
      tree_param: { num_nodes: "4", num_deleted: "1", num_feature: "4", size_leaf_vector: "1" },
    });
    const model = flattenXgboostJson(m, "m.json");
    expect(model.values.length).toBe(3);
    expect(linkLeftChild(model.links[0] as number)).toBe(1);
    expect(scoreMargins(m, [[0, 0, -1, 0], [0, 0, 1, 0]])).toEqual([-7, 7]);
  });

  test("feature_names are kept in row order when XGBoost saved them", () => {
    expect(flattenXgboostJson(tiny(), "m.json").featureNames).toEqual([]);
    const m = tiny();
    m.learner.feature_names = ["ip_risk", "ua_entropy", "clicks_1h", "age_days"];
    expect(flattenXgboostJson(m, "m.json").featureNames).toEqual(["ip_risk", "ua_entropy", "clicks_1h", "age_days"]);
    m.learner.feature_names = ["a"];
    expect(() => flattenXgboostJson(m, "m.json")).toThrow("learner: feature_names has 1 entries but num_feature is 4");
  });

  test("a forest (num_parallel_tree 3) sums every tree", () => {
    const model = loadXgboostModel(fixturePath("forest", "model.json"));
    expect(model.roots.length).toBe(18);
  });
});

describe("refusing malformed or unsupported models", () => {
  const unsupported = (name: string) => fixturePath("unsupported", name);

  test("a multi-class model (real XGBoost file) names its objective", () => {
    const path = unsupported("multiclass.json");
    expect(() => loadXgboostModel(path)).toThrow(`gbdt model ${path}: objective "multi:softprob" is not supported (binary:logistic only)`);
  });

  test("num_class > 1 or trees in another output group: multi-class", () => {
    expect(refusal((m) => (params(m).num_class = "3"))).toBe("gbdt model m.json: num_class 3: multi-class models are not supported (binary only)");
    expect(refusal((m) => (m.learner.gradient_booster.model.tree_info = [0, 1, 0]))).toContain("tree 1 belongs to output group 1 in tree_info: multi-class");
    expect(refusal((m) => (params(m).num_target = "2"))).toContain("num_target 2: multi-target models are not supported");
  });

  test("categorical features and splits (real XGBoost file, then a hand-made split_type)", () => {
    expect(() => loadXgboostModel(unsupported("categorical.json"))).toThrow('feature 0 is categorical ("c"): categorical features are not supported');
    expect(refusal((m) => (trees(m)[1].split_type[0] = 1))).toBe(
      "gbdt model m.json: learner.gradient_booster.model.trees[1]: node 0: split_type 1 is not supported (numeric splits only)");
    expect(refusal((m) => (trees(m)[0].categories_nodes = [2]))).toContain("trees[0]: node 2: categorical splits are not supported");
  });

  test("dart and other boosters, other objectives, vector leaves", () => {
    expect(() => loadXgboostModel(unsupported("dart.json"))).toThrow('booster "dart" is not supported (gbtree only)');
    expect(refusal((m) => (m.learner.objective.name = "reg:squarederror"))).toBe(
      'gbdt model m.json: objective "reg:squarederror" is not supported (binary:logistic only)');
    expect(refusal((m) => (trees(m)[2].tree_param.size_leaf_vector = "3"))).toContain("trees[2]: size_leaf_vector 3: vector leaves");
  });

  test("not JSON: UBJSON, text, a missing file", () => {
    expect(() => loadXgboostModel(unsupported("model.ubj"))).toThrow(/model\.ubj: not valid JSON .*save the model as JSON/);
    expect(() => parseXgboostModel("booster[0]:\n0:[f0<0.5]", "dump.txt")).toThrow(/^gbdt model dump\.txt: not valid JSON/);
    expect(() => loadXgboostModel("/nonexistent/m.json")).toThrow(/gbdt model \/nonexistent\/m\.json: cannot read the file/);
    expect(() => parseXgboostModel("[1, 2]", "m.json")).toThrow("gbdt model m.json: must be an object, not an array");
  });

  test("too many features, trees or nodes for the GBDT model region", () => {
    expect(refusal((m) => (params(m).num_feature = String(L.GBDT_MAX_FEATURES + 1)))).toBe(
      `gbdt model m.json: num_feature ${L.GBDT_MAX_FEATURES + 1}: more features than the ${L.GBDT_MAX_FEATURES} a GBDT row holds`);
    expect(refusal((m) => {
      const model = m.learner.gradient_booster.model;
      model.trees = Array.from({ length: L.GBDT_MAX_TREES + 1 }, () => model.trees[0]);
    })).toContain(`${L.GBDT_MAX_TREES + 1} trees, more than the ${L.GBDT_MAX_TREES}`);
    expect(refusal((m) => {
      const model = m.learner.gradient_booster.model;
      model.trees = Array.from({ length: 3 }, () => balancedTree(Math.ceil(L.GBDT_MAX_NODES / 3) + 1));
      model.tree_info = [0, 0, 0];
      model.gbtree_model_param.num_trees = "3";
    })).toContain(`trees[2]: the model has more than ${L.GBDT_MAX_NODES} nodes`);
  });

  test("missing arrays and fields", () => {
    expect(refusal((m) => delete trees(m)[1].split_conditions)).toBe("gbdt model m.json: learner.gradient_booster.model.trees[1].split_conditions: is missing");
    expect(refusal((m) => (trees(m)[0].default_left = "1"))).toContain("trees[0].default_left: must be an array, not a string");
    expect(refusal((m) => delete m.learner.gradient_booster.model.trees)).toContain("learner.gradient_booster.model.trees: is missing");
    expect(refusal((m) => delete params(m).base_score)).toContain("learner.learner_model_param.base_score: is missing");
    expect(refusal((m) => delete m.learner.objective)).toContain("learner.objective: is missing");
    expect(refusal((m) => delete params(m).num_feature)).toContain("learner_model_param.num_feature: is missing");
  });

  test("inconsistent lengths and counts", () => {
    expect(refusal((m) => trees(m)[0].right_children.pop())).toContain("trees[0]: right_children has 6 entries but left_children has 7");
    expect(refusal((m) => (trees(m)[0].tree_param.num_nodes = "9"))).toContain("trees[0]: tree_param.num_nodes is 9 but left_children has 7 entries");
    expect(refusal((m) => (m.learner.gradient_booster.model.gbtree_model_param.num_trees = "4"))).toContain("num_trees is 4 but trees has 3 entries");
    expect(refusal((m) => m.learner.gradient_booster.model.tree_info.pop())).toContain("tree_info has 2 entries but trees has 3");
  });

  test("nodes that do not form a tree, bad children, bad split features, bad values", () => {
    expect(refusal((m) => (trees(m)[0].left_children[2] = 1))).toContain("trees[0]: node 1 is reached twice (the nodes do not form a tree)");
    expect(refusal((m) => (trees(m)[0].right_children[1] = 0))).toContain("trees[0]: node 1 has child 0, outside 1..6");
    expect(refusal((m) => (trees(m)[0].right_children[0] = 7))).toContain("node 0 has child 7, outside 1..6");
    expect(refusal((m) => (trees(m)[0].right_children[3] = 4))).toContain("node 3 has no left child but right child 4");
    expect(refusal((m) => (trees(m)[0].split_indices[0] = 4))).toContain("node 0 splits on feature 4, outside 0..3 (num_feature 4)");
    expect(refusal((m) => (trees(m)[0].split_conditions[5] = "x"))).toContain("trees[0].split_conditions[5]: must be a finite number");
    expect(refusal((m) => (trees(m)[0].left_children[0] = 1.5))).toContain("trees[0].left_children[0]: must be an integer, not 1.5");
    expect(refusal((m) => (trees(m)[0].default_left[0] = 2))).toContain("trees[0].default_left[0]: must be 0 or 1, not 2");
  });

  test("base_score that is not one probability", () => {
    expect(refusal((m) => (params(m).base_score = "[1E0]"))).toContain("base_score: 1 is not a probability strictly between 0 and 1");
    expect(refusal((m) => (params(m).base_score = "[5E-1,5E-1]"))).toContain("must hold one value (single-target models only)");
    expect(refusal((m) => (params(m).base_score = "half"))).toContain('base_score: must be a number, not "half"');
  });
});

/** A complete binary tree of `nodes` nodes (odd), all splits on feature 0. */
function balancedTree(nodes: number): Json {
  const count = nodes % 2 === 1 ? nodes : nodes + 1;
  const left: number[] = [];
  const right: number[] = [];
  for (let n = 0; n < count; n++) {
    const internal = 2 * n + 2 < count;
    left.push(internal ? 2 * n + 1 : -1);
    right.push(internal ? 2 * n + 2 : -1);
  }
  const zeros = new Array<number>(count).fill(0);
  return {
    left_children: left, right_children: right, split_indices: zeros, split_conditions: zeros, default_left: zeros,
    tree_param: { num_nodes: String(count), size_leaf_vector: "1" },
  };
}
