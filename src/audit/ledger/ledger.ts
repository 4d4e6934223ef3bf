// The billing ledger: one SQLite file (WAL, busy timeout, synchronous=FULL) that several writers
// share (one per worker thread, or a Kafka consumer process). A batch is one IMMEDIATE
// transaction: the write lock is taken first, every event is inserted with INSERT OR IGNORE on its
// event_id, and the daily totals move by trigger only for rows really inserted. When the call
// returns, the batch is durable: a feeder may then acknowledge its source.
import { Database, type Statement } from "bun:sqlite";
import { createHash } from "node:crypto";
import { classifyEvent, classifyPayload, differingFields, type BillableRow, type Classified } from "./billable.ts";
import { LEDGER_LIMITS } from "./limits.ts";
import * as SQL from "./sql.ts";

export interface ApplyResult {
  /** Billable events stored now. */
  inserted: number;
  /** Billable events whose event_id was already stored (replays), conflicts included. */
  duplicates: number;
  /** Valid audit events that are not billable (requests, DSP answers, no-bid imps...). */
  skipped: number;
  /** Payloads that are not valid audit events: stored in ledger_anomalies, not in the books. */
  invalid: number;
  /** Duplicates whose content differs from the stored row: stored in ledger_anomalies. */
  conflicts: number;
}

export interface CampaignCost {
  campaignId: string;
  advertiserId: string;
  wins: number;
  costMicros: number;
}

export interface TotalsRow {
  day: string;
  advertiser_id: string;
  campaign_id: string;
  event_type: string;
  events: number;
  cost_micros: number;
}

export interface LedgerOptions {
  /** false: the file must exist (reading tools); default true. */
  create?: boolean;
  busyTimeoutMs?: number;
}

export class LedgerSchemaError extends Error {
  override name = "LedgerSchemaError";
}

export class Ledger {
  private readonly insertEvent: Statement;
  private readonly selectEvent: Statement;
  private readonly insertAnomaly: Statement;
  private readonly applyTx: (items: readonly Classified[]) => ApplyResult;

  private constructor(readonly path: string, private readonly db: Database) {
    this.insertEvent = db.prepare(SQL.INSERT_EVENT);
    this.selectEvent = db.prepare(SQL.SELECT_EVENT);
    this.insertAnomaly = db.prepare(SQL.INSERT_ANOMALY);
    const tx = db.transaction((items: readonly Classified[]) => this.applyItems(items));
    this.applyTx = (items) => tx.immediate(items);
  }

  /** Opens (creating by default) the ledger file, in WAL mode, schema version checked. */
  static open(path: string, options: LedgerOptions = {}): Ledger {
    const db = new Database(path, { create: options.create ?? true, readwrite: true, strict: true, safeIntegers: true });
    try {
      db.exec(`PRAGMA busy_timeout = ${Math.trunc(options.busyTimeoutMs ?? LEDGER_LIMITS.busyTimeoutMs)}`);
      db.exec("PRAGMA journal_mode = WAL");
      db.exec("PRAGMA synchronous = FULL"); // a commit is on disk before its source is acknowledged
      db.exec("PRAGMA foreign_keys = ON");
      migrate(db);
      return new Ledger(path, db);
    } catch (err) {
      db.close();
      throw err;
    }
  }

  /** Applies decoded audit events in one transaction. */
  applyBatch(events: readonly unknown[]): ApplyResult {
    checkBatchSize(events.length);
    return this.applyTx(events.map((e) => classifyEvent(e)));
  }

  /** Applies raw payloads (outbox records, Kafka values: UTF-8 JSON) in one transaction. */
  applyPayloads(payloads: readonly (Uint8Array | string)[]): ApplyResult {
    checkBatchSize(payloads.length);
    return this.applyTx(payloads.map((p) => classifyPayload(p)));
  }

  /** The day's won cost per campaign (auction_result wins), from the totals. */
  campaignCosts(day: string): CampaignCost[] {
    return this.db.query(SQL.CAMPAIGN_COSTS).all({ day }).map((r) => {
      const row = r as Record<string, unknown>;
      return { campaignId: String(row.campaign_id), advertiserId: String(row.advertiser_id), wins: micros(row.events), costMicros: micros(row.cost_micros) };
    });
  }

  /** The day's pivoted totals per (advertiser, campaign): wins, notices, costs. */
  campaignDayTotals(day: string): Record<string, string | number>[] {
    return this.db.query(SQL.CAMPAIGN_DAY_TOTALS).all({ day }).map((r) => numbers(r as Record<string, unknown>));
  }

