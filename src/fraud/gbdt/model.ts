// The flattened GBDT model (what loadXgboostModel produces) and its place in the shared memory: the
// main thread writes it once into the GBDT model region, before any worker scores; every worker's
// WASM kernel reads it from there. Offsets and node encoding come from assembly/layout.ts.
import * as L from "../../../assembly/layout.ts";

export { L as layout };

/**
 * A model as flat arrays, exactly as the kernel lays it out. Node i is (values[i], links[i]): at a leaf
 * links[i] is GBDT_LEAF_LINK and values[i] the leaf value; otherwise values[i] is the float32 split
 * condition and links[i] packs the left child index (right = left + 1), the default-left bit and the
 * feature index (see packLink). Each tree's nodes are contiguous, its root first.
 */
export interface FlatModel {
  /** Where the model came from, for messages. */
  readonly source: string;
  /** Features a row must carry: every split reads an index below this. */
  readonly featureCount: number;
  /** The column names XGBoost saved (feature_names), in row order; empty when it saved none. */
  readonly featureNames: readonly string[];
  /** logit(base_score), a float32 value. */
  readonly baseMargin: number;
  /** Node index of each tree's root, in tree order. */
  readonly roots: Int32Array;
  readonly values: Float32Array;
  readonly links: Int32Array;
}

export function packLink(leftChild: number, defaultLeft: boolean, feature: number): number {
  return (leftChild << L.GBDT_CHILD_SHIFT) | (defaultLeft ? L.GBDT_DEFAULT_LEFT_BIT : 0) | feature;
}

export function linkFeature(link: number): number {
  return link & L.GBDT_FEATURE_MASK;
}

export function linkDefaultLeft(link: number): boolean {
  return (link & L.GBDT_DEFAULT_LEFT_BIT) !== 0;
}

export function linkLeftChild(link: number): number {
  return link >>> L.GBDT_CHILD_SHIFT;
}

/** Every model written to the shared memory must fit the region; loadXgboostModel checks the same limits. */
export function assertFits(model: FlatModel): void {
  const trees = model.roots.length;
  const nodes = model.values.length;
  if (trees > L.GBDT_MAX_TREES) throw new RangeError(`gbdt model ${model.source}: ${trees} trees, at most ${L.GBDT_MAX_TREES}`);
  if (nodes > L.GBDT_MAX_NODES) throw new RangeError(`gbdt model ${model.source}: ${nodes} nodes, at most ${L.GBDT_MAX_NODES}`);
  if (model.links.length !== nodes) throw new RangeError(`gbdt model ${model.source}: ${model.links.length} links for ${nodes} nodes`);
  if (!(model.featureCount >= 0 && model.featureCount <= L.GBDT_MAX_FEATURES)) {
    throw new RangeError(`gbdt model ${model.source}: ${model.featureCount} features, at most ${L.GBDT_MAX_FEATURES}`);
  }
}

/** Copies the model into the GBDT model region; the tree count goes last, so a partial model is never seen with trees. */
export function writeModel(memory: WebAssembly.Memory, model: FlatModel): void {
  assertFits(model);
  const i32 = new Int32Array(memory.buffer);
  const f32 = new Float32Array(memory.buffer);
  const header = L.GBDT_BASE >> 2;
  Atomics.store(i32, header + (L.GBDT_TREE_COUNT_OFF >> 2), 0);
  i32.set(model.roots, (L.GBDT_BASE + L.GBDT_ROOTS_OFF) >> 2);
  const nodeWords = L.GBDT_NODE_BYTES >> 2;
  const nodes = (L.GBDT_BASE + L.GBDT_NODES_OFF) >> 2;
  for (let n = 0; n < model.values.length; n++) {
    f32[nodes + n * nodeWords + (L.GBDT_NODE_VALUE_OFF >> 2)] = model.values[n] as number;
    i32[nodes + n * nodeWords + (L.GBDT_NODE_LINK_OFF >> 2)] = model.links[n] as number;
  }
  i32[header + (L.GBDT_FEATURE_COUNT_OFF >> 2)] = model.featureCount;
  i32[header + (L.GBDT_NODE_COUNT_OFF >> 2)] = model.values.length;
  f32[header + (L.GBDT_BASE_MARGIN_OFF >> 2)] = model.baseMargin;
  Atomics.store(i32, header + (L.GBDT_TREE_COUNT_OFF >> 2), model.roots.length);
}

/** Byte offset of a worker's GBDT row buffer. */
export function gbdtRowsOffset(workerIndex: number): number {
  if (!(Number.isInteger(workerIndex) && workerIndex >= 0 && workerIndex < L.MAX_WORKERS)) {
    throw new RangeError(`worker index ${workerIndex} outside 0..${L.MAX_WORKERS - 1}`);
  }
  return L.GBDT_ROWS_BASE + workerIndex * L.GBDT_ROWS_BYTES;
}
