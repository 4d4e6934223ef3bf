// Loading and checking the config: the schema first, then the rules a schema cannot say (URLs,
// unique ids, money), then defaults and environment overrides. Any problem is a ConfigError that
// names the field, e.g. "config error: dsps[2].endpoint: must be an http(s) URL".
import { readFileSync } from "node:fs";
import { availableParallelism, hostname } from "node:os";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { ConfigFile } from "./schema.ts";
import { ConfigError, fieldPath, reasonOf } from "./errors.ts";
import { decimalToMicros } from "./money.ts";
import { LIMITS } from "./limits.ts";
import { DEFAULT_LOG_SETTINGS, type LogSettings } from "../log/logger.ts";
import { fraudSettings, type FraudSettings } from "../fraud/settings.ts";
import { resolveRetentionPolicy, type RetentionPolicy } from "../audit/archive/retention.ts";
import { OUTBOX_DEFAULTS } from "../audit/outbox/limits.ts";
import { DEFAULT_MAX_YIELD_MS } from "../audit/consumers/yield-gate.ts";
import { campaignPacingMode, pacingSettings, type PacingSettings } from "../budget/pacing/config.ts";
import type { PacingMode } from "../budget/pacing.ts";
import { houseAdSettings, overloadSettings, rateLimitSettings, type HouseAdSettings, type OverloadSettings, type RateLimitSettings } from "../overload/config.ts";
import { budgetSettings, campaignTimeZone, type BudgetSettings } from "./budget.ts";
import type { BreakerSettings } from "../dsp/breaker.ts";

export interface DspSettings { id: string; endpoint: string; timeoutMs: number; enabled: boolean; maxConnections: number }
export interface FrequencyCapSettings { max: number; windowSec: number }
export interface CampaignSettings {
  id: string; advertiserId: string; dailyBudgetMicros: number; currency: "USD"; slot: number;
  /** In config order (cap i is table window i); [] = uncapped. */
  frequencyCaps: FrequencyCapSettings[];
  /** IANA zone whose midnight resets the daily budget (default "UTC"). */
  timeZone?: string;
  /** "even": throttled to the day's spend curve; "asap": bids whenever it can. load.ts always sets it; absent = "even". */
  pacing?: PacingMode;
}
/** Frequency caps for a request with no user key: "deny" = capped campaigns do not bid. */
export type FrequencyCapNoKey = "allow" | "deny";

export interface TmaxConfig {
  server: { port: number; host: string; workers: number; maxBodyBytes: number; region: string; pod: string; shutdownDrainMs: number };
  auction: {
    dspTimeoutMs: number; networkBufferMs: number; responseReserveMs: number; minDspTimeoutMs: number; defaultTmaxMs: number; maxImps: number;
    frequencyCapNoKey: FrequencyCapNoKey;
  };
  breaker: BreakerSettings;
  dsps: DspSettings[];
  campaigns: CampaignSettings[];
  audit: {
    dir: string;
    /** Group-commit window of the outbox (ms): an answer waits for at most about this plus one durable write. 0: a commit starts as soon as the previous one ends (groups form while the disk works). */
    commitWindowMs: number;
    /** Where a group's durable write runs: "loop" (the event-loop thread, at the end of its turn) or "pool" (the thread pool); see src/audit/outbox/committer.ts. */
    commitWrites: "loop" | "pool";
    /** How long the archive and ledger consumers may pause while their worker is at capacity (src/audit/consumers/yield-gate.ts); 0: never. */
    consumerYieldMaxMs: number;
    /** "embedded": each worker feeds the SQLite billing ledger from its outbox; "off": a Kafka consumer does. */
    ledger: "embedded" | "off";
    /** compression: the relay's batch codec (zstd: consumers must register it, src/audit/relay/codec.ts). */
    kafka: { brokers: string[]; topic: string; partitions: number; compression: "zstd" | "gzip" | "none" } | null;
    /** hot = outbox + ledger, warm = Parquet by date and advertiser, cold = compacted Parquet; nothing deleted before. */
    retention: RetentionPolicy;
  };
  /** The fraud stage (src/fraud/settings.ts); modelPath: an XGBoost JSON model (binary:logistic), loaded into shared memory at start. */
  fraud: FraudSettings;
  /** Distributed caps: counts shared through Redis across pods; null in the embedded default. */
  frequencyCapStore: { redisUrl: string; flushMs: number; fetchTimeoutMs: number } | null;
  /** The even-pacing controller (src/budget/pacing.ts), run by the control plane. */
  pacing: PacingSettings;
  /** Structured logs: minimum level, and the share of requests logged on the request path. */
  log: LogSettings;
  /** Overload guard: pressure signals, value-based shedding, adaptive DSP deadline (src/overload). */
  overload: OverloadSettings;
  /** Per-exchange token buckets shared by all workers; null = no limits. */
  rateLimits: RateLimitSettings | null;
  /** The ad answered when no DSP bids; null = plain no-bid. */
  houseAd: HouseAdSettings | null;
  /** The budget hierarchy: leases, region allocators, global coordinator, notices (src/budget/). */
  budget: BudgetSettings;
}

