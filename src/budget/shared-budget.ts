// Campaign budgets in the shared memory's budget slots (layout in assembly/layout.ts): every worker
// reserves against the same atomics, so no campaign can be driven below zero by concurrent wins.
// The auction kernel does the reservations; this class sets budgets, adds and takes back lease
// money (the pod's control plane, src/budget/pod-leases.ts) and reads the books.
import { budgetSlotOffset, layout as L } from "../auction/memory.ts";

export interface BudgetBooks {
  remainingMicros: number;
  reservedMicros: number;
}

export class SharedBudget {
  private readonly i64: BigInt64Array;

  constructor(memory: WebAssembly.Memory) {
    this.i64 = new BigInt64Array(memory.buffer);
  }

  /** Sets a campaign's spendable budget and clears its reservations (start of day, main thread only). */
  reset(slot: number, budgetMicros: number): void {
    if (!(Number.isSafeInteger(budgetMicros) && budgetMicros >= 0)) {
      throw new RangeError(`budget for slot ${slot} must be non-negative integer micros, got ${budgetMicros}`);
    }
    const index = budgetSlotOffset(slot) >> 3;
    Atomics.store(this.i64, index + L.BUDGET_RESERVED_OFF / 8, 0n);
    Atomics.store(this.i64, index + L.BUDGET_REMAINING_OFF / 8, BigInt(budgetMicros));
  }

  /** Adds a granted lease to what the slot may spend (atomic: workers reserve concurrently). */
  addLease(slot: number, micros: number): void {
    if (!(Number.isSafeInteger(micros) && micros > 0)) throw new RangeError(`lease for slot ${slot} must be positive integer micros, got ${micros}`);
    Atomics.add(this.i64, (budgetSlotOffset(slot) >> 3) + L.BUDGET_REMAINING_OFF / 8, BigInt(micros));
  }

  /**
   * Takes an expiring lease's unspent part out of the slot, atomically, so it can no longer be spent
   * here: spending is attributed to the oldest lease first, so the expiring (oldest) lease still holds
   * min(leaseMicros, remaining - newerLeasesMicros), never below 0. Returns what was taken out.
   */
  takeUnspent(slot: number, leaseMicros: number, newerLeasesMicros: number): number {
    const at = (budgetSlotOffset(slot) >> 3) + L.BUDGET_REMAINING_OFF / 8;
    for (;;) {
      const remaining = Atomics.load(this.i64, at);
      const unspent = remaining - BigInt(newerLeasesMicros);
      const take = unspent <= 0n ? 0n : unspent < BigInt(leaseMicros) ? unspent : BigInt(leaseMicros);
      if (take === 0n) return 0;
      if (Atomics.compareExchange(this.i64, at, remaining, remaining - take) === remaining) return Number(take);
    }
  }

  /** Day roll: clears reservations once nothing is left to spend (the caller took every lease out first). */
  clearReserved(slot: number): void {
    const index = budgetSlotOffset(slot) >> 3;
    if (Atomics.load(this.i64, index + L.BUDGET_REMAINING_OFF / 8) !== 0n) throw new Error(`slot ${slot}: clearReserved with money still spendable`);
    Atomics.store(this.i64, index + L.BUDGET_RESERVED_OFF / 8, 0n);
  }

  /** What the slot can still spend (one atomic load; the control plane's refill check). */
  remaining(slot: number): number {
    return Number(Atomics.load(this.i64, (budgetSlotOffset(slot) >> 3) + L.BUDGET_REMAINING_OFF / 8));
  }

  books(slot: number): BudgetBooks {
    const index = budgetSlotOffset(slot) >> 3;
    const remaining = Atomics.load(this.i64, index + L.BUDGET_REMAINING_OFF / 8);
    const reserved = Atomics.load(this.i64, index + L.BUDGET_RESERVED_OFF / 8);
    if (remaining < 0n) throw new Error(`invariant broken: slot ${slot} remaining ${remaining} < 0`);
    return { remainingMicros: Number(remaining), reservedMicros: Number(reserved) };
  }
}
