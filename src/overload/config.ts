// The `overload`, `rateLimits` and `houseAd` config sections: their TypeBox schemas (spread into
// src/config/schema.ts), their defaults and the rules a schema cannot say (low < high, unique ids),
// each problem a ConfigError naming the field.
import { Type, type Static } from "@sinclair/typebox";
import { ConfigError } from "../config/errors.ts";
import { decimalToMicros } from "../config/money.ts";
import { OVERLOAD_LIMITS } from "./limits.ts";

const Range = (max: number) => Type.Object({
  low: Type.Optional(Type.Number({ minimum: 0, maximum: max })),
  high: Type.Optional(Type.Number({ minimum: 0, maximum: max })),
}, { additionalProperties: false });
const Share = Type.Number({ minimum: 0, maximum: 1 });
const Id = Type.String({ minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9._:-]+$" });

export const OverloadConfig = Type.Object({
  enabled: Type.Optional(Type.Boolean()),
  signals: Type.Optional(Type.Object({
    inFlight: Type.Optional(Range(1_000_000)),
    eventLoopLagMs: Type.Optional(Range(60_000)),
    internalP99Ms: Type.Optional(Range(60_000)),
    outboxPendingBytes: Type.Optional(Range(1024 * 1024 * 1024)),
  }, { additionalProperties: false })),
  targetPressure: Type.Optional(Share),
  minAdmitShare: Type.Optional(Share),
  highValueFloorCpm: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1_000_000 })),
  knownPublishers: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 128 }), { maxItems: OVERLOAD_LIMITS.maxKnownPublishers })),
  pressuredDspTimeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 5_000 })),
  heavyPressure: Type.Optional(Share),
  topDsps: Type.Optional(Type.Integer({ minimum: 1, maximum: 64 })),
  maxInFlight: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
  minInFlight: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
  initialInFlight: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
  internalTargetMs: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 60_000 })),
  flashCrash: Type.Optional(Type.Object({
    windowSec: Type.Optional(Type.Integer({ minimum: 1, maximum: 60 })),
    baselineSec: Type.Optional(Type.Integer({ minimum: 2, maximum: OVERLOAD_LIMITS.maxFlashCrashSeconds })),
    dropShare: Type.Optional(Share),
    minRequests: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
  }, { additionalProperties: false })),
}, { additionalProperties: false });

export const RateLimitsConfig = Type.Object({
  header: Type.Optional(Type.String({ minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9-]+$" })),
  exchanges: Type.Array(Type.Object({
    id: Id,
    ratePerSec: Type.Number({ exclusiveMinimum: 0, maximum: 10_000_000 }),
    burst: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000_000 })),
    answer: Type.Optional(Type.Union([Type.Literal(429), Type.Literal(204)])),
  }, { additionalProperties: false }), { maxItems: OVERLOAD_LIMITS.maxRateLimitedExchanges }),
  unknown: Type.Optional(Type.Object({
    ratePerSec: Type.Number({ exclusiveMinimum: 0, maximum: 10_000_000 }),
    burst: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000_000 })),
    answer: Type.Optional(Type.Union([Type.Literal(429), Type.Literal(204)])),
  }, { additionalProperties: false })),
}, { additionalProperties: false });

export const HouseAdConfig = Type.Object({
  adm: Type.String({ minLength: 1, maxLength: 65_536 }),
  price: Type.Union([Type.Number(), Type.String()]),
  crid: Type.Optional(Id),
  adomain: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 253 }), { maxItems: 16 })),
  seat: Type.Optional(Id),
}, { additionalProperties: false });

export interface SignalRange { low: number; high: number }
export interface OverloadSettings {
  enabled: boolean;
  signals: { inFlight: SignalRange; eventLoopLagMs: SignalRange; internalP99Ms: SignalRange; outboxPendingBytes: SignalRange };
  /** The pressure the shed controller holds the worker at (its set point). */
  targetPressure: number;
  /** No request is shed with a probability above 1 - this, so no publisher is starved. */
  minAdmitShare: number;
  highValueFloorCpm: number;
  knownPublishers: string[];
  pressuredDspTimeoutMs: number;
  heavyPressure: number;
  topDsps: number;
  /**
   * The adaptive concurrency limit per worker (limit.ts): past it a request is answered 204 before its
   * body is parsed. It starts at initialInFlight and moves within [minInFlight, maxInFlight], holding
   * the p99 of internal processing at internalTargetMs: by default 15, under the spec's 20 ms internal
   * budget by the margin a loaded box needs (see INTERNAL_TARGET_MS).
   */
  maxInFlight: number;
  minInFlight: number;
  initialInFlight: number;
  internalTargetMs: number;
  /** Flash-crash alert: bid rates of the last windowSec against the baselineSec before. */
  flashCrash: FlashCrashSettings;
}
export interface RateLimitRule { id: string; ratePerSec: number; burst: number; answer: 429 | 204 }
export interface RateLimitSettings { header: string; exchanges: RateLimitRule[]; unknown: RateLimitRule | null }
export interface FlashCrashSettings { windowSec: number; baselineSec: number; dropShare: number; minRequests: number }
export interface HouseAdSettings {
  adm: string; priceMicros: number; crid: string; adomain: string[]; seat: string;
}

/**
 * The default p99 of internal processing the concurrency limit holds a worker at. The spec's internal
 * budget is 20 ms, but a setpoint on the budget itself leaves nothing for the waits of a loaded box
 * (at 2x on the 2-core development box each request thread waited for a core as long as it ran, and
 * most late answers had lost their time before the handler ran). Measured with the overload chaos run
 * on 2026-12-05: 15 ms met every goal in all 10 rounds (2x and 5x) of four runs, 20 ms met ">= 99.9% within tmax"
 * at 2x in 3 of 6 rounds of three runs; the cost is 9-20% less goodput past capacity (a fixed-rate
 * A/B, 3 pairs), still well above the goal's 90% of the maximum (README, Overload).
 */
