// `tmax billing reconcile --config FILE --date YYYY-MM-DD [--server URL | --budget-file FILE]`
// Reads the ledger at audit.dir/ledger.sqlite and the budget system's spend per campaign (the
// running server's /metrics, by default http://127.0.0.1:<server.port>, or a JSON file), prints
// one line per discrepancy and `discrepancies: N`. Exit code: 0 none, 1 some, 2 could not check.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadConfigFile } from "../../config/load.ts";
import { COMMITTED_GAUGE, fetchBudgetSpend, readBudgetFile, RESERVED_GAUGE } from "./budget-source.ts";
import { Ledger } from "./ledger.ts";
import { LEDGER_FILE } from "./limits.ts";
import { formatDiscrepancy, isDate, reconcile } from "./reconcile.ts";

export const RECONCILE_USAGE = "usage: tmax billing reconcile --config FILE --date YYYY-MM-DD [--server URL | --budget-file FILE] [--spend committed|reserved]";

export const EXIT_OK = 0;
export const EXIT_DISCREPANCIES = 1;
export const EXIT_ERROR = 2;

export interface CommandIo {
  out(line: string): void;
  err(line: string): void;
  fetch?: typeof fetch;
}

const consoleIo: CommandIo = { out: (l) => console.log(l), err: (l) => console.error(l) };

interface ReconcileArgs {
  config: string;
  date: string;
  server?: string;
  budgetFile?: string;
  /** committed (default): billed cost vs committed gauge; reserved: won cost vs reserved gauge. */
  spend: "committed" | "reserved";
}

/** Runs the command; returns the exit code (the CLI sets process.exitCode to it). */
export async function runReconcileCommand(argv: string[], io: CommandIo = consoleIo): Promise<number> {
  try {
    const args = parseReconcileArgs(argv);
    const config = loadConfigFile(args.config);
    const ledgerPath = join(config.audit.dir, LEDGER_FILE);
    if (!existsSync(ledgerPath)) throw new Error(`no ledger at ${ledgerPath} (audit.dir ${config.audit.dir})`);
    const source = args.budgetFile !== undefined
      ? { name: `budget file ${args.budgetFile}`, spend: () => Promise.resolve(readBudgetFile(args.budgetFile!)) }
      : serverSource(args.server ?? defaultServer(config.server.port), io.fetch, args.spend === "committed" ? COMMITTED_GAUGE : RESERVED_GAUGE);
    const budgetSpend = await source.spend();
    const ledger = Ledger.open(ledgerPath, { create: false });
    try {
      return report(ledger, args.date, budgetSpend, source.name, io, args.spend);
    } finally {
      ledger.close();
    }
  } catch (err) {
    io.err(`billing reconcile: ${(err as Error).message ?? err}`);
    return EXIT_ERROR;
  }
}

function defaultServer(port: number): string {
  if (port === 0) throw new Error("server.port is 0 (any free port) in the config: give --server URL");
  return `http://127.0.0.1:${port}`;
}

function serverSource(server: string, fetchImpl: typeof fetch | undefined, metric: string) {
  return { name: `${metric} from ${server}/metrics`, spend: () => fetchBudgetSpend(server, fetchImpl, metric) };
}

function report(ledger: Ledger, date: string, budgetSpend: Map<string, number>, sourceName: string, io: CommandIo, spend: ReconcileArgs["spend"]): number {
  const result = reconcile({ ledger, date, budgetSpend, measure: spend === "committed" ? "billed" : "won" });
  io.out(spend === "committed"
    ? `ledger: ${ledger.path}, day ${date} (UTC date of event_time), billed cost = sum of billing_notice cost_micros`
    : `ledger: ${ledger.path}, day ${date} (UTC date of event_time), won cost = sum of auction_result cost_micros`);
  io.out(`budget: ${sourceName}`);
  io.out("note: budgets reset at each campaign's day boundary (its time zone); the ledger day is a UTC date: compare UTC campaigns, or days that match");
  const anomalies = ledger.anomalies().length;
  if (anomalies > 0) io.out(`warning: the ledger holds ${anomalies} anomalies (invalid or conflicting events, table ledger_anomalies)`);
  for (const d of result.discrepancies) io.out(formatDiscrepancy(d));
  io.out(`discrepancies: ${result.discrepancies.length}`);
  return result.discrepancies.length === 0 ? EXIT_OK : EXIT_DISCREPANCIES;
}

export function parseReconcileArgs(argv: string[]): ReconcileArgs {
  const { values } = parseArgs({
    args: argv,
    options: { config: { type: "string" }, date: { type: "string" }, server: { type: "string" }, "budget-file": { type: "string" }, spend: { type: "string" } },
    strict: true,
  });
  if (values.config === undefined) throw new Error(`--config FILE is required\n${RECONCILE_USAGE}`);
  if (values.date === undefined || !isDate(values.date)) throw new Error(`--date YYYY-MM-DD (a calendar date) is required\n${RECONCILE_USAGE}`);
  if (values.server !== undefined && values["budget-file"] !== undefined) throw new Error(`--server and --budget-file exclude each other\n${RECONCILE_USAGE}`);
  if (values.server !== undefined && !/^https?:\/\/[^/]/.test(values.server)) throw new Error(`--server must be an http(s) URL, got ${values.server}`);
  const spend = values.spend ?? "committed";
  if (spend !== "committed" && spend !== "reserved") throw new Error(`--spend must be committed or reserved, got ${spend}\n${RECONCILE_USAGE}`);
  return { config: values.config, date: values.date, server: values.server, budgetFile: values["budget-file"], spend };
}
