// The audit event catalogue: one versioned TypeBox schema per event type. Every event is one JSON
// object on one line of the outbox, shipped to Kafka topic `bid-events` keyed by `advertiser_id`
// ("" for events that concern no advertiser), and deduplicated downstream by `event_id`.
//
// Rules: money in integer micros; times as ISO-8601 UTC strings; user ids never raw (only
// `user_id_hash`, a keyed hash); a field that does not apply is null, never absent; adding a field
// is a new minor shape of the same version, renaming or retyping one is a new `event_version`.
import { FormatRegistry, Type, type Static, type TSchema } from "@sinclair/typebox";
import { TypeCompiler, type TypeCheck } from "@sinclair/typebox/compiler";

export const EVENT_VERSION = 1;

/** ISO-8601 date-time with a zone (what `new Date().toISOString()` writes); TypeBox knows no formats by itself. */
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
if (!FormatRegistry.Has("date-time")) FormatRegistry.Set("date-time", (value) => DATE_TIME.test(value) && !Number.isNaN(Date.parse(value)));

const Str = Type.String({ maxLength: 512 });
const OptStr = Type.Union([Str, Type.Null()]);
const Micros = Type.Integer({ minimum: 0 });
const OptMicros = Type.Union([Micros, Type.Null()]);

/** Fields every event carries. */
const Envelope = {
  event_id: Type.String({ minLength: 1, maxLength: 64 }),
  event_version: Type.Literal(EVENT_VERSION),
  event_time: Type.String({ format: "date-time", maxLength: 40 }),
  request_id: OptStr,
  exchange_id: OptStr,
  publisher_id: OptStr,
  advertiser_id: Type.String({ maxLength: 512 }), // "" when the event concerns no advertiser
  campaign_id: OptStr,
  dsp_id: OptStr,
  region: Str,
  pod: Str,
  worker: Type.Integer({ minimum: 0 }),
};

/**
 * What the fraud stage decided for a request (added within version 1: absent on older events and
 * when the stage is off). ip_subnet is the /24 (IPv4) or /48 (IPv6), never the address; device_key a
 * 32-bit hash of the device's id, for tier 3 (src/fraud/async/).
 */
export const FraudAudit = Type.Object({
  result: Type.Union([Type.Literal("allow"), Type.Literal("flag"), Type.Literal("block")]),
  tier: Type.Integer({ minimum: 0, maximum: 3 }),
  reason: OptStr,
  nbr: Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]),
  score: Type.Union([Type.Number({ minimum: 0, maximum: 1 }), Type.Null()]),
  ip_subnet: OptStr,
  device_key: OptStr,
});

/** One per bid request accepted for an auction (after validation). */
export const BidRequestEvent = Type.Object({
  ...Envelope,
  event_type: Type.Literal("bid_request"),
  user_id_hash: OptStr,
  country: OptStr,
  device_type: Type.Union([Type.Integer(), Type.Null()]),
  imp_count: Type.Integer({ minimum: 0 }),
  tmax_ms: Type.Union([Type.Integer(), Type.Null()]),
  fraud: Type.Optional(FraudAudit),
});

/** A valid bid inside a DSP's answer. */
export const DspBidSummary = Type.Object({
  imp_id: Str,
  bid_id: Str,
  campaign_id: Str,
  advertiser_id: Str,
  bid_price_micros: Micros,
});

/**
 * One per DSP called for a request: what came back, how fast, and its valid bids. (`bids` was added
 * within version 1: events written before it have none; tmax writes no separate `bid` events since.)
 */
export const DspResponseEvent = Type.Object({
  ...Envelope,
  event_type: Type.Literal("dsp_response"),
  outcome: Type.Union([Type.Literal("bid"), Type.Literal("nobid"), Type.Literal("timeout"), Type.Literal("error")]),
  http_status: Type.Integer({ minimum: 0 }),
  latency_ms: Type.Number({ minimum: 0 }),
  bid_count: Type.Integer({ minimum: 0 }),
  detail: OptStr,
  bids: Type.Optional(Type.Array(DspBidSummary, { maxItems: 512 })),
});

