// A pod's per-campaign budget board in a SharedArrayBuffer (not the WASM memory: the kernel never
// reads it): notice counters written by any worker, lease figures written by the main thread's
// control plane, read by /admin/budgets and /metrics in any worker. Integer micros, atomics only.
//   per campaign slot, BOARD_FIELDS x i64:
//   +0 day (yyyymmdd) the counters belong to    +1 committed (billing notices)
//   +2 released (loss notices)                   +3 upstream left (region available + global unallocated, last seen)
//   +4 live leases held by this pod              +5 bids refused for budget (demand the leases did not cover)
export const BOARD_FIELDS = 6;
export const BOARD_DAY = 0;
export const BOARD_COMMITTED = 1;
export const BOARD_RELEASED = 2;
export const BOARD_UPSTREAM_LEFT = 3;
export const BOARD_LEASES = 4;
export const BOARD_STARVED = 5;

export class BudgetBoard {
  readonly i64: BigInt64Array;

  constructor(readonly buffer: SharedArrayBuffer) {
    this.i64 = new BigInt64Array(buffer);
  }

  static allocate(campaigns: number): BudgetBoard {
    return new BudgetBoard(new SharedArrayBuffer(Math.max(1, campaigns) * BOARD_FIELDS * 8));
  }

  get(slot: number, field: number): number {
    return Number(Atomics.load(this.i64, slot * BOARD_FIELDS + field));
  }

  set(slot: number, field: number, value: number): void {
    Atomics.store(this.i64, slot * BOARD_FIELDS + field, BigInt(value));
  }

  add(slot: number, field: number, micros: number): void {
    Atomics.add(this.i64, slot * BOARD_FIELDS + field, BigInt(micros));
  }
}
