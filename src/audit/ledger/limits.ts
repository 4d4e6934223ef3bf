// Every bound of the billing ledger in one place (TigerBeetle style: a limit on everything).

export const LEDGER_LIMITS = {
  /** How long a writer waits for another writer's transaction (SQLite busy_timeout). */
  busyTimeoutMs: 10_000,
  /** Events applied in one SQLite transaction by the feeders (a bigger input is split). */
  maxBatchEvents: 1_000,
  /** The outbox feeder's default batch: it runs on a serving worker thread, and a transaction blocks
   *  that thread (classify + insert + fsync: measured ~2-5 ms for 100-250 records on the 2-core box). */
  outboxBatchRecords: 200,
  /** The outbox feeder's wait, after a short read, for more records to share one transaction (and
   *  one fsync): bounds the commits of a worker thread's feeder to about 1000 / lingerMs a second. */
  lingerMs: 100,
  /** Bytes of an invalid payload kept in ledger_anomalies (the rest is cut, its hash covers all). */
  maxAnomalyPayloadBytes: 16_384,
  /** First and last pause before a feeder retries a batch whose transaction failed (SQLITE_BUSY, disk). */
  retryMinMs: 50,
  retryMaxMs: 5_000,
  /** Kafka feeder: longest wait of one fetch for new messages (also what stop() may wait for). */
  kafkaMaxWaitMs: 1_000,
  /** Kafka feeder: longest wait for stop() and then disconnect() each (kafkajs can hang in either on a
   *  broken connection). Past it the process leaves without saying goodbye: every applied chunk's
   *  offsets are committed already, the group reassigns the partitions after its session timeout. */
  kafkaStopTimeoutMs: 10_000,
  /** Reconcile: how long the /metrics scrape may take, and how big its answer may be. */
  metricsTimeoutMs: 5_000,
  maxMetricsBytes: 8 * 1024 * 1024,
  /** Reconcile: the largest --budget-file read. */
  maxBudgetFileBytes: 8 * 1024 * 1024,
} as const;

/** The outbox consumer name of the embedded feeder (one checkpoint per worker outbox). */
export const OUTBOX_CONSUMER = "billing-ledger";
/** Kafka defaults of the distributed feeder (ARCHITECTURE.md §5). */
export const KAFKA_TOPIC = "bid-events";
export const KAFKA_GROUP_ID = "tmax-billing";
/** The ledger file under audit.dir. */
export const LEDGER_FILE = "ledger.sqlite";
