// The gradient-boosted trees kernel: scores a batch of rows against the XGBoost model the main thread
// flattened into the GBDT model region (src/fraud/gbdt/model.ts writes it once, before any worker
// scores). Every worker calls it on its own row buffer.
//
// Semantics are XGBoost's CPU predictor's: features are float32; a node sends x left when
// x < split condition (float32 compare), a missing value (NaN) follows the node's default direction;
// the margin starts at the base margin and adds one leaf per tree in tree order, in float32 (so
// margins are bit-identical to XGBoost's). The probability is XGBoost's float32 sigmoid
// 1 / (1 + exp(min(-margin, 88.7))) with each float32 rounding kept; only exp differs (f64 exp
// rounded to f32, where XGBoost calls the C library's expf, itself not always correctly rounded),
// so a probability can differ from XGBoost's by one float32 ulp (~6e-8) on rare rows.
//
// Note: Math.exp reads a lookup table in this module's static data, so a debug and a release
// instance must not share one memory (their data segments overlap and each instantiation rewrites
// its own).
//
// Layout: see layout.ts (GBDT block).

import {
  GBDT_BASE, GBDT_TREE_COUNT_OFF, GBDT_FEATURE_COUNT_OFF, GBDT_NODE_COUNT_OFF, GBDT_BASE_MARGIN_OFF,
  GBDT_ROOTS_OFF, GBDT_NODES_OFF, GBDT_NODE_BYTES, GBDT_NODE_VALUE_OFF, GBDT_NODE_LINK_OFF,
  GBDT_MAX_TREES, GBDT_MAX_NODES, GBDT_MAX_FEATURES, GBDT_MAX_ROWS, GBDT_ROWS_BASE, GBDT_ROWS_BYTES,
  GBDT_END, GBDT_FEATURE_MASK, GBDT_DEFAULT_LEFT_BIT, GBDT_CHILD_SHIFT, GBDT_SCORES_OFF,
  GBDT_SIGMOID_EXP_LIMIT,
} from "./layout";

// @ts-ignore: decorator
@inline const NODES: usize = GBDT_BASE + GBDT_NODES_OFF;
// @ts-ignore: decorator
@inline const ROOTS: usize = GBDT_BASE + GBDT_ROOTS_OFF;
// @ts-ignore: decorator
@inline const NODE_SHIFT: usize = 3; // log2(GBDT_NODE_BYTES)
// @ts-ignore: decorator
@inline const DEFAULT_LEFT_SHIFT = 7; // log2(GBDT_DEFAULT_LEFT_BIT)
// @ts-ignore: decorator
@inline const LANES = 4; // rows walked through a tree together

/** Writes the probability of each of `rowCount` rows in the row buffer at `rows` to its score slot. */
export function gbdtScore(rows: i32, rowCount: i32, featureCount: i32): void {
  scoreRows(rows, rowCount, featureCount, true);
}

/** Like gbdtScore, but writes the raw margin (log-odds) instead of the probability. */
export function gbdtMargin(rows: i32, rowCount: i32, featureCount: i32): void {
  scoreRows(rows, rowCount, featureCount, false);
}

function scoreRows(rows: i32, rowCount: i32, featureCount: i32, probability: bool): void {
  const treeCount = load<i32>(GBDT_BASE, GBDT_TREE_COUNT_OFF);
  assertBatch(rows, rowCount, featureCount, treeCount);
  for (let first = 0; first < rowCount; first += LANES) {
    scoreBlock(<usize>rows, first, rowCount - 1, <usize>featureCount << 2, treeCount, probability);
  }
}

/** The one bounds check: the batch fits a worker's row buffer and carries the model's features. */
function assertBatch(rows: i32, rowCount: i32, featureCount: i32, treeCount: i32): void {
  assert(rows >= GBDT_ROWS_BASE && rows < GBDT_END && (rows - GBDT_ROWS_BASE) % GBDT_ROWS_BYTES == 0, "rows is not a row buffer");
  assert(rowCount >= 0 && rowCount <= GBDT_MAX_ROWS, "rowCount out of range");
  const modelFeatures = load<i32>(GBDT_BASE, GBDT_FEATURE_COUNT_OFF);
  assert(featureCount >= modelFeatures && featureCount <= GBDT_MAX_FEATURES, "featureCount out of range");
  assert(treeCount >= 0 && treeCount <= GBDT_MAX_TREES, "tree count out of range");
  assert(load<i32>(GBDT_BASE, GBDT_NODE_COUNT_OFF) <= GBDT_MAX_NODES, "node count out of range");
}

