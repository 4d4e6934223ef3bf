// The distributed ledger feeder against a REAL Kafka broker (tests/support/kafka.ts): events
// produced to `bid-events` (some twice, one not JSON, one tombstone) are consumed by group
// `tmax-billing` into the ledger exactly once per event_id; a restarted consumer resumes at the
// committed offsets; a crash after the SQLite commit and before the offset commit replays the
// chunk without changing the books; a second group replaying the whole topic inserts nothing.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kafka, logLevel, Partitioners, type Producer } from "kafkajs";
import { createTopic } from "../scripts/services/kafka.ts";
import { KAFKA_GROUP_ID, KAFKA_TOPIC, Ledger, runConsumeCommand, startKafkaLedgerConsumer, type KafkaLedgerConsumer, type KafkaLedgerConsumerOptions } from "../src/audit/ledger/index.ts";
import { encode, eventStream, expectedBooks } from "../src/audit/ledger/fixtures.ts";
import type { AuditEvent } from "../src/audit/schema.ts";
import { useKafka } from "./support/kafka.ts";

const PARTITIONS = 3;
const CATCH_UP_TIMEOUT_MS = 60_000;
const FETCH_WAIT_MS = 100;
const kafka = useKafka({ partitions: PARTITIONS });
let dir = "";
let producer: Producer;
let client: Kafka;
const timings: Record<string, number> = {};

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "ledger-kafka-"));
  await createTopic(kafka().brokers, KAFKA_TOPIC, PARTITIONS);
  client = new Kafka({ clientId: "ledger-kafka-test", brokers: kafka().brokers, logLevel: logLevel.NOTHING });
  producer = client.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true });
  await producer.connect();
}, 60_000);

