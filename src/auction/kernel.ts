// One interface, two implementations of the auction kernel: the AssemblyScript build (debug or
// release) instantiated over the shared memory, and the plain-TypeScript reference used by the
// differential tests. Both read and write the same layout.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { layout as L } from "./memory.ts";
import { runAuctionReference } from "./reference.ts";
import { BUNFS_ROOT, IS_COMPILED } from "../worker-url.ts";

export interface AuctionKernel {
  readonly name: string;
  /** Runs every imp's auction in the scratch area at byte offset `scratch`; returns imps won. */
  runAuction(scratch: number, impCount: number): number;
}

export type WasmVariant = "debug" | "release";

const wasmDir = join(import.meta.dir, "..", "..", "wasm");

/**
 * Where a kernel build lives: wasm/ beside the sources, or, in a `bun build --compile` binary, the
 * copy embedded in it (see the `compile` script in package.json).
 */
export function wasmFile(kernel: string, variant: WasmVariant): string {
  const name = `${kernel}.${variant}.wasm`;
  return IS_COMPILED ? join(BUNFS_ROOT, name) : join(wasmDir, name);
}

function readKernel(kernel: string, variant: WasmVariant): Uint8Array {
  const file = wasmFile(kernel, variant);
  if (!existsSync(file)) throw new Error(`${file} is missing: build the kernels with \`npm run build:wasm\``);
  return readFileSync(file);
}

interface AuctionExports {
  runAuction(scratch: number, impCount: number): number;
  heapBase(): number;
}

/** Instantiates the WASM kernel over `memory` (synchronously: workers call it once at start). */
export function loadWasmKernel(memory: WebAssembly.Memory, variant: WasmVariant): AuctionKernel {
  const bytes = readKernel("auction", variant);
  const module = new WebAssembly.Module(bytes);
  const instance = new WebAssembly.Instance(module, { env: { memory, abort: abortFromWasm } });
  const exports = instance.exports as unknown as AuctionExports;
  const heapBase = exports.heapBase();
  if (heapBase > L.STATIC_END) {
    throw new Error(`auction.${variant}.wasm: static data ends at ${heapBase}, past STATIC_END ${L.STATIC_END}`);
  }
  return { name: `wasm-${variant}`, runAuction: exports.runAuction };
}

export function referenceKernel(memory: WebAssembly.Memory): AuctionKernel {
  const i32 = new Int32Array(memory.buffer);
  const i64 = new BigInt64Array(memory.buffer);
  return { name: "ts-reference", runAuction: (scratch, impCount) => runAuctionReference(i32, i64, scratch, impCount) };
}

function abortFromWasm(message: number, file: number, line: number, column: number): never {
  throw new Error(`wasm assertion failed at ${line}:${column} (message@${message}, file@${file})`);
}
