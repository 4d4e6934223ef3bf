// Reconciliation of the billing ledger with the budget system: `tmax billing reconcile` (as
// runReconcileCommand) against a /metrics endpoint built by the server's own exposition code over a
// real SharedBudget, and against a budget file. Matching books: 0 discrepancies, exit 0; an injected
// mismatch: a line naming the campaign and both amounts, exit 1; unusable input: exit 2.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Server } from "bun";
import { budgetSlotOffset, createSharedMemory, layout as L } from "../src/auction/memory.ts";
import { SharedBudget } from "../src/budget/shared-budget.ts";
import { parseConfig } from "../src/config/load.ts";
import { CounterLayout, CounterReader } from "../src/metrics/counters.ts";
import { buildRegistry } from "../src/metrics/exposition.ts";
import { Ledger, parseReservedGauge, reconcile, runReconcileCommand, BudgetSourceError } from "../src/audit/ledger/index.ts";
import { CAMPAIGNS, winEvent } from "../src/audit/ledger/fixtures.ts";

const DAY = "2025-03-01";
const COSTS: [campaign: (typeof CAMPAIGNS)[number], costMicros: number][] = [
  [CAMPAIGNS[0], 1_500], [CAMPAIGNS[0], 2_501], [CAMPAIGNS[1], 9_999_999], [CAMPAIGNS[1], 1], [CAMPAIGNS[2], 42],
];
const ledgerCost = (id: string) => COSTS.filter(([c]) => c.id === id).reduce((sum, [, cost]) => sum + cost, 0);

let dir = "";
let server: Server<undefined>;
let reservedView: BigInt64Array;
const config = parseConfig({
  dsps: [{ id: "dsp1", endpoint: "http://127.0.0.1:9/bid" }],
  campaigns: CAMPAIGNS.slice(0, 3).map((c) => ({ id: c.id, advertiserId: c.advertiserId, dailyBudget: "100.00", currency: "USD" })),
});

/** Sets what the budget system counts as spent for a campaign (what the auction kernel reserves). */
function setReserved(campaignId: string, micros: number): void {
  const slot = config.campaigns.find((c) => c.id === campaignId)!.slot;
  Atomics.store(reservedView, (budgetSlotOffset(slot) + L.BUDGET_RESERVED_OFF) >> 3, BigInt(micros));
}

let configs = 0;
function writeConfig(port: number, auditDir = dir): string {
  const path = join(dir, `tmax-${++configs}.json`);
  writeFileSync(path, JSON.stringify({
    server: { port }, dsps: [{ id: "dsp1", endpoint: "http://127.0.0.1:9/bid" }],
    campaigns: CAMPAIGNS.slice(0, 3).map((c) => ({ id: c.id, advertiserId: c.advertiserId, dailyBudget: "100.00", currency: "USD" })),
    audit: { dir: auditDir },
  }));
  return path;
}

async function run(argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  // These cases compare won cost with the reserved gauge (`--spend reserved`); committed: tests/budget-reconcile.test.ts.
  const code = await runReconcileCommand(argv.length > 0 && !argv.includes("--spend") ? [...argv, "--spend", "reserved"] : argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "ledger-reconcile-"));
  const ledger = Ledger.open(join(dir, "ledger.sqlite"));
  ledger.applyBatch(COSTS.map(([c, cost], i) => winEvent(`w${i}`, c, cost, `${DAY}T0${i}:00:00.000Z`)));
  ledger.applyBatch([winEvent("other-day", CAMPAIGNS[0], 777, "2025-03-02T00:00:00.000Z")]); // not in DAY
  ledger.close();
  const memory = createSharedMemory();
  reservedView = new BigInt64Array(memory.buffer);
  const budget = new SharedBudget(memory);
  for (const c of config.campaigns) budget.reset(c.slot, c.dailyBudgetMicros);
  const layout = new CounterLayout(config.dsps.length, 1);
  const registry = buildRegistry(config, new CounterReader(layout, layout.allocate()), budget);
  server = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: async (req) => new URL(req.url).pathname === "/metrics" ? new Response(await registry.metrics()) : new Response("no", { status: 404 }) });
});

