// Updates of one history entry (device or IP table) for one request: the sliding-window rate, the
// totals, the timing between requests. Shared by all workers through Atomics; no allocation.
//
// The rate is a sliding-window counter: counts of the current and the previous fixed window, the
// previous one weighted by how much of it still overlaps the sliding window:
//   estimate = prev * (1 - elapsed / window) + cur.
import type { SharedTable } from "./table.ts";
import { H } from "./state.ts";
import { FRAUD_LIMITS } from "../limits.ts";
import { mix32 } from "./hash.ts";

/** Counts this request in the entry at `at` and returns the sliding-window estimate (this request included). */
export function countRate(table: SharedTable, at: number, clockMs: number, windowMs: number): number {
  const w = table.words;
  const epoch = Math.floor(clockMs / windowMs);
  const seen = Atomics.load(w, at + H.EPOCH);
  if (seen !== epoch && Atomics.compareExchange(w, at + H.EPOCH, seen, epoch) === seen) {
    const cur = Atomics.exchange(w, at + H.CUR, 0);
    Atomics.store(w, at + H.PREV, seen === epoch - 1 ? cur : 0);
  }
  const cur = Atomics.add(w, at + H.CUR, 1) + 1;
  const elapsed = (clockMs - epoch * windowMs) / windowMs;
  return Atomics.load(w, at + H.PREV) * (1 - elapsed) + cur;
}

/** First-seen and total count: call once per request (after upsert). Returns the total including this one. */
export function countTotal(table: SharedTable, at: number, clockSec: number): number {
  const w = table.words;
  if (Atomics.load(w, at + H.FIRST_SEC) === 0) Atomics.compareExchange(w, at + H.FIRST_SEC, 0, clockSec);
  const total = Atomics.load(w, at + H.TOTAL);
  if (total >= FRAUD_LIMITS.maxHistoryCount) return total;
  return Atomics.add(w, at + H.TOTAL, 1) + 1;
}

/**
 * Timing: the gap since the entry's previous request and a running mean of how much consecutive gaps
 * differ (jitter). Returns jitter / gap (small = machine-regular timing), or NaN before three requests.
 */
export function countTiming(table: SharedTable, at: number, clockMs: number, total: number): number {
  const w = table.words;
  const last = Atomics.exchange(w, at + H.LAST_MS, clockMs);
  if (total < 2) return Number.NaN;
  const gap = Math.max(0, (clockMs - last) | 0);
  const prevGap = Atomics.exchange(w, at + H.GAP_MS, gap);
  if (total < 3) return Number.NaN;
  const diff = Math.abs(gap - prevGap);
  const jitter = total === 3 ? diff : w[at + H.JITTER_MS]! + ((diff - w[at + H.JITTER_MS]!) >> 2);
  Atomics.store(w, at + H.JITTER_MS, jitter);
  return jitter / Math.max(gap, 1);
}

/** Marks the 32-bit device hash in the IP entry's device bitmap; returns the distinct devices it now suggests (bits set). */
export function countDevice(table: SharedTable, at: number, deviceHash: number): number {
  const bit = 1 << (mix32(deviceHash, 0x2545f491) >>> 27); // FNV's top bits mix poorly: re-mix first
  const before = Atomics.or(table.words, at + H.COUNTRY_OR_DEVICES, bit);
  return popcount(before | bit);
}

function popcount(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24);
}

/** Packs a 2- or 3-letter country code into an i32 (0 = none). */
export function packCountry(code: string | undefined): number {
  if (code === undefined || code.length < 2 || code.length > 3) return 0;
  return (code.charCodeAt(0) << 16) | (code.charCodeAt(1) << 8) | (code.length === 3 ? code.charCodeAt(2) : 0);
}
