// Demand the leases did not cover: after an auction in which the kernel refused bids for budget,
// count them per campaign on the pod's budget board. The control plane claims a lease for a
// campaign with demand (distributed mode leases on demand, so idle campaigns strand nothing).
import { layout as L } from "../auction/memory.ts";
import { BOARD_STARVED } from "./board.ts";
import type { WorkerContext } from "../pipeline/context.ts";
import type { CandidateBid } from "../dsp/answer.ts";

export function markStarved(ctx: WorkerContext, bids: CandidateBid[]): void {
  const board = ctx.notices?.board;
  if (board === undefined) return;
  for (let b = 0; b < bids.length; b++) {
    if ((ctx.scratch.bidFlags(b) & L.FLAG_NO_BUDGET) !== 0) board.add(bids[b]!.slot, BOARD_STARVED, 1);
  }
}
