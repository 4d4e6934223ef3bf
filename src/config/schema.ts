// The tmax config file, one TypeBox schema. Names here are a public contract: later features add
// fields, never rename these. Defaults are applied by load.ts; limits are named in limits.ts.
import { Type, type Static } from "@sinclair/typebox";
import { LIMITS } from "./limits.ts";
import { layout } from "../auction/memory.ts";
import { CampaignPacingConfig, PacingConfig } from "../budget/pacing/config.ts";
import { LOG_LEVELS } from "../log/logger.ts";
import { HouseAdConfig, OverloadConfig, RateLimitsConfig } from "../overload/config.ts";
import { MAX_YIELD_MS_LIMIT } from "../audit/consumers/yield-gate.ts";
import { FraudConfig } from "../fraud/settings.ts";

const Id = Type.String({ minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9._:-]+$" });
const Ms = (max: number) => Type.Integer({ minimum: 1, maximum: max });

export const DspConfig = Type.Object({
  id: Id,
  endpoint: Type.String({ minLength: 1 }),
  timeoutMs: Type.Optional(Ms(LIMITS.maxDspTimeoutMs)),
  enabled: Type.Optional(Type.Boolean()),
  maxConnections: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.maxConnectionsPerDsp })),
}, { additionalProperties: false });

/** At most `max` impressions per user within a window of `windowSec` seconds from the first one. */
export const FrequencyCapConfig = Type.Object({
  max: Type.Integer({ minimum: 1, maximum: layout.FREQCAP_MAX_COUNT }),
  windowSec: Type.Integer({ minimum: 1, maximum: layout.FREQCAP_MAX_WINDOW_SEC }),
}, { additionalProperties: false });

export const CampaignConfig = Type.Object({
  id: Id,
  advertiserId: Id,
  // Any number or string here; load.ts refuses negatives and more than 6 decimals with one clear reason.
  dailyBudget: Type.Union([Type.Number(), Type.String()]),
  currency: Type.Literal("USD"),
  frequencyCaps: Type.Optional(Type.Array(FrequencyCapConfig, { maxItems: layout.FREQCAP_WINDOWS })),
  timeZone: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  pacing: Type.Optional(CampaignPacingConfig),
}, { additionalProperties: false });

/** The budget hierarchy (src/budget/): embedded in-process books, or Redis per region plus one global. */
export const BudgetConfig = Type.Object({
  mode: Type.Optional(Type.Union([Type.Literal("embedded"), Type.Literal("redis")])),
  regions: Type.Optional(Type.Array(Type.Object({
    id: Type.String({ minLength: 1, maxLength: 64 }),
    redisUrl: Type.String({ minLength: 1 }),
    trafficShare: Type.Number({ exclusiveMinimum: 0, maximum: 1 }),
  }, { additionalProperties: false }), { minItems: 1, maxItems: 64 })),
  globalRedisUrl: Type.Optional(Type.String({ minLength: 1 })),
  leaseTtlMs: Type.Optional(Type.Integer({ minimum: 1_000, maximum: 600_000 })),
  leaseGraceMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 600_000 })),
  refillAtUse: Type.Optional(Type.Number({ minimum: 0.1, maximum: 0.95 })),
  minLease: Type.Optional(Type.Union([Type.Number(), Type.String()])),
  leaseShare: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1 })),
  maxLeaseFraction: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1 })),
  tickMs: Type.Optional(Type.Integer({ minimum: 10, maximum: 10_000 })),
  commandTimeoutMs: Type.Optional(Type.Integer({ minimum: 10, maximum: 10_000 })),
  adminToken: Type.Optional(Type.String({ minLength: 16, maxLength: 256 })),
  noticeSecret: Type.Optional(Type.String({ minLength: 16, maxLength: 256 })),
  noticeBaseUrl: Type.Optional(Type.String({ minLength: 1 })),
  journal: Type.Optional(Type.Boolean()),
}, { additionalProperties: false });

export const ConfigFile = Type.Object({
  server: Type.Optional(Type.Object({
    port: Type.Optional(Type.Integer({ minimum: 0, maximum: 65535 })),
    host: Type.Optional(Type.String({ minLength: 1 })),
    workers: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.maxWorkers })),
    maxBodyBytes: Type.Optional(Type.Integer({ minimum: 1024, maximum: LIMITS.maxBodyBytesCeiling })),
    region: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    pod: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    shutdownDrainMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 600_000 })),
  }, { additionalProperties: false })),
  auction: Type.Optional(Type.Object({
    dspTimeoutMs: Type.Optional(Ms(LIMITS.maxDspTimeoutMs)),
    networkBufferMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
    responseReserveMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })),
    minDspTimeoutMs: Type.Optional(Ms(1000)),
    defaultTmaxMs: Type.Optional(Ms(10_000)),
    maxImps: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.maxImps })),
    frequencyCapNoKey: Type.Optional(Type.Union([Type.Literal("allow"), Type.Literal("deny")])),
  }, { additionalProperties: false })),
  breaker: Type.Optional(Type.Object({
    failureThreshold: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    failureRate: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1 })),
    windowMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 600_000 })),
    openMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 3_600_000 })),
    halfOpenSuccesses: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  }, { additionalProperties: false })),
  dsps: Type.Array(DspConfig, { maxItems: LIMITS.maxDsps }),
  campaigns: Type.Array(CampaignConfig, { maxItems: LIMITS.maxCampaigns }),
  audit: Type.Optional(Type.Object({
    dir: Type.Optional(Type.String({ minLength: 1 })),
    commitWindowMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 50 })),
    commitWrites: Type.Optional(Type.Union([Type.Literal("loop"), Type.Literal("pool")])),
    consumerYieldMaxMs: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_YIELD_MS_LIMIT })),
    ledger: Type.Optional(Type.Union([Type.Literal("embedded"), Type.Literal("off")])),
    retention: Type.Optional(Type.Object({
      hotDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3_650 })),
      warmDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 36_500 })),
      coldYears: Type.Optional(Type.Integer({ minimum: 1, maximum: 100 })),
    }, { additionalProperties: false })),
    kafka: Type.Optional(Type.Object({
      brokers: Type.Array(Type.String({ minLength: 3 }), { minItems: 1, maxItems: 64 }),
      topic: Type.Optional(Type.String({ minLength: 1, maxLength: 249, pattern: "^[A-Za-z0-9._-]+$" })),
      partitions: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
      compression: Type.Optional(Type.Union([Type.Literal("zstd"), Type.Literal("gzip"), Type.Literal("none")])),
    }, { additionalProperties: false })),
  }, { additionalProperties: false })),
  log: Type.Optional(Type.Object({
    level: Type.Optional(Type.Union(LOG_LEVELS.map((l) => Type.Literal(l)))),
    sampleRate: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  }, { additionalProperties: false })),
  budget: Type.Optional(BudgetConfig),
  fraud: Type.Optional(FraudConfig),
  frequencyCapStore: Type.Optional(Type.Object({
    redisUrl: Type.String({ minLength: 1 }),
    flushMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000 })),
    fetchTimeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000 })),
  }, { additionalProperties: false })),
  pacing: Type.Optional(PacingConfig),
  overload: Type.Optional(OverloadConfig),
  rateLimits: Type.Optional(RateLimitsConfig),
  houseAd: Type.Optional(HouseAdConfig),
}, { additionalProperties: false });

export type ConfigFile = Static<typeof ConfigFile>;
