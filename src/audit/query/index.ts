// Audit queries for billing disputes (outbox + archive tiers + ledger): public API.
export { queryAudit, normalizeQuery, parseTime, AuditQueryError } from "./query.ts";
export { runAuditQueryCommand, AUDIT_QUERY_USAGE, EXIT_OK, EXIT_FAILED, EXIT_USAGE, type CommandIo } from "./command.ts";
export { outboxSource, scanOutboxRecords, type OutboxScanStats } from "./outbox-scan.ts";
export { archiveSource } from "./archive-source.ts";
export { sqliteLedgerSource, LEDGER_EVENTS_TABLE, type LedgerSourceOptions } from "./ledger-source.ts";
export {
  matchesFilter, type AuditEventRecord, type AuditFilter, type AuditQueryOptions, type AuditQueryResult,
  type AuditSource, type SourceResult, type SourceSummary,
} from "./types.ts";
