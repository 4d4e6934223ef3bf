// The auction stage: write candidates into this worker's WASM scratch imp by imp, with floors and
// brand-safety flags, run the kernel (pick, price, reserve budget), read the winners back.
import { layout as L } from "../auction/memory.ts";
import { blockLists, blockReason } from "../auction/brand-safety.ts";
import { cpmToMicros } from "../config/money.ts";
import type { CandidateBid } from "../dsp/answer.ts";
import type { Collected } from "./collect.ts";
import type { BidRequest } from "../openrtb/request.ts";
import type { NoBidReason } from "../openrtb/nbr.ts";
import type { WorkerContext } from "./context.ts";

export interface ImpWin {
  impIndex: number;
  bid: CandidateBid;
  clearingMicros: number;
  costMicros: number;
}

export interface Decision {
  wins: ImpWin[];
  /** Why there is no winner at all (null when something won). */
  noBidReason: NoBidReason | null;
  budgetSkips: number;
}

export function decide(ctx: WorkerContext, req: BidRequest, collected: Collected): Decision {
  const { candidates, rejected, answered } = collected;
  const { scratch, counters } = ctx;
  const lists = blockLists(req.badv, req.bcat);
  const order = byImp(candidates, req.imp.length);
  let blocked = 0;
  scratch.reset();
  for (let imp = 0; imp < req.imp.length; imp++) {
    const floorMicros = cpmToMicros(req.imp[imp]!.bidfloor ?? 0);
    scratch.beginImp(floorMicros, req.at ?? 2);
    for (const c of order[imp]!) {
      const block = blockReason(c.bid.adomain, c.bid.cat, lists);
      if (block !== null) {
        counters.bidBlocked(block);
        blocked++;
      }
      scratch.addBid(c.priceMicros, c.slot, block === null ? 0 : L.FLAG_BLOCKED);
    }
  }
  scratch.run(ctx.kernel);
  const flat = order.flat();
  const wins: ImpWin[] = [];
  let budgetSkips = 0;
  for (let imp = 0; imp < req.imp.length; imp++) {
    budgetSkips += scratch.budgetSkips(imp);
    const winner = scratch.winner(imp);
    if (winner >= 0) wins.push({ impIndex: imp, bid: flat[winner]!, clearingMicros: scratch.clearingPriceMicros(imp), costMicros: scratch.costMicros(imp) });
  }
  const noBidReason = wins.length > 0 ? null : whyNoBid(candidates.length, rejected, answered, blocked, budgetSkips);
  return { wins, noBidReason, budgetSkips };
}

/** Candidates grouped per imp, in arrival order (the kernel breaks ties by this order). */
function byImp(candidates: CandidateBid[], impCount: number): CandidateBid[][] {
  const groups: CandidateBid[][] = Array.from({ length: impCount }, () => []);
  for (const c of candidates) groups[c.impIndex]!.push(c);
  return groups;
}

function whyNoBid(candidates: number, rejected: number, answered: number, blocked: number, budgetSkips: number): NoBidReason {
  if (budgetSkips > 0) return "no_budget";
  if (candidates === 0) return rejected > 0 ? "invalid_bids" : answered === 0 ? "dsp_failures" : "no_bids";
  return blocked === candidates ? "blocked" : "below_floor";
}
