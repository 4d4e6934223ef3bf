// The relay half of `npm run bench:audit`: relays draining prefilled outboxes into a real broker,
// against a bare kafkajs producer sending the same messages from memory.
//
//   relay     `relays` outboxes (one per worker in a server) holding `events` records in all (written
//             and fsync'd before the clock starts), one startKafkaRelay each with its defaults
//             (idempotent producer, acks -1, zstd, one request in flight, batches of <= 2,000 records
//             / 1 MiB, linger 5 ms) or the compression asked for; timed from the start until stats().acked covers every record
//             (connect included). The topic exists beforehand. In a server each relay runs in its
//             own worker thread; here they share this thread (kafkajs compresses off-thread).
//   producer  the floor: the relay's own producer settings (relayProducer) and batch limits, the
//             same messages (key, value, event_id header: routeRecord) built in memory before the
//             clock starts, one send at a time; timed from connect to the last acknowledgement.
// CPU: this process's and the broker's (all threads, /proc schedstat: scripts/bench/cpu.ts) over
// the timed window, in microseconds per event.
import { rmSync } from "node:fs";
import { join } from "node:path";
import { Outbox } from "../../src/audit/outbox/index.ts";
import { compressionType, ensureTopic, routeRecord, startKafkaRelay, ACK_TIMEOUT_MS, RELAY_DEFAULTS, type KafkaRelay, type RelayCompression } from "../../src/audit/relay/index.ts";
import { kafkaClient, relayProducer } from "../../src/audit/relay/client.ts";
import { cpuDelta, readCpu, type CpuSample } from "./cpu.ts";

