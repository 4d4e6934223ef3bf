// A worker for tests/budget-atomics.test.ts: runs random auctions through the release kernel
// over the shared memory and reports, per campaign, the cost of the wins it saw.
import { loadWasmKernel } from "../../src/auction/kernel.ts";
import { AuctionScratch } from "../../src/auction/scratch.ts";

declare const self: Worker;

self.onmessage = (e: MessageEvent) => {
  const { memory, barrier, workers, workerIndex, auctions, campaigns, seed } = e.data as {
    memory: WebAssembly.Memory; barrier: Int32Array; workers: number; workerIndex: number; auctions: number; campaigns: number; seed: number;
  };
  const kernel = loadWasmKernel(memory, "release");
  const scratch = new AuctionScratch(memory, workerIndex);
  Atomics.add(barrier, 0, 1);
  while (Atomics.load(barrier, 0) < workers); // spin: all workers leave together
  const wonCost = new Array<number>(campaigns).fill(0);
  let state = seed;
  const next = (n: number) => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) % n);
  for (let a = 0; a < auctions; a++) {
    scratch.reset();
    scratch.beginImp(100_000, 1 + next(2));
    for (let b = 0; b < 4; b++) scratch.addBid(500_000 + next(4_500_000), next(campaigns), 0);
    if (scratch.run(kernel) === 1) {
      wonCost[scratch.bidSlot(scratch.winner(0))]! += scratch.costMicros(0);
    }
  }
  postMessage(wonCost);
};
