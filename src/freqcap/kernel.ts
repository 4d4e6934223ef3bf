// One interface, two implementations of the frequency-cap kernel: the AssemblyScript build (debug or
// release) over the shared memory, and the plain-TypeScript reference for the differential tests.
// Results are the layout's CAP_OK / CAP_CAPPED / CAP_NO_ROOM. The auction kernel calls the same
// functions inside its own WASM call; this interface is for seeding, reading and tests.
import { loadWasm, type WasmVariant } from "../wasm/load.ts";
import { FreqCapReference } from "./reference.ts";

export interface FreqCapKernel {
  readonly name: string;
  /** Would a take succeed now? (read-only) */
  check(userKey: bigint, slot: number, nowSec: number): number;
  /** Counts one impression in every window of the campaign's caps unless one is full. */
  take(userKey: bigint, slot: number, nowSec: number): number;
  /** Undoes one take made at the same nowSec. */
  release(userKey: bigint, slot: number, nowSec: number): void;
  /** Live count of cap `window` (0 when its window has closed or the user is unknown). */
  count(userKey: bigint, slot: number, window: number, nowSec: number): number;
  /** End (unix s) of cap `window`'s open window, 0 if none. */
  windowEnd(userKey: bigint, slot: number, window: number, nowSec: number): number;
  /** Does the table hold an entry for (user, campaign)? A miss is when a remote store is asked. */
  hasEntry(userKey: bigint, slot: number): boolean;
  /** Merges a remote count into cap `window` (larger count and later end win). */
  seedWindow(userKey: bigint, slot: number, window: number, count: number, endSec: number, nowSec: number): number;
}

export function loadWasmFreqCap(memory: WebAssembly.Memory, variant: WasmVariant): FreqCapKernel {
  const wasm = loadWasm(memory, variant);
  return {
    name: `wasm-${variant}`,
    check: wasm.capCheck,
    take: wasm.capTake,
    release: wasm.capRelease,
    count: wasm.capCount,
    windowEnd: (userKey, slot, window, nowSec) => wasm.capWindowEnd(userKey, slot, window, nowSec) >>> 0,
    hasEntry: (userKey, slot) => wasm.capHasEntry(userKey, slot) !== 0,
    seedWindow: wasm.capSeedWindow,
  };
}

export function referenceFreqCap(memory: WebAssembly.Memory): FreqCapKernel {
  const ref = new FreqCapReference(memory);
  return {
    name: "ts-reference",
    check: (u, s, now) => ref.check(u, s, now),
    take: (u, s, now) => ref.take(u, s, now),
    release: (u, s, now) => ref.release(u, s, now),
    count: (u, s, w, now) => ref.count(u, s, w, now),
    windowEnd: (u, s, w, now) => ref.windowEnd(u, s, w, now),
    hasEntry: (u, s) => ref.hasEntry(u, s),
    seedWindow: (u, s, w, c, end, now) => ref.seedWindow(u, s, w, c, end, now),
  };
}
