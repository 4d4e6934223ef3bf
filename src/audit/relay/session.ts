// The relay's producer and its connection: connected on first use (creating the topic first if
// asked), kept across failed sends (its sequence numbers let the broker drop resent batches it
// already has), replaced only when the broker no longer knows it, closed within a bound.
import type { Kafka, Producer } from "kafkajs";
import { ensureTopic, kafkaClient, relayProducer, type ClientOptions } from "./client.ts";
import { ABORTED, raceAbort } from "./wait.ts";
import { settledWithin } from "../../util/within.ts";

/** How long closing the producer may take (a dead broker must not hold a worker's shutdown). */
export const DISCONNECT_TIMEOUT_MS = 2_000;

export interface SessionOptions extends ClientOptions {
  topic: string;
  /** Create the topic with this many partitions when it is missing; null = do not try. */
  createPartitions: number | null;
  onTopicError: (error: unknown) => void;
}

export class ProducerSession {
  private readonly kafka: Kafka;
  private producer: Producer | null = null;
  private connecting: Promise<Producer> | null = null;
  private topicChecked = false;
  private closed = false;
  connected = false;

  constructor(private readonly options: SessionOptions) {
    this.kafka = kafkaClient(options);
  }

  /** The connected producer (kafkajs reconnects it by itself after a broker restart); throws (for the caller's backoff) when the cluster cannot be reached. */
  async ready(signal: AbortSignal): Promise<Producer | typeof ABORTED> {
    if (this.producer !== null && this.connected) return this.producer;
    this.connecting ??= this.connect().finally(() => (this.connecting = null));
    return raceAbort(this.connecting, signal);
  }

  /** Drops the producer: the next ready() makes a new one (a new producer id). */
  async reset(): Promise<void> {
    const producer = this.producer;
    this.producer = null;
    this.connected = false;
    if (producer !== null) await bounded(producer.disconnect());
  }

  /** Disconnects within DISCONNECT_TIMEOUT_MS; a connect still going on disconnects when it ends. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.connecting !== null) await bounded(this.connecting.then(() => {}, () => {}));
    await this.reset();
  }

  private async connect(): Promise<Producer> {
    await this.checkTopic();
    const producer = relayProducer(this.kafka);
    this.producer = producer;
    try {
      await producer.connect();
    } catch (error) {
      this.producer = null;
      await bounded(producer.disconnect());
      throw error;
    }
    if (this.closed) {
      await this.reset();
      throw new Error("kafka relay: closed while connecting");
    }
    this.connected = true;
    return producer;
  }

  /** Once per relay: create the topic if missing. A failure (e.g. no permission) is reported, not fatal. */
  private async checkTopic(): Promise<void> {
    const partitions = this.options.createPartitions;
    if (this.topicChecked || partitions === null) return;
    try {
      await ensureTopic(this.options.brokers, this.options.topic, partitions, this.options);
      this.topicChecked = true;
    } catch (error) {
      if (isUnreachable(error)) throw error; // the broker is down: back off and try again
      this.topicChecked = true;
      this.options.onTopicError(error);
    }
  }
}

function isUnreachable(error: unknown): boolean {
  const name = (error as Error)?.name ?? "";
  return /Connection|NumberOfRetriesExceeded|RequestTimeout|BrokerNotFound/.test(name);
}

async function bounded(promise: Promise<void>): Promise<void> {
  await settledWithin(promise, DISCONNECT_TIMEOUT_MS);
}
