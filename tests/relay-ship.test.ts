// The Kafka relay of the audit outbox against a real broker (KRaft, scripts/services/kafka.ts):
// everything appended reaches topic partitions keyed by advertiser, exactly once and in order; the
// checkpoint moves only past what Kafka acknowledged, so a new relay resends only the unacked tail;
// outbox segments go only once Kafka has them; malformed records are shipped marked, never dropped.
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePorts } from "../scripts/services/kafka.ts";
import { comparePositions, Outbox, type Position } from "../src/audit/outbox/index.ts";
import { ensureTopic, startKafkaRelay, RELAY_DEFAULTS, type KafkaRelay, type KafkaRelayOptions } from "../src/audit/relay/index.ts";
import { appendTestEvents, checkTopic, readTopic, testEvent } from "../src/audit/relay/testing.ts";
import { auditEventProblem } from "../src/audit/schema.ts";
import { useKafka } from "./support/kafka.ts";

const PARTITIONS = 6;
const ADVERTISERS = 40;
const kafka = useKafka({ partitions: PARTITIONS });

const dirs: string[] = [];
const cleanups: (() => Promise<void>)[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "relay-ship-"));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function openOutbox(dir: string, segmentBytes?: number): Promise<Outbox> {
  const outbox = await Outbox.open({ dir, segmentBytes });
  cleanups.push(() => outbox.close());
  return outbox;
}

async function relay(options: Partial<KafkaRelayOptions> & Pick<KafkaRelayOptions, "outbox" | "topic">): Promise<KafkaRelay> {
  const started = await startKafkaRelay({ brokers: kafka().brokers, clientId: "relay-test", partitions: PARTITIONS, lingerMs: 2, ...options });
  cleanups.push(() => started.stop(500));
  return started;
}

/** Brokers that refuse connections: a free port nobody listens on. */
async function deadBrokers(): Promise<string[]> {
  return [`127.0.0.1:${(await freePorts(1))[0]}`];
}

async function waitUntil(what: string, cond: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(20);
  }
}

async function outboxRecords(outbox: Outbox): Promise<string[]> {
  const reader = outbox.reader();
  const out: string[] = [];
  for (let batch = await reader.read(); batch.length > 0; batch = await reader.read()) out.push(...batch.map((r) => Buffer.from(r.data).toString()));
  await reader.close();
  return out;
}

const segments = (dir: string) => readdirSync(dir).filter((n) => n.endsWith(".seg")).sort();

