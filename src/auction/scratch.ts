// Writes one request's auction inputs into a worker's scratch area and reads the results back.
// Bids must be added imp by imp (beginImp, addBid..., then the next beginImp), as the kernel
// expects each imp's bids to be contiguous. Reused for every auction: it allocates nothing.
// The request's frequency-cap inputs (user key, time, mode) travel with it as call arguments;
// reset() turns caps off, setCaps() turns them on for one request.
import { layout as L, readI64, scratchOffset, writeI64 } from "./memory.ts";
import type { AuctionKernel } from "./kernel.ts";

export class AuctionScratch {
  readonly base: number;
  private readonly i32: Int32Array;
  private imps = 0;
  private bids = 0;
  private userKey = 0n;
  private nowSec = 0;
  private capMode: number = L.CAP_MODE_OFF;

  constructor(memory: WebAssembly.Memory, workerIndex: number) {
    this.base = scratchOffset(workerIndex);
    this.i32 = new Int32Array(memory.buffer);
  }

  get impCount(): number {
    return this.imps;
  }

  reset(): void {
    this.imps = 0;
    this.bids = 0;
    this.userKey = 0n;
    this.nowSec = 0;
    this.capMode = L.CAP_MODE_OFF;
  }

  /** Frequency caps for this request: `capMode` CAP_MODE_KEY with the user's key, or _OFF / _DENY without. */
  setCaps(userKey: bigint, nowSec: number, capMode: number): void {
    if (!(Number.isInteger(nowSec) && nowSec >= 0 && nowSec <= 0xffffffff)) throw new RangeError(`nowSec ${nowSec}`);
    if (capMode !== L.CAP_MODE_OFF && capMode !== L.CAP_MODE_KEY && capMode !== L.CAP_MODE_DENY) throw new RangeError(`capMode ${capMode}`);
    this.userKey = userKey;
    this.nowSec = nowSec;
    this.capMode = capMode;
  }

  /** Starts the next imp; returns its index. `at` 1 is first price, anything else second price. */
  beginImp(floorMicros: number, at: number): number {
    if (this.imps >= L.MAX_IMPS) throw new RangeError(`more than MAX_IMPS (${L.MAX_IMPS}) imps`);
    const impAt = this.base + this.imps * L.IMP_BYTES;
    writeI64(this.i32, impAt + L.IMP_FLOOR_OFF, floorMicros);
    this.i32[(impAt + L.IMP_AT_OFF) >> 2] = at === 1 ? 1 : 2;
    this.i32[(impAt + L.IMP_FIRST_BID_OFF) >> 2] = this.bids;
    this.i32[(impAt + L.IMP_BID_COUNT_OFF) >> 2] = 0;
    return this.imps++;
  }

  /** Adds a bid to the imp begun last; returns the bid's index (used to read the winner back). */
  addBid(priceMicros: number, budgetSlot: number, flags: number): number {
    if (this.imps === 0) throw new Error("addBid before beginImp");
    if (this.bids >= L.MAX_BIDS) throw new RangeError(`more than MAX_BIDS (${L.MAX_BIDS}) bids`);
    if (!(budgetSlot >= 0 && budgetSlot < L.MAX_CAMPAIGNS)) throw new RangeError(`budget slot ${budgetSlot}`);
    const bidAt = this.base + L.BIDS_OFF + this.bids * L.BID_BYTES;
    writeI64(this.i32, bidAt + L.BID_PRICE_OFF, priceMicros);
    this.i32[(bidAt + L.BID_SLOT_OFF) >> 2] = budgetSlot;
    this.i32[(bidAt + L.BID_FLAGS_OFF) >> 2] = flags;
    this.i32[(this.base + (this.imps - 1) * L.IMP_BYTES + L.IMP_BID_COUNT_OFF) >> 2]! += 1;
    return this.bids++;
  }

  run(kernel: AuctionKernel): number {
    return kernel.runAuction(this.base, this.imps, this.userKey, this.nowSec, this.capMode);
  }

  /** Winning bid index for imp `imp`, or -1. */
  winner(imp: number): number {
    return this.i32[(this.resultAt(imp) + L.RESULT_WINNER_OFF) >> 2] as number;
  }

  budgetSkips(imp: number): number {
    return this.i32[(this.resultAt(imp) + L.RESULT_BUDGET_SKIPS_OFF) >> 2] as number;
  }

  clearingPriceMicros(imp: number): number {
    return readI64(this.i32, this.resultAt(imp) + L.RESULT_PRICE_OFF);
  }

  costMicros(imp: number): number {
    return readI64(this.i32, this.resultAt(imp) + L.RESULT_COST_OFF);
  }

  bidSlot(bid: number): number {
    return this.i32[(this.base + L.BIDS_OFF + bid * L.BID_BYTES + L.BID_SLOT_OFF) >> 2] as number;
  }

  bidFlags(bid: number): number {
    return this.i32[(this.base + L.BIDS_OFF + bid * L.BID_BYTES + L.BID_FLAGS_OFF) >> 2] as number;
  }

  private resultAt(imp: number): number {
    return this.base + L.RESULTS_OFF + imp * L.RESULT_BYTES;
  }
}
