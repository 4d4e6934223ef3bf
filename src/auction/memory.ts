// Typed views over the shared WebAssembly memory, laid out by assembly/layout.ts (the one source of
// offsets). i64 money fields are written as two i32 halves so the hot path creates no BigInt.
import * as L from "../../assembly/layout.ts";

export { L as layout };

const TWO_POW_32 = 4294967296;

if (L.MEMORY_END > L.MEMORY_PAGES * L.PAGE_BYTES) {
  throw new Error(`layout: MEMORY_END ${L.MEMORY_END} exceeds ${L.MEMORY_PAGES} pages`);
}

export function createSharedMemory(): WebAssembly.Memory {
  return new WebAssembly.Memory({ initial: L.MEMORY_PAGES, maximum: L.MEMORY_PAGES, shared: true });
}

/** Writes a non-negative safe integer as a little-endian i64 at byte offset `at` (8-aligned). */
export function writeI64(i32: Int32Array, at: number, value: number): void {
  if (!(Number.isSafeInteger(value) && value >= 0)) throw new RangeError(`i64 field: bad value ${value}`);
  const index = at >> 2;
  i32[index] = value % TWO_POW_32;
  i32[index + 1] = Math.floor(value / TWO_POW_32);
}

export function readI64(i32: Int32Array, at: number): number {
  const index = at >> 2;
  return (i32[index + 1] as number) * TWO_POW_32 + ((i32[index] as number) >>> 0);
}

/** Byte offset of a worker's scratch area. */
export function scratchOffset(workerIndex: number): number {
  if (!(Number.isInteger(workerIndex) && workerIndex >= 0 && workerIndex < L.MAX_WORKERS)) {
    throw new RangeError(`worker index ${workerIndex} outside 0..${L.MAX_WORKERS - 1}`);
  }
  return L.SCRATCH_BASE + workerIndex * L.SCRATCH_BYTES;
}

export function budgetSlotOffset(slot: number): number {
  if (!(Number.isInteger(slot) && slot >= 0 && slot < L.MAX_CAMPAIGNS)) {
    throw new RangeError(`budget slot ${slot} outside 0..${L.MAX_CAMPAIGNS - 1}`);
  }
  return L.BUDGET_BASE + slot * L.BUDGET_SLOT_BYTES;
}
