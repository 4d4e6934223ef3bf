#!/usr/bin/env bun
// tmax command line: serve | demo | sim-dsp | load | billing | audit. Each command parses its flags and calls a
// library function; nothing here decides anything about auctions.
import { parseArgs } from "node:util";
import { reportStartError, serve, stopOnSignals } from "./main.ts";
import { runDemo } from "./demo.ts";
import { envInt } from "./config/load.ts";
import { parseSimDspArgs, startSimDsp } from "./sim/dsp-sim.ts";
import { formatSummary, parseLoadArgs, runLoad } from "./sim/load.ts";
import { runConsumeCommand, runReconcileCommand } from "./audit/ledger/index.ts";
import { runAuditQueryCommand } from "./audit/query/index.ts";
import { runBudgetStatusCommand } from "./budget/status-command.ts";
import { FRAUD_USAGE, runFraudCommand } from "./fraud/eval/command.ts";

const USAGE = `usage:
  tmax serve --config FILE [--port N] [--workers N]   run the bidder
  tmax demo [--port N] [--rps N] [--seconds S]         bidder + simulated DSPs + light traffic
  tmax sim-dsp --port N [--latency-ms 20..80] [--bid-rate 0.8] [--price 0.5..5]
               [--campaigns c1,c2] [--error-rate R] [--timeout-rate R]   a simulated DSP
  tmax load --target URL --rps N --duration S [--seed N] [--imps N] [--scenario mixed|humans|sophisticated]   open-loop load
  tmax billing reconcile --config FILE --date YYYY-MM-DD [--server URL | --budget-file F]
                                                       ledger vs the budget system's spend
  tmax billing consume --config FILE --brokers H:P[,..] [--topic T] [--group G]
                                                       Kafka -> billing ledger (distributed mode)
  tmax audit query (--config FILE | --audit-dir DIR) (--request-id ID | --advertiser A --from T1 --to T2)
                   [--type TYPE] [--json]              find events in outbox, archive and ledger
  tmax budget status --config FILE [--campaign ID] [--server URL] [--json]
                                                       budget, committed, reserved, in leases, remaining, pacing
${FRAUD_USAGE}`;

async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case "serve": {
      const { values } = parseArgs({ args: rest, options: { config: { type: "string" }, port: { type: "string" }, workers: { type: "string" } }, strict: true });
      if (values.config === undefined) throw new Error("serve needs --config FILE");
      await serve({ config: values.config, port: values.port, workers: values.workers });
      return;
    }
    case "demo": {
      const { values } = parseArgs({ args: rest, options: { port: { type: "string" }, rps: { type: "string" }, seconds: { type: "string" } }, strict: true });
      await runDemo({
        port: values.port === undefined ? undefined : envInt(values.port, "--port", 0, 65535),
        rps: values.rps === undefined ? undefined : envInt(values.rps, "--rps", 1, 1000),
        seconds: values.seconds === undefined ? undefined : envInt(values.seconds, "--seconds", 1, 86_400),
      });
      return;
    }
    case "sim-dsp": {
      const sim = startSimDsp(parseSimDspArgs(rest));
      stopOnSignals({ stop: () => sim.stop() }); // before the ready line: a signal right after it stops gracefully
      console.log(JSON.stringify({ level: "info", msg: "sim-dsp listening", url: sim.url }));
      return;
    }
    case "billing": {
      const [sub, ...args] = rest;
      if (sub === "reconcile") process.exitCode = await runReconcileCommand(args);
      else if (sub === "consume") process.exit(await runConsumeCommand(args)); // a Kafka client that failed to stop must not keep the process alive
      else throw new Error(`unknown billing command "${sub ?? ""}"\n${USAGE}`);
      return;
    }
    case "audit": {
      const [sub, ...args] = rest;
      if (sub !== "query") throw new Error(`unknown audit command "${sub ?? ""}"\n${USAGE}`);
      process.exitCode = await runAuditQueryCommand(args);
      return;
    }
    case "budget": {
      const [sub, ...args] = rest;
      if (sub !== "status") throw new Error(`unknown budget command "${sub ?? ""}"\n${USAGE}`);
      process.exitCode = await runBudgetStatusCommand(args);
      return;
    }
    case "fraud": {
      process.exitCode = await runFraudCommand(rest);
      return;
    }
    case "load": {
      const summary = await runLoad(parseLoadArgs(rest));
      console.log(formatSummary(summary));
      return;
    }
    case undefined:
    case "help":
    case "--help":
    case "-h":
      console.log(USAGE);
      return;
    default:
      throw new Error(`unknown command "${command}"\n${USAGE}`);
  }
}

main(process.argv.slice(2)).catch(reportStartError);