/**
 * Scores rows first..first+3 (clamped to `last`: a short block repeats its last row) walking each
 * tree for the four rows in lockstep, so their four chains of dependent loads overlap. A row that
 * reached its leaf stays there (step) until all four have; each row still adds its leaves in tree
 * order, in float32.
 */
function scoreBlock(rows: usize, first: i32, last: i32, rowBytes: usize, treeCount: i32, probability: bool): void {
  const i1 = min(first + 1, last);
  const i2 = min(first + 2, last);
  const i3 = min(first + 3, last);
  const r0 = rows + <usize>first * rowBytes;
  const r1 = rows + <usize>i1 * rowBytes;
  const r2 = rows + <usize>i2 * rowBytes;
  const r3 = rows + <usize>i3 * rowBytes;
  let m0 = load<f32>(GBDT_BASE, GBDT_BASE_MARGIN_OFF);
  let m1 = m0, m2 = m0, m3 = m0;
  const end = ROOTS + (<usize>treeCount << 2);
  for (let root = ROOTS; root < end; root += 4) {
    let n0 = NODES + (<usize>load<i32>(root) << NODE_SHIFT);
    let n1 = n0, n2 = n0, n3 = n0;
    let l0 = load<i32>(n0, GBDT_NODE_LINK_OFF);
    let l1 = l0, l2 = l0, l3 = l0;
    while ((l0 & l1 & l2 & l3) >= 0) { // some row is not at its leaf yet (a leaf's link is negative)
      n0 = step(n0, l0, r0);
      n1 = step(n1, l1, r1);
      n2 = step(n2, l2, r2);
      n3 = step(n3, l3, r3);
      l0 = load<i32>(n0, GBDT_NODE_LINK_OFF);
      l1 = load<i32>(n1, GBDT_NODE_LINK_OFF);
      l2 = load<i32>(n2, GBDT_NODE_LINK_OFF);
      l3 = load<i32>(n3, GBDT_NODE_LINK_OFF);
    }
    m0 += load<f32>(n0, GBDT_NODE_VALUE_OFF);
    m1 += load<f32>(n1, GBDT_NODE_VALUE_OFF);
    m2 += load<f32>(n2, GBDT_NODE_VALUE_OFF);
    m3 += load<f32>(n3, GBDT_NODE_VALUE_OFF);
  }
  const scores = rows + GBDT_SCORES_OFF;
  store<f32>(scores + (<usize>first << 2), probability ? sigmoid(m0) : m0);
  store<f32>(scores + (<usize>i1 << 2), probability ? sigmoid(m1) : m1);
  store<f32>(scores + (<usize>i2 << 2), probability ? sigmoid(m2) : m2);
  store<f32>(scores + (<usize>i3 << 2), probability ? sigmoid(m3) : m3);
}

/**
 * The node after `node` (whose link is `link`) for the row at `row`: left when x < condition or x is
 * NaN and the node defaults left, else right (= left + 1). A leaf (negative link) returns itself; its
 * feature bits then read a harmless word inside the row buffer.
 */
// @ts-ignore: decorator
@inline function step(node: usize, link: i32, row: usize): usize {
  const x = load<f32>(row + (<usize>(link & GBDT_FEATURE_MASK) << 2));
  const condition = load<f32>(node, GBDT_NODE_VALUE_OFF);
  const missingLeft = <i32>(x != x) & (link >> DEFAULT_LEFT_SHIFT);
  const left = <i32>(x < condition) | missingLeft;
  const child = (<u32>link >> GBDT_CHILD_SHIFT) + 1 - <u32>left;
  return select<usize>(NODES + (<usize>child << NODE_SHIFT), node, link >= 0);
}

/** XGBoost's float32 sigmoid: 1 / (1 + exp(min(-margin, 88.7))). */
// @ts-ignore: decorator
@inline function sigmoid(margin: f32): f32 {
  const x = min<f32>(-margin, <f32>GBDT_SIGMOID_EXP_LIMIT);
  const e = <f32>Math.exp(<f64>x);
  return <f32>1.0 / (e + <f32>1.0);
}

// Checks of the layout assumptions above (debug builds, at instantiation).
assert(GBDT_DEFAULT_LEFT_BIT == 1 << DEFAULT_LEFT_SHIFT, "link bit 7 must be the default-left bit");
assert(GBDT_NODE_BYTES == 1 << <i32>NODE_SHIFT, "NODE_SHIFT must match GBDT_NODE_BYTES");
assert(GBDT_MAX_FEATURES <= GBDT_FEATURE_MASK + 1, "feature index must fit its link bits");
