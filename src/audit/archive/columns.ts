// The Parquet columns of an archived event: typed copies of the envelope and money fields (what a
// query engine filters and sums on) plus the whole event as a JSON column, from which the event is
// read back, so that nothing is lost whatever its type or version.
import type { ColumnSource } from "hyparquet-writer";

/** What the archive accepts: an audit event (schema.ts) or anything with its envelope. */
export interface ArchivableEvent {
  event_id: string;
  event_type: string;
  event_time: string;
  advertiser_id?: string | null;
  request_id?: string | null;
  [field: string]: unknown;
}

export const EVENT_JSON_COLUMN = "event_json";
export const REQUEST_ID_COLUMN = "request_id";

const STRING_COLUMNS = ["campaign_id", "dsp_id", "exchange_id", "publisher_id", "imp_id", "bid_id"] as const;
const MICROS_COLUMNS = ["bid_price_micros", "win_price_micros", "cost_micros"] as const;

/** The event's time in milliseconds, or NaN when event_time is not a date. */
export function eventTimeMs(event: { event_time?: unknown }): number {
  return typeof event.event_time === "string" ? Date.parse(event.event_time) : NaN;
}

/** Why a value cannot be archived as is, or null. */
export function archivableProblem(value: unknown): string | null {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "not a JSON object";
  const event = value as Record<string, unknown>;
  if (typeof event.event_id !== "string" || event.event_id === "") return "no event_id";
  if (typeof event.event_type !== "string" || event.event_type === "") return "no event_type";
  if (!Number.isFinite(eventTimeMs(event))) return "event_time is not an ISO date";
  const advertiser = event.advertiser_id;
  if (advertiser !== undefined && advertiser !== null && typeof advertiser !== "string") return "advertiser_id is not a string";
  return null;
}

export function advertiserOf(event: ArchivableEvent): string {
  return typeof event.advertiser_id === "string" ? event.advertiser_id : "";
}

function str(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}

function micros(value: unknown): bigint | null {
  return typeof value === "number" && Number.isSafeInteger(value) ? BigInt(value) : null;
}

function int32(value: unknown): number | null {
  return typeof value === "number" && Number.isInteger(value) && Math.abs(value) < 2 ** 31 ? value : null;
}

/** Column data for a batch of events (one Parquet file), in the order given. */
export function eventColumns(events: readonly ArchivableEvent[], bloomOnRequestId: { fpp: number; maxBytes: number }): ColumnSource[] {
  const pick = <T>(f: (e: ArchivableEvent) => T) => events.map(f);
  return [
    { name: "event_id", data: pick((e) => e.event_id), type: "STRING", nullable: false },
    { name: "event_type", data: pick((e) => e.event_type), type: "STRING", nullable: false },
    { name: "event_time", data: pick((e) => new Date(eventTimeMs(e))), type: "TIMESTAMP", nullable: false },
    { name: "event_version", data: pick((e) => int32(e.event_version)), type: "INT32" },
    { name: REQUEST_ID_COLUMN, data: pick((e) => str(e.request_id)), type: "STRING", bloomFilter: bloomOnRequestId },
    { name: "advertiser_id", data: pick(advertiserOf), type: "STRING", nullable: false },
    ...STRING_COLUMNS.map((name): ColumnSource => ({ name, data: pick((e) => str(e[name])), type: "STRING" })),
    ...MICROS_COLUMNS.map((name): ColumnSource => ({ name, data: pick((e) => micros(e[name])), type: "INT64" })),
    { name: "worker", data: pick((e) => int32(e.worker)), type: "INT32" },
    { name: EVENT_JSON_COLUMN, data: pick((e) => e), type: "JSON", nullable: false },
  ];
}
