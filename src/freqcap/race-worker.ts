// A Bun Worker for tests/freqcap-atomics.test.ts (test support): races the release WASM build
// against the other workers over one shared memory. "take" takes caps directly, round-robin over
// the given user keys; "auction" runs one-imp auctions (a capped bid over an uncapped one) for one
// user; "evict" takes a new key on one full probe path each round, two hours after the last (so
// each take must evict), all workers the same key in lockstep rounds (a barrier between rounds: a
// worker still in an older round would rightly see the key's window as a new one); "revive" is the
// same but worker 0 takes one key (userKeys[0], on the same path) twice a round while the others
// evict the path's expired entries: its expired entry may be evicted under its take. Every worker
// waits at the barrier so all of them start together.
import { loadWasmFreqCap } from "./kernel.ts";
import { loadWasmKernel } from "../auction/kernel.ts";
import { AuctionScratch } from "../auction/scratch.ts";
import { layout as L } from "../auction/memory.ts";
import { collidingUserKeys } from "./testing.ts";

export interface RaceJob {
  memory: WebAssembly.Memory;
  barrier: Int32Array;
  workers: number;
  workerIndex: number;
  mode: "take" | "auction" | "evict" | "revive";
  userKeys: bigint[];
  slot: number;
  /** For "auction": the uncapped campaign bidding under the capped one. */
  otherSlot: number;
  attempts: number;
  nowSec: number;
  /** For "evict": the probe path's home entry and the seed of its keys (one key per attempt). */
  home?: number;
  seed?: number;
}

/** Seconds between two "evict" rounds: longer than any window, so every earlier entry has expired. */
export const EVICT_ROUND_SEC = 7200;

declare const self: Worker;

/** Instantiates first, then returns the race: "take" gives successes per user key, "evict" per
 *  round; "auction" the wins of `slot` (index 0) and of `otherSlot` (index 1). */
function prepare(job: RaceJob): () => number[] {
  if (job.mode === "evict" || job.mode === "revive") {
    const caps = loadWasmFreqCap(job.memory, "release");
    const keys = collidingUserKeys(job.slot, job.home ?? 0, job.attempts, (job.seed ?? 1) + job.workerIndex * (job.mode === "revive" ? 1 : 0));
    const reviver = job.mode === "revive" && job.workerIndex === 0;
    return () => keys.map((key, round) => {
      const nowSec = job.nowSec + round * EVICT_ROUND_SEC;
      let taken = 0;
      for (let t = 0; t < (reviver ? 2 : 1); t++) if (caps.take(reviver ? job.userKeys[0]! : key, job.slot, nowSec) === L.CAP_OK) taken++;
      awaitRound(job.barrier, job.workers);
      return taken;
    });
  }
  if (job.mode === "take") {
    const caps = loadWasmFreqCap(job.memory, "release");
    return () => {
      const taken = job.userKeys.map(() => 0);
      for (let a = 0; a < job.attempts; a++) {
        const k = (a + job.workerIndex) % job.userKeys.length;
        if (caps.take(job.userKeys[k]!, job.slot, job.nowSec) === L.CAP_OK) taken[k]!++;
      }
      return taken;
    };
  }
  const kernel = loadWasmKernel(job.memory, "release");
  const scratch = new AuctionScratch(job.memory, job.workerIndex);
  return () => {
    const wins = [0, 0];
    for (let a = 0; a < job.attempts; a++) {
      scratch.reset();
      scratch.setCaps(job.userKeys[0]!, job.nowSec, L.CAP_MODE_KEY);
      scratch.beginImp(0, 2);
      scratch.addBid(3_000_000, job.slot, 0);
      scratch.addBid(1_000_000, job.otherSlot, 0);
      scratch.run(kernel);
      const winner = scratch.winner(0);
      if (winner >= 0) wins[winner]!++;
    }
    return wins;
  };
}

const SPINS_BEFORE_WAIT = 2000;

/** A reusable barrier over barrier[1] (arrivals) and barrier[2] (generation). */
function awaitRound(barrier: Int32Array, workers: number): void {
  const generation = Atomics.load(barrier, 2);
  if (Atomics.add(barrier, 1, 1) === workers - 1) {
    Atomics.store(barrier, 1, 0);
    Atomics.add(barrier, 2, 1);
    Atomics.notify(barrier, 2);
    return;
  }
  for (let spin = 0; spin < SPINS_BEFORE_WAIT; spin++) if (Atomics.load(barrier, 2) !== generation) return;
  while (Atomics.load(barrier, 2) === generation) Atomics.wait(barrier, 2, generation);
}

self.onmessage = (e: MessageEvent<RaceJob>) => {
  const job = e.data;
  const race = prepare(job);
  Atomics.add(job.barrier, 0, 1);
  while (Atomics.load(job.barrier, 0) < job.workers); // spin: all workers leave together
  postMessage(race());
};
