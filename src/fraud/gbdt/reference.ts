// The plain-TypeScript reference of assembly/gbdt.ts, scoring a FlatModel held in ordinary typed
// arrays (not the shared memory). It exists for the differential tests and the benchmark; every
// float32 step of the kernel is a Math.fround here.
import { layout as L, linkDefaultLeft, linkFeature, linkLeftChild, type FlatModel } from "./model.ts";

const SIGMOID_EXP_LIMIT = Math.fround(L.GBDT_SIGMOID_EXP_LIMIT);

/** The leaf value tree `tree` gives the row of `features` starting at `rowStart`. */
function leafValue(model: FlatModel, tree: number, features: Float32Array, rowStart: number): number {
  const { values, links } = model;
  let node = model.roots[tree] as number;
  let link = links[node] as number;
  while (link !== L.GBDT_LEAF_LINK) {
    const x = features[rowStart + linkFeature(link)] as number;
    const goLeft = Number.isNaN(x) ? linkDefaultLeft(link) : x < (values[node] as number);
    node = linkLeftChild(link) + (goLeft ? 0 : 1);
    link = links[node] as number;
  }
  return values[node] as number;
}

/** The float32 margin of one row: base margin plus one leaf per tree, added in tree order in float32. */
export function rowMargin(model: FlatModel, features: Float32Array, rowStart: number): number {
  let margin = model.baseMargin;
  const trees = model.roots.length;
  for (let t = 0; t < trees; t++) margin = Math.fround(margin + leafValue(model, t, features, rowStart));
  return margin;
}

/** XGBoost's float32 sigmoid, 1 / (1 + exp(min(-margin, 88.7))), one rounding per float32 step. */
export function sigmoid(margin: number): number {
  const e = Math.fround(Math.exp(Math.min(-margin, SIGMOID_EXP_LIMIT)));
  return Math.fround(1 / Math.fround(e + 1));
}
