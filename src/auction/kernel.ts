// One interface, two implementations of the auction kernel: the AssemblyScript build (debug or
// release) instantiated over the shared memory, and the plain-TypeScript reference used by the
// differential tests. Both read and write the same layout.
import { loadWasm, type WasmVariant } from "../wasm/load.ts";
import { runAuctionReference } from "./reference.ts";
import { FreqCapReference } from "../freqcap/reference.ts";

export type { WasmVariant };

export interface AuctionKernel {
  readonly name: string;
  /**
   * Runs every imp's auction in the scratch area at byte offset `scratch`; returns imps won.
   * Frequency caps: `userKey` (src/freqcap/user-key.ts), `nowSec` unix seconds, `capMode` CAP_MODE_*.
   */
  runAuction(scratch: number, impCount: number, userKey: bigint, nowSec: number, capMode: number): number;
}

export function loadWasmKernel(memory: WebAssembly.Memory, variant: WasmVariant): AuctionKernel {
  const wasm = loadWasm(memory, variant);
  return { name: `wasm-${variant}`, runAuction: wasm.runAuction };
}

export function referenceKernel(memory: WebAssembly.Memory): AuctionKernel {
  const i32 = new Int32Array(memory.buffer);
  const i64 = new BigInt64Array(memory.buffer);
  const caps = new FreqCapReference(memory);
  return {
    name: "ts-reference",
    runAuction: (scratch, impCount, userKey, nowSec, capMode) => runAuctionReference({ i32, i64, caps }, scratch, impCount, { userKey, nowSec, capMode }),
  };
}