/** One valid bid (the older, one-event-per-bid form; tmax now lists bids in `dsp_response`). */
export const BidEvent = Type.Object({
  ...Envelope,
  event_type: Type.Literal("bid"),
  imp_id: Str,
  bid_id: Str,
  bid_price_micros: Micros,
});

/**
 * One per imp of an auctioned request: the winner and what it pays, or why nobody won. Exactly one
 * per answered win: the billing ledger counts wins from these.
 */
export const AuctionResultEvent = Type.Object({
  ...Envelope,
  event_type: Type.Literal("auction_result"),
  imp_id: Str,
  bid_id: OptStr,
  bid_price_micros: OptMicros,
  win_price_micros: OptMicros, // clearing price, CPM micros
  cost_micros: OptMicros, // what one impression costs the campaign (reserved)
  no_bid_reason: OptStr,
  processing_ms: Type.Number({ minimum: 0 }),
});

/** A request refused before any auction (HTTP 4xx). */
export const InvalidRequestEvent = Type.Object({
  ...Envelope,
  event_type: Type.Literal("invalid_request"),
  http_status: Type.Integer(),
  field: Str,
  reason: Str,
});

/** Win (nurl), billing (burl) and loss (lurl) notices for one bid. */
export const NoticeEvent = Type.Object({
  ...Envelope,
  event_type: Type.Union([Type.Literal("win_notice"), Type.Literal("billing_notice"), Type.Literal("loss_notice")]),
  imp_id: OptStr,
  bid_id: Str,
  win_price_micros: OptMicros,
  cost_micros: OptMicros,
  loss_reason: Type.Union([Type.Integer(), Type.Null()]),
});

export const AUDIT_EVENT_SCHEMAS = {
  bid_request: BidRequestEvent,
  dsp_response: DspResponseEvent,
  bid: BidEvent,
  auction_result: AuctionResultEvent,
  invalid_request: InvalidRequestEvent,
  win_notice: NoticeEvent,
  billing_notice: NoticeEvent,
  loss_notice: NoticeEvent,
} as const satisfies Record<string, TSchema>;

export type AuditEventType = keyof typeof AUDIT_EVENT_SCHEMAS;
export type BidRequestEvent = Static<typeof BidRequestEvent>;
export type FraudAudit = Static<typeof FraudAudit>;
export type DspResponseEvent = Static<typeof DspResponseEvent>;
export type DspBidSummary = Static<typeof DspBidSummary>;
export type BidEvent = Static<typeof BidEvent>;
export type AuctionResultEvent = Static<typeof AuctionResultEvent>;
export type InvalidRequestEvent = Static<typeof InvalidRequestEvent>;
export type NoticeEvent = Static<typeof NoticeEvent>;
export type AuditEvent = BidRequestEvent | DspResponseEvent | BidEvent | AuctionResultEvent | InvalidRequestEvent | NoticeEvent;

const checkers = new Map<string, TypeCheck<TSchema>>(
  Object.entries(AUDIT_EVENT_SCHEMAS).map(([type, schema]): [string, TypeCheck<TSchema>] => [type, TypeCompiler.Compile(schema as TSchema)]),
);

/** Validates an event read back from the outbox or Kafka; returns a reason or null. */
export function auditEventProblem(value: unknown): string | null {
  const type = (value as { event_type?: unknown } | null)?.event_type;
  const checker = typeof type === "string" ? checkers.get(type) : undefined;
  if (checker === undefined) return `unknown event_type ${JSON.stringify(type)}`;
  if (checker.Check(value)) return null;
  const first = checker.Errors(value).First();
  return first ? `${type}${first.path}: ${first.message}` : `${type}: invalid`;
}