  /** Every totals row, and the same recomputed from billable_events: equal unless the books broke. */
  totals(): { table: TotalsRow[]; fromRows: TotalsRow[] } {
    const read = (sql: string) => this.db.query(sql).all().map((r) => numbers(r as Record<string, unknown>) as unknown as TotalsRow);
    return { table: read(SQL.TOTALS_FROM_TABLE), fromRows: read(SQL.TOTALS_FROM_ROWS) };
  }

  eventCount(): number {
    return micros((this.db.query("SELECT COUNT(*) AS n FROM billable_events").get() as { n: unknown }).n);
  }

  anomalies(): { kind: string; event_id: string | null; reason: string }[] {
    return this.db.query("SELECT kind, event_id, reason FROM ledger_anomalies ORDER BY recorded_at, anomaly_id").all() as { kind: string; event_id: string | null; reason: string }[];
  }

  /** Rows of a query over the ledger (tests, CLI tools); integers come back as numbers. */
  select(sql: string, params: Record<string, string | number | null> = {}): Record<string, unknown>[] {
    return this.db.query(sql).all(params).map((r) => numbers(r as Record<string, unknown>));
  }

  close(): void {
    this.db.close();
  }

  private applyItems(items: readonly Classified[]): ApplyResult {
    const result: ApplyResult = { inserted: 0, duplicates: 0, skipped: 0, invalid: 0, conflicts: 0 };
    for (const item of items) {
      if (item.kind === "skipped") result.skipped++;
      else if (item.kind === "invalid") {
        result.invalid++;
        this.recordAnomaly("invalid", item.eventId, item.reason, item.payload);
      } else this.insertRow(item, result);
    }
    return result;
  }

  private insertRow(item: Extract<Classified, { kind: "billable" }>, result: ApplyResult): void {
    if (this.insertEvent.run(item.row as unknown as Record<string, string | number | null>).changes === 1) {
      result.inserted++;
      return;
    }
    result.duplicates++;
    const stored = this.selectEvent.get({ event_id: item.row.event_id }) as Record<string, unknown>;
    const differing = differingFields(stored, item.row);
    if (differing.length === 0) return;
    result.conflicts++;
    this.recordAnomaly("conflict", item.row.event_id, conflictReason(stored, item.row, differing), JSON.stringify(item.event));
  }

  private recordAnomaly(kind: "invalid" | "conflict", eventId: string | null, reason: string, payload: string): void {
    const bytes = Buffer.byteLength(payload);
    const kept = bytes > LEDGER_LIMITS.maxAnomalyPayloadBytes ? Buffer.from(payload).subarray(0, LEDGER_LIMITS.maxAnomalyPayloadBytes).toString() : payload;
    const anomalyId = createHash("sha256").update(`${kind}\n${payload}`).digest("hex");
    this.insertAnomaly.run({ anomaly_id: anomalyId, kind, event_id: eventId, reason, payload: kept, payload_bytes: bytes });
  }
}

function migrate(db: Database): void {
  db.transaction(() => {
    const version = Number((db.query("PRAGMA user_version").get() as { user_version: unknown }).user_version);
    if (version > SQL.SCHEMA_VERSION) throw new LedgerSchemaError(`ledger schema version ${version} is newer than this tmax (${SQL.SCHEMA_VERSION})`);
    if (version === SQL.SCHEMA_VERSION) return;
    db.exec(SQL.SCHEMA_DDL);
    db.exec(`PRAGMA user_version = ${SQL.SCHEMA_VERSION}`);
  }).immediate();
}

function checkBatchSize(count: number): void {
  if (count > LEDGER_LIMITS.maxBatchEvents) throw new RangeError(`a ledger batch holds at most ${LEDGER_LIMITS.maxBatchEvents} events, got ${count}`);
}

function conflictReason(stored: Record<string, unknown>, incoming: BillableRow, fields: string[]): string {
  const parts = fields.map((f) => `${f}: stored ${String(stored[f])}, incoming ${String(incoming[f as keyof BillableRow])}`);
  return `event_id ${incoming.event_id} already stored with other content (${parts.join("; ")})`;
}

/** An integer column as a number; refuses what a double cannot hold exactly (never rounds money). */
export function micros(value: unknown): number {
  const n = typeof value === "bigint" ? value : BigInt(value as number);
  if (n > BigInt(Number.MAX_SAFE_INTEGER) || n < BigInt(Number.MIN_SAFE_INTEGER)) throw new RangeError(`integer ${n} exceeds 2^53: not representable exactly`);
  return Number(n);
}

function numbers(row: Record<string, unknown>): Record<string, string | number> {
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, typeof v === "bigint" ? micros(v) : (v as string | number)]));
}
