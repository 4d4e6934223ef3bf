// Which audit events the billing ledger keeps, and the row each becomes. Pure functions: the
// ledger and both feeders share them, so an event read from the outbox and the same event read
// from Kafka give the same row.
//
//   auction_result with a winner (bid_id set)  -> billable (needs campaign_id, cost_micros, advertiser)
//   auction_result without one (a no-bid imp)  -> skipped
//   win_notice / billing_notice / loss_notice  -> billable
//   bid_request, dsp_response, bid, invalid_request -> skipped (by event_type alone: the bulk of
//                                                  the stream; the relay and archive check them)
//   not JSON, not a valid audit event          -> invalid (kept in ledger_anomalies, never dropped)
//
// Day boundary: the UTC calendar date of event_time (per-campaign time zones come with the
// budgets issue).
import { FormatRegistry } from "@sinclair/typebox";
import { auditEventProblem, type AuctionResultEvent, type AuditEvent, type AuditEventType, type NoticeEvent } from "../schema.ts";
import type { BillableType } from "./sql.ts";

export interface BillableRow {
  event_id: string;
  event_type: BillableType;
  request_id: string | null;
  imp_id: string | null;
  bid_id: string | null;
  advertiser_id: string;
  campaign_id: string | null;
  dsp_id: string | null;
  win_price_micros: number | null;
  cost_micros: number | null;
  loss_reason: number | null;
  event_time: string;
  /** UTC date of event_time, YYYY-MM-DD. */
  day: string;
}

export type Classified =
  | { kind: "billable"; row: BillableRow; event: AuditEvent }
  | { kind: "skipped" }
  | { kind: "invalid"; eventId: string | null; reason: string; payload: string };

const NOT_BILLABLE: ReadonlySet<unknown> = new Set(["bid_request", "dsp_response", "bid", "invalid_request"] satisfies AuditEventType[]);
const ISO_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/i;
const MINUTES_PER_HOUR = 60;
const MS_PER_MINUTE = 60_000;

/** The UTC date (YYYY-MM-DD) of an ISO-8601 time with Z or an offset; null when it is not one. */
export function utcDay(time: string): string | null {
  const m = ISO_TIME.exec(time);
  if (m === null) return null;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const local = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  const valid = local.getUTCFullYear() === y && local.getUTCMonth() === mo - 1 && local.getUTCDate() === d
    && local.getUTCHours() === h && local.getUTCMinutes() === mi && local.getUTCSeconds() === s;
  if (!valid) return null;
  const zone = m[8]!;
  const offsetMinutes = zone.toUpperCase() === "Z" ? 0 : offsetOf(zone);
  if (offsetMinutes === null) return null;
  return new Date(local.getTime() - offsetMinutes * MS_PER_MINUTE).toISOString().slice(0, 10);
}

function offsetOf(zone: string): number | null {
  const sign = zone.startsWith("-") ? -1 : 1;
  const hours = Number(zone.slice(1, 3));
  const minutes = Number(zone.slice(4, 6));
  if (hours > 23 || minutes > 59) return null;
  return sign * (hours * MINUTES_PER_HOUR + minutes);
}

// schema.ts declares event_time with format "date-time"; TypeBox rejects a format nobody registered.
if (!FormatRegistry.Has("date-time")) FormatRegistry.Set("date-time", (value) => utcDay(value) !== null);

/** Classifies one outbox record or Kafka message value (UTF-8 JSON). */
export function classifyPayload(bytes: Uint8Array | string): Classified {
  const text = typeof bytes === "string" ? bytes : new TextDecoder().decode(bytes);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { kind: "invalid", eventId: null, reason: `not JSON: ${(err as Error).message}`, payload: text };
  }
  return classifyEvent(value, text);
}

/** Classifies one decoded audit event; `payload` is its text when known (kept for an invalid one). */
export function classifyEvent(value: unknown, payload?: string): Classified {
  const invalid = (reason: string): Classified => ({ kind: "invalid", eventId: eventIdOf(value), reason, payload: payload ?? safeStringify(value) });
  // The bulk of the stream (requests, DSP answers, bids) is not billable: skipped before the full
  // schema check, which the relay and the archive do for them.
  if (NOT_BILLABLE.has((value as { event_type?: unknown } | null)?.event_type)) return { kind: "skipped" };
  const problem = auditEventProblem(value);
  if (problem !== null) return invalid(problem);
  const event = value as AuditEvent;
  const day = utcDay(event.event_time);
  if (day === null) return invalid(`event_time ${JSON.stringify(event.event_time)} is not an ISO-8601 time`);
  if (event.event_type === "auction_result") return auctionResultRow(event, day, invalid);
  if (event.event_type === "win_notice" || event.event_type === "billing_notice" || event.event_type === "loss_notice") {
    return { kind: "billable", row: noticeRow(event, day), event };
  }
  return { kind: "skipped" };
}

function auctionResultRow(event: AuctionResultEvent, day: string, invalid: (reason: string) => Classified): Classified {
  const won = event.bid_id !== null || event.cost_micros !== null || event.win_price_micros !== null;
  if (!won) return { kind: "skipped" };
  if (event.bid_id === null) return invalid("auction_result: a win without bid_id");
  if (event.cost_micros === null) return invalid("auction_result: a win without cost_micros");
  if (event.campaign_id === null) return invalid("auction_result: a win without campaign_id");
  if (event.advertiser_id === "") return invalid("auction_result: a win without advertiser_id");
  const row: BillableRow = {
    ...envelope(event, day), event_type: "auction_result", imp_id: event.imp_id, bid_id: event.bid_id,
    win_price_micros: event.win_price_micros, cost_micros: event.cost_micros, loss_reason: null,
  };
  return { kind: "billable", row, event };
}

function noticeRow(event: NoticeEvent, day: string): BillableRow {
  return {
    ...envelope(event, day), event_type: event.event_type, imp_id: event.imp_id, bid_id: event.bid_id,
    win_price_micros: event.win_price_micros, cost_micros: event.cost_micros, loss_reason: event.loss_reason,
  };
}

function envelope(event: AuditEvent, day: string) {
  return {
    event_id: event.event_id, request_id: event.request_id, advertiser_id: event.advertiser_id,
    campaign_id: event.campaign_id, dsp_id: event.dsp_id, event_time: event.event_time, day,
  };
}

function eventIdOf(value: unknown): string | null {
  const id = (value as { event_id?: unknown } | null)?.event_id;
  return typeof id === "string" ? id : null;
}

function safeStringify(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** The fields of two rows that differ (a duplicate event_id with other content is a conflict). */
export function differingFields(stored: Record<string, unknown>, incoming: BillableRow): string[] {
  return (Object.keys(incoming) as (keyof BillableRow)[]).filter((k) => normalize(stored[k]) !== normalize(incoming[k]));
}

/** One comparable text per value: SQLite hands back bigint (safeIntegers), the event has numbers. */
function normalize(v: unknown): string {
  return v === null || v === undefined ? "null" : `${typeof v === "bigint" ? "number" : typeof v}:${String(v)}`;
}
