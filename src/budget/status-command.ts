// `tmax budget status --config FILE [--campaign ID] [--server URL] [--json]`: per campaign budget,
// committed, reserved, in leases, remaining and pacing. With --server, one pod's view (its
// /admin/budgets, bearer budget.adminToken). Without, in Redis mode, the hierarchy's books read
// straight from the global coordinator and every region (committed/reserved are per pod: --server).
import { parseArgs } from "node:util";
import { loadConfigFile, type CampaignSettings, type TmaxConfig } from "../config/load.ts";
import { microsToUnits } from "../config/money.ts";
import { campaignDay } from "./day.ts";
import { pacingStatus } from "./status.ts";
import { budgetRedis, RedisGlobalStore, RedisRegionStore } from "./store/redis.ts";

/** Longest wait for a pod's /admin/budgets or a store. */
export const STATUS_TIMEOUT_MS = 5_000;

export interface HierarchyStatus {
  campaign: string; day: string; budgetMicros: number; unallocatedMicros: number; inLeasesMicros: number; spentMicros: number;
  strandedMicros: number; regionAvailableMicros: number; remainingMicros: number; pacing: { mode: string; state: string };
}

export async function runBudgetStatusCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({ args, options: { config: { type: "string" }, campaign: { type: "string" }, server: { type: "string" }, json: { type: "boolean" } }, strict: true });
  if (values.config === undefined) throw new Error("budget status needs --config FILE");
  const config = loadConfigFile(values.config);
  const campaigns = values.campaign === undefined ? config.campaigns : config.campaigns.filter((c) => c.id === values.campaign);
  if (campaigns.length === 0) {
    console.error(`budget status: unknown campaign "${values.campaign}"`);
    return 1;
  }
  if (values.server !== undefined) return await podView(config, values.server, values.campaign, values.json === true);
  if (config.budget.mode === "embedded") {
    console.error("budget status: the embedded books live in the server process; pass --server URL (uses budget.adminToken)");
    return 1;
  }
  const rows = await hierarchyStatus(config, campaigns, Date.now());
  if (values.json) console.log(JSON.stringify(rows));
  else printTable(["campaign", "day", "budget", "spent", "stranded", "in leases", "remaining", "pacing"],
    rows.map((r) => [r.campaign, r.day, money(r.budgetMicros), money(r.spentMicros), money(r.strandedMicros), money(r.inLeasesMicros), money(r.remainingMicros), `${r.pacing.mode} (${r.pacing.state})`]));
  return 0;
}

export async function hierarchyStatus(config: TmaxConfig, campaigns: CampaignSettings[], nowMs: number): Promise<HierarchyStatus[]> {
  const b = config.budget;
  const global = new RedisGlobalStore(budgetRedis({ url: b.globalRedisUrl!, commandTimeoutMs: STATUS_TIMEOUT_MS }));
  const regions = b.regions.map((r) => new RedisRegionStore(budgetRedis({ url: r.redisUrl, commandTimeoutMs: STATUS_TIMEOUT_MS })));
  try {
    await Promise.all([global.ready(STATUS_TIMEOUT_MS), ...regions.map((r) => r.ready(STATUS_TIMEOUT_MS))]);
    const rows: HierarchyStatus[] = [];
    for (const c of campaigns) {
      const key = { campaign: c.id, day: campaignDay(nowMs, c.timeZone ?? "UTC") };
      const g = await global.books(key);
      const books = await Promise.all(regions.map((r) => r.books(key)));
      const sum = (f: (x: (typeof books)[number]) => number) => books.reduce((s, x) => s + f(x), 0);
      const spent = sum((x) => x.spentMicros);
      const stranded = sum((x) => x.strandedMicros);
      const unallocated = g.budgetMicros === 0 ? c.dailyBudgetMicros : g.unallocatedMicros;
      const inLeases = sum((x) => x.leasedMicros);
      const regionAvailable = sum((x) => x.availableMicros);
      rows.push({
        campaign: c.id, day: key.day, budgetMicros: c.dailyBudgetMicros, unallocatedMicros: unallocated, inLeasesMicros: inLeases, spentMicros: spent,
        strandedMicros: stranded, regionAvailableMicros: regionAvailable, remainingMicros: unallocated + regionAvailable + inLeases,
        pacing: pacingStatus(c),
      });
    }
    return rows;
  } finally {
    await global.close();
    for (const r of regions) await r.close();
  }
}

async function podView(config: TmaxConfig, server: string, campaign: string | undefined, json: boolean): Promise<number> {
  const url = new URL("/admin/budgets", server);
  if (campaign !== undefined) url.searchParams.set("campaign", campaign);
  const res = await fetch(url, { headers: { authorization: `Bearer ${config.budget.adminToken ?? ""}` }, signal: AbortSignal.timeout(STATUS_TIMEOUT_MS) });
  if (res.status !== 200) {
    console.error(`budget status: ${url} answered HTTP ${res.status}: ${await res.text()}`);
    return 1;
  }
  const body = await res.json() as { pod: string; campaigns: Array<Record<string, any>> };
  if (json) {
    console.log(JSON.stringify(body));
    return 0;
  }
  console.log(`pod ${body.pod}`);
  printTable(["campaign", "budget", "committed", "reserved", "in leases", "remaining", "pacing"],
    body.campaigns.map((r) => [r.campaign, money(r.budgetMicros), money(r.committedMicros), money(r.reservedMicros), money(r.inLeasesMicros), money(r.remainingMicros),
      `${r.pacing.mode} (${r.pacing.state}${r.pacing.participation === null || r.pacing.participation === undefined ? "" : ` p=${r.pacing.participation}`})`]));
  return 0;
}

function money(micros: number): string {
  return microsToUnits(micros).toFixed(6);
}

function printTable(header: string[], rows: string[][]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const r of [header, ...rows]) console.log(r.map((cell, i) => (i === 0 || i === r.length - 1 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  "));
}
