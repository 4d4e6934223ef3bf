// `tmax audit query --config FILE (--request-id ID | --advertiser A --from T1 --to T2) [--type T] [--json]`
// Prints each matching event as one JSON line (sorted by event_time, one copy per event_id), then a
// summary line: matches per source (outbox, warm, cold, ledger), duplicates, skipped sources. With
// --json the summary is a JSON object too ({"summary": ...}), so the whole output is NDJSON.
import { parseArgs } from "node:util";
import { loadConfigFile } from "../../config/load.ts";
import { ConfigError } from "../../config/errors.ts";
import { AuditQueryError, queryAudit } from "./query.ts";
import type { AuditQueryOptions, AuditQueryResult } from "./types.ts";

export const AUDIT_QUERY_USAGE = `usage: tmax audit query (--config FILE | --audit-dir DIR) --request-id ID [--from T1] [--to T2] [--type TYPE] [--json]
       tmax audit query (--config FILE | --audit-dir DIR) --advertiser A --from T1 --to T2 [--type TYPE] [--json]
  T: an ISO date (2025-03-01 = midnight UTC) or date-time (UTC unless a zone is given); from inclusive, to exclusive`;

export const EXIT_OK = 0;
export const EXIT_FAILED = 1;
export const EXIT_USAGE = 2;

export interface CommandIo {
  out(line: string): void;
  err(line: string): void;
}

const consoleIo: CommandIo = { out: (l) => console.log(l), err: (l) => console.error(l) };

/** Runs the query for `argv` (the words after `audit query`); returns the exit code. */
export async function runAuditQueryCommand(argv: string[], io: CommandIo = consoleIo): Promise<number> {
  let options: AuditQueryOptions & { json: boolean };
  try {
    options = parseQueryArgs(argv);
  } catch (err) {
    io.err(err instanceof ConfigError ? err.message : `audit query: ${(err as Error).message}\n${AUDIT_QUERY_USAGE}`);
    return EXIT_USAGE;
  }
  try {
    const result = await queryAudit(options);
    for (const event of result.events) io.out(JSON.stringify(event));
    for (const warning of result.warnings) io.err(`audit query: warning: ${warning}`);
    io.out(options.json ? JSON.stringify({ summary: summaryObject(result) }) : summaryText(result));
    return EXIT_OK;
  } catch (err) {
    io.err(`audit query: ${(err as Error).message ?? err}`);
    return err instanceof AuditQueryError ? EXIT_USAGE : EXIT_FAILED;
  }
}

function parseQueryArgs(argv: string[]): AuditQueryOptions & { json: boolean } {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      config: { type: "string" }, "audit-dir": { type: "string" }, "request-id": { type: "string" }, advertiser: { type: "string" },
      from: { type: "string" }, to: { type: "string" }, type: { type: "string" }, json: { type: "boolean" },
    },
    strict: true,
    allowPositionals: true,
  });
  if (positionals.length > 0) throw new Error(`unexpected argument ${positionals[0]}`);
  if ((values.config === undefined) === (values["audit-dir"] === undefined)) throw new Error("give --config FILE or --audit-dir DIR");
  const auditDir = values["audit-dir"] ?? loadConfigFile(values.config!).audit.dir;
  if (values["request-id"] === undefined && values.advertiser === undefined) throw new Error("give --request-id ID or --advertiser A --from T1 --to T2");
  return {
    auditDir, requestId: values["request-id"], advertiserId: values.advertiser, from: values.from, to: values.to,
    eventType: values.type, json: values.json ?? false,
  };
}

function summaryObject(result: AuditQueryResult): Record<string, unknown> {
  return { events: result.events.length, duplicates: result.duplicates, sources: result.sources, warnings: result.warnings.length };
}

function summaryText(result: AuditQueryResult): string {
  const parts = Object.entries(result.sources).map(([name, s]) => (s.skipped === undefined ? `${name} ${s.found}` : `${name} skipped (${s.skipped})`));
  return `# ${result.events.length} events; found in: ${parts.join(", ")}; ${result.duplicates} duplicate copies`;
}
