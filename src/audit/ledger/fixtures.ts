// Audit events for the ledger's tests (tests/ledger-*.test.ts): schema-valid, deterministic from a
// seed, and the expected books computed independently of SQLite (BigInt sums).
import type { AuctionResultEvent, AuditEvent, BidRequestEvent, NoticeEvent } from "../schema.ts";
import { makeRng } from "../../util/rng.ts";

export const CAMPAIGNS = [
  { id: "c1", advertiserId: "adv-acme" },
  { id: "c2", advertiserId: "adv-globex" },
  { id: "c3", advertiserId: "adv-acme" },
  { id: "c4", advertiserId: "adv-initech" },
  { id: "c5", advertiserId: "adv-umbrella" },
] as const;

const BASE = {
  event_version: 1 as const, exchange_id: "ex1", publisher_id: "pub1", dsp_id: "dsp1", region: "local", pod: "pod-0", worker: 0,
};

export function winEvent(eventId: string, campaign: (typeof CAMPAIGNS)[number], costMicros: number, eventTime: string): AuctionResultEvent {
  return {
    ...BASE, event_id: eventId, event_type: "auction_result", event_time: eventTime, request_id: `req-${eventId}`,
    advertiser_id: campaign.advertiserId, campaign_id: campaign.id, imp_id: "1", bid_id: `bid-${eventId}`,
    bid_price_micros: costMicros * 1000 + 7, win_price_micros: costMicros * 1000, cost_micros: costMicros,
    no_bid_reason: null, processing_ms: 1.25,
  };
}

export function noBidEvent(eventId: string, eventTime: string): AuctionResultEvent {
  return {
    ...BASE, event_id: eventId, event_type: "auction_result", event_time: eventTime, request_id: `req-${eventId}`,
    advertiser_id: "", campaign_id: null, dsp_id: null, imp_id: "1", bid_id: null, bid_price_micros: null,
    win_price_micros: null, cost_micros: null, no_bid_reason: "no_bids", processing_ms: 0.5,
  };
}

export function noticeEvent(type: NoticeEvent["event_type"], eventId: string, campaign: (typeof CAMPAIGNS)[number], costMicros: number | null, eventTime: string): NoticeEvent {
  return {
    ...BASE, event_id: eventId, event_type: type, event_time: eventTime, request_id: `req-${eventId}`,
    advertiser_id: campaign.advertiserId, campaign_id: campaign.id, imp_id: "1", bid_id: `bid-${eventId}`,
    win_price_micros: costMicros === null ? null : costMicros * 1000, cost_micros: costMicros, loss_reason: type === "loss_notice" ? 102 : null,
  };
}

export function bidRequestEvent(eventId: string, eventTime: string): BidRequestEvent {
  return {
    ...BASE, event_id: eventId, event_type: "bid_request", event_time: eventTime, request_id: `req-${eventId}`,
    advertiser_id: "", campaign_id: null, dsp_id: null, user_id_hash: null, country: "USA", device_type: 2, imp_count: 1, tmax_ms: 120,
  };
}

/** A small deterministic PRNG (mulberry32). */
export const prng = makeRng;

const DAYS = ["2025-03-01", "2025-03-02"] as const;

/** `count` events: mostly wins, some notices, no-bids and requests, over two UTC days. */
export function eventStream(count: number, seed: number, prefix = "ev"): AuditEvent[] {
  const rand = prng(seed);
  return Array.from({ length: count }, (_, i) => {
    const id = `${prefix}-${seed}-${i}`;
    const campaign = CAMPAIGNS[Math.floor(rand() * CAMPAIGNS.length)]!;
    const time = `${DAYS[Math.floor(rand() * DAYS.length)]}T${String(Math.floor(rand() * 24)).padStart(2, "0")}:15:30.${String(i % 1000).padStart(3, "0")}Z`;
    const cost = 1 + Math.floor(rand() * 5_000);
    const roll = rand();
    if (roll < 0.6) return winEvent(id, campaign, cost, time);
    if (roll < 0.7) return noticeEvent("billing_notice", id, campaign, cost, time);
    if (roll < 0.75) return noticeEvent("loss_notice", id, campaign, null, time);
    if (roll < 0.9) return noBidEvent(id, time);
    return bidRequestEvent(id, time);
  });
}

export interface ExpectedBooks {
  /** Distinct billable events. */
  billable: number;
  /** day -> campaign -> won cost micros (auction_result wins). */
  wonCost: Map<string, Map<string, bigint>>;
}

/** The books the ledger must hold for these events (deduplicated by event_id, first one kept). */
export function expectedBooks(events: readonly AuditEvent[]): ExpectedBooks {
  const seen = new Set<string>();
  const wonCost = new Map<string, Map<string, bigint>>();
  let billable = 0;
  for (const e of events) {
    if (seen.has(e.event_id)) continue;
    seen.add(e.event_id);
    const isWin = e.event_type === "auction_result" && e.bid_id !== null;
    const isNotice = e.event_type === "win_notice" || e.event_type === "billing_notice" || e.event_type === "loss_notice";
    if (isWin || isNotice) billable++;
    if (!isWin) continue;
    const day = e.event_time.slice(0, 10);
    const perDay = wonCost.get(day) ?? new Map<string, bigint>();
    perDay.set(e.campaign_id!, (perDay.get(e.campaign_id!) ?? 0n) + BigInt(e.cost_micros!));
    wonCost.set(day, perDay);
  }
  return { billable, wonCost };
}

export function encode(event: AuditEvent): string {
  return JSON.stringify(event);
}
