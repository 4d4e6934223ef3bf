// The fraud section of the config: defaults, and errors that name the field path.
import { expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseConfig } from "../src/config/load.ts";
import { configErrorOf as errorOf } from "./support/config.ts";
import { runCli, tempDir, writeConfig } from "./support/processes.ts";

const base = (fraud: unknown) => ({ dsps: [], campaigns: [], fraud });


test("defaults: on, 0.95 / 0.5, half the DSPs when flagged, shipped lists and model", () => {
  const f = parseConfig(base(undefined)).fraud;
  expect(f).toMatchObject({
    enabled: true, modelPath: null, blockThreshold: 0.95, flagThreshold: 0.5, flaggedDspShare: 0.5, ipBlocklistPath: null, datacenterListPath: null,
    crawlerUserAgents: true, rateLimits: { windowMs: 10_000, maxPerIp: 1000, maxPerDevice: 200 }, geoIntervalSec: 3600, adminToken: null,
    schain: { required: false, sellers: null },
  });
  expect(f.async.enabled).toBe(true);
  expect(f.async.noRender).toEqual({ action: "flag", minWins: 50, maxBilledShare: 0.05, graceMs: 10_000 });
  // The grace defaults to at most half a shorter window (a win is judged between the two).
  expect(parseConfig(base({ async: { windowMs: 4_000 } })).fraud.async.noRender.graceMs).toBe(2_000);
  expect(parseConfig(base({ async: { noRenderAction: "block", noRenderMinWins: 5, noRenderMaxBilledShare: 0.1, noRenderGraceMs: 0 } })).fraud.async.noRender)
    .toEqual({ action: "block", minWins: 5, maxBilledShare: 0.1, graceMs: 0 });
  expect([...parseConfig(base({ schain: { sellers: ["a.example"] } })).fraud.schain.sellers!]).toEqual(["a.example"]);
});

test.each([
  [{ flagThreshold: 0.99, blockThreshold: 0.9 }, /^config error: fraud\.flagThreshold: must not exceed fraud\.blockThreshold/],
  [{ blockThreshold: 1.5 }, /^config error: fraud\.blockThreshold: /],
  [{ rateLimits: { windowMs: 5 } }, /^config error: fraud\.rateLimits\.windowMs: /],
  [{ rateLimits: { perIp: 5 } }, /^config error: fraud\.rateLimits\.perIp: is not a known field/],
  [{ adminToken: "short" }, /^config error: fraud\.adminToken: /],
  [{ schain: { sellers: [""] } }, /^config error: fraud\.schain\.sellers\[0\]: /],
  [{ async: { regularGapCv: 2 } }, /^config error: fraud\.async\.regularGapCv: /],
  [{ datacenterListPath: true }, /^config error: fraud\.datacenterListPath: /],
  [{ async: { noRenderAction: "mute" } }, /^config error: fraud\.async\.noRenderAction: must be "flag" or "block" or "off"/],
  [{ async: { noRenderMinWins: 0 } }, /^config error: fraud\.async\.noRenderMinWins: /],
  [{ async: { noRenderMaxBilledShare: 1.5 } }, /^config error: fraud\.async\.noRenderMaxBilledShare: /],
  [{ async: { windowMs: 5_000, noRenderGraceMs: 5_000 } }, /^config error: fraud\.async\.noRenderGraceMs: must be less than fraud\.async\.windowMs \(5000\)/],
])("%j is refused naming its field", (fraud, message) => {
  expect(errorOf(base(fraud))).toMatch(message);
});

test("a bad list file stops the start with the field and line", async () => {
  const list = join(tempDir(), "dc.txt");
  writeFileSync(list, "10.0.0.0/8\n# fine\n300.1.1.0/24\n");
  const { code, stderr } = await runCli(["serve", "--config", writeConfig(base({ datacenterListPath: list })), "--port", "0"]);
  expect(code).toBe(2);
  expect(stderr).toMatch(/config error: fraud\.datacenterListPath: .*dc\.txt line 3: not a CIDR range/);
});

test("a model that does not read tmax's features is refused when the stage is on", async () => {
  const fixture = join(import.meta.dir, "fixtures", "gbdt", "fraud", "model.json"); // 30 features
  const { code, stderr } = await runCli(["serve", "--config", writeConfig(base({ modelPath: fixture })), "--port", "0"]);
  expect(code).toBe(2);
  expect(stderr).toMatch(/config error: fraud\.modelPath: gbdt model .* reads 30 features, tmax writes 25/);
});
