// Building the audit events of one request (schemas in schema.ts): a bid_request, one dsp_response
// per DSP called (with its valid bids), one auction_result per imp; or one invalid_request.
// Returned as JSON lines ready for the outbox, one record per event.
import type { BidRequest } from "../openrtb/request.ts";
import type { CandidateBid } from "../dsp/answer.ts";
import type { DspReply } from "../dsp/fanout.ts";
import type { Decision } from "../pipeline/decide.ts";
import type { WorkerContext } from "../pipeline/context.ts";
import { fraudAuditOf } from "../pipeline/fraud.ts";
import { NO_USER_KEY, userKeyHex, userKeyOf } from "../freqcap/user-key.ts";
import { EVENT_VERSION, type AuctionResultEvent, type BidRequestEvent, type DspBidSummary, type DspResponseEvent, type InvalidRequestEvent } from "./schema.ts";

type Envelope = Pick<BidRequestEvent, "event_id" | "event_version" | "event_time" | "request_id" | "exchange_id" | "publisher_id" | "advertiser_id" | "campaign_id" | "dsp_id" | "region" | "pod" | "worker">;

interface RequestFacts {
  ctx: WorkerContext;
  eventTime: string;
  requestId: string | null;
  exchangeId: string | null;
  publisherId: string | null;
}

function envelope(f: RequestFacts, advertiserId: string, campaignId: string | null, dspId: string | null): Envelope {
  return {
    event_id: crypto.randomUUID(),
    event_version: EVENT_VERSION,
    event_time: f.eventTime,
    request_id: f.requestId,
    exchange_id: f.exchangeId,
    publisher_id: f.publisherId,
    advertiser_id: advertiserId,
    campaign_id: campaignId,
    dsp_id: dspId,
    region: f.ctx.config.server.region,
    pod: f.ctx.config.server.pod,
    worker: f.ctx.workerIndex,
  };
}

const round3 = (ms: number) => Math.round(ms * 1000) / 1000;

/** Every event of one auctioned request, as JSON strings. */
export function auctionEvents(
  ctx: WorkerContext, req: BidRequest, exchangeId: string | null, replies: DspReply[], candidates: CandidateBid[], decision: Decision, processingMs: number,
): string[] {
  const f: RequestFacts = { ctx, eventTime: new Date().toISOString(), requestId: req.id, exchangeId, publisherId: req.site?.publisher?.id ?? req.app?.publisher?.id ?? null };
  const out: string[] = [JSON.stringify(bidRequestEvent(f, req))];
  for (const reply of replies) out.push(JSON.stringify(dspResponseEvent(f, reply, candidates)));
  for (let imp = 0; imp < req.imp.length; imp++) out.push(JSON.stringify(auctionResultEvent(f, req, imp, decision, processingMs)));
  return out;
}

function bidRequestEvent(f: RequestFacts, req: BidRequest): BidRequestEvent {
  const userKey = userKeyOf(req);
  return {
    ...envelope(f, "", null, null),
    event_type: "bid_request",
    user_id_hash: userKey === NO_USER_KEY ? null : userKeyHex(userKey),
    country: req.device?.geo?.country ?? null,
    device_type: req.device?.devicetype ?? null,
    imp_count: req.imp.length,
    tmax_ms: req.tmax ?? null,
    ...fraudField(req),
  };
}

/** The fraud block, only on screened requests (the field is optional in version 1). */
function fraudField(req: BidRequest): { fraud?: NonNullable<ReturnType<typeof fraudAuditOf>> } {
  const fraud = fraudAuditOf(req);
  return fraud === null ? {} : { fraud };
}

function dspResponseEvent(f: RequestFacts, reply: DspReply, candidates: CandidateBid[]): DspResponseEvent {
  const bids = candidates.filter((c) => c.dsp === reply.dsp).map((c) => bidSummary(f, c));
  const outcome = reply.outcome === "timeout" ? "timeout" : reply.outcome !== "ok" || (reply.status !== 200 && reply.status !== 204) ? "error" : bids.length > 0 ? "bid" : "nobid";
  return {
    ...envelope(f, "", null, f.ctx.config.dsps[reply.dsp]!.id),
    event_type: "dsp_response",
    outcome,
    http_status: reply.status,
    latency_ms: round3(reply.latencyMs),
    bid_count: bids.length,
    detail: reply.detail === "" ? null : reply.detail,
    bids,
  };
}

function bidSummary(f: RequestFacts, c: CandidateBid): DspBidSummary {
  const campaign = f.ctx.campaignBySlot[c.slot]!;
  return { imp_id: c.bid.impid, bid_id: c.bid.id, campaign_id: campaign.id, advertiser_id: campaign.advertiserId, bid_price_micros: c.priceMicros };
}

function auctionResultEvent(f: RequestFacts, req: BidRequest, imp: number, decision: Decision, processingMs: number): AuctionResultEvent {
  const win = decision.wins.find((w) => w.impIndex === imp);
  const campaign = win === undefined ? null : f.ctx.campaignBySlot[win.bid.slot]!;
  return {
    ...envelope(f, campaign?.advertiserId ?? "", campaign?.id ?? null, win === undefined ? null : f.ctx.config.dsps[win.bid.dsp]!.id),
    event_type: "auction_result",
    imp_id: req.imp[imp]!.id,
    bid_id: win?.bid.bid.id ?? null,
    bid_price_micros: win?.bid.priceMicros ?? null,
    win_price_micros: win?.clearingMicros ?? null,
    cost_micros: win?.costMicros ?? null,
    no_bid_reason: win === undefined ? (decision.noBidReason ?? "no_winner") : null,
    processing_ms: round3(processingMs),
  };
}

export function invalidRequestEvent(
  ctx: WorkerContext, problem: { field: string; reason: string }, requestId: string | undefined, status: number, exchangeId: string | null,
): string {
  const f: RequestFacts = { ctx, eventTime: new Date().toISOString(), requestId: requestId ?? null, exchangeId, publisherId: null };
  const event: InvalidRequestEvent = {
    ...envelope(f, "", null, null),
    event_type: "invalid_request",
    http_status: status,
    field: problem.field.slice(0, 500),
    reason: problem.reason.slice(0, 500),
  };
  return JSON.stringify(event);
}
