// The kafkajs side of the relay: a client with bounded timeouts and retries, the producer settings
// that keep each partition in order without duplicates on retry (idempotent, acks -1, one request
// in flight), creating the topic, and telling which errors need a new producer or a smaller batch.
import "./codec.ts"; // zstd for kafkajs (the relay's default compression)
import { Kafka, logLevel, type logCreator, type Producer, type RetryOptions } from "kafkajs";
import { relayPartitioner } from "./partitioner.ts";
import {
  CLIENT_RETRIES, CLIENT_RETRY_INITIAL_MS, CLIENT_RETRY_MAX_MS, CONNECTION_TIMEOUT_MS, REQUEST_TIMEOUT_MS, TOPIC_MAX_MESSAGE_BYTES,
} from "./limits.ts";

export interface ClientOptions {
  brokers: string[];
  clientId: string;
  /** kafkajs's own log lines; default none (the relay reports failures through onError and stats). */
  logCreator?: logCreator;
}

const CLIENT_RETRY: RetryOptions = { retries: CLIENT_RETRIES, initialRetryTime: CLIENT_RETRY_INITIAL_MS, maxRetryTime: CLIENT_RETRY_MAX_MS };

export function kafkaClient(options: ClientOptions): Kafka {
  return new Kafka({
    clientId: options.clientId,
    brokers: options.brokers,
    connectionTimeout: CONNECTION_TIMEOUT_MS,
    requestTimeout: REQUEST_TIMEOUT_MS,
    retry: CLIENT_RETRY,
    ...(options.logCreator ? { logCreator: options.logCreator } : { logLevel: logLevel.NOTHING }),
  });
}

/**
 * Idempotent (the broker drops a retried batch it already wrote, per partition sequence numbers),
 * one request in flight (kafkajs keeps a partition's batches in order only then), Java-compatible
 * murmur2 key partitioning (partitioner.ts: kafkajs's DefaultPartitioner's result, cheaper). Retries are bounded here; the relay retries the same batch after that,
 * with the same sequence numbers (kafkajs rolls them back on a failed request), so the broker
 * still recognises a batch it already has.
 */
export function relayProducer(kafka: Kafka): Producer {
  return kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    retry: CLIENT_RETRY,
    allowAutoTopicCreation: false,
    createPartitioner: relayPartitioner,
  });
}

export interface EnsureTopicResult {
  created: boolean;
  /** The topic's partition count now (an existing topic keeps its own count: changing it would move keys). */
  partitions: number;
}

/** Creates `topic` with `partitions` partitions unless it exists. Replication: the broker's default. */
export async function ensureTopic(brokers: string[], topic: string, partitions: number, options: Partial<ClientOptions> = {}): Promise<EnsureTopicResult> {
  if (!Number.isSafeInteger(partitions) || partitions < 1) throw new RangeError("ensureTopic: partitions must be a positive integer");
  const admin = kafkaClient({ clientId: "tmax-kafka-relay-admin", ...options, brokers }).admin();
  await admin.connect();
  try {
    const created = await admin.createTopics({
      topics: [{ topic, numPartitions: partitions, configEntries: [{ name: "max.message.bytes", value: String(TOPIC_MAX_MESSAGE_BYTES) }] }],
      waitForLeaders: true,
    });
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    return { created, partitions: metadata.topics[0]?.partitions.length ?? 0 };
  } finally {
    await admin.disconnect();
  }
}

/** The Kafka protocol error type (e.g. "MESSAGE_TOO_LARGE") anywhere in the error's cause chain. */
export function kafkaErrorType(error: unknown): string | undefined {
  for (let e = error as { type?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 8; e = e.cause as typeof e, depth++) {
    if (typeof e.type === "string") return e.type;
  }
  return undefined;
}

/** The batch is too big for the broker: send it in halves. */
export function isTooLarge(error: unknown): boolean {
  const type = kafkaErrorType(error);
  return type === "MESSAGE_TOO_LARGE" || type === "RECORD_LIST_TOO_LARGE";
}

const PRODUCER_STATE_ERRORS = new Set(["OUT_OF_ORDER_SEQUENCE_NUMBER", "UNKNOWN_PRODUCER_ID", "INVALID_PRODUCER_EPOCH", "INVALID_PRODUCER_ID_MAPPING"]);

/** The broker no longer accepts this producer's id or sequence: only a new producer can go on. */
export function needsNewProducer(error: unknown): boolean {
  const type = kafkaErrorType(error);
  return type !== undefined && PRODUCER_STATE_ERRORS.has(type);
}

export function describeError(error: unknown): string {
  const type = kafkaErrorType(error);
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return type !== undefined && !message.includes(type) ? `${message} (${type})` : message;
}
