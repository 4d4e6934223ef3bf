// The cases `npm run bench:wasm` times: one per kernel operation. A case prepares inputs in a fresh
// shared memory and returns a function doing one call (opsPerCall operations).
import { SharedBudget } from "../../src/budget/shared-budget.ts";
import { AuctionScratch } from "../../src/auction/scratch.ts";
import { loadWasmKernel, referenceKernel } from "../../src/auction/kernel.ts";
import { loadFixture } from "../../src/fraud/gbdt/fixtures.ts";
import { layout as G, writeModel } from "../../src/fraud/gbdt/model.ts";
import { loadWasmScorer, referenceScorer } from "../../src/fraud/gbdt/scorer.ts";
import { FREQCAP_BENCH_CASES } from "../../src/freqcap/bench-cases.ts";

export type Side = "wasm" | "ts";

export interface BenchCase {
  kernel: string;
  op: string;
  opsPerCall: number;
  targetNs: number | null;
  note?: string;
  setup(memory: WebAssembly.Memory, side: Side): () => void;
}

const BIDS_PER_AUCTION = 8;
const IMPS_PER_REQUEST = 4;

/** A request of 4 imps x 8 bids; budgets so large they never run out during the bench. */
function auctionCase(): BenchCase {
  return {
    kernel: "auction",
    op: `request of ${IMPS_PER_REQUEST} imps x ${BIDS_PER_AUCTION} bids, per bid set`,
    opsPerCall: IMPS_PER_REQUEST,
    targetNs: null,
    note: "the TS reference must use BigInt atomics for 64-bit money in shared memory (JS has no i64 " +
      "atomics on numbers); WASM does the compare-and-swap on i64 natively.",
    setup(memory, side) {
      const budget = new SharedBudget(memory);
      for (let slot = 0; slot < BIDS_PER_AUCTION; slot++) budget.reset(slot, Number.MAX_SAFE_INTEGER);
      const kernel = side === "wasm" ? loadWasmKernel(memory, "release") : referenceKernel(memory);
      const scratch = new AuctionScratch(memory, 0);
      for (let imp = 0; imp < IMPS_PER_REQUEST; imp++) {
        scratch.beginImp(200_000, 2);
        for (let b = 0; b < BIDS_PER_AUCTION; b++) scratch.addBid(300_000 + ((b * 7919 + imp * 104_729) % 4_000_000), b, 0);
      }
      return () => void scratch.run(kernel);
    },
  };
}

/** The fraud fixture model (100 trees, depth 6, 30 features, XGBoost-trained), 256-row batches. */
function gbdtCase(): BenchCase {
  const fixture = loadFixture("fraud");
  const rows = G.GBDT_MAX_ROWS;
  return {
    kernel: "gbdt",
    op: `${fixture.model.roots.length}-tree model, ${fixture.featureCount} features, per row`,
    opsPerCall: rows,
    targetNs: 5_000,
    setup(memory, side) {
      writeModel(memory, fixture.model);
      const scorer = side === "wasm" ? loadWasmScorer(memory, "release", 0) : referenceScorer(fixture.model);
      const batch = fixture.rows.slice(0, rows * fixture.featureCount);
      const out = new Float64Array(rows);
      return () => scorer.scoreBatch(batch, rows, fixture.featureCount, out);
    },
  };
}

export const BENCH_CASES: BenchCase[] = [auctionCase(), ...FREQCAP_BENCH_CASES, gbdtCase()];
