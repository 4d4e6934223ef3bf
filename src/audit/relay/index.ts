// The Kafka relay of the audit outbox: public API. See relay.ts, README.md.
export { startKafkaRelay, KafkaRelay, type KafkaRelayStats } from "./relay.ts";
export { ensureTopic, type EnsureTopicResult } from "./client.ts";
export type { KafkaRelayOptions, RelayErrorContext } from "./options.ts";
export { routeRecord } from "./extract.ts";
export { compressionType, registerZstdCodec, RELAY_COMPRESSIONS, type RelayCompression } from "./codec.ts";
export * from "./limits.ts";
