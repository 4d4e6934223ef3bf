#!/usr/bin/env bun
// `npm run bench:audit`: the audit trail's two throughput goals, each next to a floor measured in
// the same run, on the same disk and broker.
//
//   1. outbox appends/s  (goal >= 200,000 events/s of ~1 KB, group-committed, default window 0)
//        outbox     N async appenders, each `await outbox.append(event)` in a loop: an append
//                   resolves only once its group's durable (O_DSYNC) write is done (scripts/bench/audit-outbox.ts)
//        baseline   raw sequential writes of the same records, writeSync per record, fdatasync every
//                   2 ms (RAW_SYNC_EVERY_MS; the outbox's own default window is 0), no framing/CRC/promises
//        reference  the same records copied into one buffer per window, one write + fdatasync
//   2. relay events/s to a real broker  (goal >= 50,000 events/s)
//        relay      one worker's relay draining a prefilled outbox into a topic, defaults (idempotent,
//                   acks -1, zstd, one request in flight) (scripts/bench/audit-relay.ts); then
//                   2 relays on 2 outboxes at once, as a 2-worker server runs them (--relays)
//        baseline   the relay's own kafkajs producer settings and batch limits, the same messages
//                   built in memory first, one send at a time
//        gzip rows  the bare producer and one relay with GZIP (kafkajs's own codec, the relay's
//                   former default): what zstd (src/audit/relay/codec.ts) buys
//        diagnostic the same producer without compression: how much of the time compression takes
//      CPU per event of this process and of the broker JVM is shown for each Kafka row: on a
//      2-core machine the client, its gzip and the broker share the two cores.
//   The broker is started and stopped here (scripts/services/kafka.ts: one KRaft node, jars cached
//   under .cache/kafka; Java and, on a cold cache, Maven needed). A short producer run warms it up
//   first (not reported). Events are valid dsp_response audit events padded to --event-bytes, 30
//   advertisers (keys), a pool of 4,096 distinct ones reused.
//
// Prints a table, the ratios (x / baseline) and whether the goals are met, then ONE final JSON line.
// Temp dirs (outbox, raw files, the broker's) are removed at the end, also on Ctrl-C.
//
// usage: bun scripts/bench/audit.ts [--duration 4] [--warmup 1] [--appenders 1024,4096]
//        [--event-bytes 1024] [--relay-events 200000] [--relays 1,2] [--partitions 12] [--no-kafka]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { startKafka, type KafkaService } from "../services/kafka.ts";
import { OUTBOX_DEFAULTS } from "../../src/audit/outbox/limits.ts";
import { benchOutbox, benchRawBatched, benchRawWrites, eventPool, RAW_SYNC_EVERY_MS, type WriteResult } from "./audit-outbox.ts";
import { benchProducer, benchRelay, type RelayResult } from "./audit-relay.ts";

const GOAL_OUTBOX_EVENTS_PER_SEC = 200_000;
const GOAL_RELAY_EVENTS_PER_SEC = 50_000;
const POOL_EVENTS = 4096;
const WARMUP_PRODUCER_EVENTS = 30_000;
const WATCHDOG_S = 300;

interface Opts { duration: number; warmup: number; appenders: number[]; eventBytes: number; relayEvents: number; relays: number[]; partitions: number; kafka: boolean }

function parseOpts(argv: string[]): Opts {
  const { values } = parseArgs({
    args: argv, strict: true,
    options: {
      duration: { type: "string", default: "4" }, warmup: { type: "string", default: "1" }, appenders: { type: "string", default: "1024,4096" },
      "event-bytes": { type: "string", default: "1024" }, "relay-events": { type: "string", default: "200000" },
      relays: { type: "string", default: "1,2" }, partitions: { type: "string", default: "12" }, "no-kafka": { type: "boolean", default: false },
    },
  });
  const num = (flag: string, v: string | undefined, min: number, max: number): number => {
    const n = Number(v);
    if (v === undefined || v.trim() === "" || !Number.isFinite(n) || n < min || n > max) throw new Error(`--${flag}: expected a number in [${min}, ${max}], got "${v}"`);
    return n;
  };
  const int = (flag: string, v: string | undefined, min: number, max: number): number => {
    const n = num(flag, v, min, max);
    if (!Number.isInteger(n)) throw new Error(`--${flag}: expected an integer, got "${v}"`);
    return n;
  };
  return {
    duration: num("duration", values.duration, 0.5, 120), warmup: num("warmup", values.warmup, 0, 60),
    appenders: (values.appenders ?? "").split(",").map((a) => int("appenders", a, 1, 30_000)),
    eventBytes: int("event-bytes", values["event-bytes"], 400, 16_384), relayEvents: int("relay-events", values["relay-events"], 1_000, 5_000_000),
    relays: (values.relays ?? "").split(",").map((r) => int("relays", r, 1, 64)),
    partitions: int("partitions", values.partitions, 1, 256), kafka: !(values["no-kafka"] ?? false),
  };
}

