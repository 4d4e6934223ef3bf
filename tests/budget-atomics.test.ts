// The money invariant under real parallelism, without HTTP in the way: 4 Bun workers run the
// release WASM kernel over one shared memory, racing for the same small budgets. Every micro is
// accounted for: reserved + remaining == budget, nothing below zero, and the wins each worker saw
// add up to exactly what the books say was reserved.
import { expect, test } from "bun:test";
import { buildWasm } from "../scripts/build-wasm.ts";
import { createSharedMemory } from "../src/auction/memory.ts";
import { SharedBudget } from "../src/budget/shared-budget.ts";

const WORKERS = 4;
const AUCTIONS_PER_WORKER = 50_000;
const CAMPAIGNS = 2;
const BUDGET_MICROS = 100_000_000; // $100 each: about half of what 200,000 auctions want, so both run dry mid-race

test(`${WORKERS} workers x ${AUCTIONS_PER_WORKER} auctions racing for ${CAMPAIGNS} small budgets`, async () => {
  buildWasm();
  const memory = createSharedMemory();
  const budget = new SharedBudget(memory);
  for (let slot = 0; slot < CAMPAIGNS; slot++) budget.reset(slot, BUDGET_MICROS);
  const barrier = new Int32Array(new SharedArrayBuffer(4)); // workers start together, to race for real
  const results = await Promise.all(Array.from({ length: WORKERS }, (_, w) => new Promise<number[]>((resolve, reject) => {
    const worker = new Worker(new URL("./support/auction-worker.ts", import.meta.url).href);
    worker.onmessage = (e: MessageEvent<number[]>) => { resolve(e.data); worker.terminate(); };
    worker.onerror = (e) => reject(new Error(e.message));
    worker.postMessage({ memory, barrier, workers: WORKERS, workerIndex: w, auctions: AUCTIONS_PER_WORKER, campaigns: CAMPAIGNS, seed: 1000 + w });
  })));
  const wonCost = Array.from({ length: CAMPAIGNS }, (_, slot) => results.reduce((n, r) => n + r[slot]!, 0));
  for (let slot = 0; slot < CAMPAIGNS; slot++) {
    const books = budget.books(slot);
    expect(books.remainingMicros).toBeGreaterThanOrEqual(0);
    expect(books.reservedMicros + books.remainingMicros).toBe(BUDGET_MICROS);
    expect(books.reservedMicros).toBe(wonCost[slot]!);
    expect(books.remainingMicros).toBeLessThan(5_001); // ran dry: less than the largest cost is left
  }
}, 60_000);
