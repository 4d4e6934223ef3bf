// The fraud section of the config, checked and with defaults (config/load.ts calls fraudSettings).
// Field paths in errors are the config's ("fraud.rateLimits.windowMs").
import { Type, type Static } from "@sinclair/typebox";
import { ConfigError } from "../config/errors.ts";
import { FRAUD_LIMITS } from "./limits.ts";
import type { NoRenderSettings } from "./async/no-render.ts";

const Share = Type.Number({ minimum: 0, maximum: 1 });
const Path = Type.String({ minLength: 1 });

/** The `fraud` object of the config file (TypeBox; schema.ts embeds it). */
export const FraudConfig = Type.Object({
  modelPath: Type.Optional(Path),
  enabled: Type.Optional(Type.Boolean()),
  blockThreshold: Type.Optional(Share),
  flagThreshold: Type.Optional(Share),
  flaggedDspShare: Type.Optional(Share),
  ipBlocklistPath: Type.Optional(Path),
  datacenterListPath: Type.Optional(Type.Union([Path, Type.Literal(false)])),
  crawlerUserAgents: Type.Optional(Type.Boolean()),
  rateLimits: Type.Optional(Type.Object({
    windowMs: Type.Optional(Type.Integer({ minimum: 100, maximum: FRAUD_LIMITS.maxRateWindowMs })),
    maxPerIp: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000_000 })),
    maxPerDevice: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000_000 })),
  }, { additionalProperties: false })),
  geoIntervalSec: Type.Optional(Type.Integer({ minimum: 0, maximum: FRAUD_LIMITS.maxGeoIntervalSec })),
  schain: Type.Optional(Type.Object({
    required: Type.Optional(Type.Boolean()),
    sellers: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 512 }), { maxItems: FRAUD_LIMITS.maxSchainSellers })),
  }, { additionalProperties: false })),
  adminToken: Type.Optional(Type.String({ minLength: 16, maxLength: 512 })),
  async: Type.Optional(Type.Object({
    enabled: Type.Optional(Type.Boolean()),
    intervalMs: Type.Optional(Type.Integer({ minimum: 50, maximum: 600_000 })),
    windowMs: Type.Optional(Type.Integer({ minimum: 100, maximum: FRAUD_LIMITS.maxRateWindowMs })),
    subnetBurst: Type.Optional(Type.Integer({ minimum: 2, maximum: 10_000_000 })),
    devicesPerSubnet: Type.Optional(Type.Integer({ minimum: 2, maximum: 1_000_000 })),
    regularGapCv: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    blockSec: Type.Optional(Type.Integer({ minimum: 1, maximum: 30 * 86_400 })),
    noRenderAction: Type.Optional(Type.Union([Type.Literal("flag"), Type.Literal("block"), Type.Literal("off")])),
    noRenderMinWins: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000_000 })),
    noRenderMaxBilledShare: Type.Optional(Share),
    noRenderGraceMs: Type.Optional(Type.Integer({ minimum: 0, maximum: FRAUD_LIMITS.maxRateWindowMs })),
  }, { additionalProperties: false })),
}, { additionalProperties: false });
export type FraudConfig = Static<typeof FraudConfig>;

export interface FraudSettings {
  /** false: no fraud stage at all (every request goes to the auction). */
  enabled: boolean;
  /** An XGBoost JSON model; null = the shipped default model (src/fraud/model/default.json). */
  modelPath: string | null;
  /** Tier 2: a score above this blocks (nbr 4); at or above flagThreshold flags. */
  blockThreshold: number;
  flagThreshold: number;
  /** Share of the eligible DSPs a flagged request goes to (at least one). */
  flaggedDspShare: number;
  /** Extra CIDRs to block (nbr 4), one per line; null = none. */
  ipBlocklistPath: string | null;
  /** Data-center ranges (nbr 5): null = the shipped list, false = no data-center rule. */
  datacenterListPath: string | null | false;
  /** Block known crawler / bot user agents (isbot), nbr 3. */
  crawlerUserAgents: boolean;
  rateLimits: { windowMs: number; maxPerIp: number; maxPerDevice: number };
  /** Impossible geography: one device in two countries within this many seconds blocks (0 = off). */
  geoIntervalSec: number;
  /** required: a request without source.schain is refused (nbr 16); sellers: allowed "asi" or "asi:sid" per node (null = any). */
  schain: { required: boolean; sellers: ReadonlySet<string> | null };
  /** Bearer token for POST /admin/fraud/reload; null = the endpoint answers 404. */
  adminToken: string | null;
  /** Tier 3: the event-stream analysis (noRender: subnets whose wins are almost never billed, src/fraud/async/no-render.ts). */
  async: { enabled: boolean; intervalMs: number; windowMs: number; subnetBurst: number; devicesPerSubnet: number; regularGapCv: number; blockSec: number; noRender: NoRenderSettings };
}

export function fraudSettings(file: FraudConfig | undefined): FraudSettings {
  const f = file ?? {};
  const settings: FraudSettings = {
    enabled: f.enabled ?? true,
    modelPath: f.modelPath ?? null,
    blockThreshold: f.blockThreshold ?? 0.95,
    flagThreshold: f.flagThreshold ?? 0.5,
    flaggedDspShare: f.flaggedDspShare ?? 0.5,
    ipBlocklistPath: f.ipBlocklistPath ?? null,
    datacenterListPath: f.datacenterListPath ?? null,
    crawlerUserAgents: f.crawlerUserAgents ?? true,
    rateLimits: { windowMs: f.rateLimits?.windowMs ?? 10_000, maxPerIp: f.rateLimits?.maxPerIp ?? 1_000, maxPerDevice: f.rateLimits?.maxPerDevice ?? 200 },
    geoIntervalSec: f.geoIntervalSec ?? 3_600,
    schain: { required: f.schain?.required ?? false, sellers: f.schain?.sellers === undefined ? null : new Set(f.schain.sellers) },
    adminToken: f.adminToken ?? null,
    async: {
      enabled: f.async?.enabled ?? true, intervalMs: f.async?.intervalMs ?? 1_000, windowMs: f.async?.windowMs ?? 60_000,
      subnetBurst: f.async?.subnetBurst ?? 5_000, devicesPerSubnet: f.async?.devicesPerSubnet ?? 200, regularGapCv: f.async?.regularGapCv ?? 0.03,
      blockSec: f.async?.blockSec ?? 3_600,
      noRender: {
        action: f.async?.noRenderAction ?? "flag", minWins: f.async?.noRenderMinWins ?? 50,
        maxBilledShare: f.async?.noRenderMaxBilledShare ?? 0.05, graceMs: f.async?.noRenderGraceMs ?? Math.min(10_000, Math.floor((f.async?.windowMs ?? 60_000) / 2)),
      },
    },
  };
  if (settings.flagThreshold > settings.blockThreshold) {
    throw new ConfigError("fraud.flagThreshold", `must not exceed fraud.blockThreshold (${settings.blockThreshold})`);
  }
  if (settings.async.noRender.action !== "off" && settings.async.noRender.graceMs >= settings.async.windowMs) {
    throw new ConfigError("fraud.async.noRenderGraceMs", `must be less than fraud.async.windowMs (${settings.async.windowMs}): a win is judged between the two`);
  }
  return settings;
}
