// Tier 3's event source in distributed mode (audit.kafka configured): the bid-events topic, read by
// a consumer group of this pod's own ("tmax-fraud-<pod>": every pod sees every pod's events, since
// each applies its findings to its own shared memory), from the newest offset. Messages are queued
// until the analyzer's next poll; past MAX_QUEUED the oldest are dropped (the analysis is a
// heuristic over a recent window, never a ledger).
import "../../audit/relay/codec.ts"; // registers zstd with kafkajs: the relay compresses bid-events with it
import { Kafka, logLevel, type Consumer } from "kafkajs";
import type { EventSource } from "./outbox-tail.ts";
import { settledWithin } from "../../util/within.ts";

export const MAX_QUEUED = 200_000;
/** close() waits at most this long for a start still connecting, then as long for the disconnect (kafkajs can hang in either). */
export const CLOSE_TIMEOUT_MS = 5_000;

export interface KafkaSourceOptions { brokers: string[]; topic: string; groupId: string; clientId?: string }

export class KafkaEventSource implements EventSource {
  private queue: Buffer[] = [];
  private readonly consumer: Consumer;
  private closed = false;
  /** Resolves once the consumer runs (or rejects: logged, the source then stays empty). */
  readonly ready: Promise<void>;
  dropped = 0;

  constructor(options: KafkaSourceOptions) {
    const kafka = new Kafka({ clientId: options.clientId ?? "tmax-fraud-tier3", brokers: options.brokers, logLevel: logLevel.WARN });
    // After a crash kafkajs restarts the consumer by itself, forever: never once closed (a broker gone
    // for good would otherwise keep a closed source reconnecting in the background).
    this.consumer = kafka.consumer({ groupId: options.groupId, maxWaitTimeInMs: 250, retry: { restartOnFailure: async () => !this.closed } });
    this.ready = this.start(options.topic);
  }

  private async start(topic: string): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [topic], fromBeginning: false });
    await this.consumer.run({
      eachMessage: async ({ message }) => {
        if (message.value === null) return;
        this.queue.push(message.value);
        if (this.queue.length > MAX_QUEUED) {
          this.queue.shift();
          this.dropped++;
        }
      },
    });
  }

  async poll(onRecord: (payload: Buffer) => void): Promise<number> {
    const batch = this.queue;
    this.queue = [];
    for (const payload of batch) onRecord(payload);
    return batch.length;
  }

  async close(): Promise<void> {
    this.closed = true;
    await settledWithin(this.ready, CLOSE_TIMEOUT_MS);
    await settledWithin(this.consumer.disconnect(), CLOSE_TIMEOUT_MS);
  }
}
