// Campaign budgets in the shared memory's budget slots (layout in assembly/layout.ts): every worker
// reserves against the same atomics, so no campaign can be driven below zero by concurrent wins.
// The auction kernel does the reservations; this class sets budgets and reads the books.
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

  books(slot: number): BudgetBooks {
    const index = budgetSlotOffset(slot) >> 3;
    const remaining = Atomics.load(this.i64, index + L.BUDGET_REMAINING_OFF / 8);
    const reserved = Atomics.load(this.i64, index + L.BUDGET_RESERVED_OFF / 8);
    if (remaining < 0n) throw new Error(`invariant broken: slot ${slot} remaining ${remaining} < 0`);
    return { remainingMicros: Number(remaining), reservedMicros: Number(reserved) };
  }
}
