// Helpers for the relay's tests and measurements (not used by the server): audit events of a
// chosen size whose event_id carries the advertiser and a per-advertiser sequence number, and a
// reader of a whole topic through a kafkajs consumer.
import { Kafka, logLevel } from "kafkajs";
import "./codec.ts"; // the relay's batches are zstd by default
import { EVENT_VERSION, type DspResponseEvent } from "../schema.ts";

/** Bytes a DspResponseEvent's `detail` may hold (the schema's string limit). */
const DETAIL_MAX_CHARS = 512;
/** How long readTopic waits for the messages the offsets promise. */
export const READ_TOPIC_TIMEOUT_MS = 60_000;

export interface TestEventId {
  advertiser: string;
  seq: number;
  run: string;
}

export function testEventId(id: TestEventId): string {
  return `${id.run}~${id.advertiser}~${id.seq}`;
}

export function parseTestEventId(eventId: string): TestEventId {
  const [run, advertiser, seq] = eventId.split("~");
  return { run: run!, advertiser: advertiser!, seq: Number(seq) };
}

/** A valid dsp_response event of about `sizeBytes` bytes (JSON, compact). */
export function testEvent(id: TestEventId, sizeBytes = 1024): string {
  const event: DspResponseEvent = {
    event_id: testEventId(id), event_version: EVENT_VERSION, event_time: new Date().toISOString(),
    request_id: `req-${id.seq}`, exchange_id: "ex-1", publisher_id: "pub-1", advertiser_id: id.advertiser, campaign_id: `c-${id.advertiser}`,
    dsp_id: "dsp-1", region: "eu-west-1", pod: "pod-1", worker: 0, event_type: "dsp_response", outcome: "bid",
    http_status: 200, latency_ms: 12.5, bid_count: 1, detail: null,
  };
  const base = JSON.stringify(event).length;
  const fill = Math.max(0, Math.min(DETAIL_MAX_CHARS, sizeBytes - base - 4));
  event.detail = fill > 0 ? filler(id.seq, fill) : null;
  let text = JSON.stringify(event);
  if (text.length < sizeBytes) text = text.slice(0, -1) + `,"pad":"${filler(id.seq + 1, Math.max(0, sizeBytes - text.length - 9))}"}`;
  return text;
}

/** Hex digits from a small PRNG seeded by `seed`: compresses like real ids and hashes do (about 2x). */
function filler(seed: number, chars: number): string {
  let x = (seed * 2654435761 + 1) >>> 0;
  let out = "";
  while (out.length < chars) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out += (x >>> 0).toString(16).padStart(8, "0");
  }
  return out.slice(0, chars);
}

export interface TopicMessage {
  partition: number;
  offset: number;
  key: string;
  value: string;
  headers: Record<string, string>;
}

/** Every message of the topic now (the sum of its partitions' high watermarks), in partition order. */
export async function readTopic(brokers: string[], topic: string, timeoutMs = READ_TOPIC_TIMEOUT_MS): Promise<TopicMessage[]> {
  const kafka = new Kafka({ clientId: "relay-test-reader", brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const offsets = await admin.fetchTopicOffsets(topic);
  await admin.disconnect();
  const expected = offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  const out: TopicMessage[] = [];
  if (expected === 0) return out;
  const consumer = kafka.consumer({ groupId: `relay-test-${topic}-${crypto.randomUUID()}`, sessionTimeout: 10_000, heartbeatInterval: 1_000 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let done = () => {};
  const all = new Promise<void>((resolve) => (done = resolve));
  await consumer.run({
    eachBatch: async ({ batch }) => {
      for (const m of batch.messages) out.push(toTopicMessage(batch.partition, m));
      if (out.length >= expected) done();
    },
  });
  const timer = setTimeout(done, timeoutMs);
  await all;
  clearTimeout(timer);
  await consumer.disconnect();
  if (out.length < expected) throw new Error(`readTopic ${topic}: ${out.length} of ${expected} messages after ${timeoutMs} ms`);
  return out.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}

function toTopicMessage(partition: number, m: { offset: string; key: Buffer | null; value: Buffer | null; headers?: Record<string, unknown> }): TopicMessage {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(m.headers ?? {})) headers[name] = String(value);
  return { partition, offset: Number(m.offset), key: m.key?.toString() ?? "", value: m.value?.toString() ?? "", headers };
}

/** Appends `count` events round-robin over `advertisers` advertisers, numbering each advertiser's events from `seqs`. */
export async function appendTestEvents(
  outbox: { append(record: string): Promise<void> },
  run: string, count: number, advertisers: number, seqs: Map<string, number>, sizeBytes = 300,
): Promise<string[]> {
  const ids: string[] = [];
  const appends: Promise<void>[] = [];
  const base = sumOf(seqs);
  for (let i = 0; i < count; i++) {
    const advertiser = `adv-${String((base + i) % advertisers).padStart(3, "0")}`;
    const seq = seqs.get(advertiser) ?? 0;
    seqs.set(advertiser, seq + 1);
    const id = { run, advertiser, seq };
    ids.push(testEventId(id));
    appends.push(outbox.append(testEvent(id, sizeBytes)));
  }
  await Promise.all(appends);
  return ids;
}

function sumOf(seqs: Map<string, number>): number {
  let total = 0;
  for (const n of seqs.values()) total += n;
  return total;
}

export interface TopicCheck {
  /** event_id -> times it was found */
  counts: Map<string, number>;
  duplicates: number;
  /** Advertisers whose events (first occurrences) are not in sequence order, or not all in one partition. */
  disordered: string[];
}

/** Counts each event of `run` in the topic and checks per-advertiser order and partition. */
export function checkTopic(messages: TopicMessage[], run: string): TopicCheck {
  const counts = new Map<string, number>();
  const perAdvertiser = new Map<string, { partition: number; next: number; bad: boolean }>();
  for (const m of messages) {
    const eventId = m.headers.event_id ?? "";
    const id = parseTestEventId(eventId);
    if (id.run !== run) continue;
    const seen = counts.get(eventId) ?? 0;
    counts.set(eventId, seen + 1);
    const state = perAdvertiser.get(id.advertiser) ?? { partition: m.partition, next: 0, bad: false };
    perAdvertiser.set(id.advertiser, state);
    if (m.partition !== state.partition || m.key !== id.advertiser) state.bad = true;
    if (seen > 0) continue; // a resent duplicate: only first occurrences must be in order
    if (id.seq !== state.next) state.bad = true;
    state.next = id.seq + 1;
  }
  let duplicates = 0;
  for (const n of counts.values()) duplicates += n - 1;
  const disordered = [...perAdvertiser].filter(([, s]) => s.bad).map(([a]) => a);
  return { counts, duplicates, disordered };
}
