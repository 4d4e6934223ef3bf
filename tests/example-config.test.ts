// The example config in infra/ must stay valid as the schema grows.
import { expect, test } from "bun:test";
import { join } from "node:path";
import { loadConfigFile } from "../src/config/load.ts";

test("infra/tmax.example.json loads", () => {
  const config = loadConfigFile(join(import.meta.dir, "..", "infra", "tmax.example.json"), {});
  expect(config.dsps.map((d) => d.id)).toEqual(["dsp1", "dsp2", "dsp3"]);
  expect(config.campaigns[0]!.dailyBudgetMicros).toBe(500_000_000);
});
