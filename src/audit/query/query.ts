// Billing-dispute queries over every place an audit event can be: the outbox segments (not yet
// archived), the warm and cold archive tiers, and the billing ledger; deduplicated by event_id and
// sorted by event_time. The sources are read in this order on purpose: an event only leaves the
// outbox after it is archived warm, and only leaves warm after it is written cold, so reading the
// older home first means an event moving during the query is still seen in its newer home.
import { compareEvents } from "../archive/compact.ts";
import { archiveSource } from "./archive-source.ts";
import { sqliteLedgerSource } from "./ledger-source.ts";
import { outboxSource } from "./outbox-scan.ts";
import type { AuditEventRecord, AuditFilter, AuditQueryOptions, AuditQueryResult, AuditSource } from "./types.ts";

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const NO_ZONE = /T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/;
const MAX_ID_CHARS = 512;

export class AuditQueryError extends Error {
  override name = "AuditQueryError";
}

export async function queryAudit(options: AuditQueryOptions): Promise<AuditQueryResult> {
  const filter = normalizeQuery(options);
  const sources: AuditSource[] = [outboxSource(), archiveSource("warm"), archiveSource("cold")];
  const ledger = options.ledger === undefined ? sqliteLedgerSource() : options.ledger;
  if (ledger !== null) sources.push(ledger);
  const result: AuditQueryResult = { events: [], foundIn: new Map(), sources: {}, duplicates: 0, warnings: [] };
  const byId = new Map<string, AuditEventRecord>();
  for (const source of sources) {
    const found = await source.find(options.auditDir, filter);
    result.sources[source.name] = { found: found.events.length, files: found.files ?? 0, ...(found.skipped === undefined ? {} : { skipped: found.skipped }) };
    result.warnings.push(...(found.warnings ?? []).map((w) => `${source.name}: ${w}`));
    for (const event of found.events) addEvent(result, byId, event, source.name);
  }
  result.events = [...byId.values()].sort(compareEvents);
  return result;
}

function addEvent(result: AuditQueryResult, byId: Map<string, AuditEventRecord>, event: AuditEventRecord, source: string): void {
  const places = result.foundIn.get(event.event_id);
  if (places === undefined) {
    byId.set(event.event_id, event);
    result.foundIn.set(event.event_id, [source]);
    return;
  }
  result.duplicates += 1;
  if (!places.includes(source)) places.push(source);
}

/** Checks the query and puts it in normal form: a request id, or an advertiser with both bounds. */
export function normalizeQuery(options: AuditQueryOptions): AuditFilter {
  const fromMs = options.from === undefined ? -Infinity : parseTime(options.from, "from");
  const toMs = options.to === undefined ? Infinity : parseTime(options.to, "to");
  if (fromMs > toMs) throw new AuditQueryError(`from (${String(options.from)}) is after to (${String(options.to)})`);
  const filter: AuditFilter = { fromMs, toMs };
  if (options.eventType !== undefined) filter.eventType = checkId(options.eventType, "event type");
  if (options.requestId !== undefined) {
    if (options.advertiserId !== undefined) throw new AuditQueryError("give a request id or an advertiser, not both");
    filter.requestId = checkId(options.requestId, "request id");
    return filter;
  }
  if (options.advertiserId === undefined) throw new AuditQueryError("give a request id, or an advertiser with from and to");
  if (options.from === undefined || options.to === undefined) throw new AuditQueryError("an advertiser query needs both from and to");
  filter.advertiserId = options.advertiserId;
  if (filter.advertiserId.length > MAX_ID_CHARS) throw new AuditQueryError(`advertiser id longer than ${MAX_ID_CHARS} characters`);
  return filter;
}

function checkId(value: string, what: string): string {
  if (value === "" || value.length > MAX_ID_CHARS) throw new AuditQueryError(`${what} must be 1 to ${MAX_ID_CHARS} characters`);
  return value;
}

/** A Date, or an ISO date-time (UTC unless it names a zone); a date alone (YYYY-MM-DD) is midnight UTC. */
export function parseTime(value: string | Date, what: string): number {
  const text = value instanceof Date ? "" : DATE_ONLY.test(value) ? `${value}T00:00:00Z` : NO_ZONE.test(value) ? `${value}Z` : value;
  const ms = value instanceof Date ? value.getTime() : Date.parse(text);
  if (!Number.isFinite(ms)) throw new AuditQueryError(`${what}: not a date or ISO date-time: ${String(value)}`);
  return ms;
}
