// Named limits and defaults of the Kafka relay. Every number the relay uses lives here, units last.

export const RELAY_DEFAULTS = {
  /** The Kafka topic the audit trail goes to (ARCHITECTURE.md §5). */
  topic: "bid-events",
  /** The outbox consumer name whose checkpoint is "what Kafka acknowledged". */
  consumerName: "kafka-relay",
  /** Partitions of the topic when ensureTopic creates it (an existing topic is left as it is). */
  partitions: 12,
  /** Records in one produce request (one kafkajs send). */
  batchMaxRecords: 2_000,
  /** Payload bytes in one produce request, before compression (a single larger record goes alone). */
  batchMaxBytes: 1024 * 1024,
  /** Batch compression: zstd (level ZSTD_LEVEL) costs ~2 us per 1 KB event against GZIP's ~13 us, and compresses as well. */
  compression: "zstd",
  /** How long a batch that is not full waits for more records after its first one was read. */
  lingerMs: 5,
  /** How long stop() keeps shipping what is committed (and waits for a send in flight) before it gives up. */
  stopDrainMs: 5_000,
} as const;

/** zstd level of the relay's batches (1: fastest; on audit JSON it compresses as well as level 3 and GZIP 6). */
export const ZSTD_LEVEL = 1;

/** Backoff between attempts to deliver one batch (or to connect) after a failure: doubled up to the max. */
export const RETRY_INITIAL_MS = 100;
export const RETRY_MAX_MS = 5_000;
/** +-20% randomness on each backoff, so the relays of many workers do not retry in step. */
export const RETRY_JITTER = 0.2;

/** kafkajs's own retries inside one send, before the relay backs off and sends the same batch again. */
export const CLIENT_RETRIES = 5;
export const CLIENT_RETRY_INITIAL_MS = 100;
export const CLIENT_RETRY_MAX_MS = 1_000;
/** TCP connect timeout, and how long one request may wait for its answer (a hung broker). */
export const CONNECTION_TIMEOUT_MS = 3_000;
export const REQUEST_TIMEOUT_MS = 10_000;
/** Broker-side wait for the in-sync replicas' acknowledgement (acks: -1); below REQUEST_TIMEOUT_MS so the
 *  broker's own timeout answer (retriable) comes before the client gives up on the request. */
export const ACK_TIMEOUT_MS = 5_000;

/** max.message.bytes of a topic ensureTopic creates: one outbox record (<= 1 MiB) always fits. */
export const TOPIC_MAX_MESSAGE_BYTES = 2 * 1024 * 1024;

/** Records read from the outbox per read() at most (fewer when the batch is nearly full in bytes). */
export const READ_CHUNK_RECORDS = 256;
/** Size assumed for records not read yet when estimating lagRecords before any record was seen. */
export const ASSUMED_RECORD_BYTES = 1024;
/** How long the reader waits before reading again after a read failed or the outbox failed. */
export const READ_RETRY_MS = 1_000;

/** Headers the relay sets on every Kafka record. */
export const HEADER_EVENT_ID = "event_id";
export const HEADER_MALFORMED = "tmax-malformed";
