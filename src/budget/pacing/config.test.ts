// The pacing config: defaults, campaign modes, and errors that name the field.
import { expect, test } from "bun:test";
import { parseConfig } from "../../config/load.ts";
import { ConfigError } from "../../config/errors.ts";
import { PACING_DEFAULTS } from "./limits.ts";

const base = { dsps: [], campaigns: [{ id: "c1", advertiserId: "a1", dailyBudget: 10, currency: "USD" }] };

test("defaults: even pacing, 1 s interval, linear curve", () => {
  const config = parseConfig(base);
  expect(config.campaigns[0]!.pacing).toBe("even");
  expect(config.pacing).toEqual({ ...PACING_DEFAULTS, hourlyShape: null });
});

test("campaign asap and a full pacing section are read", () => {
  const shape = Array.from({ length: 24 }, (_, h) => (h < 6 ? 0.5 : 1));
  const config = parseConfig({
    ...base,
    campaigns: [{ ...base.campaigns[0]!, pacing: "asap" }],
    pacing: { intervalMs: 500, minParticipation: 0.02, catchUpMs: 600_000, integralMs: 2_400_000, rateWindowMs: 300_000, hourlyShape: shape },
  });
  expect(config.campaigns[0]!.pacing).toBe("asap");
  expect(config.pacing).toEqual({ intervalMs: 500, minParticipation: 0.02, catchUpMs: 600_000, integralMs: 2_400_000, rateWindowMs: 300_000, hourlyShape: shape });
});

test.each([
  [{ campaigns: [{ ...base.campaigns[0]!, pacing: "fast" }] }, "campaigns[0].pacing", 'must be "even" or "asap"'],
  [{ pacing: { intervalMs: 10 } }, "pacing.intervalMs", ""],
  [{ pacing: { minParticipation: 1.5 } }, "pacing.minParticipation", ""],
  [{ pacing: { hourlyShape: [1, 2, 3] } }, "pacing.hourlyShape", ""],
  [{ pacing: { hourlyShape: new Array(24).fill(0) } }, "pacing.hourlyShape", "at least one weight above 0"],
  [{ pacing: { rate: 1 } }, "pacing.rate", "is not a known field"],
])("%j is refused at %s", (patch, field, reason) => {
  let error: unknown;
  try {
    parseConfig({ ...base, ...patch });
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(ConfigError);
  expect((error as ConfigError).field).toBe(field);
  expect((error as ConfigError).reason).toContain(reason);
});
