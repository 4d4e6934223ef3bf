// Audit events, one versioned TypeBox schema per type. Money in integer micros; user ids never
// appear raw. The full event catalogue (DSP bids, notices) grows in the audit-trail issue.
import { Type, type Static } from "@sinclair/typebox";
import type { BidRequest } from "../openrtb/request.ts";
import type { CandidateBid } from "../dsp/answer.ts";
import type { DspReply } from "../dsp/fanout.ts";
import type { Decision } from "../pipeline/decide.ts";
import type { WorkerContext } from "../pipeline/context.ts";

const Common = {
  event_id: Type.String(),
  event_version: Type.Literal(1),
  event_time: Type.String({ format: "date-time" }),
  request_id: Type.Union([Type.String(), Type.Null()]),
  worker: Type.Integer(),
};

export const AuctionResultEvent = Type.Object({
  ...Common,
  event_type: Type.Literal("auction_result"),
  publisher_id: Type.Union([Type.String(), Type.Null()]),
  processing_ms: Type.Number(),
  dsps: Type.Array(Type.Object({ dsp_id: Type.String(), outcome: Type.String(), status: Type.Integer(), latency_ms: Type.Number() })),
  bids: Type.Array(Type.Object({ dsp_id: Type.String(), bid_id: Type.String(), imp_id: Type.String(), campaign_id: Type.String(), price_micros: Type.Integer() })),
  wins: Type.Array(Type.Object({
    imp_id: Type.String(), dsp_id: Type.String(), bid_id: Type.String(), campaign_id: Type.String(), advertiser_id: Type.String(),
    bid_price_micros: Type.Integer(), clearing_price_micros: Type.Integer(), cost_micros: Type.Integer(),
  })),
  no_bid_reason: Type.Union([Type.String(), Type.Null()]),
  budget_skips: Type.Integer(),
});
export type AuctionResultEvent = Static<typeof AuctionResultEvent>;

export const InvalidRequestEvent = Type.Object({
  ...Common,
  event_type: Type.Literal("invalid_request"),
  status: Type.Integer(),
  field: Type.String(),
  reason: Type.String(),
});
export type InvalidRequestEvent = Static<typeof InvalidRequestEvent>;

export function auctionEvent(
  ctx: WorkerContext, req: BidRequest, replies: DspReply[], candidates: CandidateBid[], decision: Decision, processingMs: number,
): AuctionResultEvent {
  const dspId = (i: number) => ctx.config.dsps[i]!.id;
  return {
    event_id: crypto.randomUUID(),
    event_version: 1,
    event_time: new Date().toISOString(),
    request_id: req.id,
    worker: ctx.workerIndex,
    event_type: "auction_result",
    publisher_id: req.site?.publisher?.id ?? req.app?.publisher?.id ?? null,
    processing_ms: Math.round(processingMs * 1000) / 1000,
    dsps: replies.map((r) => ({ dsp_id: dspId(r.dsp), outcome: r.outcome, status: r.status, latency_ms: Math.round(r.latencyMs * 1000) / 1000 })),
    bids: candidates.map((c) => ({ dsp_id: dspId(c.dsp), bid_id: c.bid.id, imp_id: c.bid.impid, campaign_id: c.bid.cid!, price_micros: c.priceMicros })),
    wins: decision.wins.map((w) => {
      const campaign = ctx.campaignBySlot[w.bid.slot]!;
      return {
        imp_id: w.bid.bid.impid, dsp_id: dspId(w.bid.dsp), bid_id: w.bid.bid.id, campaign_id: campaign.id, advertiser_id: campaign.advertiserId,
        bid_price_micros: w.bid.priceMicros, clearing_price_micros: w.clearingMicros, cost_micros: w.costMicros,
      };
    }),
    no_bid_reason: decision.noBidReason,
    budget_skips: decision.budgetSkips,
  };
}

export function invalidRequestEvent(
  ctx: WorkerContext, problem: { field: string; reason: string }, requestId: string | undefined, status: number,
): InvalidRequestEvent {
  return {
    event_id: crypto.randomUUID(),
    event_version: 1,
    event_time: new Date().toISOString(),
    request_id: requestId ?? null,
    worker: ctx.workerIndex,
    event_type: "invalid_request",
    status,
    field: problem.field,
    reason: problem.reason.slice(0, 500),
  };
}