const checker = TypeCompiler.Compile(ConfigFile);

/** Default drain limit on SIGTERM: how long in-flight auctions may take to finish before they are cut. */
export const SHUTDOWN_DRAIN_MS = 10_000;

export function loadConfigFile(path: string, env: Record<string, string | undefined> = process.env): TmaxConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new ConfigError("(file)", `cannot read ${path}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError("(file)", `${path} is not valid JSON: ${(err as Error).message}`);
  }
  return parseConfig(raw, env);
}

export function parseConfig(raw: unknown, env: Record<string, string | undefined> = {}): TmaxConfig {
  if (!checker.Check(raw)) {
    const first = checker.Errors(raw).First();
    throw new ConfigError(first ? fieldPath(first.path) : "(root)", first ? reasonOf(first) : "invalid");
  }
  const file = raw as ConfigFile;
  const config: TmaxConfig = {
    server: {
      port: file.server?.port ?? 8080,
      host: file.server?.host ?? "0.0.0.0",
      workers: file.server?.workers ?? Math.min(availableParallelism(), LIMITS.maxWorkers),
      maxBodyBytes: file.server?.maxBodyBytes ?? LIMITS.defaultMaxBodyBytes,
      region: file.server?.region ?? "local",
      pod: file.server?.pod ?? hostname(),
      shutdownDrainMs: file.server?.shutdownDrainMs ?? SHUTDOWN_DRAIN_MS,
    },
    auction: {
      dspTimeoutMs: file.auction?.dspTimeoutMs ?? 70,
      networkBufferMs: file.auction?.networkBufferMs ?? 10,
      responseReserveMs: file.auction?.responseReserveMs ?? 5,
      minDspTimeoutMs: file.auction?.minDspTimeoutMs ?? 10,
      defaultTmaxMs: file.auction?.defaultTmaxMs ?? 100,
      maxImps: file.auction?.maxImps ?? 10,
      frequencyCapNoKey: file.auction?.frequencyCapNoKey ?? "deny",
    },
    breaker: {
      failureThreshold: file.breaker?.failureThreshold ?? 5,
      failureRate: file.breaker?.failureRate ?? 0.5,
      windowMs: file.breaker?.windowMs ?? 5_000,
      openMs: file.breaker?.openMs ?? 30_000,
      halfOpenSuccesses: file.breaker?.halfOpenSuccesses ?? 3,
    },
    dsps: file.dsps.map((d, i) => dspSettings(d, i, file.auction?.dspTimeoutMs ?? 70)),
    campaigns: file.campaigns.map((c, i) => campaignSettings(c, i)),
    audit: {
      dir: file.audit?.dir ?? "./data",
      commitWindowMs: file.audit?.commitWindowMs ?? OUTBOX_DEFAULTS.commitWindowMs,
      commitWrites: file.audit?.commitWrites ?? OUTBOX_DEFAULTS.commitWrites,
      consumerYieldMaxMs: file.audit?.consumerYieldMaxMs ?? DEFAULT_MAX_YIELD_MS,
      ledger: file.audit?.ledger ?? "embedded",
      retention: retentionPolicy(file.audit?.retention),
      kafka: file.audit?.kafka === undefined ? null : { brokers: file.audit.kafka.brokers, topic: file.audit.kafka.topic ?? "bid-events", partitions: file.audit.kafka.partitions ?? 12, compression: file.audit.kafka.compression ?? "zstd" },
    },
    fraud: fraudSettings(file.fraud),
    frequencyCapStore: capStoreSettings(file.frequencyCapStore),
    pacing: pacingSettings(file.pacing),
    log: { level: file.log?.level ?? DEFAULT_LOG_SETTINGS.level, sampleRate: file.log?.sampleRate ?? DEFAULT_LOG_SETTINGS.sampleRate },
    overload: overloadSettings(file.overload, file.auction?.dspTimeoutMs ?? 70),
    rateLimits: rateLimitSettings(file.rateLimits),
    houseAd: houseAdSettings(file.houseAd),
    budget: budgetSettings(file.budget, file.server?.region ?? "local"),
  };
  requireUnique(config.dsps.map((d) => d.id), "dsps");
  requireUnique(config.campaigns.map((c) => c.id), "campaigns");
  applyEnv(config, env);
  return config;
}

function dspSettings(d: ConfigFile["dsps"][number], i: number, dspTimeoutMs: number): DspSettings {
  if (!isHttpUrl(d.endpoint)) throw new ConfigError(`dsps[${i}].endpoint`, "must be an http(s) URL");
  if (d.endpoint.startsWith("https:")) throw new ConfigError(`dsps[${i}].endpoint`, "https DSP endpoints are not supported yet (use http inside the data centre)");
  return { id: d.id, endpoint: d.endpoint, timeoutMs: d.timeoutMs ?? dspTimeoutMs, enabled: d.enabled ?? true, maxConnections: d.maxConnections ?? 256 };
}

function campaignSettings(c: ConfigFile["campaigns"][number], i: number): CampaignSettings {
  const micros = decimalToMicros(c.dailyBudget);
  if (micros === null) throw new ConfigError(`campaigns[${i}].dailyBudget`, "must be a non-negative decimal amount with at most 6 decimal places");
  return { id: c.id, advertiserId: c.advertiserId, dailyBudgetMicros: micros, currency: c.currency, slot: i, frequencyCaps: frequencyCaps(c, i),
    timeZone: campaignTimeZone(c.timeZone, i), pacing: campaignPacingMode(c.pacing) };
}

/** Two caps with one window length would share one count in a remote store: refused. */
function frequencyCaps(c: ConfigFile["campaigns"][number], i: number): FrequencyCapSettings[] {
  const caps = (c.frequencyCaps ?? []).map((cap) => ({ max: cap.max, windowSec: cap.windowSec }));
  caps.forEach((cap, k) => {
    if (caps.findIndex((other) => other.windowSec === cap.windowSec) !== k) {
      throw new ConfigError(`campaigns[${i}].frequencyCaps[${k}].windowSec`, `duplicate window (${cap.windowSec} s): one cap per window length`);
    }
  });
  return caps;
}

function retentionPolicy(retention: NonNullable<ConfigFile["audit"]>["retention"]): RetentionPolicy {
  try {
    return resolveRetentionPolicy(retention ?? {});
  } catch (err) {
    const [field, ...reason] = (err as Error).message.split(": ");
    throw new ConfigError(field ?? "audit.retention", reason.join(": ") || (err as Error).message);
  }
}

function capStoreSettings(store: ConfigFile["frequencyCapStore"]): TmaxConfig["frequencyCapStore"] {
  if (store === undefined) return null;
  if (!/^rediss?:\/\/[^/\s]+/.test(store.redisUrl)) throw new ConfigError("frequencyCapStore.redisUrl", "must be a redis:// URL");
  return { redisUrl: store.redisUrl, flushMs: store.flushMs ?? 50, fetchTimeoutMs: store.fetchTimeoutMs ?? 5 };
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === "http:" || url.protocol === "https:") && url.hostname !== "";
  } catch {
    return false;
  }
}

function requireUnique(ids: string[], field: string): void {
  const seen = new Set<string>();
  ids.forEach((id, i) => {
    if (seen.has(id)) throw new ConfigError(`${field}[${i}].id`, `duplicate id "${id}"`);
    seen.add(id);
  });
}

function applyEnv(config: TmaxConfig, env: Record<string, string | undefined>): void {
  if (env.TMAX_PORT !== undefined) config.server.port = envInt(env.TMAX_PORT, "TMAX_PORT", 0, 65535);
  if (env.TMAX_WORKERS !== undefined) config.server.workers = envInt(env.TMAX_WORKERS, "TMAX_WORKERS", 1, LIMITS.maxWorkers);
}

export function envInt(text: string, name: string, min: number, max: number): number {
  // Digits only: Number() would read "" and " " as 0 (a random port) and accept "0x10" or "1e3".
  const value = /^\d{1,10}$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(name, `must be an integer from ${min} to ${max}, got "${text}"`);
  }
  return value;
}
