// `tmax billing consume --config FILE --brokers HOST:PORT[,...] [--topic bid-events] [--group tmax-billing]`
// The distributed feeder as a process: consumes the topic into audit.dir/ledger.sqlite until
// SIGINT/SIGTERM, then leaves the group (offsets are committed per transaction, nothing to flush).
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadConfigFile } from "../../config/load.ts";
import { startKafkaLedgerConsumer } from "./kafka-consumer.ts";
import { Ledger } from "./ledger.ts";
import { KAFKA_GROUP_ID, KAFKA_TOPIC, LEDGER_FILE, LEDGER_LIMITS } from "./limits.ts";
import { EXIT_ERROR, EXIT_OK, type CommandIo } from "./reconcile-command.ts";

export const CONSUME_USAGE = "usage: tmax billing consume --config FILE --brokers HOST:PORT[,...] [--topic bid-events] [--group tmax-billing]";

const consoleIo: CommandIo = { out: (l) => console.log(l), err: (l) => console.error(l) };

/** Runs until `stopSignal` aborts (default: SIGINT or SIGTERM); returns the exit code. */
export async function runConsumeCommand(argv: string[], io: CommandIo = consoleIo, stopSignal: AbortSignal = signalOnTermination()): Promise<number> {
  let ledger: Ledger | null = null;
  try {
    const args = parseConsumeArgs(argv);
    const dir = loadConfigFile(args.config).audit.dir;
    mkdirSync(dir, { recursive: true });
    ledger = Ledger.open(join(dir, LEDGER_FILE));
    const consumer = await startKafkaLedgerConsumer({ brokers: args.brokers, topic: args.topic, groupId: args.group, ledger });
    io.out(JSON.stringify({ level: "info", msg: "billing consumer running", ledger: ledger.path, ...args }));
    await new Promise<void>((resolve) => (stopSignal.aborted ? resolve() : stopSignal.addEventListener("abort", () => resolve(), { once: true })));
    if (!(await consumer.stop())) {
      io.err(JSON.stringify({ level: "warn", msg: "billing consumer: Kafka did not confirm the stop in time; leaving anyway (applied chunks' offsets are committed)", timeoutMs: LEDGER_LIMITS.kafkaStopTimeoutMs }));
    }
    io.out(JSON.stringify({ level: "info", msg: "billing consumer stopped", ...consumer.stats() }));
    return EXIT_OK;
  } catch (err) {
    io.err(`billing consume: ${(err as Error).message ?? err}`);
    return EXIT_ERROR;
  } finally {
    ledger?.close();
  }
}

function parseConsumeArgs(argv: string[]): { config: string; brokers: string[]; topic: string; group: string } {
  const { values } = parseArgs({
    args: argv,
    options: { config: { type: "string" }, brokers: { type: "string" }, topic: { type: "string" }, group: { type: "string" } },
    strict: true,
  });
  if (values.config === undefined) throw new Error(`--config FILE is required\n${CONSUME_USAGE}`);
  const brokers = (values.brokers ?? "").split(",").map((b) => b.trim()).filter((b) => b !== "");
  if (brokers.length === 0 || brokers.some((b) => !/^[^:\s]+:\d{1,5}$/.test(b))) throw new Error(`--brokers HOST:PORT[,...] is required\n${CONSUME_USAGE}`);
  return { config: values.config, brokers, topic: values.topic ?? KAFKA_TOPIC, group: values.group ?? KAFKA_GROUP_ID };
}

function signalOnTermination(): AbortSignal {
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  return controller.signal;
}
