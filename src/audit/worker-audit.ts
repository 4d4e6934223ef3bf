// One worker's audit trail: its durable outbox (every event of a request is in it, fsync'd, before
// the answer leaves) and the consumers that read it: the Parquet archive (warm tier), the billing
// ledger (embedded default) and, when configured, the relay to Kafka, all in a consumer thread of
// their own (src/audit/consumers: their parsing, encoding, SQLite fsyncs and Kafka record encoding
// never block this request-serving thread). Consumers register before the first request, so no
// segment can be deleted before they have read it; checkpoints and deletions stay with the outbox,
// in this thread.
import { join } from "node:path";
import { Outbox, outboxDir } from "./outbox/index.ts";
import { LEDGER_FILE, OUTBOX_CONSUMER } from "./ledger/index.ts";
import { RELAY_DEFAULTS, type KafkaRelayStats } from "./relay/index.ts";
import { OutboxDistance } from "./relay/lag.ts";
import { ARCHIVE_CONSUMER, archiveDirOf } from "./archive/index.ts";
import { startConsumerThread } from "./consumers/host.ts";
import { allocateYieldCells, YieldSignal } from "./consumers/yield-gate.ts";
import type { TmaxConfig } from "../config/load.ts";
import { log } from "../log/logger.ts";

/** Outbox records per ledger transaction in a worker (at most the ledger's 1000). */
export const LEDGER_BATCH_RECORDS = 1000;
export const LEDGER_LINGER_MS = 250;
const RELAY_CONSUMER = RELAY_DEFAULTS.consumerName;

export interface WorkerAudit {
  outbox: Outbox;
  /** Appends one request's events; resolves once all are durable (they share the last one's group commit). */
  record(events: readonly string[]): Promise<void>;
  /** False when the outbox cannot take more (disk failed, slow, overloaded): shed instead of answering unaudited. */
  healthy(): boolean;
  /** Tells the archive and ledger consumers whether the worker is at capacity (they pause), and what they did. */
  consumersYield: YieldSignal;
  /** Committed outbox bytes the archive and the embedded ledger have not acked yet (the ledger 0 when not embedded). */
  consumerLagBytes(): { archive: number; ledger: number };
  /** The Kafka relay's figures (it runs in the consumer thread), or null without Kafka. */
  relay: { stats(): KafkaRelayStats | null } | null;
  stop(): Promise<void>;
}

export async function startWorkerAudit(config: TmaxConfig, workerIndex: number): Promise<WorkerAudit> {
  const { audit } = config;
  const outbox = await Outbox.open({ dir: outboxDir(audit.dir, workerIndex), commitWindowMs: audit.commitWindowMs, commitWrites: audit.commitWrites });
  if (outbox.recovery.truncated !== null) {
    log.warn("audit outbox: torn tail truncated at start", { worker: workerIndex, ...outbox.recovery.truncated });
  }
  // A worker that once relayed to Kafka would otherwise keep every segment for a relay that never comes.
  if (audit.kafka === null) await outbox.unregisterConsumer(RELAY_CONSUMER);
  // Large, lingering ledger batches: each SQLite commit is an fsync (on the consumer thread).
  const yieldCells = allocateYieldCells();
  const consumers = await startConsumerThread({
    outbox, workerIndex, archiveDir: archiveDirOf(audit.dir),
    ledger: audit.ledger === "embedded" ? { file: join(audit.dir, LEDGER_FILE), maxBatchRecords: LEDGER_BATCH_RECORDS, lingerMs: LEDGER_LINGER_MS } : null,
    relay: audit.kafka === null ? null : {
      brokers: audit.kafka.brokers, topic: audit.kafka.topic, partitions: audit.kafka.partitions, compression: audit.kafka.compression,
      clientId: `tmax-${config.server.pod}-w${workerIndex}`, consumerName: RELAY_CONSUMER,
    },
    yield: { cells: yieldCells, maxYieldMs: audit.consumerYieldMaxMs },
    onError: logError("audit-consumers", workerIndex),
  });
  const relay = audit.kafka === null ? null : { stats: () => consumers.relayStats() };
  const distance = new OutboxDistance(outbox);
  return {
    outbox,
    relay,
    consumersYield: new YieldSignal(yieldCells),
    consumerLagBytes() {
      const committed = outbox.committedPosition();
      const lag = (name: string) => {
        const acked = outbox.consumerPosition(name);
        return acked === undefined ? 0 : distance.bytesBetween(acked, committed);
      };
      return { archive: lag(ARCHIVE_CONSUMER), ledger: audit.ledger === "embedded" ? lag(OUTBOX_CONSUMER) : 0 };
    },
    record(events) {
      let last: Promise<void> = Promise.resolve();
      for (const event of events) last = outbox.append(event);
      return last;
    },
    healthy: () => outbox.healthy(),
    async stop() {
      await outbox.flush();
      await consumers.stop(); // the relay ships what is committed (bounded) before the thread ends
      await outbox.close();
    },
  };
}

function logError(component: string, workerIndex: number) {
  return (error: unknown, context?: unknown) =>
    log.error(`${component} failed`, { worker: workerIndex, context, error: String((error as Error)?.message ?? error) });
}
