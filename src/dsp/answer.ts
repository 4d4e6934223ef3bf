// Checking one DSP's answer to one bid request. Only well-formed bids for this request survive;
// each rejected bid is counted with its reason and the auction goes on without it. A malformed
// answer as a whole (bad JSON, wrong shape, wrong id) counts as a DSP failure for its breaker.
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { DspBidResponse, type DspBid } from "../openrtb/response.ts";
import { cpmToMicros } from "../config/money.ts";
import type { BidRejection } from "../metrics/counters.ts";

export interface CandidateBid {
  dsp: number;
  seat: string;
  bid: DspBid;
  impIndex: number;
  priceMicros: number;
  slot: number;
}

export interface AnswerContext {
  requestId: string;
  impIndexById: Map<string, number>;
  campaignSlotById: Map<string, number>;
  maxBids: number;
}

export type AnswerVerdict = "ok" | "malformed" | "wrong_id";

const checker = TypeCompiler.Compile(DspBidResponse);
/** Largest CPM accepted from a DSP: anything above is a bug or an attack, not a bid. */
export const MAX_BID_CPM = 1000;

export function checkDspAnswer(
  body: string, dsp: number, ctx: AnswerContext, out: CandidateBid[], reject: (reason: BidRejection) => void,
): AnswerVerdict {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return "malformed";
  }
  if (!checker.Check(parsed)) return "malformed";
  if (parsed.id !== ctx.requestId) return "wrong_id";
  if (parsed.cur !== undefined && parsed.cur !== "USD") {
    for (const seat of parsed.seatbid ?? []) for (let i = 0; i < seat.bid.length; i++) reject("bad_currency");
    return "ok";
  }
  for (const seat of parsed.seatbid ?? []) {
    for (const bid of seat.bid) {
      const problem = bidProblem(bid, ctx);
      if (problem !== null) reject(problem);
      else if (out.length >= ctx.maxBids) reject("too_many_bids");
      else out.push({ dsp, seat: seat.seat ?? "", bid, impIndex: ctx.impIndexById.get(bid.impid)!, priceMicros: cpmToMicros(bid.price), slot: ctx.campaignSlotById.get(bid.cid!)! });
    }
  }
  return "ok";
}

function bidProblem(bid: DspBid, ctx: AnswerContext): BidRejection | null {
  if (!ctx.impIndexById.has(bid.impid)) return "unknown_impid";
  if (!(Number.isFinite(bid.price) && bid.price > 0 && bid.price <= MAX_BID_CPM) || cpmToMicros(bid.price) <= 0) return "bad_price";
  if (bid.cid === undefined || !ctx.campaignSlotById.has(bid.cid)) return "unknown_campaign";
  return null;
}
