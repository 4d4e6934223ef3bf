// The relay's options, their defaults (limits.ts) and their checks.
import type { logCreator } from "kafkajs";
import type { FollowableOutbox } from "../outbox/index.ts";
import { RELAY_COMPRESSIONS, type RelayCompression } from "./codec.ts";
import { RELAY_DEFAULTS } from "./limits.ts";

/** Where a failure happened: the relay goes on in every case (retrying, or past a malformed record). */
export type RelayErrorContext = "connect" | "send" | "topic" | "read" | "ack" | "malformed";

export interface KafkaRelayOptions {
  /** The worker's open outbox; the relay registers its consumer on it. */
  outbox: FollowableOutbox;
  brokers: string[];
  clientId: string;
  /** Default "bid-events". */
  topic?: string;
  /** Partitions when the relay creates a missing topic; null = never create it (default RELAY_DEFAULTS.partitions). */
  partitions?: number | null;
  batchMaxRecords?: number;
  batchMaxBytes?: number;
  lingerMs?: number;
  /** Batch compression (default RELAY_DEFAULTS.compression, "zstd"); consumers need the codec (codec.ts). */
  compression?: RelayCompression;
  /** Default bound of stop()'s drain. */
  stopDrainMs?: number;
  /** The outbox consumer name (default "kafka-relay"). */
  consumerName?: string;
  onError?: (error: unknown, context: RelayErrorContext) => void;
  /** kafkajs's log lines (default: none). */
  logCreator?: logCreator;
}

export interface ResolvedRelayOptions {
  outbox: FollowableOutbox;
  brokers: string[];
  clientId: string;
  topic: string;
  partitions: number | null;
  batchMaxRecords: number;
  batchMaxBytes: number;
  lingerMs: number;
  compression: RelayCompression;
  stopDrainMs: number;
  consumerName: string;
  onError: (error: unknown, context: RelayErrorContext) => void;
  logCreator?: logCreator;
}

export function resolveRelayOptions(options: KafkaRelayOptions): ResolvedRelayOptions {
  if (options.brokers.length === 0) throw new RangeError("kafka relay: brokers must not be empty");
  if (options.clientId.length === 0) throw new RangeError("kafka relay: clientId must not be empty");
  const resolved: ResolvedRelayOptions = {
    outbox: options.outbox,
    brokers: [...options.brokers],
    clientId: options.clientId,
    topic: options.topic ?? RELAY_DEFAULTS.topic,
    partitions: options.partitions === undefined ? RELAY_DEFAULTS.partitions : options.partitions,
    batchMaxRecords: options.batchMaxRecords ?? RELAY_DEFAULTS.batchMaxRecords,
    batchMaxBytes: options.batchMaxBytes ?? RELAY_DEFAULTS.batchMaxBytes,
    lingerMs: options.lingerMs ?? RELAY_DEFAULTS.lingerMs,
    compression: options.compression ?? RELAY_DEFAULTS.compression,
    stopDrainMs: options.stopDrainMs ?? RELAY_DEFAULTS.stopDrainMs,
    consumerName: options.consumerName ?? RELAY_DEFAULTS.consumerName,
    onError: options.onError ?? (() => {}),
    logCreator: options.logCreator,
  };
  if (resolved.partitions !== null) positive("partitions", resolved.partitions);
  positive("batchMaxRecords", resolved.batchMaxRecords);
  positive("batchMaxBytes", resolved.batchMaxBytes);
  nonNegative("lingerMs", resolved.lingerMs);
  nonNegative("stopDrainMs", resolved.stopDrainMs);
  if (!RELAY_COMPRESSIONS.includes(resolved.compression)) throw new RangeError(`kafka relay: compression must be one of ${RELAY_COMPRESSIONS.join(", ")}`);
  if (resolved.topic.length === 0) throw new RangeError("kafka relay: topic must not be empty");
  return resolved;
}

function positive(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`kafka relay: ${name} must be a positive integer`);
}

function nonNegative(name: string, value: number): void {
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`kafka relay: ${name} must be >= 0`);
}
