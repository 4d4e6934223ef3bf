// Flattening XGBoost's JSON trees into the kernel's node arrays. Each tree is walked breadth-first from
// its root (node 0), so only reachable nodes are kept (XGBoost may leave deleted nodes in the
// arrays), every node is reached exactly once (a cycle or a shared child is refused, so the kernel
// can never loop), and the two children of a node get adjacent indices (right = left + 1).
import { layout as L, packLink } from "./model.ts";
import {
  arrayAt, asObject, flagItem, float32Item, intItem, intParamAt, type JsonObject, type JsonPlace,
} from "./json-read.ts";

/** XGBoost's marker for "no child": a leaf has -1 as both children. */
const NO_CHILD = -1;
const NUMERIC_SPLIT = 0;

/** The flat arrays being built, all trees appended in order. */
export class FlatNodes {
  readonly roots: number[] = [];
  readonly values: number[] = [];
  readonly links: number[] = [];
}

interface TreeArrays {
  readonly left: unknown[];
  readonly right: unknown[];
  readonly features: unknown[];
  readonly conditions: unknown[];
  readonly defaultLeft: unknown[];
  readonly splitTypes: unknown[] | undefined;
}

/** Validates tree `tree` (its place in the model is `place`) and appends its reachable nodes to `out`. */
export function appendTree(tree: unknown, featureCount: number, out: FlatNodes, place: JsonPlace): void {
  const json = asObject(tree, place);
  const arrays = treeArrays(json, place);
  refuseUnsupported(json, place);
  const root = out.values.length;
  out.roots.push(root);
  allocate(out, 1, place);
  const originals = [0];
  const seen = new Uint8Array(arrays.left.length);
  seen[0] = 1;
  for (let k = 0; k < originals.length; k++) {
    const node = originals[k] as number;
    const at = root + k;
    const left = intItem(arrays.left, node, place.child("left_children"));
    const right = intItem(arrays.right, node, place.child("right_children"));
    if (left === NO_CHILD) {
      if (right !== NO_CHILD) place.fail(`node ${node} has no left child but right child ${right}`);
      out.values[at] = float32Item(arrays.conditions, node, place.child("split_conditions"));
      out.links[at] = L.GBDT_LEAF_LINK;
      continue;
    }
    checkChild(left, seen, node, place);
    checkChild(right, seen, node, place);
    if (left === right) place.fail(`node ${node} has the same left and right child ${left}`);
    const leftIndex = out.values.length;
    allocate(out, 2, place);
    originals.push(left, right);
    out.values[at] = float32Item(arrays.conditions, node, place.child("split_conditions"));
    out.links[at] = packLink(leftIndex, flagItem(arrays.defaultLeft, node, place.child("default_left")), splitFeature(arrays, node, featureCount, place));
  }
}

function treeArrays(json: JsonObject, place: JsonPlace): TreeArrays {
  const arrays: TreeArrays = {
    left: arrayAt(json, "left_children", place),
    right: arrayAt(json, "right_children", place),
    features: arrayAt(json, "split_indices", place),
    conditions: arrayAt(json, "split_conditions", place),
    defaultLeft: arrayAt(json, "default_left", place),
    splitTypes: json["split_type"] === undefined ? undefined : arrayAt(json, "split_type", place),
  };
  const count = arrays.left.length;
  if (count === 0) place.child("left_children").fail("is empty (a tree has at least its root)");
  const params = json["tree_param"] === undefined ? undefined : asObject(json["tree_param"], place.child("tree_param"));
  const declared = params === undefined ? count : intParamAt(params, "num_nodes", place.child("tree_param"));
  if (declared !== count) place.fail(`tree_param.num_nodes is ${declared} but left_children has ${count} entries`);
  const named: Array<[string, unknown[] | undefined]> = [
    ["right_children", arrays.right], ["split_indices", arrays.features], ["split_conditions", arrays.conditions],
    ["default_left", arrays.defaultLeft], ["split_type", arrays.splitTypes],
  ];
  for (const [name, items] of named) {
    if (items !== undefined && items.length !== count) place.fail(`${name} has ${items.length} entries but left_children has ${count}`);
  }
  return arrays;
}

/** Categorical splits and vector leaves change what a node means; tmax scores numeric splits only. */
function refuseUnsupported(json: JsonObject, place: JsonPlace): void {
  const categorical = json["categories_nodes"];
  if (Array.isArray(categorical) && categorical.length > 0) {
    place.fail(`node ${String(categorical[0])}: categorical splits are not supported (numeric splits only)`);
  }
  const splitTypes = json["split_type"];
  const at = Array.isArray(splitTypes) ? splitTypes.findIndex((t) => t !== NUMERIC_SPLIT) : -1;
  if (at >= 0) place.fail(`node ${at}: split_type ${JSON.stringify((splitTypes as unknown[])[at])} is not supported (numeric splits only)`);
  const params = json["tree_param"];
  if (params !== undefined) {
    const leafSize = intParamAt(asObject(params, place.child("tree_param")), "size_leaf_vector", place.child("tree_param"), 1);
    if (leafSize > 1) place.fail(`size_leaf_vector ${leafSize}: vector leaves (multi-target trees) are not supported`);
  }
}

function checkChild(child: number, seen: Uint8Array, parent: number, place: JsonPlace): void {
  if (!(child > 0 && child < seen.length)) place.fail(`node ${parent} has child ${child}, outside 1..${seen.length - 1}`);
  if (seen[child] !== 0) place.fail(`node ${child} is reached twice (the nodes do not form a tree)`);
  seen[child] = 1;
}

function splitFeature(arrays: TreeArrays, node: number, featureCount: number, place: JsonPlace): number {
  const feature = intItem(arrays.features, node, place.child("split_indices"));
  if (!(feature >= 0 && feature < featureCount)) {
    place.fail(`node ${node} splits on feature ${feature}, outside 0..${featureCount - 1} (num_feature ${featureCount})`);
  }
  return feature;
}

function allocate(out: FlatNodes, count: number, place: JsonPlace): void {
  if (out.values.length + count > L.GBDT_MAX_NODES) {
    place.fail(`the model has more than ${L.GBDT_MAX_NODES} nodes, the most the GBDT model region holds`);
  }
  for (let i = 0; i < count; i++) {
    out.values.push(0);
    out.links.push(L.GBDT_LEAF_LINK);
  }
}