export interface RelayResult {
  name: string;
  events: number;
  seconds: number;
  eventsPerSec: number;
  mbPerSec: number;
  batches: number;
  /** CPU microseconds per event: this process, the broker JVM. */
  clientCpuUs: number;
  brokerCpuUs: number;
  detail: Record<string, number | string | null>;
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;
const ACK_TIMEOUT_BENCH_MS = 180_000;

/** CPU of this process and the broker from `start()` to `stop()`, per event. */
function cpuMeter(brokerPid: number) {
  let self: CpuSample, broker: CpuSample;
  return {
    start() {
      self = readCpu(process.pid);
      broker = readCpu(brokerPid);
    },
    stop(events: number) {
      const us = (a: CpuSample, b: CpuSample) => round(cpuDelta(a, b).ns / 1000 / events, 2);
      return { clientCpuUs: us(self, readCpu(process.pid)), brokerCpuUs: us(broker, readCpu(brokerPid)) };
    },
  };
}

/** Records pool[i % pool.length] for i in [from, to), appended in groups (each group one await), then flushed. */
async function prefill(outbox: Outbox, pool: string[], from: number, to: number): Promise<void> {
  const GROUP = 4096;
  for (let i = from; i < to; i += GROUP) {
    const appends: Promise<void>[] = [];
    for (let k = i; k < Math.min(to, i + GROUP); k++) appends.push(outbox.append(pool[k % pool.length]!));
    await Promise.all(appends);
  }
  await outbox.flush();
}

export interface RelayBenchOptions {
  dir: string;
  brokers: string[];
  brokerPid: number;
  topic: string;
  partitions: number;
  pool: string[];
  events: number;
  relays: number;
  /** Default: the relay's default (RELAY_DEFAULTS.compression). */
  compression?: RelayCompression;
}

export async function benchRelay(o: RelayBenchOptions): Promise<RelayResult> {
  const outboxes: Outbox[] = [];
  try {
    for (let r = 0; r < o.relays; r++) {
      const outbox = await Outbox.open({ dir: join(o.dir, `w${r}`) });
      outboxes.push(outbox);
      await prefill(outbox, o.pool, Math.floor((o.events * r) / o.relays), Math.floor((o.events * (r + 1)) / o.relays));
    }
    await ensureTopic(o.brokers, o.topic, o.partitions);
    const bytes = totalBytes(o.pool, o.events);
    const compression = o.compression ?? RELAY_DEFAULTS.compression;
    let errors = 0;
    let lastError: string | null = null;
    const cpu = cpuMeter(o.brokerPid);
    cpu.start();
    const t0 = performance.now();
    const relays: KafkaRelay[] = [];
    for (const [r, outbox] of outboxes.entries()) {
      relays.push(await startKafkaRelay({
        outbox, brokers: o.brokers, clientId: `tmax-bench-relay-w${r}`, topic: o.topic, partitions: o.partitions, compression,
        onError: (e) => { errors++; lastError = String((e as Error)?.message ?? e); },
      }));
    }
    const acked = () => relays.reduce((sum, relay) => sum + relay.stats().acked, 0);
    let firstAckMs: number | null = null;
    const deadline = Date.now() + ACK_TIMEOUT_BENCH_MS;
    for (;;) {
      const n = acked();
      if (n > 0 && firstAckMs === null) firstAckMs = performance.now() - t0;
      if (n >= o.events) break;
      if (Date.now() > deadline) throw new Error(`relay: ${n} of ${o.events} acknowledged after ${ACK_TIMEOUT_BENCH_MS} ms (${lastError})`);
      await Bun.sleep(1);
    }
    const seconds = (performance.now() - t0) / 1000;
    const used = cpu.stop(o.events);
    const stats = relays.map((relay) => relay.stats());
    await Promise.all(relays.map((relay) => relay.stop()));
    return {
      name: `relay: ${o.relays} outbox${o.relays > 1 ? "es" : ""} -> Kafka (${o.relays} relay${o.relays > 1 ? "s, as workers" : ", one worker's"}, ${compression})`,
      events: o.events, seconds: round(seconds, 3), eventsPerSec: Math.round(o.events / seconds), mbPerSec: round(bytes / seconds / 1e6, 1),
      batches: stats.reduce((s, x) => s + x.batches, 0), ...used,
      detail: {
        firstAckMs: firstAckMs === null ? null : Math.round(firstAckMs), resent: stats.reduce((s, x) => s + x.resent, 0),
        failures: stats.reduce((s, x) => s + x.failures, 0), errors, lastError,
      },
    };
  } finally {
    for (const outbox of outboxes) await outbox.close();
    rmSync(o.dir, { recursive: true, force: true });
  }
}

/** Batches as the relay cuts them: at most batchMaxRecords records and batchMaxBytes payload bytes. */
function batchesOf<T extends { value: Buffer }>(messages: T[]): T[][] {
  const out: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const m of messages) {
    if (current.length > 0 && (current.length >= RELAY_DEFAULTS.batchMaxRecords || bytes + m.value.length > RELAY_DEFAULTS.batchMaxBytes)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(m);
    bytes += m.value.length;
  }
  if (current.length > 0) out.push(current);
  return out;
}

export interface ProducerBenchOptions {
  brokers: string[];
  brokerPid: number;
  topic: string;
  partitions: number;
  pool: string[];
  events: number;
  name: string;
  /** Default: the relay's default (RELAY_DEFAULTS.compression). */
  compression?: RelayCompression;
}

export async function benchProducer(o: ProducerBenchOptions): Promise<RelayResult> {
  await ensureTopic(o.brokers, o.topic, o.partitions);
  const encoded = o.pool.map((r) => Buffer.from(r, "utf8"));
  const messages = Array.from({ length: o.events }, (_, i) => routeRecord(encoded[i % encoded.length]!).message as { key: Buffer; value: Buffer; headers: Record<string, Buffer | string> });
  const batches = batchesOf(messages);
  const producer = relayProducer(kafkaClient({ brokers: o.brokers, clientId: "tmax-bench-producer" }));
  const cpu = cpuMeter(o.brokerPid);
  cpu.start();
  const t0 = performance.now();
  let seconds: number;
  let used: { clientCpuUs: number; brokerCpuUs: number };
  await producer.connect();
  try {
    for (const batch of batches) {
      await producer.send({ topic: o.topic, acks: -1, timeout: ACK_TIMEOUT_MS, compression: compressionType(o.compression ?? RELAY_DEFAULTS.compression), messages: batch });
    }
    seconds = (performance.now() - t0) / 1000;
    used = cpu.stop(o.events);
  } finally {
    await producer.disconnect();
  }
  return {
    name: o.name, events: o.events, seconds: round(seconds, 3), eventsPerSec: Math.round(o.events / seconds),
    mbPerSec: round(totalBytes(o.pool, o.events) / seconds / 1e6, 1), batches: batches.length, ...used, detail: {},
  };
}

function totalBytes(pool: string[], events: number): number {
  const lengths = pool.map((r) => Buffer.byteLength(r));
  const perCycle = lengths.reduce((a, b) => a + b, 0);
  let total = Math.floor(events / pool.length) * perCycle;
  for (let i = 0; i < events % pool.length; i++) total += lengths[i]!;
  return total;
}
