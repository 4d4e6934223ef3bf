// The consumer thread of one request-serving worker: runs the Parquet archiver, the embedded
// ledger feeder and (distributed mode) the Kafka relay over a read-only view of that worker's outbox
// (remote-outbox.ts), so their parsing, Parquet encoding, SQLite transactions (with their fsyncs)
// and Kafka record encoding never block the thread answering auctions. Started by host.ts; entry
// point of its own (embedded by scripts/compile.ts).
import { Ledger, startOutboxLedgerFeeder, type OutboxLedgerFeeder } from "../ledger/index.ts";
import { startOutboxArchiver, type OutboxArchiver } from "../archive/index.ts";
import { startKafkaRelay, type KafkaRelay } from "../relay/index.ts";
import { RemoteOutbox } from "./remote-outbox.ts";
import type { ConsumerThreadInit, HostToThread, ThreadToHost } from "./protocol.ts";
import { log } from "../../log/logger.ts";
import { lowerThisThread } from "../../server/thread-priority.ts";
import { YieldGate } from "./yield-gate.ts";

/** How often the relay's figures go to the host (its metrics sampler reads them every second). */
export const RELAY_STATS_MS = 500;

declare const self: Worker;

interface Running {
  view: RemoteOutbox;
  archiver: OutboxArchiver;
  feeder: OutboxLedgerFeeder | null;
  ledger: Ledger | null;
  relay: KafkaRelay | null;
  relayStats: ReturnType<typeof setInterval> | null;
}

let view: RemoteOutbox | null = null;
let starting: Promise<Running | null> | null = null;

function send(message: ThreadToHost): void {
  self.postMessage(message);
}

self.onmessage = (event: MessageEvent<HostToThread>) => {
  const message = event.data;
  switch (message.type) {
    case "init":
      starting = start(message.init).then(
        (running) => (send({ type: "ready" }), running),
        (err) => (send({ type: "failed", error: String((err as Error)?.stack ?? err) }), null),
      );
      break;
    case "commit":
      view?.update(message.snapshot);
      break;
    case "acked":
      view?.update(message.snapshot);
      view?.settleAck(message.id, message.error);
      break;
    case "stop":
      void stop().then(() => send({ type: "stopped" }));
      break;
  }
};

async function start(init: ConsumerThreadInit): Promise<Running> {
  lowerThisThread("audit consumers");
  const remote = new RemoteOutbox(init.outboxDir, init.snapshot, init.positions, (id, name, position) => send({ type: "ack", id, name, position }));
  view = remote;
  let ledger: Ledger | null = null;
  let feeder: OutboxLedgerFeeder | null = null;
  let archiver: OutboxArchiver | null = null;
  let relay: KafkaRelay | null = null;
  try {
    // Parquet is encoded on this thread: it answers no request, so no helper thread is needed.
    archiver = await startOutboxArchiver({
      outbox: remote, archiveDir: init.archive.dir, consumerName: init.archive.consumerName,
      flushEveryRecords: init.archive.flushEveryRecords, flushEveryMs: init.archive.flushEveryMs,
      gate: new YieldGate(init.yield.cells, init.yield.maxYieldMs),
      onError: logError("archive", init.workerIndex),
    });
    if (init.ledger !== null) {
      ledger = Ledger.open(init.ledger.file);
      feeder = await startOutboxLedgerFeeder({
        outbox: remote, ledger, consumer: init.ledger.consumerName, maxBatchRecords: init.ledger.maxBatchRecords,
        lingerMs: init.ledger.lingerMs, gate: new YieldGate(init.yield.cells, init.yield.maxYieldMs), onError: logError("ledger", init.workerIndex),
      });
    }
    if (init.relay !== null) {
      relay = await startKafkaRelay({ outbox: remote, ...init.relay, onError: logError("kafka-relay", init.workerIndex) });
    }
    const reporting = relay;
    const relayStats = reporting === null ? null : setInterval(() => send({ type: "relay-stats", stats: reporting.stats() }), RELAY_STATS_MS);
    return { view: remote, archiver, feeder, ledger, relay, relayStats };
  } catch (err) {
    await relay?.stop();
    await feeder?.stop();
    await archiver?.stop();
    ledger?.close();
    remote.close();
    throw err;
  }
}

/** Ends the feeder after its batch in flight, writes and acks what the archiver holds, closes the ledger. */
async function stop(): Promise<void> {
  const running = await starting;
  if (running === null || running === undefined) return;
  if (running.relayStats !== null) clearInterval(running.relayStats);
  if (running.relay !== null) {
    await running.relay.stop(); // ships what is committed, within its drain bound
    send({ type: "relay-stats", stats: running.relay.stats() });
  }
  await running.feeder?.stop();
  await running.archiver.stop();
  running.ledger?.close();
  running.view.close();
}

function logError(component: string, workerIndex: number) {
  return (error: unknown, context?: unknown) =>
    log.error(`${component} failed`, { worker: workerIndex, thread: "consumers", context, error: String((error as Error)?.message ?? error) });
}
