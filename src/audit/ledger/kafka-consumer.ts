// The distributed feeder: a Kafka consumer group ("tmax-billing") on topic "bid-events". Each
// fetched batch is applied in chunks, one SQLite transaction per chunk; the chunk's offsets are
// resolved and committed only after its transaction committed. A crash or a rebalance between the
// two replays the chunk to whoever owns the partition next; the ledger ignores it by event_id.
import "../relay/codec.ts"; // registers zstd with kafkajs: the relay compresses bid-events with it
import { Kafka, logLevel as KafkaLogLevel, type Consumer, type EachBatchPayload, type KafkaMessage, type logLevel } from "kafkajs";
import type { ApplyResult, Ledger } from "./ledger.ts";
import { KAFKA_GROUP_ID, KAFKA_TOPIC, LEDGER_LIMITS } from "./limits.ts";
import { settledWithin } from "../../util/within.ts";

export interface KafkaLedgerConsumerOptions {
  brokers: string[];
  ledger: Ledger;
  /** Default "bid-events". */
  topic?: string;
  /** Default "tmax-billing". */
  groupId?: string;
  clientId?: string;
  /** A group with no committed offset starts at the oldest message (default true: bill everything kept). */
  fromBeginning?: boolean;
  /** Messages per SQLite transaction; default and maximum LEDGER_LIMITS.maxBatchEvents. */
  maxBatchEvents?: number;
  /** Longest wait of one fetch for new messages (kafkajs maxWaitTimeInMs); default LEDGER_LIMITS.kafkaMaxWaitMs. */
  maxWaitTimeMs?: number;
  logLevel?: logLevel;
  /** Tests: runs after a chunk committed, before its offsets are committed (a throw = a crash there). */
  afterCommit?: (result: ApplyResult) => void | Promise<void>;
}

export interface KafkaLedgerStats extends ApplyResult {
  messages: number;
  chunks: number;
  /** Tombstones (null values): nothing to bill. */
  empty: number;
}

export interface KafkaLedgerConsumer {
  readonly consumer: Consumer;
  stats(): KafkaLedgerStats;
  /** Stops after the chunk in flight, leaves the group, disconnects; false when that did not finish within LEDGER_LIMITS.kafkaStopTimeoutMs. */
  stop(): Promise<boolean>;
}

/** Connects, joins the group and starts consuming; resolves once running. */
export async function startKafkaLedgerConsumer(options: KafkaLedgerConsumerOptions): Promise<KafkaLedgerConsumer> {
  const maxChunk = options.maxBatchEvents ?? LEDGER_LIMITS.maxBatchEvents;
  if (!Number.isInteger(maxChunk) || maxChunk < 1 || maxChunk > LEDGER_LIMITS.maxBatchEvents) {
    throw new RangeError(`maxBatchEvents must be 1..${LEDGER_LIMITS.maxBatchEvents}, got ${maxChunk}`);
  }
  const kafka = new Kafka({ clientId: options.clientId ?? "tmax-billing-ledger", brokers: options.brokers, logLevel: options.logLevel ?? KafkaLogLevel.WARN });
  let stopping = false;
  const consumer = kafka.consumer({
    groupId: options.groupId ?? KAFKA_GROUP_ID,
    maxWaitTimeInMs: options.maxWaitTimeMs ?? LEDGER_LIMITS.kafkaMaxWaitMs,
    retry: { restartOnFailure: async () => !stopping }, // kafkajs restarts a crashed consumer; not one being stopped
  });
  const stats: KafkaLedgerStats = { inserted: 0, duplicates: 0, skipped: 0, invalid: 0, conflicts: 0, messages: 0, chunks: 0, empty: 0 };
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [options.topic ?? KAFKA_TOPIC], fromBeginning: options.fromBeginning ?? true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: (payload) => applyKafkaBatch(payload, { ledger: options.ledger, maxChunk, stats, afterCommit: options.afterCommit }),
    });
  } catch (err) {
    await consumer.disconnect().catch(() => {});
    throw err;
  }
  return {
    consumer,
    stats: () => ({ ...stats }),
    stop: () => {
      stopping = true;
      return stopConsumer(consumer, LEDGER_LIMITS.kafkaStopTimeoutMs);
    },
  };
}

/** stop() then disconnect(), each waited for at most `timeoutMs`; true when both finished in time. */
export async function stopConsumer(consumer: Pick<Consumer, "stop" | "disconnect">, timeoutMs: number): Promise<boolean> {
  const stopped = await settledWithin(consumer.stop(), timeoutMs);
  const disconnected = await settledWithin(consumer.disconnect(), timeoutMs);
  return stopped && disconnected;
}

interface BatchContext {
  ledger: Ledger;
  maxChunk: number;
  stats: KafkaLedgerStats;
  afterCommit?: (result: ApplyResult) => void | Promise<void>;
}

/** One fetched partition batch: chunk -> transaction -> resolve + commit offsets -> heartbeat. */
async function applyKafkaBatch(payload: EachBatchPayload, ctx: BatchContext): Promise<void> {
  const { batch } = payload;
  for (let start = 0; start < batch.messages.length; start += ctx.maxChunk) {
    if (!payload.isRunning() || payload.isStale()) return;
    const chunk = batch.messages.slice(start, start + ctx.maxChunk);
    const values = chunk.map((m) => m.value).filter((v): v is Buffer => v !== null);
    const result = ctx.ledger.applyPayloads(values); // throws: kafkajs restarts from the last commit
    count(ctx.stats, result, chunk); // the rows are in SQLite now, whatever the offset commit does
    await ctx.afterCommit?.(result);
    const last = chunk[chunk.length - 1]!.offset;
    payload.resolveOffset(last);
    await payload.commitOffsetsIfNecessary({ topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: nextOffset(last) }] }] });
    await payload.heartbeat();
  }
}

function nextOffset(offset: string): string {
  return (BigInt(offset) + 1n).toString();
}

function count(stats: KafkaLedgerStats, result: ApplyResult, chunk: KafkaMessage[]): void {
  stats.chunks++;
  stats.messages += chunk.length;
  stats.empty += chunk.filter((m) => m.value === null).length;
  stats.inserted += result.inserted;
  stats.duplicates += result.duplicates;
  stats.skipped += result.skipped;
  stats.invalid += result.invalid;
  stats.conflicts += result.conflicts;
}
