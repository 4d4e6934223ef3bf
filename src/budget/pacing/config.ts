// The `pacing` config section: the schema fragment (spliced into src/config/schema.ts) and its
// resolution to settings with defaults; problems a schema cannot state are ConfigErrors naming the field.
import { Type, type Static } from "@sinclair/typebox";
import { ConfigError } from "../../config/errors.ts";
import { PACING_DEFAULTS, PACING_LIMITS as P } from "./limits.ts";
import type { PacingMode } from "../pacing.ts";

const TimeConstantMs = Type.Integer({ minimum: P.minTimeConstantMs, maximum: P.maxTimeConstantMs });

/** Campaign field `pacing`: "even" (default) or "asap". */
export const CampaignPacingConfig = Type.Union([Type.Literal("even"), Type.Literal("asap")]);

/** Top-level `pacing` section. */
export const PacingConfig = Type.Object({
  intervalMs: Type.Optional(Type.Integer({ minimum: P.minIntervalMs, maximum: P.maxIntervalMs })),
  minParticipation: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  catchUpMs: Type.Optional(TimeConstantMs),
  integralMs: Type.Optional(TimeConstantMs),
  rateWindowMs: Type.Optional(TimeConstantMs),
  hourlyShape: Type.Optional(Type.Array(Type.Number({ minimum: 0, maximum: P.maxShapeWeight }), { minItems: P.shapeHours, maxItems: P.shapeHours })),
}, { additionalProperties: false });

export interface PacingSettings {
  intervalMs: number;
  minParticipation: number;
  catchUpMs: number;
  integralMs: number;
  rateWindowMs: number;
  /** 24 relative weights, hour 0 = the first hour of each campaign's day; null = linear. */
  hourlyShape: number[] | null;
}

export function pacingSettings(section: Static<typeof PacingConfig> | undefined): PacingSettings {
  const shape = section?.hourlyShape ?? null;
  if (shape !== null && !shape.some((w) => w > 0)) throw new ConfigError("pacing.hourlyShape", "needs at least one weight above 0");
  return {
    intervalMs: section?.intervalMs ?? PACING_DEFAULTS.intervalMs,
    minParticipation: section?.minParticipation ?? PACING_DEFAULTS.minParticipation,
    catchUpMs: section?.catchUpMs ?? PACING_DEFAULTS.catchUpMs,
    integralMs: section?.integralMs ?? PACING_DEFAULTS.integralMs,
    rateWindowMs: section?.rateWindowMs ?? PACING_DEFAULTS.rateWindowMs,
    hourlyShape: shape === null ? null : [...shape],
  };
}

export function campaignPacingMode(value: PacingMode | undefined): PacingMode {
  return value ?? "even";
}
