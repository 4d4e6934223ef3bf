// The relay of one worker's outbox to Kafka: reads committed records from its checkpoint (feed.ts),
// sends them in batches (one produce request at a time, idempotent, acks from all in-sync
// replicas, zstd by default: codec.ts), and moves its outbox checkpoint only past what Kafka acknowledged. A failed
// batch is sent again, the same batch, after a backoff, until it goes through or the relay stops:
// nothing is skipped, and a restart resends only the unacknowledged tail (at-least-once).
import type { Position } from "../outbox/index.ts";
import { describeError, isTooLarge, needsNewProducer } from "./client.ts";
import { compressionType } from "./codec.ts";
import { OutboxFeed, type Pending } from "./feed.ts";
import { OutboxDistance } from "./lag.ts";
import { ACK_TIMEOUT_MS, ASSUMED_RECORD_BYTES, RETRY_INITIAL_MS, RETRY_JITTER, RETRY_MAX_MS } from "./limits.ts";
import { resolveRelayOptions, type KafkaRelayOptions, type RelayErrorContext, type ResolvedRelayOptions } from "./options.ts";
import { ProducerSession } from "./session.ts";
import { ABORTED, backoffMs, raceAbort, sleep } from "./wait.ts";

export interface KafkaRelayStats {
  state: "running" | "draining" | "stopped";
  /** Records handed to Kafka in produce requests (a batch sent again counts again). */
  sent: number;
  /** Records Kafka acknowledged (each once). */
  acked: number;
  /** Records sent again after a failed attempt (the source of duplicates downstream). */
  resent: number;
  /** Acknowledged produce requests. */
  batches: number;
  /** Records shipped without a key, with the tmax-malformed header. */
  malformed: number;
  /** Failed attempts to connect or send. */
  failures: number;
  /** Committed records Kafka has not acknowledged: exact for those read, estimated (mean size) beyond. */
  lagRecords: number;
  /** Committed outbox bytes (records with their frames) Kafka has not acknowledged. */
  lagBytes: number;
  /** Everything before this position is acknowledged by Kafka (the checkpoint follows it). */
  ackedPosition: Position;
  lastError: string | null;
  lastErrorAtMs: number | null;
  /** The producer is connected and its last attempt succeeded. */
  connected: boolean;
}

type Outcome = "ok" | "too-large" | "stopped";

export class KafkaRelay {
  private readonly feed: OutboxFeed;
  private readonly session: ProducerSession;
  private readonly distance: OutboxDistance;
  private readonly hardStop = new AbortController();
  private readonly counts = { sent: 0, acked: 0, resent: 0, batches: 0, failures: 0 };
  private state: KafkaRelayStats["state"] = "running";
  private ackedPosition: Position;
  private ackTarget: Position | null = null;
  private acking: Promise<void> | null = null;
  private lastError: string | null = null;
  private lastErrorAtMs: number | null = null;
  private lastAttemptOk = false;
  private feedEnded = false;
  private feeding: Promise<void> = Promise.resolve();
  private sending: Promise<void> = Promise.resolve();
  private stopping: Promise<void> | null = null;

  constructor(private readonly options: ResolvedRelayOptions, from: Position) {
    this.ackedPosition = from;
    this.feed = new OutboxFeed(options.outbox, from, options, (error, context) => this.fail(error, context));
    this.session = new ProducerSession({ ...options, createPartitions: options.partitions, onTopicError: (error) => this.fail(error, "topic") });
    this.distance = new OutboxDistance(options.outbox);
  }

  start(): void {
    this.feeding = this.feed.run(this.hardStop.signal)
      .catch((error) => this.fail(error, "read"))
      .finally(() => {
        this.feedEnded = true;
        this.feed.arrived.notify();
      });
    this.sending = this.sendLoop().catch((error) => this.fail(error, "send"));
  }

  stats(): KafkaRelayStats {
    const committed = this.options.outbox.committedPosition();
    const unreadBytes = this.distance.bytesBetween(this.feed.readPosition, committed);
    const meanBytes = this.feed.readRecords > 0 ? this.feed.readBytes / this.feed.readRecords : ASSUMED_RECORD_BYTES;
    return {
      state: this.state,
      ...this.counts,
      malformed: this.feed.malformed,
      lagRecords: this.feed.readRecords - this.counts.acked + Math.ceil(unreadBytes / meanBytes),
      lagBytes: this.distance.bytesBetween(this.ackedPosition, committed),
      ackedPosition: { ...this.ackedPosition },
      lastError: this.lastError,
      lastErrorAtMs: this.lastErrorAtMs,
      connected: this.session.connected && this.lastAttemptOk,
    };
  }

  /**
   * Ships what is committed for at most `drainMs` (a send in flight included), records the
   * checkpoint of what Kafka acknowledged, and closes the producer. The rest is sent by the next relay.
   */
  stop(drainMs = this.options.stopDrainMs): Promise<void> {
    this.stopping ??= this.shutdown(drainMs);
    return this.stopping;
  }

