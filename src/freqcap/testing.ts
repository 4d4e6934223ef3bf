// Helpers for the frequency-cap tests: user keys that all land on one probe path (to fill it and
// force evictions), a seeded random source, and the table's bytes for comparing implementations.
import { layout as L } from "../auction/memory.ts";

const KEY_MIX = BigInt.asIntN(64, 0x9e3779b97f4a7c15n);

/** `count` distinct user keys whose table key for campaign `slot` has its home at entry `home`. */
export function collidingUserKeys(slot: number, home: number, count: number, seed: number): bigint[] {
  const rng = mulberry32(seed);
  const keys: bigint[] = [];
  for (let i = 0; i < count; i++) {
    const high = BigInt(Math.floor(rng() * 0xffff)) << 48n;
    const low = (BigInt(Math.floor(rng() * 0x7fffffff)) << 1n) | 1n;
    const entryKey = BigInt.asIntN(64, high | (BigInt(home & (L.FREQCAP_ENTRIES - 1)) << 32n) | low);
    keys.push(BigInt.asIntN(64, entryKey ^ BigInt.asIntN(64, BigInt(slot + 1) * KEY_MIX)));
  }
  return keys;
}

export function mulberry32(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The counter table and eviction lock, as bytes. */
export function tableBytes(memory: WebAssembly.Memory): Buffer {
  return Buffer.from(memory.buffer, L.FREQCAP_TABLE_BASE, L.FREQCAP_END - L.FREQCAP_TABLE_BASE);
}