type Row = { name: string; eventsPerSec: number; mbPerSec: number; seconds: number; events: number; note: string };

function rowOfWrite(r: WriteResult): Row {
  const d = r.detail;
  const note = `${r.fsyncs} fdatasync, ${r.perFsync} rec/fsync` + ("commits" in d ? `, max commit ${d.maxCommitMs} ms, ${d.rotations} rotations` : "");
  return { name: r.name, eventsPerSec: r.eventsPerSec, mbPerSec: r.mbPerSec, seconds: r.seconds, events: r.events, note };
}

function rowOfRelay(r: RelayResult): Row {
  const d = r.detail;
  const extra = "firstAckMs" in d ? `, first ack ${d.firstAckMs} ms, resent ${d.resent}, failures ${d.failures}` : "";
  const note = `cpu us/event: client ${r.clientCpuUs}, broker ${r.brokerCpuUs}; ${r.batches} produce requests${extra}`;
  return { name: r.name, eventsPerSec: r.eventsPerSec, mbPerSec: r.mbPerSec, seconds: r.seconds, events: r.events, note };
}

function table(rows: Row[]): string {
  const head = ["", "events/s", "MB/s", "events", "s", "notes"];
  const cells = rows.map((r) => [r.name, r.eventsPerSec.toLocaleString("en-US"), r.mbPerSec.toFixed(1), r.events.toLocaleString("en-US"), r.seconds.toFixed(2), r.note]);
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => c.map((v, i) => (i === 0 || i === c.length - 1 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join("  ").trimEnd();
  return [line(head), widths.map((w) => "-".repeat(w)).join("  "), ...cells.map(line)].join("\n");
}

const ratio = (a: number, b: number) => (b > 0 ? Math.round((a / b) * 100) / 100 : null);

async function main(): Promise<number> {
  const o = parseOpts(process.argv.slice(2));
  const tmp = mkdtempSync(join(tmpdir(), "tmax-bench-audit-"));
  let kafka: KafkaService | null = null;
  let finished = false;
  const cleanup = async () => {
    await kafka?.stop().catch(() => {});
    rmSync(tmp, { recursive: true, force: true });
  };
  const abort = (why: string, code: number) => {
    if (finished) return;
    finished = true;
    console.error(`bench:audit: ${why}, stopping`);
    void cleanup().finally(() => process.exit(code));
  };
  process.on("SIGINT", () => abort("interrupted", 130));
  process.on("SIGTERM", () => abort("terminated", 143));
  const watchdog = setTimeout(() => abort(`over the time budget (${WATCHDOG_S} s)`, 3), WATCHDOG_S * 1000);
  const t0 = performance.now();
  try {
    console.log(`bench:audit: ${o.eventBytes}-byte events; outbox: appenders ${o.appenders.join(", ")}, commit window ${OUTBOX_DEFAULTS.commitWindowMs} ms, warm-up ${o.warmup} s, measured ${o.duration} s each; relay: ${o.relayEvents} events, ${o.partitions} partitions${o.kafka ? "" : " (skipped: --no-kafka)"}; tmp ${tmp}`);
    const pool = eventPool(POOL_EVENTS, o.eventBytes);

    const raw = benchRawWrites(join(tmp, "raw"), pool, o.warmup, o.duration);
    console.log(`  ${raw.name}: ${raw.eventsPerSec} events/s`);
    const outboxes: WriteResult[] = [];
    for (const n of o.appenders) {
      const r = await benchOutbox(join(tmp, `outbox-${n}`), pool, n, o.warmup, o.duration);
      outboxes.push(r);
      console.log(`  ${r.name}: ${r.eventsPerSec} events/s`);
    }
    const batched = benchRawBatched(join(tmp, "raw-batched"), pool, o.warmup, o.duration);
    console.log(`  ${batched.name}: ${batched.eventsPerSec} events/s`);

    let producer: RelayResult | null = null;
    let plain: RelayResult | null = null;
    let producerGzip: RelayResult | null = null;
    let relayGzip: RelayResult | null = null;
    let warm: RelayResult | null = null;
    const relays: RelayResult[] = [];
    if (o.kafka) {
      const tk = performance.now();
      kafka = await startKafka({ partitions: o.partitions });
      console.log(`  broker ${kafka.brokers.join(",")} (Kafka ${kafka.version}) up in ${Math.round(performance.now() - tk)} ms`);
      const k = { brokers: kafka.brokers, brokerPid: kafka.pid, partitions: o.partitions, pool };
      warm = await benchProducer({ ...k, topic: "bench-warmup", events: WARMUP_PRODUCER_EVENTS, name: "warm-up" });
      console.log(`  broker warm-up: ${warm.eventsPerSec} events/s (not reported)`);
      producer = await benchProducer({ ...k, topic: "bench-producer", events: o.relayEvents, name: "baseline: kafkajs producer from memory (relay settings, zstd)" });
      console.log(`  ${producer.name}: ${producer.eventsPerSec} events/s`);
      producerGzip = await benchProducer({ ...k, topic: "bench-producer-gzip", events: o.relayEvents, name: "gzip: same producer, GZIP (kafkajs codec)", compression: "gzip" });
      console.log(`  ${producerGzip.name}: ${producerGzip.eventsPerSec} events/s`);
      for (const n of o.relays) {
        const r = await benchRelay({ ...k, dir: join(tmp, `relay-${n}`), topic: `bench-relay-${n}`, events: o.relayEvents, relays: n });
        relays.push(r);
        console.log(`  ${r.name}: ${r.eventsPerSec} events/s`);
      }
      relayGzip = await benchRelay({ ...k, dir: join(tmp, "relay-gzip"), topic: "bench-relay-gzip", events: o.relayEvents, relays: 1, compression: "gzip" });
      console.log(`  ${relayGzip.name}: ${relayGzip.eventsPerSec} events/s`);
      plain = await benchProducer({ ...k, topic: "bench-plain", events: o.relayEvents, name: "diagnostic: same producer, no compression", compression: "none" });
      console.log(`  ${plain.name}: ${plain.eventsPerSec} events/s`);
      await kafka.stop();
      kafka = null;
    }
    const relay = relays[0] ?? null;

    const best = outboxes.reduce((a, b) => (b.eventsPerSec > a.eventsPerSec ? b : a));
    const rows: Row[] = [rowOfWrite(raw), ...outboxes.map(rowOfWrite), rowOfWrite(batched)];
    if (producer && plain && producerGzip && relayGzip) rows.push(rowOfRelay(producer), ...relays.map(rowOfRelay), rowOfRelay(producerGzip), rowOfRelay(relayGzip), rowOfRelay(plain));
    console.log("");
    console.log(table(rows));
    console.log("");
    const outboxRatio = ratio(best.eventsPerSec, raw.eventsPerSec);
    const batchedRatio = ratio(best.eventsPerSec, batched.eventsPerSec);
    const relayRatio = relay && producer ? ratio(relay.eventsPerSec, producer.eventsPerSec) : null;
    const outboxMet = best.eventsPerSec >= GOAL_OUTBOX_EVENTS_PER_SEC;
    const relayMet = relay ? relay.eventsPerSec >= GOAL_RELAY_EVENTS_PER_SEC : null;
    console.log(`ratio outbox / raw writes (fdatasync every ${RAW_SYNC_EVERY_MS} ms): x${outboxRatio}   (best outbox row: ${best.name}; vs one write per window: x${batchedRatio})`);
    if (relay && producer) console.log(`ratio relay / bare producer (same settings, from memory): x${relayRatio}${relays.slice(1).map((r) => `; ${r.name}: x${ratio(r.eventsPerSec, producer!.eventsPerSec)}`).join("")}`);
    if (relay && relayGzip && producerGzip) console.log(`ratio zstd / gzip: relay x${ratio(relay.eventsPerSec, relayGzip.eventsPerSec)}, bare producer x${ratio(producer!.eventsPerSec, producerGzip.eventsPerSec)}`);
    console.log(`goal outbox >= ${GOAL_OUTBOX_EVENTS_PER_SEC.toLocaleString("en-US")} events/s: ${outboxMet ? "MET" : "NOT MET"} (${best.eventsPerSec.toLocaleString("en-US")})`);
    if (relay) console.log(`goal relay >= ${GOAL_RELAY_EVENTS_PER_SEC.toLocaleString("en-US")} events/s: ${relayMet ? "MET" : "NOT MET"} (one relay ${relay.eventsPerSec.toLocaleString("en-US")}${relays.slice(1).map((r) => `; ${r.name}: ${r.eventsPerSec.toLocaleString("en-US")}`).join("")})`);
    console.log(JSON.stringify({
      outbox: { best: best.eventsPerSec, runs: outboxes, baselineRaw: raw, referenceBatched: batched, ratioToRaw: outboxRatio, ratioToBatched: batchedRatio, goal: GOAL_OUTBOX_EVENTS_PER_SEC, met: outboxMet },
      relay: relay && producer ? { eventsPerSec: relay.eventsPerSec, runs: relays, baselineProducer: producer, gzipProducer: producerGzip, gzipRelay: relayGzip, noCompression: plain, warmup: warm, ratio: relayRatio, goal: GOAL_RELAY_EVENTS_PER_SEC, met: relayMet } : null,
      config: { ...o, commitWindowMs: OUTBOX_DEFAULTS.commitWindowMs, poolEvents: POOL_EVENTS }, totalSeconds: Math.round((performance.now() - t0) / 100) / 10,
    }));
    return 0;
  } finally {
    clearTimeout(watchdog);
    if (!finished) {
      finished = true;
      await cleanup();
    }
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`bench:audit failed: ${(err as Error).stack ?? err}`);
    process.exit(1);
  },
);
