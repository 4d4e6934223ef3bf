// The `budget` config section and the campaigns' budget fields (time zone, pacing), resolved with
// their defaults; every problem a ConfigError naming the field path.
import { randomBytes } from "node:crypto";
import { ConfigError } from "./errors.ts";
import { decimalToMicros } from "./money.ts";
import { isTimeZone } from "../budget/day.ts";
import type { ConfigFile } from "./schema.ts";

export interface BudgetRegion { id: string; redisUrl: string; trafficShare: number }
export interface BudgetSettings {
  mode: "embedded" | "redis";
  /** This pod's region (server.region). */
  region: string;
  regions: BudgetRegion[];
  globalRedisUrl: string | null;
  leaseTtlMs: number;
  leaseGraceMs: number;
  refillAtUse: number;
  minLeaseMicros: number;
  leaseShare: number;
  maxLeaseFraction: number;
  tickMs: number;
  commandTimeoutMs: number;
  adminToken: string | null;
  noticeSecret: string;
  /** Where the exchange sends billing/loss notices (this server); null = http://<host>:<port>. */
  noticeBaseUrl: string | null;
  /** Embedded: keep the books in a write-ahead journal in audit.dir, so a restart does not grant the day's budget again. */
  journal: boolean;
}

export const BUDGET_DEFAULTS = {
  leaseTtlMs: 30_000, leaseGraceMs: 5_000, refillAtUse: 0.7, minLeaseMicros: 10_000, leaseShare: 0.1, maxLeaseFraction: 0.05,
  tickMs: 100, commandTimeoutMs: 500,
} as const;

 /** Embedded lease life: the longest allowed (one pod holds the whole budget; see src/budget/store/journal.ts). */
export const EMBEDDED_LEASE_TTL_MS = 600_000;

const REDIS_URL = /^rediss?:\/\/[^/\s]+/;

export function budgetSettings(b: ConfigFile["budget"], region: string): BudgetSettings {
  const mode = b?.mode ?? "embedded";
  const minLease = b?.minLease === undefined ? BUDGET_DEFAULTS.minLeaseMicros : decimalToMicros(b.minLease);
  if (minLease === null || minLease <= 0) throw new ConfigError("budget.minLease", "must be a positive decimal amount with at most 6 decimal places");
  const settings: BudgetSettings = {
    mode, region,
    regions: (b?.regions ?? []).map((r) => ({ ...r })),
    globalRedisUrl: b?.globalRedisUrl ?? null,
    // Embedded with a journal: one pod, nothing to share: long leases (few journal writes); otherwise 30 s.
    leaseTtlMs: b?.leaseTtlMs ?? (mode === "embedded" && b?.journal === true ? EMBEDDED_LEASE_TTL_MS : BUDGET_DEFAULTS.leaseTtlMs),
    leaseGraceMs: b?.leaseGraceMs ?? BUDGET_DEFAULTS.leaseGraceMs,
    refillAtUse: b?.refillAtUse ?? BUDGET_DEFAULTS.refillAtUse,
    minLeaseMicros: minLease,
    // Embedded: one pod holds the whole hierarchy, so its first lease is the whole budget (nothing to strand).
    leaseShare: b?.leaseShare ?? (mode === "embedded" ? 1 : BUDGET_DEFAULTS.leaseShare),
    maxLeaseFraction: b?.maxLeaseFraction ?? (mode === "embedded" ? 1 : BUDGET_DEFAULTS.maxLeaseFraction),
    tickMs: b?.tickMs ?? BUDGET_DEFAULTS.tickMs,
    commandTimeoutMs: b?.commandTimeoutMs ?? BUDGET_DEFAULTS.commandTimeoutMs,
    adminToken: b?.adminToken ?? null,
    noticeSecret: b?.noticeSecret ?? randomBytes(32).toString("base64url"),
    noticeBaseUrl: b?.noticeBaseUrl ?? null,
    journal: b?.journal ?? false,
  };
  if (settings.noticeBaseUrl !== null && !/^https?:\/\/[^/\s]+/.test(settings.noticeBaseUrl)) throw new ConfigError("budget.noticeBaseUrl", "must be an http(s) URL");
  if (mode === "redis") checkDistributed(b!, settings);
  return settings;
}

function checkDistributed(b: NonNullable<ConfigFile["budget"]>, s: BudgetSettings): void {
  if (s.globalRedisUrl === null || !REDIS_URL.test(s.globalRedisUrl)) throw new ConfigError("budget.globalRedisUrl", "must be a redis:// URL in mode \"redis\"");
  if (s.regions.length === 0) throw new ConfigError("budget.regions", "must list the regions (id, redisUrl, trafficShare) in mode \"redis\"");
  const seen = new Set<string>();
  s.regions.forEach((r, i) => {
    if (!REDIS_URL.test(r.redisUrl)) throw new ConfigError(`budget.regions[${i}].redisUrl`, "must be a redis:// URL");
    if (seen.has(r.id)) throw new ConfigError(`budget.regions[${i}].id`, `duplicate region "${r.id}"`);
    seen.add(r.id);
  });
  if (!seen.has(s.region)) throw new ConfigError("server.region", `"${s.region}" is not one of budget.regions (${[...seen].join(", ")})`);
  const share = s.regions.reduce((sum, r) => sum + r.trafficShare, 0);
  if (Math.abs(share - 1) > 0.001) throw new ConfigError("budget.regions", `trafficShare must add up to 1, got ${share}`);
  if (b.noticeSecret === undefined) throw new ConfigError("budget.noticeSecret", "is required in mode \"redis\" (every pod must verify every pod's notice URLs)");
}

export function campaignTimeZone(tz: string | undefined, i: number): string {
  const zone = tz ?? "UTC";
  if (!isTimeZone(zone)) throw new ConfigError(`campaigns[${i}].timeZone`, `unknown IANA time zone "${zone}"`);
  return zone;
}

/** How many leases' worth a region tops up from global at once: larger for regions with more traffic. */
export function regionChunkLeases(s: BudgetSettings): number {
  const share = s.regions.find((r) => r.id === s.region)?.trafficShare ?? 1;
  return Math.max(1, Math.ceil(share * 10));
}