afterAll(() => {
  void server?.stop(true);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("billing reconcile", () => {
  test("matching books: 0 discrepancies, exit 0 (server URL from the config's port)", async () => {
    for (const c of ["c1", "c2", "c3"]) setReserved(c, ledgerCost(c));
    const { code, out, err } = await run(["--config", writeConfig(server.port!), "--date", DAY]);
    expect(err).toEqual([]);
    expect(out.at(-1)).toBe("discrepancies: 0");
    expect(out.join("\n")).toContain("budgets reset at each campaign's day boundary");
    expect(out.join("\n")).toContain(`tmax_campaign_budget_reserved_micros from http://127.0.0.1:${server.port}/metrics`);
    expect(code).toBe(0);
  });

  test("an injected mismatch: one line naming the campaign and both amounts, exit 1", async () => {
    for (const c of ["c1", "c2", "c3"]) setReserved(c, ledgerCost(c));
    setReserved("c2", ledgerCost("c2") + 1);
    const { code, out } = await run(["--config", writeConfig(0), "--date", DAY, "--server", `http://127.0.0.1:${server.port}`]);
    const lines = out.filter((l) => l.startsWith("discrepancy "));
    expect(lines).toEqual([
      `discrepancy campaign=c2 advertiser=adv-globex kind=amount_differs ledger_cost_micros=${ledgerCost("c2")} budget_spend_micros=${ledgerCost("c2") + 1} difference_micros=-1 ledger_wins=2`,
    ]);
    expect(out.at(-1)).toBe("discrepancies: 1");
    expect(code).toBe(1);
  });

  test("a budget file: every discrepancy is listed, including campaigns one side does not know", async () => {
    const file = join(dir, "budget.json");
    writeFileSync(file, JSON.stringify({ c1: ledgerCost("c1") + 250, c2: String(ledgerCost("c2")), c9: 500, c10: 0 }));
    const { code, out } = await run(["--config", writeConfig(0), "--date", DAY, "--budget-file", file]);
    const lines = out.filter((l) => l.startsWith("discrepancy "));
    expect(lines.length).toBe(3);
    expect(lines[0]).toContain("campaign=c1 advertiser=adv-acme kind=amount_differs ledger_cost_micros=4001 budget_spend_micros=4251 difference_micros=-250");
    expect(lines[1]).toContain("campaign=c3 advertiser=adv-acme kind=missing_in_budget ledger_cost_micros=42 budget_spend_micros=0 difference_micros=+42");
    expect(lines[2]).toContain("campaign=c9 advertiser=- kind=missing_in_ledger ledger_cost_micros=0 budget_spend_micros=500 difference_micros=-500");
    expect(out.at(-1)).toBe("discrepancies: 3");
    expect(code).toBe(1);
  });

  test("reconcile(): only the given UTC day counts; integer micros only", () => {
    const ledger = Ledger.open(join(dir, "ledger.sqlite"), { create: false });
    try {
      const next = reconcile({ ledger, date: "2025-03-02", budgetSpend: new Map([["c1", 777]]) });
      expect(next.discrepancies).toEqual([]);
      expect(next.campaigns).toEqual([{ campaignId: "c1", advertiserIds: ["adv-acme"], ledgerWins: 1, ledgerCostMicros: 777, budgetSpendMicros: 777 }]);
      expect(reconcile({ ledger, date: "2025-03-03", budgetSpend: new Map() }).discrepancies).toEqual([]);
      expect(() => reconcile({ ledger, date: DAY, budgetSpend: new Map([["c1", 1.5]]) })).toThrow(RangeError);
      expect(() => reconcile({ ledger, date: "2025-02-30", budgetSpend: new Map() })).toThrow(RangeError);
    } finally {
      ledger.close();
    }
  });

  test("what cannot be checked exits 2 with a reason", async () => {
    const cases: [string[], RegExp][] = [
      [["--config", writeConfig(0), "--date", "2025-13-01"], /--date/],
      [["--config", writeConfig(0), "--date", DAY, "--server", "http://x", "--budget-file", "b.json"], /exclude/],
      [["--config", writeConfig(0, join(dir, "nowhere")), "--date", DAY], /no ledger/],
      [["--config", writeConfig(1), "--date", DAY], /cannot read http:\/\/127\.0\.0\.1:1\/metrics/],
      [["--config", writeConfig(0), "--date", DAY], /server\.port is 0/],
      [["--config", join(dir, "missing.json"), "--date", DAY], /config error/],
      [["--date", DAY], /--config/],
    ];
    writeFileSync(join(dir, "float.json"), JSON.stringify({ c1: 1.5 }));
    cases.push([["--config", writeConfig(0), "--date", DAY, "--budget-file", join(dir, "float.json")], /not non-negative integer micros/]);
    for (const [argv, reason] of cases) {
      const { code, err } = await run(argv);
      expect({ argv, code }).toEqual({ argv, code: 2 });
      expect(err.join("\n")).toMatch(reason);
    }
  });

  test("the /metrics parser: escaped labels, other metrics ignored, floats and duplicates refused", () => {
    const text = [
      "# HELP tmax_campaign_budget_reserved_micros Reserved (counted as spent) per campaign.",
      "# TYPE tmax_campaign_budget_reserved_micros gauge",
      'tmax_campaign_budget_reserved_micros{campaign="c\\"1\\\\x"} 12',
      'tmax_campaign_budget_reserved_micros{campaign="c2",pod="p"} 9007199254740991',
      'tmax_campaign_budget_reserved_micros_total{campaign="c3"} 5',
      'tmax_campaign_budget_remaining_micros{campaign="c1"} 3.5',
    ].join("\n");
    expect(parseReservedGauge(text)).toEqual(new Map([['c"1\\x', 12], ["c2", 9_007_199_254_740_991]]));
    expect(() => parseReservedGauge('tmax_campaign_budget_reserved_micros{campaign="c1"} 1.5')).toThrow(BudgetSourceError);
    expect(() => parseReservedGauge('tmax_campaign_budget_reserved_micros{campaign="c1"} 1e21')).toThrow(BudgetSourceError);
    expect(() => parseReservedGauge('tmax_campaign_budget_reserved_micros{campaign="c1"} 1\ntmax_campaign_budget_reserved_micros{campaign="c1"} 2')).toThrow(/twice/);
  });
});
