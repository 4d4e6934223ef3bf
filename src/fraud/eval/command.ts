// `tmax fraud eval --scenario NAME --seed N [--rps R] [--seconds S] [--workers W] [--config FILE] [--json]`:
// exits 1 when the goal (>= 95% of bots blocked or flagged, <= 0.5% of humans blocked) is missed.
import { parseArgs } from "node:util";
import { readFileSync } from "node:fs";
import { envInt } from "../../config/load.ts";
import { formatReport } from "./report.ts";
import { runFraudEval } from "./run.ts";
import type { FraudConfig } from "../settings.ts";

export const FRAUD_USAGE = `  tmax fraud eval [--scenario mixed|humans|sophisticated] [--seed N] [--rps R] [--seconds S] [--workers W]
                  [--config FILE (its fraud section is used)] [--json]   replay labelled traffic, report detection`;

export async function runFraudCommand(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== "eval") throw new Error(`usage:\n${FRAUD_USAGE}`);
  const { values } = parseArgs({
    args: rest, strict: true,
    options: { scenario: { type: "string" }, seed: { type: "string" }, rps: { type: "string" }, seconds: { type: "string" }, workers: { type: "string" }, config: { type: "string" }, json: { type: "boolean" } },
  });
  const scenario = values.scenario ?? "mixed";
  const seed = values.seed === undefined ? 1 : envInt(values.seed, "--seed", 0, 2 ** 31);
  const fraud = values.config === undefined ? undefined : (JSON.parse(readFileSync(values.config, "utf8")) as { fraud?: FraudConfig }).fraud;
  const report = await runFraudEval({
    scenario, seed, fraud,
    rps: values.rps === undefined ? 300 : envInt(values.rps, "--rps", 1, 20_000),
    seconds: values.seconds === undefined ? 20 : envInt(values.seconds, "--seconds", 1, 3_600),
    workers: values.workers === undefined ? 2 : envInt(values.workers, "--workers", 1, 64),
  });
  console.log(values.json ? JSON.stringify(report) : formatReport(report, `scenario=${scenario} seed=${seed}`));
  return report.goal.met ? 0 : 1;
}