afterAll(async () => {
  await producer?.disconnect();
  console.log(`ledger kafka timings (ms): ${JSON.stringify(timings)}`);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

type Message = { key: string; value: string | null };

async function produce(messages: Message[]): Promise<void> {
  await producer.send({ topic: KAFKA_TOPIC, acks: -1, messages });
}

function messagesOf(events: AuditEvent[]): Message[] {
  return events.map((e) => ({ key: e.advertiser_id, value: encode(e) }));
}

/** Resolves once `groupId` committed every partition's end offset. */
async function groupCaughtUp(groupId: string): Promise<void> {
  const admin = client.admin();
  await admin.connect();
  try {
    const deadline = Date.now() + CATCH_UP_TIMEOUT_MS;
    for (;;) {
      const ends = new Map((await admin.fetchTopicOffsets(KAFKA_TOPIC)).map((p) => [p.partition, p.high]));
      const [committed] = await admin.fetchOffsets({ groupId, topics: [KAFKA_TOPIC] });
      const behind = committed!.partitions.filter((p) => BigInt(p.offset === "-1" ? "0" : p.offset) !== BigInt(ends.get(p.partition) ?? "0"));
      if (behind.length === 0) return;
      if (Date.now() > deadline) throw new Error(`group ${groupId} not caught up: ${JSON.stringify(committed)} vs ${JSON.stringify([...ends])}`);
      await Bun.sleep(50);
    }
  } finally {
    await admin.disconnect();
  }
}

async function consume(ledger: Ledger, groupId: string, extra: Partial<KafkaLedgerConsumerOptions> = {}): Promise<KafkaLedgerConsumer> {
  return startKafkaLedgerConsumer({ brokers: kafka().brokers, ledger, groupId, maxWaitTimeMs: FETCH_WAIT_MS, maxBatchEvents: 100, logLevel: logLevel.NOTHING, ...extra });
}

function expectBooks(ledger: Ledger, events: AuditEvent[]): void {
  const want = expectedBooks(events);
  expect(ledger.eventCount()).toBe(want.billable);
  const { table, fromRows } = ledger.totals();
  expect(table).toEqual(fromRows);
  for (const [day, perCampaign] of want.wonCost) {
    expect(new Map(ledger.campaignCosts(day).map((c) => [c.campaignId, BigInt(c.costMicros)]))).toEqual(perCampaign);
  }
}

const first = eventStream(800, 71, "k1");
const again = first.slice(0, 150);
const second = eventStream(300, 72, "k2");
const againLater = first.slice(200, 260);
const billable = (events: AuditEvent[]) => expectedBooks(events).billable;

describe("kafka ledger consumer (real broker)", () => {
  test("produced events (some twice) land exactly once; a restart resumes at the committed offsets", async () => {
    const ledger = Ledger.open(join(dir, "ledger.sqlite"));
    try {
      await produce([...messagesOf(first), ...messagesOf(again), { key: "adv-x", value: "{not json" }, { key: "adv-x", value: null }]);
      let t0 = performance.now();
      const consumer = await consume(ledger, KAFKA_GROUP_ID);
      await groupCaughtUp(KAFKA_GROUP_ID);
      timings.firstCatchUp = Math.round(performance.now() - t0);
      await consumer.stop();
      expect(consumer.stats()).toMatchObject({ messages: first.length + again.length + 2, inserted: billable(first), duplicates: billable(again), invalid: 1, empty: 1, conflicts: 0 });
      expectBooks(ledger, first);

      await produce([...messagesOf(second), ...messagesOf(againLater)]);
      t0 = performance.now();
      const restarted = await consume(ledger, KAFKA_GROUP_ID);
      await groupCaughtUp(KAFKA_GROUP_ID);
      timings.restartCatchUp = Math.round(performance.now() - t0);
      await restarted.stop();
      expect(restarted.stats()).toMatchObject({ messages: second.length + againLater.length, inserted: billable(second), duplicates: billable(againLater), invalid: 0 });
      expectBooks(ledger, [...first, ...second]);
    } finally {
      ledger.close();
    }
  });

  test("a crash after the SQLite commit, before the offset commit, replays the chunk; the books do not change", async () => {
    const ledger = Ledger.open(join(dir, "ledger-crash.sqlite"));
    const groupId = `${KAFKA_GROUP_ID}-crash`;
    try {
      let crashes = 0;
      const t0 = performance.now();
      const consumer = await consume(ledger, groupId, {
        afterCommit: () => {
          if (crashes++ === 0) throw new Error("crash after commit, before the offset commit");
        },
      });
      await groupCaughtUp(groupId);
      timings.crashCatchUp = Math.round(performance.now() - t0);
      await consumer.stop();
      const stats = consumer.stats();
      expect(crashes).toBeGreaterThan(1);
      // The crashed chunk is read twice: more messages than the topic holds (whether the chunk held billable
      // events, counted again as duplicates, depends on where the chunk boundaries fell).
      const topicMessages = first.length + again.length + 2 + second.length + againLater.length;
      expect(stats.messages).toBeGreaterThan(topicMessages);
      expect(stats.duplicates).toBeGreaterThanOrEqual(billable([...again, ...againLater]));
      expectBooks(ledger, [...first, ...second]);
    } finally {
      ledger.close();
    }
  });

  test("another group replaying the whole topic into the same ledger inserts nothing", async () => {
    const ledger = Ledger.open(join(dir, "ledger.sqlite"));
    const groupId = `${KAFKA_GROUP_ID}-replay`;
    try {
      const before = ledger.totals().table;
      const consumer = await consume(ledger, groupId);
      await groupCaughtUp(groupId);
      await consumer.stop();
      expect(consumer.stats()).toMatchObject({ inserted: 0, conflicts: 0, duplicates: billable([...first, ...second]) + billable([...again, ...againLater]) });
      expect(ledger.totals().table).toEqual(before);
    } finally {
      ledger.close();
    }
  });

  test("`tmax billing consume` (runConsumeCommand) fills audit.dir/ledger.sqlite until stopped", async () => {
    const groupId = `${KAFKA_GROUP_ID}-cli`;
    const auditDir = join(dir, "cli-audit");
    const config = join(dir, "tmax-cli.json");
    writeFileSync(config, JSON.stringify({ dsps: [], campaigns: [], audit: { dir: auditDir } }));
    const out: string[] = [];
    const err: string[] = [];
    const stop = new AbortController();
    const running = runConsumeCommand(["--config", config, "--brokers", kafka().brokers.join(","), "--group", groupId], { out: (l) => out.push(l), err: (l) => err.push(l) }, stop.signal);
    await groupCaughtUp(groupId);
    stop.abort();
    expect(await running).toBe(0);
    expect(err).toEqual([]);
    expect(out.join("\n")).toContain("billing consumer stopped");
    const ledger = Ledger.open(join(auditDir, "ledger.sqlite"), { create: false });
    try {
      expectBooks(ledger, [...first, ...second]);
    } finally {
      ledger.close();
    }
    expect(await runConsumeCommand(["--config", config], { out: () => {}, err: (l) => err.push(l) }, stop.signal)).toBe(2);
    expect(err.join("\n")).toContain("--brokers");
  });
});
