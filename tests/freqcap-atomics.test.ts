// Frequency caps under real parallelism, without HTTP in the way: 4 Bun workers run the release WASM
// build over one shared memory (src/freqcap/race-worker.ts), all racing for the same user. No
// interleaving may count past a cap, lose a count, or put one key in two entries.
import { expect, test } from "bun:test";
import { buildWasm } from "../scripts/build-wasm.ts";
import { createSharedMemory, layout as L } from "../src/auction/memory.ts";
import { SharedBudget } from "../src/budget/shared-budget.ts";
import { FreqCapTable } from "../src/freqcap/table.ts";
import { referenceFreqCap } from "../src/freqcap/kernel.ts";
import { collidingUserKeys } from "../src/freqcap/testing.ts";
import { EVICT_ROUND_SEC, type RaceJob } from "../src/freqcap/race-worker.ts";

const WORKERS = 4;
const NOW = 1_760_000_000;
const USER = 0x0123_4567_89ab_cdefn;

type Job = Omit<RaceJob, "memory" | "barrier" | "workers" | "workerIndex">;

async function race(memory: WebAssembly.Memory, job: Job): Promise<number[][]> {
  buildWasm();
  const barrier = new Int32Array(new SharedArrayBuffer(12));
  return await Promise.all(Array.from({ length: WORKERS }, (_, workerIndex) => new Promise<number[]>((resolve, reject) => {
    const worker = new Worker(new URL("../src/freqcap/race-worker.ts", import.meta.url).href);
    worker.onmessage = (e: MessageEvent<number[]>) => { resolve(e.data); worker.terminate(); };
    worker.onerror = (e) => reject(new Error(e.message));
    worker.postMessage({ ...job, memory, barrier, workers: WORKERS, workerIndex } satisfies RaceJob);
  })));
}

const sum = (rows: number[][], i: number) => rows.reduce((n, r) => n + r[i]!, 0);

test(`${WORKERS} workers take one user's cap at once: exactly max succeed, in every window`, async () => {
  const memory = createSharedMemory();
  // The short window is generous, the long one binds: takes reserve the first, fail the second, release.
  new FreqCapTable(memory).setRules(0, [{ max: 1_000_000, windowSec: 60 }, { max: 200_000, windowSec: 86_400 }]);
  const results = await race(memory, { mode: "take", userKeys: [USER], slot: 0, otherSlot: 0, attempts: 100_000, nowSec: NOW });
  const caps = referenceFreqCap(memory);
  expect(sum(results, 0)).toBe(200_000);
  expect(caps.count(USER, 0, 1, NOW)).toBe(200_000);
  expect(caps.count(USER, 0, 0, NOW)).toBe(200_000); // every reservation of a refused take was released
}, 60_000);

test(`${WORKERS} workers auction for one user: the capped campaign wins exactly max times, then the next bid`, async () => {
  const memory = createSharedMemory();
  const budget = new SharedBudget(memory);
  budget.reset(0, 1_000_000_000);
  budget.reset(1, 1_000_000_000);
  budget.reset(2, 1_010 * 700); // the second capped campaign can afford 700 of its 1,000 allowed
  new FreqCapTable(memory).setRules(0, [{ max: 1_000, windowSec: 3600 }]);
  new FreqCapTable(memory).setRules(2, [{ max: 1_000, windowSec: 3600 }]);
  const capped = await race(memory, { mode: "auction", userKeys: [USER], slot: 0, otherSlot: 1, attempts: 2_000, nowSec: NOW });
  expect(sum(capped, 0)).toBe(1_000);
  expect(sum(capped, 1)).toBe(WORKERS * 2_000 - 1_000);
  const poor = await race(memory, { mode: "auction", userKeys: [USER], slot: 2, otherSlot: 1, attempts: 2_000, nowSec: NOW });
  expect(sum(poor, 0)).toBe(700);
  expect(referenceFreqCap(memory).count(USER, 2, 0, NOW)).toBe(700); // budget refusals gave their counts back
  expect(budget.books(2)).toEqual({ remainingMicros: 0, reservedMicros: 1_010 * 700 });
}, 60_000);

test(`${WORKERS} workers fill one probe path while evicting expired entries: no key counted twice or lost`, async () => {
  const memory = createSharedMemory();
  new FreqCapTable(memory).setRules(0, [{ max: 3, windowSec: 3600 }]);
  const caps = referenceFreqCap(memory);
  const stale = collidingUserKeys(0, 0x2468, L.FREQCAP_PROBE_LIMIT, 1);
  for (const key of stale) caps.take(key, 0, NOW - 7_200); // a full path of expired entries
  const keys = collidingUserKeys(0, 0x2468, 40, 2);
  const results = await race(memory, { mode: "take", userKeys: keys, slot: 0, otherSlot: 0, attempts: 4_000, nowSec: NOW });
  let placed = 0;
  keys.forEach((key, k) => {
    const taken = sum(results, k);
    expect(caps.count(key, 0, 0, NOW)).toBe(taken); // every success is in the key's one entry
    expect(taken).toBeLessThanOrEqual(3);
    if (caps.hasEntry(key, 0)) placed++;
  });
  expect(placed).toBe(L.FREQCAP_PROBE_LIMIT); // every expired entry was reused, no live one taken
  for (const key of stale) expect(caps.hasEntry(key, 0)).toBe(false);
}, 60_000);

test(`${WORKERS} workers insert the same new key into a full path of expired entries, round after round: never twice`, async () => {
  const ROUNDS = 20_000;
  const memory = createSharedMemory();
  new FreqCapTable(memory).setRules(0, [{ max: 1, windowSec: 3600 }]);
  const caps = referenceFreqCap(memory);
  for (const key of collidingUserKeys(0, 0x3579, L.FREQCAP_PROBE_LIMIT, 3)) caps.take(key, 0, NOW - EVICT_ROUND_SEC);
  const results = await race(memory, { mode: "evict", userKeys: [], slot: 0, otherSlot: 0, attempts: ROUNDS, nowSec: NOW, home: 0x3579, seed: 4 });
  const perRound = Array.from({ length: ROUNDS }, (_, r) => sum(results, r));
  expect(perRound.filter((n) => n > 1)).toEqual([]); // a key in two entries would let two workers take a max of 1
  expect(perRound.filter((n) => n === 1).length).toBeGreaterThan(ROUNDS * 0.99); // and the evictions did happen
}, 60_000);

test(`a take reviving an expired entry while ${WORKERS - 1} workers evict that path: its count never lands elsewhere`, async () => {
  const ROUNDS = 20_000;
  const memory = createSharedMemory();
  // Three windows: more to reserve between finding the entry and checking it is still ours.
  new FreqCapTable(memory).setRules(0, [{ max: 1, windowSec: 3600 }, { max: 1000, windowSec: 3601 }, { max: 1000, windowSec: 3602 }]);
  const caps = referenceFreqCap(memory);
  const [reviving, ...others] = collidingUserKeys(0, 0x4680, L.FREQCAP_PROBE_LIMIT, 5);
  for (const key of [reviving!, ...others]) caps.take(key, 0, NOW - EVICT_ROUND_SEC);
  const results = await race(memory, { mode: "revive", userKeys: [reviving!], slot: 0, otherSlot: 0, attempts: ROUNDS, nowSec: NOW, home: 0x4680, seed: 6 });
  const reviverTakes = results[0]!;
  expect(reviverTakes.filter((n) => n !== 1)).toEqual([]); // one take a round, the second refused: max 1
}, 60_000);
