// The billing ledger (SQLite, audit.dir/ledger.sqlite, see src/audit/ledger) as a query source,
// opened read-only. It holds billable events only (auction results and notices) and their billing
// columns, not the whole event: it is read last, so an event found in the outbox or the archive is
// returned whole and the ledger row only counts as a copy. Absent file or table: skipped, not an error.
import { Database } from "bun:sqlite";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { LEDGER_FILE } from "../ledger/limits.ts";
import { ROW_COLUMNS } from "../ledger/sql.ts";
import { utcDate } from "../archive/layout.ts";
import { matchesFilter, type AuditEventRecord, type AuditFilter, type AuditSource, type SourceResult } from "./types.ts";

/** The ledger's table of billable events (src/audit/ledger/sql.ts). */
export const LEDGER_EVENTS_TABLE = "billable_events";
/** Ledger columns that are bookkeeping, not event fields. */
const NOT_EVENT_FIELDS = new Set(["day"]);

export interface LedgerSourceOptions {
  /** Default: audit.dir/ledger.sqlite. */
  path?: string;
  table?: string;
}

export function sqliteLedgerSource(options: LedgerSourceOptions = {}): AuditSource {
  const table = options.table ?? LEDGER_EVENTS_TABLE;
  return {
    name: "ledger",
    async find(auditDir: string, filter: AuditFilter): Promise<SourceResult> {
      const path = options.path ?? join(auditDir, LEDGER_FILE);
      if (!existsSync(path)) return { events: [], skipped: `no ledger at ${path}` };
      let db: Database;
      try {
        db = new Database(path, { readonly: true });
      } catch (err) {
        return { events: [], skipped: `cannot open ${path}: ${(err as Error).message}` };
      }
      try {
        if (!hasTable(db, table)) return { events: [], skipped: `no table ${table} in ${path}`, files: 1 };
        const rows = selectRows(db, table, filter);
        const events = rows.map(rowToEvent).filter((e) => matchesFilter(e, filter));
        return { events, files: 1 };
      } finally {
        db.close();
      }
    },
  };
}

function hasTable(db: Database, table: string): boolean {
  return db.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) !== null;
}

/** The rows that may match: the id (and day range, event type) in SQL; the exact time range is checked after. */
function selectRows(db: Database, table: string, filter: AuditFilter): Record<string, unknown>[] {
  const where: string[] = [];
  const params: Record<string, string> = {};
  if (filter.requestId !== undefined) {
    where.push("request_id = $request_id");
    params.$request_id = filter.requestId;
  }
  if (filter.advertiserId !== undefined) {
    where.push("advertiser_id = $advertiser_id");
    params.$advertiser_id = filter.advertiserId;
  }
  if (filter.eventType !== undefined) {
    where.push("event_type = $event_type");
    params.$event_type = filter.eventType;
  }
  if (Number.isFinite(filter.fromMs)) {
    where.push("day >= $from_day");
    params.$from_day = utcDate(filter.fromMs);
  }
  if (Number.isFinite(filter.toMs)) {
    where.push("day <= $to_day");
    params.$to_day = utcDate(filter.toMs - 1);
  }
  const sql = `SELECT ${ROW_COLUMNS.join(", ")} FROM "${table.replaceAll('"', '""')}"${where.length > 0 ? ` WHERE ${where.join(" AND ")}` : ""}`;
  return db.query(sql).all(params) as Record<string, unknown>[];
}

function rowToEvent(row: Record<string, unknown>): AuditEventRecord {
  const event: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) if (!NOT_EVENT_FIELDS.has(key)) event[key] = value;
  return event as AuditEventRecord;
}
