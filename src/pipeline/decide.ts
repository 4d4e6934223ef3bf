// The auction stage: write candidates into this worker's WASM scratch imp by imp, with floors and
// brand-safety flags, run the kernel (frequency caps, pick, price, reserve budget, count the
// impression), read the winners back.
import { layout as L } from "../auction/memory.ts";
import { blockLists, blockReason } from "../auction/brand-safety.ts";
import { cpmToMicros } from "../config/money.ts";
import type { CandidateBid } from "../dsp/answer.ts";
import type { Collected } from "./collect.ts";
import type { BidRequest } from "../openrtb/request.ts";
import type { NoBidReason } from "../openrtb/nbr.ts";
import type { WorkerContext } from "./context.ts";
import { capIncrementOf, requestCaps, type CapIncrement, type RequestCaps } from "../freqcap/request.ts";
import { markStarved } from "../budget/starved.ts";

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
  /** Bids made ineligible by frequency caps. */
  cappedBids: number;
  /** Impressions counted against capped campaigns by the wins (for a remote store's write-behind). */
  capIncrements: CapIncrement[];
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
  const caps = requestCaps(req, candidates, ctx.campaignBySlot, ctx.config.auction.frequencyCapNoKey);
  scratch.setCaps(caps.userKey, caps.nowSec, caps.capMode);
  scratch.run(ctx.kernel);
  const flat = order.flat();
  const wins: ImpWin[] = [];
  let budgetSkips = 0;
  for (let imp = 0; imp < req.imp.length; imp++) {
    budgetSkips += scratch.budgetSkips(imp);
    const winner = scratch.winner(imp);
    if (winner >= 0) wins.push({ impIndex: imp, bid: flat[winner]!, clearingMicros: scratch.clearingPriceMicros(imp), costMicros: scratch.costMicros(imp) });
  }
  if (budgetSkips > 0) markStarved(ctx, flat);
  const cappedBids = countCapped(ctx, flat.length, caps);
  const noBidReason = wins.length > 0 ? null : whyNoBid(candidates.length, rejected, answered, blocked, budgetSkips, cappedBids, collected.paced);
  return { wins, noBidReason, budgetSkips, cappedBids, capIncrements: capIncrements(ctx, wins, caps) };
}

/** Counts the bids the kernel marked capped (and, in metrics, those refused for a full table). */
function countCapped(ctx: WorkerContext, bidCount: number, caps: RequestCaps): number {
  if (caps.capMode === L.CAP_MODE_OFF) return 0;
  let capped = 0;
  let noRoom = 0;
  for (let b = 0; b < bidCount; b++) {
    const flags = ctx.scratch.bidFlags(b);
    if ((flags & L.FLAG_FREQ_CAPPED) !== 0) capped++;
    if ((flags & L.FLAG_FREQ_NO_ROOM) !== 0) noRoom++;
  }
  if (capped > 0) ctx.counters.bidsCapped(capped, noRoom);
  return capped;
}

function capIncrements(ctx: WorkerContext, wins: ImpWin[], caps: RequestCaps): CapIncrement[] {
  const increments: CapIncrement[] = [];
  if (caps.capMode !== L.CAP_MODE_KEY) return increments;
  for (const win of wins) {
    const increment = capIncrementOf(caps, ctx.campaignBySlot[win.bid.slot]!);
    if (increment !== null) increments.push(increment);
  }
  return increments;
}

/** Candidates grouped per imp, in arrival order (the kernel breaks ties by this order). */
function byImp(candidates: CandidateBid[], impCount: number): CandidateBid[][] {
  const groups: CandidateBid[][] = Array.from({ length: impCount }, () => []);
  for (const c of candidates) groups[c.impIndex]!.push(c);
  return groups;
}

function whyNoBid(candidates: number, rejected: number, answered: number, blocked: number, budgetSkips: number, capped: number, paced: number): NoBidReason {
  if (budgetSkips > 0) return "no_budget";
  if (capped > 0) return "frequency_capped";
  if (candidates === 0) return paced > 0 ? "paced" : rejected > 0 ? "invalid_bids" : answered === 0 ? "dsp_failures" : "no_bids";
  return blocked === candidates ? "blocked" : "below_floor";
}
