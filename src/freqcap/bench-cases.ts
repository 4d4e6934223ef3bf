// Cases for `npm run bench:wasm` (scripts/bench/wasm.ts): the frequency-cap kernel alone (one check
// and one take per impression, each a call into WASM from JS) and the auction kernel with caps on
// (checks and takes inside the one auction call). Register with `BENCH_CASES.push(...FREQCAP_BENCH_CASES)`.
import type { BenchCase } from "../../scripts/bench/wasm-cases.ts";
import { layout as L } from "../auction/memory.ts";
import { loadWasmFreqCap, referenceFreqCap } from "./kernel.ts";
import { loadWasmKernel, referenceKernel } from "../auction/kernel.ts";
import { AuctionScratch } from "../auction/scratch.ts";
import { SharedBudget } from "../budget/shared-budget.ts";
import { FreqCapTable } from "./table.ts";

const USERS = 4096;
const NOW = 1_760_000_000;
const BIDS_PER_IMP = 8;
const IMPS = 4;

function users(): bigint[] {
  return Array.from({ length: USERS }, (_, u) => BigInt.asIntN(64, BigInt(u + 1) * 0x2545f4914f6cdd1dn));
}

/** check + take for one impression, over 4096 users; 1-second windows, so takes keep opening new ones. */
function takeCase(): BenchCase {
  return {
    kernel: "freqcap",
    op: "check + take, one impression",
    opsPerCall: 1,
    targetNs: 100,
    setup(memory, side) {
      new FreqCapTable(memory).setRules(0, [{ max: L.FREQCAP_MAX_COUNT, windowSec: 1 }, { max: L.FREQCAP_MAX_COUNT, windowSec: 3600 }]);
      const caps = side === "wasm" ? loadWasmFreqCap(memory, "release") : referenceFreqCap(memory);
      const keys = users();
      let i = 0;
      return () => {
        const user = keys[i & (USERS - 1)]!;
        const nowSec = NOW + (i++ >> 12);
        if (caps.check(user, 0, nowSec) === L.CAP_OK) caps.take(user, 0, nowSec);
      };
    },
  };
}

/** The auction bench's request (4 imps x 8 bids), half the campaigns capped, over 4096 users. */
function auctionWithCapsCase(): BenchCase {
  return {
    kernel: "auction",
    op: `request of ${IMPS} imps x ${BIDS_PER_IMP} bids, half capped, per bid set`,
    opsPerCall: IMPS,
    targetNs: null,
    setup(memory, side) {
      const budget = new SharedBudget(memory);
      const table = new FreqCapTable(memory);
      for (let slot = 0; slot < BIDS_PER_IMP; slot++) {
        budget.reset(slot, Number.MAX_SAFE_INTEGER);
        if (slot % 2 === 0) table.setRules(slot, [{ max: L.FREQCAP_MAX_COUNT, windowSec: 60 }]);
      }
      const kernel = side === "wasm" ? loadWasmKernel(memory, "release") : referenceKernel(memory);
      const scratch = new AuctionScratch(memory, 0);
      const keys = users();
      let i = 0;
      return () => {
        scratch.reset();
        scratch.setCaps(keys[i & (USERS - 1)]!, NOW + (i++ >> 12), L.CAP_MODE_KEY);
        for (let imp = 0; imp < IMPS; imp++) {
          scratch.beginImp(200_000, 2);
          for (let b = 0; b < BIDS_PER_IMP; b++) scratch.addBid(300_000 + ((b * 7919 + imp * 104_729) % 4_000_000), b, 0);
        }
        scratch.run(kernel);
      };
    },
  };
}

export const FREQCAP_BENCH_CASES: BenchCase[] = [takeCase(), auctionWithCapsCase()];
