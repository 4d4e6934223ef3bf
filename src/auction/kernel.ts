// One interface, two implementations of the auction kernel: the AssemblyScript build (debug or
// release) instantiated over the shared memory, and the plain-TypeScript reference used by the
// differential tests. Both read and write the same layout.
import { loadWasm, type WasmVariant } from "../wasm/load.ts";
import { runAuctionReference } from "./reference.ts";

export type { WasmVariant };

export interface AuctionKernel {
  readonly name: string;
  /** Runs every imp's auction in the scratch area at byte offset `scratch`; returns imps won. */
  runAuction(scratch: number, impCount: number): number;
}

export function loadWasmKernel(memory: WebAssembly.Memory, variant: WasmVariant): AuctionKernel {
  const wasm = loadWasm(memory, variant);
  return { name: `wasm-${variant}`, runAuction: wasm.runAuction };
}

export function referenceKernel(memory: WebAssembly.Memory): AuctionKernel {
  const i32 = new Int32Array(memory.buffer);
  const i64 = new BigInt64Array(memory.buffer);
  return { name: "ts-reference", runAuction: (scratch, impCount) => runAuctionReference(i32, i64, scratch, impCount) };
}