describe("kafka relay (real broker)", () => {
  test("5,000 events: every event_id exactly once, per-advertiser order, keyed by advertiser_id", async () => {
    const topic = "bid-events-ship";
    const outbox = await openOutbox(tempDir());
    const seqs = new Map<string, number>();
    const ids = await appendTestEvents(outbox, "ship", 2_500, ADVERTISERS, seqs);
    const started = performance.now();
    const r = await relay({ outbox, topic });
    ids.push(...(await appendTestEvents(outbox, "ship", 2_500, ADVERTISERS, seqs))); // while it runs
    await waitUntil("5,000 acked", () => r.stats().acked === 5_000);
    const shippedMs = performance.now() - started;
    const stats = r.stats();
    expect(stats).toMatchObject({ sent: 5_000, resent: 0, malformed: 0, lagRecords: 0, lagBytes: 0, connected: true, state: "running" });
    expect(stats.batches).toBeGreaterThan(1);
    expect(stats.batches).toBeLessThan(5_000 / 10); // batched, not one send per record
    await r.stop();
    expect(outbox.consumerPosition(RELAY_DEFAULTS.consumerName)).toEqual(outbox.committedPosition());

    const messages = await readTopic(kafka().brokers, topic);
    expect(messages.length).toBe(5_000);
    const check = checkTopic(messages, "ship");
    expect(check.duplicates).toBe(0);
    expect(check.disordered).toEqual([]);
    expect([...check.counts.keys()].sort()).toEqual([...ids].sort());
    expect(new Set(messages.map((m) => m.partition)).size).toBe(PARTITIONS); // advertisers spread over partitions
    for (const m of messages) {
      const event = JSON.parse(m.value) as { event_id: string; advertiser_id: string };
      expect(auditEventProblem(event)).toBeNull();
      expect(m.key).toBe(event.advertiser_id);
      expect(m.headers.event_id).toBe(event.event_id);
    }
    const appended = await outboxRecords(outbox);
    expect(messages.map((m) => m.value).sort()).toEqual(appended.sort()); // the values are the records, unchanged
    console.log(`relay-ship: 5,000 events of ${messages[0]!.value.length} B acked in ${Math.round(shippedMs)} ms, ${stats.batches} batches`);
  }, 60_000);

  test("stop() ships what is committed before it returns, within its bound", async () => {
    const topic = "bid-events-drain";
    const outbox = await openOutbox(tempDir());
    const r = await relay({ outbox, topic, batchMaxRecords: 100, lingerMs: 50 });
    await appendTestEvents(outbox, "drain", 3_000, ADVERTISERS, new Map());
    await r.stop(10_000);
    expect(r.stats()).toMatchObject({ state: "stopped", acked: 3_000, lagRecords: 0, lagBytes: 0 });
    expect(outbox.consumerPosition(RELAY_DEFAULTS.consumerName)).toEqual(outbox.committedPosition());
    expect(checkTopic(await readTopic(kafka().brokers, topic), "drain").counts.size).toBe(3_000);
  }, 30_000);

  test("ensureTopic creates the topic with the configured partitions, and leaves an existing one alone", async () => {
    expect(await ensureTopic(kafka().brokers, "bid-events-ensure", 4)).toEqual({ created: true, partitions: 4 });
    expect(await ensureTopic(kafka().brokers, "bid-events-ensure", 8)).toEqual({ created: false, partitions: 4 });
  }, 30_000);

  test("restart: a new relay over the reopened outbox resends only the unacked tail", async () => {
    const topic = "bid-events-checkpoint";
    const dir = tempDir();
    const seqs = new Map<string, number>();
    let outbox = await Outbox.open({ dir });
    await appendTestEvents(outbox, "cp", 1_000, ADVERTISERS, seqs);
    const first = await relay({ outbox, topic });
    await waitUntil("1,000 acked", () => first.stats().acked === 1_000);
    await first.stop();
    await appendTestEvents(outbox, "cp", 500, ADVERTISERS, seqs); // committed, never sent
    await outbox.close();

    outbox = await openOutbox(dir);
    const second = await relay({ outbox, topic });
    await waitUntil("the 500 of the tail acked", () => second.stats().acked === 500);
    await Bun.sleep(200);
    expect(second.stats()).toMatchObject({ sent: 500, acked: 500, lagRecords: 0 });
    await second.stop();

    // A relay that cannot reach Kafka acks nothing: its records stay the tail of the next one.
    await appendTestEvents(outbox, "cp", 300, ADVERTISERS, seqs);
    const before = outbox.consumerPosition(RELAY_DEFAULTS.consumerName);
    const errors: string[] = [];
    const dead = await relay({ outbox, topic, brokers: await deadBrokers(), onError: (_e, context) => errors.push(context) });
    await waitUntil("the dead relay to fail", () => dead.stats().failures > 0);
    await waitUntil("the dead relay to see its 300 records", () => dead.stats().lagRecords === 300);
    expect(dead.stats()).toMatchObject({ acked: 0, connected: false });
    expect(dead.stats().lastError).toContain("connect");
    const stopStarted = performance.now();
    await dead.stop(300);
    expect(performance.now() - stopStarted).toBeLessThan(3_000); // bounded, although Kafka never answered
    expect(errors).toContain("connect");
    expect(outbox.consumerPosition(RELAY_DEFAULTS.consumerName)).toEqual(before);

    const third = await relay({ outbox, topic });
    await waitUntil("the 300 acked", () => third.stats().acked === 300);
    await third.stop();
    expect(third.stats().sent).toBe(300);

    const check = checkTopic(await readTopic(kafka().brokers, topic), "cp");
    expect(check.counts.size).toBe(1_800);
    expect(check.duplicates).toBe(0);
    expect(check.disordered).toEqual([]);
  }, 60_000);

  test("a segment is deleted only after the relay acked past it", async () => {
    const topic = "bid-events-retention";
    const dir = tempDir();
    const outbox = await openOutbox(dir, 16 * 1024);
    const seqs = new Map<string, number>();
    const dead = await relay({ outbox, topic, brokers: await deadBrokers() });
    await appendTestEvents(outbox, "ret", 400, ADVERTISERS, seqs, 1024);
    const written = segments(dir);
    expect(written.length).toBeGreaterThan(20);
    await waitUntil("the dead relay to try", () => dead.stats().failures > 0);
    await Bun.sleep(300);
    expect(segments(dir)).toEqual(written); // nothing acked, nothing deleted
    expect(dead.stats().lagBytes).toBeGreaterThan(400 * 1024);
    await dead.stop(200);

    const endOf = new Map(written.map((name) => [Number(name.slice(0, 20)), statSync(join(dir, name)).size]));
    const live = await relay({ outbox, topic, batchMaxRecords: 25 }); // many small acks: deletion follows step by step
    const seen: { oldest: number; acked: Position }[] = [];
    while (live.stats().acked < 400) {
      seen.push({ oldest: Number(segments(dir)[0]!.slice(0, 20)), acked: live.stats().ackedPosition });
      await Bun.sleep(5);
    }
    await live.stop();
    // Every segment gone (below the oldest on disk) was acknowledged by Kafka to its end.
    for (const { oldest, acked } of seen) {
      const firstDeleted = Number(written[0]!.slice(0, 20));
      if (oldest === firstDeleted) continue;
      const lastGone = { segment: oldest - 1, offset: endOf.get(oldest - 1)! };
      expect(comparePositions(acked, lastGone)).toBeGreaterThanOrEqual(0);
    }
    expect(new Set(seen.map((s) => s.oldest)).size).toBeGreaterThan(3); // deleted progressively
    expect(segments(dir).length).toBe(1);
    expect(outbox.stats().deletedSegments).toBe(written.length - 1);
    const check = checkTopic(await readTopic(kafka().brokers, topic), "ret");
    expect(check.counts.size).toBe(400);
    expect(check.duplicates).toBe(0);
  }, 60_000);

  test("malformed records are shipped keyed \"\" with tmax-malformed: 1, counted, and do not stall the relay", async () => {
    const topic = "bid-events-malformed";
    const outbox = await openOutbox(tempDir());
    const good = testEvent({ run: "bad", advertiser: "adv-ok", seq: 0 });
    const records = [
      "not json at all",
      '{"event_id":"no-advertiser"}',
      '["an","array"]',
      '{"event_id": "spaced", "advertiser_id": "adv-spaced"}', // valid, off the fast path
      JSON.stringify({ nested: { advertiser_id: "inner" }, event_id: "nested", advertiser_id: "adv-outer" }),
      JSON.stringify({ event_id: "escaped", advertiser_id: 'adv-"q"-é' }),
      '{"event_id":"truncated","advertiser_id":"adv-cut',
      good,
    ];
    for (const record of records) await outbox.append(record);
    const errors: string[] = [];
    const r = await relay({ outbox, topic, onError: (_e, context) => errors.push(context) });
    await waitUntil("all acked", () => r.stats().acked === records.length);
    expect(r.stats().malformed).toBe(4);
    expect(errors.filter((c) => c === "malformed").length).toBe(4);
    const messages = await readTopic(kafka().brokers, topic);
    const byValue = new Map(messages.map((m) => [m.value, m]));
    expect(messages.length).toBe(records.length);
    const route = (record: string) => {
      const m = byValue.get(record)!;
      return { key: m.key, eventId: m.headers.event_id ?? null, malformed: m.headers["tmax-malformed"] ?? null };
    };
    expect(route(records[0]!)).toEqual({ key: "", eventId: null, malformed: "1" });
    expect(route(records[1]!)).toEqual({ key: "", eventId: "no-advertiser", malformed: "1" });
    expect(route(records[2]!)).toEqual({ key: "", eventId: null, malformed: "1" });
    expect(route(records[3]!)).toEqual({ key: "adv-spaced", eventId: "spaced", malformed: null });
    expect(route(records[4]!)).toEqual({ key: "adv-outer", eventId: "nested", malformed: null });
    expect(route(records[5]!)).toEqual({ key: 'adv-"q"-é', eventId: "escaped", malformed: null });
    expect(route(records[6]!)).toEqual({ key: "", eventId: null, malformed: "1" });
    expect(route(good)).toEqual({ key: "adv-ok", eventId: "bad~adv-ok~0", malformed: null });
  }, 30_000);
});
