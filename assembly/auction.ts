// The auction kernel: for every imp of one bid request, pick the winner among eligible bids
// (at or above the floor, not blocked), price it (first or second price), and reserve its cost
// against the campaign's budget slot in shared memory. A winner that cannot afford its cost is
// marked FLAG_NO_BUDGET and the imp is auctioned again without it, so the next bid may win.
//
// Frequency caps (freqcap.ts), for the request's user key: before each imp's auction every bid
// whose campaign is capped for the user is marked FLAG_FREQ_CAPPED (ineligible, so it neither wins
// nor sets the second price); the winner's impression is then counted with an atomic take (a race
// lost to another worker marks it capped and the imp is auctioned again), and released again if
// its budget then refuses the cost. Count and budget reservation happen in this one call.
//
// Layout: see layout.ts. All money is integer micros; CPM prices are per thousand impressions.

import {
  BUDGET_BASE, BUDGET_SLOT_BYTES, BUDGET_REMAINING_OFF, BUDGET_RESERVED_OFF, MAX_CAMPAIGNS,
  MAX_IMPS, MAX_BIDS, IMP_BYTES, IMP_FLOOR_OFF, IMP_AT_OFF, IMP_FIRST_BID_OFF, IMP_BID_COUNT_OFF,
  BIDS_OFF, BID_BYTES, BID_PRICE_OFF, BID_SLOT_OFF, BID_FLAGS_OFF,
  RESULTS_OFF, RESULT_BYTES, RESULT_WINNER_OFF, RESULT_BUDGET_SKIPS_OFF, RESULT_PRICE_OFF,
  RESULT_COST_OFF, FLAG_NO_BUDGET, PRICE_INCREMENT_MICROS, STATIC_END,
  CAP_OK, CAP_CAPPED, CAP_NO_ROOM, CAP_MODE_OFF, CAP_MODE_KEY, CAP_MODE_DENY, FLAG_FREQ_CAPPED, FLAG_FREQ_NO_ROOM,
} from "./layout";
import { capCheck, capHasRules, capRelease, capTake } from "./freqcap";

export const STATIC_END_BYTES: i32 = STATIC_END;

/** Where this build's static data ends; the loader refuses a build whose data would overlap budgets. */
export function heapBase(): i32 {
  return <i32>__heap_base;
}

/** Cost in micros of one impression at a CPM price, rounded up so spend is never undercounted. */
// @ts-ignore: decorator
@inline function costOf(priceCpmMicros: i64): i64 {
  return (priceCpmMicros + 999) / 1000;
}

/** Atomically moves `cost` from remaining to reserved; false (and no change) if remaining < cost. */
export function reserve(slot: i32, cost: i64): bool {
  assert(slot >= 0 && slot < MAX_CAMPAIGNS, "budget slot out of range");
  assert(cost > 0, "cost must be positive");
  const at = <usize>(BUDGET_BASE + slot * BUDGET_SLOT_BYTES);
  let remaining = atomic.load<i64>(at, BUDGET_REMAINING_OFF);
  while (remaining >= cost) {
    const seen = atomic.cmpxchg<i64>(at, remaining, remaining - cost, BUDGET_REMAINING_OFF);
    if (seen == remaining) {
      atomic.add<i64>(at, cost, BUDGET_RESERVED_OFF);
      return true;
    }
    remaining = seen;
  }
  return false;
}

/**
 * Runs the auction of every imp in the scratch area at `scratch`; returns the number of imps won.
 * `userKey`, `nowSec` (unix s) and `capMode` (CAP_MODE_*) apply the frequency caps.
 */
export function runAuction(scratch: i32, impCount: i32, userKey: i64, nowSec: u32, capMode: i32): i32 {
  assert(impCount >= 0 && impCount <= MAX_IMPS, "impCount out of range");
  assert(capMode >= CAP_MODE_OFF && capMode <= CAP_MODE_DENY, "capMode out of range");
  let won = 0;
  for (let i = 0; i < impCount; i++) {
    if (auctionImp(<usize>scratch, i, userKey, nowSec, capMode)) won++;
  }
  return won;
}

