// Messages between a request-serving worker thread (the outbox writer, "host") and its consumer
// thread (archiver, ledger feeder and Kafka relay over a read-only view of the outbox). See host.ts, thread.ts.
import type { Position, SegmentSnapshot } from "../outbox/index.ts";
import type { KafkaRelayStats } from "../relay/relay.ts";
import type { RelayCompression } from "../relay/codec.ts";

/** The Kafka relay a consumer thread runs (its outbox consumer is registered by the writer). */
export interface RelayThreadOptions {
  brokers: string[];
  topic: string;
  partitions: number;
  compression: RelayCompression;
  clientId: string;
  consumerName: string;
}

export interface ConsumerThreadInit {
  workerIndex: number;
  /** The outbox directory (read-only in the consumer thread). */
  outboxDir: string;
  /** The writer's segments at the start; later ones come with every commit. */
  snapshot: SegmentSnapshot;
  /** Every consumer the thread runs, registered by the writer before the first request, with its position. */
  positions: [name: string, position: Position][];
  archive: { dir: string; consumerName: string; flushEveryRecords?: number; flushEveryMs?: number };
  /** The embedded ledger, or null when the ledger is fed elsewhere (Kafka). */
  ledger: { file: string; consumerName: string; maxBatchRecords: number; lingerMs: number } | null;
  /** The relay to Kafka, or null (embedded default). */
  relay: RelayThreadOptions | null;
  /** The worker's yield cells (yield-gate.ts) and how long the archive and ledger may pause under overload (0: never). */
  yield: { cells: SharedArrayBuffer; maxYieldMs: number };
}

export type HostToThread =
  | { type: "init"; init: ConsumerThreadInit }
  /** After every commit of the writer (and on its failure or close). */
  | { type: "commit"; snapshot: SegmentSnapshot }
  | { type: "acked"; id: number; error?: string; snapshot: SegmentSnapshot }
  /** Stop the consumers (each writes and acks what it holds), then answer "stopped". */
  | { type: "stop" };

export type ThreadToHost =
  | { type: "ready" }
  | { type: "failed"; error: string }
  | { type: "ack"; id: number; name: string; position: Position }
  /** The relay's figures, every RELAY_STATS_MS and once more when it stopped. */
  | { type: "relay-stats"; stats: KafkaRelayStats }
  | { type: "stopped" };
