// The shapes of an audit query: what is asked, what each source (outbox, archive tiers, ledger)
// answers, and the merged result.
import { eventTimeMs, type ArchivableEvent } from "../archive/columns.ts";

export type AuditEventRecord = ArchivableEvent;

export interface AuditQueryOptions {
  auditDir: string;
  /** Every event of one request (optionally narrowed by from/to)... */
  requestId?: string;
  /** ...or every event of one advertiser in [from, to). */
  advertiserId?: string;
  /** Inclusive; an ISO date or date-time, or a Date. */
  from?: string | Date;
  /** Exclusive. */
  to?: string | Date;
  eventType?: string;
  /** The ledger source; default the SQLite ledger at audit.dir/ledger.sqlite; null: not read. */
  ledger?: AuditSource | null;
}

/** A query in normal form: times in ms, absent bounds open. */
export interface AuditFilter {
  requestId?: string;
  advertiserId?: string;
  fromMs: number;
  toMs: number;
  eventType?: string;
}

export interface SourceResult {
  events: AuditEventRecord[];
  /** Why the source was not read at all (e.g. no ledger file), or undefined. */
  skipped?: string;
  warnings?: string[];
  /** Files (segments, Parquet files, databases) opened. */
  files?: number;
}

export interface AuditSource {
  readonly name: string;
  find(auditDir: string, filter: AuditFilter): Promise<SourceResult>;
}

export interface SourceSummary {
  /** Matching events found in this source (copies found earlier elsewhere included). */
  found: number;
  files: number;
  skipped?: string;
}

export interface AuditQueryResult {
  /** Distinct by event_id, sorted by event_time then event_id. */
  events: AuditEventRecord[];
  /** Per event_id, the sources it was found in (in read order; the first copy is the one returned). */
  foundIn: Map<string, string[]>;
  sources: Record<string, SourceSummary>;
  /** Copies beyond the first (the same event in several places, or twice in one). */
  duplicates: number;
  warnings: string[];
}

export function matchesFilter(event: AuditEventRecord, filter: AuditFilter): boolean {
  if (filter.requestId !== undefined && event.request_id !== filter.requestId) return false;
  if (filter.advertiserId !== undefined && (event.advertiser_id ?? "") !== filter.advertiserId) return false;
  if (filter.eventType !== undefined && event.event_type !== filter.eventType) return false;
  const t = eventTimeMs(event);
  if (filter.fromMs > -Infinity || filter.toMs < Infinity) return t >= filter.fromMs && t < filter.toMs;
  return true;
}
