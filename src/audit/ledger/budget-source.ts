// Where reconciliation reads the budget system's spend per campaign: the running server's
// /metrics (gauge tmax_campaign_budget_reserved_micros{campaign="..."}: reserved = counted as
// spent) or a JSON file {"<campaign id>": <integer micros>, ...}. Amounts must be integers: a
// float, a negative or a value past 2^53 is an error, never rounded.
import { readFileSync, statSync } from "node:fs";
import { LEDGER_LIMITS } from "./limits.ts";

export const RESERVED_GAUGE = "tmax_campaign_budget_reserved_micros";
/** Committed by billing notices (two-phase spend, src/budget/notice/): compared with the ledger's billed cost. */
export const COMMITTED_GAUGE = "tmax_campaign_budget_committed_micros";

export class BudgetSourceError extends Error {
  override name = "BudgetSourceError";
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)(?:\s+-?\d+)?$/;
const LABEL = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*(?:,|$)/y;
const DIGITS = /^\d{1,16}$/;

/** Campaign id -> reserved micros from a Prometheus text exposition. */
export function parseReservedGauge(text: string, metric = RESERVED_GAUGE): Map<string, number> {
  const spend = new Map<string, number>();
  for (const [i, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || !line.startsWith(metric)) continue;
    const m = SAMPLE.exec(line);
    if (m === null || m[1] !== metric) continue;
    const campaign = parseLabels(m[2] ?? "", i + 1).get("campaign");
    if (campaign === undefined) throw new BudgetSourceError(`/metrics line ${i + 1}: ${metric} without a campaign label`);
    if (spend.has(campaign)) throw new BudgetSourceError(`/metrics line ${i + 1}: campaign ${campaign} appears twice`);
    spend.set(campaign, integerMicros(m[3]!, `/metrics line ${i + 1} (campaign ${campaign})`));
  }
  return spend;
}

function parseLabels(text: string, lineNo: number): Map<string, string> {
  const labels = new Map<string, string>();
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < text.length) {
    const m = LABEL.exec(text);
    if (m === null) throw new BudgetSourceError(`/metrics line ${lineNo}: cannot read labels {${text}}`);
    labels.set(m[1]!, unescapeLabel(m[2]!));
  }
  return labels;
}

function unescapeLabel(value: string): string {
  return value.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));
}

/** Integer micros from text or a JSON number; anything else is an error naming `where`. */
export function integerMicros(value: unknown, where: string): number {
  const n = typeof value === "string" && DIGITS.test(value) ? Number(value) : typeof value === "number" ? value : NaN;
  if (!Number.isSafeInteger(n) || n < 0) throw new BudgetSourceError(`${where}: ${JSON.stringify(value)} is not non-negative integer micros`);
  return n;
}

/** Scrapes `<server>/metrics` and reads the reserved gauge. */
export async function fetchBudgetSpend(serverUrl: string, fetchImpl: typeof fetch = fetch, metric = RESERVED_GAUGE): Promise<Map<string, number>> {
  const url = new URL("/metrics", serverUrl).toString();
  let response: Response;
  try {
    response = await fetchImpl(url, { signal: AbortSignal.timeout(LEDGER_LIMITS.metricsTimeoutMs) });
  } catch (err) {
    throw new BudgetSourceError(`cannot read ${url}: ${(err as Error).message}`);
  }
  if (response.status !== 200) throw new BudgetSourceError(`${url} answered HTTP ${response.status}`);
  const text = await boundedText(response, LEDGER_LIMITS.maxMetricsBytes, url);
  return parseReservedGauge(text, metric);
}

async function boundedText(response: Response, maxBytes: number, what: string): Promise<string> {
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for await (const chunk of response.body ?? []) {
    bytes += chunk.byteLength;
    if (bytes > maxBytes) throw new BudgetSourceError(`${what}: more than ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}

/** Reads a budget file: {"<campaign id>": <integer micros or digit string>, ...}. */
export function readBudgetFile(path: string): Map<string, number> {
  let raw: unknown;
  try {
    const size = statSync(path).size;
    if (size > LEDGER_LIMITS.maxBudgetFileBytes) throw new Error(`larger than ${LEDGER_LIMITS.maxBudgetFileBytes} bytes`);
    raw = JSON.parse(readFileSync(path, "utf8"));
  } catch (err) {
    throw new BudgetSourceError(`cannot read budget file ${path}: ${(err as Error).message}`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new BudgetSourceError(`budget file ${path}: expected an object {"<campaign id>": <micros>}`);
  }
  return new Map(Object.entries(raw).map(([id, v]) => [id, integerMicros(v, `budget file ${path}, campaign ${id}`)]));
}
