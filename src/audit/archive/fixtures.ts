// Audit events for the archive and query tests (tests/archive-*.test.ts, tests/audit-query.test.ts):
// schema-valid (src/audit/schema.ts) and deterministic; one request's life as its events.
import type { AuctionResultEvent, AuditEvent, BidEvent, BidRequestEvent, DspResponseEvent, NoticeEvent } from "../schema.ts";

const BASE = { event_version: 1 as const, exchange_id: "ex1", publisher_id: "pub1", region: "local", pod: "pod-0", worker: 0 };
const SECOND_MS = 1000;

export interface RequestStory {
  requestId: string;
  advertiserId: string;
  campaignId: string;
  /** Time of the bid request; each later event is one second after the one before. */
  at: string | Date;
  costMicros?: number;
}

/** bid_request, dsp_response, bid, auction_result, win_notice, billing_notice of one request. */
export function requestEvents(story: RequestStory): AuditEvent[] {
  const t0 = new Date(story.at).getTime();
  const time = (i: number) => new Date(t0 + i * SECOND_MS).toISOString();
  const id = (kind: string) => `${story.requestId}-${kind}`;
  const cost = story.costMicros ?? 2_500;
  const shared = { ...BASE, request_id: story.requestId, dsp_id: "dsp1" };
  const won = { ...shared, advertiser_id: story.advertiserId, campaign_id: story.campaignId, imp_id: "1", bid_id: `bid-${story.requestId}` };
  const request: BidRequestEvent = {
    ...shared, event_id: id("req"), event_type: "bid_request", event_time: time(0), advertiser_id: "", campaign_id: null, dsp_id: null,
    user_id_hash: "h:abc", country: "USA", device_type: 2, imp_count: 1, tmax_ms: 120,
  };
  const answer: DspResponseEvent = {
    ...shared, event_id: id("dsp"), event_type: "dsp_response", event_time: time(1), advertiser_id: "", campaign_id: null,
    outcome: "bid", http_status: 200, latency_ms: 21.5, bid_count: 1, detail: null,
  };
  const bid: BidEvent = { ...won, event_id: id("bid"), event_type: "bid", event_time: time(2), bid_price_micros: cost * 1000 + 10_000 };
  const result: AuctionResultEvent = {
    ...won, event_id: id("win"), event_type: "auction_result", event_time: time(3), bid_price_micros: cost * 1000 + 10_000,
    win_price_micros: cost * 1000, cost_micros: cost, no_bid_reason: null, processing_ms: 3.25,
  };
  const notice = (type: NoticeEvent["event_type"], i: number): NoticeEvent => ({
    ...won, event_id: id(type), event_type: type, event_time: time(i), win_price_micros: cost * 1000, cost_micros: cost, loss_reason: null,
  });
  return [request, answer, bid, result, notice("win_notice", 4), notice("billing_notice", 5)];
}

/** `count` requests of one advertiser, `spacingMs` apart from `start`. */
export function manyRequests(prefix: string, advertiserId: string, start: string | Date, count: number, spacingMs: number): AuditEvent[] {
  const t0 = new Date(start).getTime();
  const events: AuditEvent[] = [];
  for (let i = 0; i < count; i++) {
    events.push(...requestEvents({ requestId: `${prefix}-${i}`, advertiserId, campaignId: "c1", at: new Date(t0 + i * spacingMs), costMicros: 1_000 + i }));
  }
  return events;
}
