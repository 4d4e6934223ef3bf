import { expect, test } from "bun:test";
import { labelledRows } from "./training.ts";
import { FEATURE_COUNT, FEATURE_NAMES } from "./features.ts";
import { SCENARIOS } from "../sim/traffic/model.ts";
import { loadFraudModelFile } from "./model-file.ts";

test("training rows depend on the seed alone (not on the wall clock), and tier 1 blocks never reach them", () => {
  const a = labelledRows(SCENARIOS.mixed!, 9, 100, 5000);
  const b = labelledRows(SCENARIOS.mixed!, 9, 100, 5000);
  expect(a.labels.length).toBeGreaterThan(300);
  expect(a.features.length).toBe(a.labels.length * FEATURE_COUNT);
  expect(Buffer.from(a.features.buffer).equals(Buffer.from(b.features.buffer))).toBe(true);
  expect(a.labels).toEqual(b.labels);
  expect(a.labels).not.toContain("datacenter_bot");
  expect(a.labels).not.toContain("crawler");
  expect(a.tier1Blocked.datacenter_bot).toBeGreaterThan(0);
});

test("the shipped default model reads exactly the features the server writes, by name", () => {
  const model = loadFraudModelFile(null, true);
  expect(model.featureNames).toEqual(FEATURE_NAMES);
  expect(model.roots.length).toBeLessThanOrEqual(100);
});
