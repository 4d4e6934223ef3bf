// Instantiating tmax's WASM module (assembly/index.ts, all kernels) over the shared memory. One
// instance per thread, memory and build variant; every kernel wrapper takes its exports from here.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { layout as L } from "../auction/memory.ts";
import { BUNFS_ROOT, IS_COMPILED } from "../worker-url.ts";

export type WasmVariant = "debug" | "release";

/** The module's exports, as the kernels in assembly/ declare them. */
export interface TmaxWasm {
  readonly variant: WasmVariant;
  heapBase(): number;
  /** userKey: the request's user key hash (i64), nowSec: unix seconds, capMode: layout CAP_MODE_*. */
  runAuction(scratch: number, impCount: number, userKey: bigint, nowSec: number, capMode: number): number;
  // Frequency caps (assembly/freqcap.ts); bool results come back as 0/1, u32 seconds as i32.
  capEntryKey(userKey: bigint, slot: number): bigint;
  capHasRules(slot: number): number;
  capCheck(userKey: bigint, slot: number, nowSec: number): number;
  capTake(userKey: bigint, slot: number, nowSec: number): number;
  capRelease(userKey: bigint, slot: number, nowSec: number): void;
  capCount(userKey: bigint, slot: number, window: number, nowSec: number): number;
  capWindowEnd(userKey: bigint, slot: number, window: number, nowSec: number): number;
  capHasEntry(userKey: bigint, slot: number): number;
  capSeedWindow(userKey: bigint, slot: number, window: number, count: number, endSec: number, nowSec: number): number;
  /** Probabilities of the rows in the GBDT row buffer at byte offset `rows` into its score slots. */
  gbdtScore(rows: number, rowCount: number, featureCount: number): void;
  /** Same as gbdtScore, but writes each row's raw margin (log-odds). */
  gbdtMargin(rows: number, rowCount: number, featureCount: number): void;
}

const wasmDir = join(import.meta.dir, "..", "..", "wasm");
const instances = new WeakMap<WebAssembly.Memory, Map<WasmVariant, TmaxWasm>>();

/** wasm/ beside the sources, or the copy embedded in a `bun build --compile` binary. */
export function wasmFile(variant: WasmVariant): string {
  const name = `tmax.${variant}.wasm`;
  return IS_COMPILED ? join(BUNFS_ROOT, name) : join(wasmDir, name);
}

export function loadWasm(memory: WebAssembly.Memory, variant: WasmVariant): TmaxWasm {
  let byVariant = instances.get(memory);
  if (byVariant === undefined) instances.set(memory, (byVariant = new Map()));
  let wasm = byVariant.get(variant);
  if (wasm !== undefined) return wasm;
  // Each build keeps its own static data (e.g. Math.exp's table) at the same low addresses of the
  // shared memory: a second build instantiated over it would overwrite the first one's.
  const other = [...byVariant.keys()][0];
  if (other !== undefined) throw new Error(`wasm: the ${other} build already runs over this memory; one build per memory`);
  byVariant.set(variant, (wasm = instantiate(memory, variant)));
  return wasm;
}

function instantiate(memory: WebAssembly.Memory, variant: WasmVariant): TmaxWasm {
  const file = wasmFile(variant);
  if (!existsSync(file)) throw new Error(`${file} is missing: build the kernels with \`npm run build:wasm\``);
  const module = new WebAssembly.Module(readFileSync(file));
  const instance = new WebAssembly.Instance(module, { env: { memory, abort: abortFromWasm } });
  const wasm = { ...(instance.exports as unknown as Omit<TmaxWasm, "variant">), variant } as TmaxWasm;
  const heapBase = wasm.heapBase();
  if (heapBase > L.STATIC_END) throw new Error(`${file}: static data ends at ${heapBase}, past STATIC_END ${L.STATIC_END}`);
  return wasm;
}

function abortFromWasm(message: number, file: number, line: number, column: number): never {
  throw new Error(`wasm assertion failed at ${line}:${column} (message@${message}, file@${file})`);
}