  private async shutdown(drainMs: number): Promise<void> {
    this.state = "draining";
    this.feed.arrived.notify();
    const timer = setTimeout(() => this.hardStop.abort(), drainMs);
    await this.sending;
    this.hardStop.abort();
    clearTimeout(timer);
    await this.feeding;
    while (this.acking !== null) await this.acking;
    await this.session.close();
    this.state = "stopped";
  }

  private async sendLoop(): Promise<void> {
    if (!(await this.connect())) return;
    const backlog: Pending[][] = [];
    for (;;) {
      const batch = backlog.shift() ?? (await this.nextBatch());
      if (batch === null) return;
      const outcome = await this.deliver(batch);
      if (outcome === "stopped") return;
      if (outcome === "too-large") backlog.unshift(batch.slice(0, batch.length >> 1), batch.slice(batch.length >> 1));
      else this.delivered(batch);
    }
  }

  /** Connects at start (so `connected` means something before the first event), backing off on failure. */
  private async connect(): Promise<boolean> {
    const signal = this.hardStop.signal;
    for (let failures = 0; !signal.aborted && this.state === "running"; ) {
      try {
        if ((await this.session.ready(signal)) === ABORTED) return false;
        this.lastAttemptOk = true;
        return true;
      } catch (error) {
        this.fail(error, "connect");
        await sleep(backoffMs(++failures, RETRY_INITIAL_MS, RETRY_MAX_MS, RETRY_JITTER), signal);
      }
    }
    return !signal.aborted; // stopped before connecting: drain what is there if the broker answers
  }

  /** The next batch: full, or its oldest record lingered lingerMs, or draining; null when done. */
  private async nextBatch(): Promise<Pending[] | null> {
    const signal = this.hardStop.signal;
    while (!signal.aborted) {
      const waitMs = this.readyInMs();
      if (waitMs === 0) return this.feed.take();
      if (this.feed.length === 0 && (this.feedEnded || (this.state === "draining" && this.feed.caughtUp()))) return null;
      await this.feed.arrived.wait(waitMs, signal);
    }
    return null;
  }

  /** 0 when a batch should go now; the linger left; undefined when nothing is queued. */
  private readyInMs(): number | undefined {
    const oldest = this.feed.oldestReadAtMs;
    if (oldest === undefined) return undefined;
    if (this.state === "draining" || this.feedEnded || this.feed.full()) return 0;
    return Math.max(0, oldest + this.options.lingerMs - performance.now());
  }

  /** Sends the batch until Kafka acknowledges it; the same batch after each failure, with backoff. */
  private async deliver(batch: Pending[]): Promise<Outcome> {
    const signal = this.hardStop.signal;
    const messages = batch.map((p) => p.message);
    const compression = compressionType(this.options.compression);
    let sentBefore = false;
    for (let failures = 0; !signal.aborted; ) {
      try {
        const producer = await this.session.ready(signal);
        if (producer === ABORTED) return "stopped";
        this.counts.sent += batch.length;
        if (sentBefore) this.counts.resent += batch.length;
        sentBefore = true;
        const send = producer.send({ topic: this.options.topic, acks: -1, timeout: ACK_TIMEOUT_MS, compression, messages });
        if ((await raceAbort(send, signal)) === ABORTED) return "stopped";
        this.lastAttemptOk = true;
        return "ok";
      } catch (error) {
        this.fail(error, sentBefore ? "send" : "connect");
        if (isTooLarge(error) && batch.length > 1) return "too-large";
        if (needsNewProducer(error)) await this.session.reset();
        await sleep(backoffMs(++failures, RETRY_INITIAL_MS, RETRY_MAX_MS, RETRY_JITTER), signal);
      }
    }
    return "stopped";
  }

  private delivered(batch: Pending[]): void {
    this.counts.acked += batch.length;
    this.counts.batches++;
    this.ackedPosition = batch[batch.length - 1]!.next;
    this.ackTarget = this.ackedPosition;
    this.acking ??= this.checkpoint();
  }

  /** Writes the newest acknowledged position to the outbox checkpoint; one write at a time, newest wins. */
  private async checkpoint(): Promise<void> {
    while (this.ackTarget !== null) {
      const target = this.ackTarget;
      this.ackTarget = null;
      try {
        await this.options.outbox.ack(this.options.consumerName, target);
      } catch (error) {
        this.fail(error, "ack");
      }
    }
    this.acking = null;
  }

  private fail(error: unknown, context: RelayErrorContext): void {
    if (context !== "malformed") {
      this.counts.failures++;
      this.lastAttemptOk = false;
    }
    this.lastError = `${context}: ${describeError(error)}`;
    this.lastErrorAtMs = Date.now();
    try {
      this.options.onError(error, context);
    } catch {
      // a throwing callback must not stop the relay
    }
  }
}

/**
 * Starts the relay of a worker's open outbox: registers the consumer (its checkpoint is where the
 * relay resumes) and returns at once; connecting, creating the topic and sending go on in the
 * background, retried with backoff while Kafka is unreachable. Stop it before closing the outbox.
 */
export async function startKafkaRelay(options: KafkaRelayOptions): Promise<KafkaRelay> {
  const resolved = resolveRelayOptions(options);
  const from = await resolved.outbox.registerConsumer(resolved.consumerName);
  const relay = new KafkaRelay(resolved, from);
  relay.start();
  return relay;
}
