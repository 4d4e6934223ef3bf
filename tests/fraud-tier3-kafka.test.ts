// Tier 3 in distributed mode against a REAL Kafka broker: bid_request events other pods relayed to
// bid-events (produced here, as their relays would) reach this pod's analyzer through its own
// consumer group, and the subnet burst they show is blocked in this pod's shared fraud state.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { CompressionTypes, Kafka, logLevel, Partitioners, type Producer } from "kafkajs";
import { createTopic } from "../scripts/services/kafka.ts";
import { useKafka } from "./support/kafka.ts";
import { KafkaEventSource } from "../src/fraud/async/kafka-source.ts";
import { startTier3 } from "../src/fraud/async/run.ts";
import { fraudSettings } from "../src/fraud/settings.ts";
import { createFraudState } from "../src/fraud/stage.ts";
import { isBlocked } from "../src/fraud/shared/blocks.ts";
import "../src/audit/relay/codec.ts";

const TOPIC = "bid-events";
const kafka = useKafka({ partitions: 2 });
let producer: Producer;

beforeAll(async () => {
  await createTopic(kafka().brokers, TOPIC, 2);
  producer = new Kafka({ clientId: "fraud-tier3-test", brokers: kafka().brokers, logLevel: logLevel.NOTHING }).producer({ createPartitioner: Partitioners.DefaultPartitioner });
  await producer.connect();
}, 60_000);

afterAll(async () => {
  await producer?.disconnect();
});

const event = (i: number) => JSON.stringify({
  event_type: "bid_request", event_id: crypto.randomUUID(), event_time: new Date().toISOString(), request_id: `other-pod-${i}`,
  fraud: { result: "allow", tier: 0, reason: null, nbr: null, score: 0.01, ip_subnet: "84.7.7.0/24", device_key: (i % 97).toString(16).padStart(8, "0") },
});

test("a burst seen only in other pods' events is blocked here", async () => {
  const settings = fraudSettings({ async: { intervalMs: 100, windowMs: 30_000, subnetBurst: 20, devicesPerSubnet: 100_000, regularGapCv: 0 } });
  const state = createFraudState(1);
  const source = new KafkaEventSource({ brokers: kafka().brokers, topic: TOPIC, groupId: "tmax-fraud-test-pod" });
  const tier3 = startTier3(settings, state, "/nonexistent", source);
  try {
    await source.ready;
    expect(isBlocked(state, "84.7.7.9", Date.now())).toBe(false);
    // The group reads from the newest offset once it has its partitions: produce until the block shows.
    const until = Date.now() + 60_000;
    let sent = 0;
    while (!isBlocked(state, "84.7.7.9", Date.now()) && Date.now() < until) {
      await producer.send({ topic: TOPIC, compression: CompressionTypes.ZSTD, messages: Array.from({ length: 10 }, () => ({ key: "", value: event(sent++) })) });
      await Bun.sleep(200);
    }
    expect(isBlocked(state, "84.7.7.9", Date.now())).toBe(true);
    expect(isBlocked(state, "84.7.8.9", Date.now())).toBe(false);
    expect(tier3.actions.some((a) => a.kind === "block_subnet" && a.subnet === "84.7.7.0/24")).toBe(true);
  } finally {
    await tier3.stop(); // while the broker is up: the file's afterAll stops it
  }
}, 120_000);