export const INTERNAL_TARGET_MS = 15;

export const OVERLOAD_DEFAULTS: OverloadSettings = {
  enabled: true,
  signals: {
    inFlight: { low: 192, high: 768 },
    eventLoopLagMs: { low: 5, high: 30 },
    internalP99Ms: { low: 25, high: 70 },
    outboxPendingBytes: { low: 4 * 1024 * 1024, high: 14 * 1024 * 1024 },
  },
  targetPressure: 0.3,
  minAdmitShare: 0.01,
  highValueFloorCpm: 2,
  knownPublishers: [],
  pressuredDspTimeoutMs: 50,
  heavyPressure: 0.8,
  topDsps: 3,
  maxInFlight: 1024,
  minInFlight: 8,
  initialInFlight: 64,
  internalTargetMs: INTERNAL_TARGET_MS,
  flashCrash: { windowSec: 5, baselineSec: 60, dropShare: 0.8, minRequests: 50 },
};

const FLASH_CRASH_DEFAULTS = OVERLOAD_DEFAULTS.flashCrash;

export function overloadSettings(file: Static<typeof OverloadConfig> | undefined, dspTimeoutMs: number): OverloadSettings {
  const d = OVERLOAD_DEFAULTS;
  const signals = {} as OverloadSettings["signals"];
  for (const name of Object.keys(d.signals) as Array<keyof OverloadSettings["signals"]>) {
    const range = { low: file?.signals?.[name]?.low ?? d.signals[name].low, high: file?.signals?.[name]?.high ?? d.signals[name].high };
    if (range.low >= range.high) throw new ConfigError(`overload.signals.${name}.high`, `must be above low (${range.low})`);
    signals[name] = range;
  }
  const flashCrash = { ...FLASH_CRASH_DEFAULTS, ...file?.flashCrash };
  if (flashCrash.baselineSec <= flashCrash.windowSec) throw new ConfigError("overload.flashCrash.baselineSec", `must be longer than windowSec (${flashCrash.windowSec})`);
  const pressuredDspTimeoutMs = file?.pressuredDspTimeoutMs ?? Math.min(d.pressuredDspTimeoutMs, dspTimeoutMs);
  if (pressuredDspTimeoutMs > dspTimeoutMs) throw new ConfigError("overload.pressuredDspTimeoutMs", `must not exceed auction.dspTimeoutMs (${dspTimeoutMs})`);
  const maxInFlight = file?.maxInFlight ?? d.maxInFlight;
  const minInFlight = file?.minInFlight ?? Math.min(d.minInFlight, maxInFlight);
  if (minInFlight > maxInFlight) throw new ConfigError("overload.minInFlight", `must not exceed maxInFlight (${maxInFlight})`);
  const initialInFlight = file?.initialInFlight ?? Math.min(Math.max(d.initialInFlight, minInFlight), maxInFlight);
  if (initialInFlight < minInFlight || initialInFlight > maxInFlight) {
    throw new ConfigError("overload.initialInFlight", `must be within minInFlight..maxInFlight (${minInFlight}..${maxInFlight})`);
  }
  return {
    enabled: file?.enabled ?? d.enabled,
    signals,
    targetPressure: file?.targetPressure ?? d.targetPressure,
    minAdmitShare: file?.minAdmitShare ?? d.minAdmitShare,
    highValueFloorCpm: file?.highValueFloorCpm ?? d.highValueFloorCpm,
    knownPublishers: file?.knownPublishers ?? [],
    pressuredDspTimeoutMs,
    heavyPressure: file?.heavyPressure ?? d.heavyPressure,
    maxInFlight, minInFlight, initialInFlight,
    internalTargetMs: file?.internalTargetMs ?? d.internalTargetMs,
    topDsps: file?.topDsps ?? d.topDsps,
    flashCrash,
  };
}

/** Default burst: one second of traffic (at least 1). */
const rule = (id: string, r: { ratePerSec: number; burst?: number; answer?: 429 | 204 }): RateLimitRule =>
  ({ id, ratePerSec: r.ratePerSec, burst: r.burst ?? Math.max(1, Math.ceil(r.ratePerSec)), answer: r.answer ?? 429 });

export function rateLimitSettings(file: Static<typeof RateLimitsConfig> | undefined): RateLimitSettings | null {
  if (file === undefined) return null;
  const seen = new Set<string>();
  file.exchanges.forEach((e, i) => {
    if (seen.has(e.id)) throw new ConfigError(`rateLimits.exchanges[${i}].id`, `duplicate id "${e.id}"`);
    seen.add(e.id);
  });
  return {
    header: (file.header ?? "x-exchange-id").toLowerCase(),
    exchanges: file.exchanges.map((e) => rule(e.id, e)),
    unknown: file.unknown === undefined ? null : rule("(unknown)", file.unknown),
  };
}

export function houseAdSettings(file: Static<typeof HouseAdConfig> | undefined): HouseAdSettings | null {
  if (file === undefined) return null;
  const priceMicros = decimalToMicros(file.price);
  if (priceMicros === null || priceMicros === 0) throw new ConfigError("houseAd.price", "must be a positive decimal CPM with at most 6 decimal places");
  return { adm: file.adm, priceMicros, crid: file.crid ?? "house", adomain: file.adomain ?? [], seat: file.seat ?? "house" };
}