function auctionImp(scratch: usize, imp: i32, userKey: i64, nowSec: u32, capMode: i32): bool {
  const impAt = scratch + <usize>(imp * IMP_BYTES);
  const floor = load<i64>(impAt, IMP_FLOOR_OFF);
  const at = load<i32>(impAt, IMP_AT_OFF);
  const first = load<i32>(impAt, IMP_FIRST_BID_OFF);
  const count = load<i32>(impAt, IMP_BID_COUNT_OFF);
  assert(first >= 0 && count >= 0 && first + count <= MAX_BIDS, "bid range out of bounds");
  const resultAt = scratch + <usize>(RESULTS_OFF + imp * RESULT_BYTES);
  let budgetSkips = 0;
  if (capMode != CAP_MODE_OFF) markCapped(scratch, first, count, floor, userKey, nowSec, capMode);
  while (true) {
    const winner = bestBid(scratch, first, count, floor);
    if (winner < 0) break;
    const bidAt = scratch + <usize>(BIDS_OFF + winner * BID_BYTES);
    const bidPrice = load<i64>(bidAt, BID_PRICE_OFF);
    const price = at == 1 ? bidPrice : secondPrice(scratch, first, count, floor, winner, bidPrice);
    const cost = costOf(price);
    const slot = load<i32>(bidAt, BID_SLOT_OFF);
    if (capMode == CAP_MODE_KEY) {
      const taken = capTake(userKey, slot, nowSec);
      if (taken != CAP_OK) {
        flagCapped(bidAt, taken);
        continue;
      }
    }
    if (reserve(slot, cost)) {
      writeResult(resultAt, winner, budgetSkips, price, cost);
      return true;
    }
    if (capMode == CAP_MODE_KEY) capRelease(userKey, slot, nowSec);
    store<i32>(bidAt, load<i32>(bidAt, BID_FLAGS_OFF) | FLAG_NO_BUDGET, BID_FLAGS_OFF);
    budgetSkips++;
  }
  writeResult(resultAt, -1, budgetSkips, 0, 0);
  return false;
}

/** Marks every otherwise eligible bid (unflagged, at or above the floor) whose campaign is capped. */
function markCapped(scratch: usize, first: i32, count: i32, floor: i64, userKey: i64, nowSec: u32, capMode: i32): void {
  for (let b = first; b < first + count; b++) {
    const bidAt = scratch + <usize>(BIDS_OFF + b * BID_BYTES);
    if (load<i32>(bidAt, BID_FLAGS_OFF) != 0 || load<i64>(bidAt, BID_PRICE_OFF) < floor) continue;
    const slot = load<i32>(bidAt, BID_SLOT_OFF);
    if (!capHasRules(slot)) continue;
    const verdict = capMode == CAP_MODE_DENY ? CAP_CAPPED : capCheck(userKey, slot, nowSec);
    if (verdict != CAP_OK) flagCapped(bidAt, verdict);
  }
}

// @ts-ignore: decorator
@inline function flagCapped(bidAt: usize, verdict: i32): void {
  const flags = FLAG_FREQ_CAPPED | (verdict == CAP_NO_ROOM ? FLAG_FREQ_NO_ROOM : 0);
  store<i32>(bidAt, load<i32>(bidAt, BID_FLAGS_OFF) | flags, BID_FLAGS_OFF);
}

/** Index of the highest eligible bid at or above the floor; the lowest index wins a tie; -1 if none. */
function bestBid(scratch: usize, first: i32, count: i32, floor: i64): i32 {
  let best = -1;
  let bestPrice: i64 = 0;
  for (let b = first; b < first + count; b++) {
    const bidAt = scratch + <usize>(BIDS_OFF + b * BID_BYTES);
    if (load<i32>(bidAt, BID_FLAGS_OFF) != 0) continue;
    const price = load<i64>(bidAt, BID_PRICE_OFF);
    if (price < floor) continue;
    if (best < 0 || price > bestPrice) {
      best = b;
      bestPrice = price;
    }
  }
  return best;
}

/** max(runner-up, floor) + increment, never above the winner's own bid. */
function secondPrice(scratch: usize, first: i32, count: i32, floor: i64, winner: i32, winPrice: i64): i64 {
  let runnerUp = floor;
  for (let b = first; b < first + count; b++) {
    if (b == winner) continue;
    const bidAt = scratch + <usize>(BIDS_OFF + b * BID_BYTES);
    if (load<i32>(bidAt, BID_FLAGS_OFF) != 0) continue;
    const price = load<i64>(bidAt, BID_PRICE_OFF);
    if (price > runnerUp) runnerUp = price;
  }
  const price = runnerUp + PRICE_INCREMENT_MICROS;
  return price < winPrice ? price : winPrice;
}

// @ts-ignore: decorator
@inline function writeResult(at: usize, winner: i32, skips: i32, price: i64, cost: i64): void {
  store<i32>(at, winner, RESULT_WINNER_OFF);
  store<i32>(at, skips, RESULT_BUDGET_SKIPS_OFF);
  store<i64>(at, price, RESULT_PRICE_OFF);
  store<i64>(at, cost, RESULT_COST_OFF);
}
