// Plain-TypeScript reference of assembly/auction.ts, line for line in meaning, used only by the
// differential tests (WASM debug and release must agree with it on every auction).
import { layout as L, readI64, writeI64 } from "./memory.ts";
import type { FreqCapReference } from "../freqcap/reference.ts";

export interface ReferenceMemory { i32: Int32Array; i64: BigInt64Array; caps: FreqCapReference }
export interface CapInputs { userKey: bigint; nowSec: number; capMode: number }

function costOf(priceCpmMicros: number): number {
  return Math.ceil(priceCpmMicros / 1000);
}

export function reserveReference(i64: BigInt64Array, slot: number, cost: number): boolean {
  const index = (L.BUDGET_BASE + slot * L.BUDGET_SLOT_BYTES) >> 3;
  const want = BigInt(cost);
  let remaining = Atomics.load(i64, index + L.BUDGET_REMAINING_OFF / 8);
  while (remaining >= want) {
    const seen = Atomics.compareExchange(i64, index + L.BUDGET_REMAINING_OFF / 8, remaining, remaining - want);
    if (seen === remaining) {
      Atomics.add(i64, index + L.BUDGET_RESERVED_OFF / 8, want);
      return true;
    }
    remaining = seen;
  }
  return false;
}

export function runAuctionReference(m: ReferenceMemory, scratch: number, impCount: number, caps: CapInputs): number {
  let won = 0;
  for (let imp = 0; imp < impCount; imp++) if (auctionImp(m, scratch, imp, caps)) won++;
  return won;
}

function field(i32: Int32Array, at: number): number {
  return i32[at >> 2] as number;
}

function auctionImp(m: ReferenceMemory, scratch: number, imp: number, caps: CapInputs): boolean {
  const { i32, i64 } = m;
  const impAt = scratch + imp * L.IMP_BYTES;
  const floor = readI64(i32, impAt + L.IMP_FLOOR_OFF);
  const at = field(i32, impAt + L.IMP_AT_OFF);
  const first = field(i32, impAt + L.IMP_FIRST_BID_OFF);
  const count = field(i32, impAt + L.IMP_BID_COUNT_OFF);
  const resultAt = scratch + L.RESULTS_OFF + imp * L.RESULT_BYTES;
  let skips = 0;
  if (caps.capMode !== L.CAP_MODE_OFF) markCapped(m, scratch, first, count, floor, caps);
  for (;;) {
    const winner = bestBid(i32, scratch, first, count, floor);
    if (winner < 0) break;
    const bidAt = scratch + L.BIDS_OFF + winner * L.BID_BYTES;
    const bidPrice = readI64(i32, bidAt + L.BID_PRICE_OFF);
    const price = at === 1 ? bidPrice : secondPrice(i32, scratch, first, count, floor, winner, bidPrice);
    const cost = costOf(price);
    const slot = field(i32, bidAt + L.BID_SLOT_OFF);
    if (caps.capMode === L.CAP_MODE_KEY) {
      const taken = m.caps.take(caps.userKey, slot, caps.nowSec);
      if (taken !== L.CAP_OK) {
        flagCapped(i32, bidAt, taken);
        continue;
      }
    }
    if (reserveReference(i64, slot, cost)) {
      writeResult(i32, resultAt, winner, skips, price, cost);
      return true;
    }
    if (caps.capMode === L.CAP_MODE_KEY) m.caps.release(caps.userKey, slot, caps.nowSec);
    i32[(bidAt + L.BID_FLAGS_OFF) >> 2] = field(i32, bidAt + L.BID_FLAGS_OFF) | L.FLAG_NO_BUDGET;
    skips++;
  }
  writeResult(i32, resultAt, -1, skips, 0, 0);
  return false;
}

function markCapped(m: ReferenceMemory, scratch: number, first: number, count: number, floor: number, caps: CapInputs): void {
  for (let b = first; b < first + count; b++) {
    const bidAt = scratch + L.BIDS_OFF + b * L.BID_BYTES;
    if (field(m.i32, bidAt + L.BID_FLAGS_OFF) !== 0 || readI64(m.i32, bidAt + L.BID_PRICE_OFF) < floor) continue;
    const slot = field(m.i32, bidAt + L.BID_SLOT_OFF);
    if (!m.caps.hasRules(slot)) continue;
    const verdict = caps.capMode === L.CAP_MODE_DENY ? L.CAP_CAPPED : m.caps.check(caps.userKey, slot, caps.nowSec);
    if (verdict !== L.CAP_OK) flagCapped(m.i32, bidAt, verdict);
  }
}

function flagCapped(i32: Int32Array, bidAt: number, verdict: number): void {
  const flags = L.FLAG_FREQ_CAPPED | (verdict === L.CAP_NO_ROOM ? L.FLAG_FREQ_NO_ROOM : 0);
  i32[(bidAt + L.BID_FLAGS_OFF) >> 2] = field(i32, bidAt + L.BID_FLAGS_OFF) | flags;
}

function bestBid(i32: Int32Array, scratch: number, first: number, count: number, floor: number): number {
  let best = -1;
  let bestPrice = 0;
  for (let b = first; b < first + count; b++) {
    const bidAt = scratch + L.BIDS_OFF + b * L.BID_BYTES;
    if (field(i32, bidAt + L.BID_FLAGS_OFF) !== 0) continue;
    const price = readI64(i32, bidAt + L.BID_PRICE_OFF);
    if (price < floor) continue;
    if (best < 0 || price > bestPrice) {
      best = b;
      bestPrice = price;
    }
  }
  return best;
}

function secondPrice(i32: Int32Array, scratch: number, first: number, count: number, floor: number, winner: number, winPrice: number): number {
  let runnerUp = floor;
  for (let b = first; b < first + count; b++) {
    if (b === winner) continue;
    const bidAt = scratch + L.BIDS_OFF + b * L.BID_BYTES;
    if (field(i32, bidAt + L.BID_FLAGS_OFF) !== 0) continue;
    const price = readI64(i32, bidAt + L.BID_PRICE_OFF);
    if (price > runnerUp) runnerUp = price;
  }
  return Math.min(runnerUp + L.PRICE_INCREMENT_MICROS, winPrice);
}

function writeResult(i32: Int32Array, at: number, winner: number, skips: number, price: number, cost: number): void {
  i32[(at + L.RESULT_WINNER_OFF) >> 2] = winner;
  i32[(at + L.RESULT_BUDGET_SKIPS_OFF) >> 2] = skips;
  writeI64(i32, at + L.RESULT_PRICE_OFF, price);
  writeI64(i32, at + L.RESULT_COST_OFF, cost);
}
