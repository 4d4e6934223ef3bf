// The fraud model is pointed at by config and loaded once at start: a good XGBoost model is in
// shared memory for every worker; a malformed or unsupported one stops the start with a config
// error naming what is wrong.
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { ROOT, runCli, startTmax, writeConfig, type Proc } from "./support/processes.ts";

const FIXTURES = join(ROOT, "tests", "fixtures", "gbdt");
const started: Proc[] = [];
afterAll(async () => { await Promise.all(started.map((p) => p.kill())); });

const base = { dsps: [], campaigns: [] };

test("a valid XGBoost model loads at start and every worker sees it", async () => {
  const tmax = await startTmax({ ...base, fraud: { modelPath: join(FIXTURES, "fraud", "model.json") } }, 2);
  started.push(tmax);
  const ready = (await (await fetch(`${tmax.url}/readyz`)).json()) as { fraudModel: string };
  expect(ready.fraudModel).toBe("100 trees, 30 features");
});

test.each([
  ["multiclass.json", /objective "multi:softprob" is not supported/],
  ["categorical.json", /categorical/],
  ["missing.json", /cannot read|no such file|not found/i],
])("model %s is refused with a config error naming fraud.modelPath", async (file, reason) => {
  const { code, stderr } = await runCli(["serve", "--config", writeConfig({ ...base, fraud: { modelPath: join(FIXTURES, "unsupported", file) } }), "--port", "0"]);
  expect(code).toBe(2);
  expect(stderr).toMatch(/^config error: fraud\.modelPath: gbdt model /m);
  expect(stderr).toMatch(reason);
});
