// Reconciliation: per campaign, the ledger's won cost for a day (the sum of auction_result
// cost_micros, UTC date of event_time) against the budget system's spend (what it reserved).
// Every campaign that differs is a discrepancy, including one known to only one side.
//
// Until budgets reset daily (the budgets issue), the budget system's figure is its running total
// since the server started; the comparison is exact only when that span is the ledger day.
import type { Ledger } from "./ledger.ts";

export type DiscrepancyKind = "amount_differs" | "missing_in_budget" | "missing_in_ledger";

export interface Discrepancy {
  campaignId: string;
  kind: DiscrepancyKind;
  /** Advertisers the ledger saw for the campaign ([] when the ledger has none). */
  advertiserIds: string[];
  ledgerWins: number;
  ledgerCostMicros: number;
  budgetSpendMicros: number;
  /** ledger - budget. */
  differenceMicros: number;
}

export interface CampaignBooks {
  campaignId: string;
  advertiserIds: string[];
  ledgerWins: number;
  ledgerCostMicros: number;
  /** null: the budget system does not know the campaign. */
  budgetSpendMicros: number | null;
}

export interface Reconciliation {
  date: string;
  campaigns: CampaignBooks[];
  discrepancies: Discrepancy[];
}

export interface ReconcileOptions {
  ledger: Ledger;
  /** YYYY-MM-DD, a UTC date. */
  date: string;
  /** Campaign id -> micros the budget system counts as spent. */
  budgetSpend: ReadonlyMap<string, number>;
  /** "won" (default): auction_result cost vs reserved; "billed": billing_notice cost vs committed. */
  measure?: "won" | "billed";
}

/** Compares the books; returns every campaign and every discrepancy, ordered by campaign id. */
export function reconcile({ ledger, date, budgetSpend, measure = "won" }: ReconcileOptions): Reconciliation {
  if (!isDate(date)) throw new RangeError(`date must be a calendar date YYYY-MM-DD, got ${JSON.stringify(date)}`);
  for (const [id, spend] of budgetSpend) checkMicros(spend, `budget spend of campaign ${id}`);
  const campaigns = measure === "won" ? ledgerBooks(ledger, date) : billedBooks(ledger, date);
  for (const [campaignId, spend] of budgetSpend) {
    const known = campaigns.get(campaignId);
    if (known) known.budgetSpendMicros = spend;
    else campaigns.set(campaignId, { campaignId, advertiserIds: [], ledgerWins: 0, ledgerCostMicros: 0, budgetSpendMicros: spend });
  }
  const books = [...campaigns.values()].sort((a, b) => (a.campaignId < b.campaignId ? -1 : a.campaignId > b.campaignId ? 1 : 0));
  return { date, campaigns: books, discrepancies: books.flatMap((b) => discrepancyOf(b) ?? []) };
}

function ledgerBooks(ledger: Ledger, date: string): Map<string, CampaignBooks> {
  const books = new Map<string, CampaignBooks>();
  for (const cost of ledger.campaignCosts(date)) {
    const book = books.get(cost.campaignId) ?? { campaignId: cost.campaignId, advertiserIds: [], ledgerWins: 0, ledgerCostMicros: 0, budgetSpendMicros: null };
    book.advertiserIds.push(cost.advertiserId);
    book.ledgerWins += cost.wins;
    book.ledgerCostMicros += cost.costMicros;
    checkMicros(book.ledgerCostMicros, `ledger cost of campaign ${cost.campaignId}`);
    books.set(cost.campaignId, book);
  }
  return books;
}

/** The ledger's billing notices per campaign (count and cost) for the day. */
function billedBooks(ledger: Ledger, date: string): Map<string, CampaignBooks> {
  const books = new Map<string, CampaignBooks>();
  for (const row of ledger.campaignDayTotals(date)) {
    const campaignId = String(row.campaign_id);
    const book = books.get(campaignId) ?? { campaignId, advertiserIds: [], ledgerWins: 0, ledgerCostMicros: 0, budgetSpendMicros: null };
    book.advertiserIds.push(String(row.advertiser_id));
    book.ledgerWins += Number(row.billing_notices);
    book.ledgerCostMicros += Number(row.billed_cost_micros);
    checkMicros(book.ledgerCostMicros, `ledger billed cost of campaign ${campaignId}`);
    if (book.ledgerWins > 0) books.set(campaignId, book);
  }
  return books;
}

function discrepancyOf(book: CampaignBooks): Discrepancy | null {
  const budget = book.budgetSpendMicros ?? 0;
  const kind = kindOf(book, budget);
  if (kind === null) return null;
  return {
    campaignId: book.campaignId, kind, advertiserIds: book.advertiserIds, ledgerWins: book.ledgerWins,
    ledgerCostMicros: book.ledgerCostMicros, budgetSpendMicros: budget, differenceMicros: book.ledgerCostMicros - budget,
  };
}

function kindOf(book: CampaignBooks, budgetMicros: number): DiscrepancyKind | null {
  const inLedger = book.ledgerWins > 0;
  if (book.budgetSpendMicros === null) return inLedger ? "missing_in_budget" : null;
  if (!inLedger) return budgetMicros > 0 ? "missing_in_ledger" : null;
  return book.ledgerCostMicros === budgetMicros ? null : "amount_differs";
}

/** One line per discrepancy: names the campaign and both amounts (integer micros). */
export function formatDiscrepancy(d: Discrepancy): string {
  const sign = d.differenceMicros > 0 ? "+" : "";
  const advertisers = d.advertiserIds.length > 0 ? d.advertiserIds.join(",") : "-";
  return `discrepancy campaign=${d.campaignId} advertiser=${advertisers} kind=${d.kind} ledger_cost_micros=${d.ledgerCostMicros} `
    + `budget_spend_micros=${d.budgetSpendMicros} difference_micros=${sign}${d.differenceMicros} ledger_wins=${d.ledgerWins}`;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

export function isDate(text: string): boolean {
  const m = DATE.exec(text);
  if (m === null) return false;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.toISOString().slice(0, 10) === text;
}

function checkMicros(value: number, what: string): void {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${what} must be non-negative integer micros, got ${value}`);
}
