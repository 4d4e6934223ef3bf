// The distributed audit trail, end to end, on a REAL Kafka broker (tests/support/kafka.ts):
//   tmax serve (2 workers, audit.ledger "off", audit.kafka -> topic bid-events, 3 partitions)
//     -> each worker's outbox -> its relay -> Kafka -> `tmax billing consume` (its own process and
//     audit dir) -> ledger.sqlite
// Load runs through a broker restart (controlled shutdown + new JVM on the same dir). Afterwards:
//   - the consumer's ledger has exactly one auction_result row per answered win, no event twice,
//     and exactly the outboxes' wins;
//   - every event of every outbox is in the topic at least once ("no event lost, the relay resumes
//     by itself"; duplicates only from resent batches, counted);
//   - order, as far as the design promises it (one producer per worker, keyed by advertiser_id):
//     each key lives in one partition, and within it the first copies of one worker's events for
//     that key come in that worker's outbox order, with non-decreasing event_time. Events of no
//     advertiser (advertiser_id "") carry no key: no order is promised for them, and they must
//     spread over the partitions instead of heating one.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { Kafka, logLevel } from "kafkajs";
import "../src/audit/relay/codec.ts"; // the relay's batches are zstd
import { buildWasm } from "../scripts/build-wasm.ts";
import { scanOutboxRecords } from "../src/audit/query/index.ts";
import { readTopic, type TopicMessage } from "../src/audit/relay/testing.ts";
import { useKafka } from "./support/kafka.ts";
import { BUN, ROOT, runCli, startCli, startSimDspProcess, tempDir, type Proc } from "./support/processes.ts";
import { AnsweredWins, winKey } from "./support/answered-wins.ts";
import { metric, metrics } from "./support/openrtb.ts";

const TOPIC = "bid-events";
const PARTITIONS = 3;
const WORKERS = 2;
const LOOPS = 16;
const CAMPAIGNS = ["c1", "c2", "c3", "c4", "c5", "c6"];
/** Load before the broker restart, and after it is back. */
const LOAD_BEFORE_MS = 1_500;
const LOAD_AFTER_MS = 1_500;
const REQUEST_TIMEOUT_MS = 2_000;
const TOPIC_TIMEOUT_MS = 30_000;
const CATCH_UP_TIMEOUT_MS = 45_000;
const POLL_MS = 200;

const kafka = useKafka({ partitions: PARTITIONS });
const work = tempDir("tmax-audit-kafka-");
const auditDir = join(work, "audit");
const billingDir = join(work, "billing");
const ledgerFile = join(billingDir, "ledger.sqlite");
const serverConfig = join(work, "tmax.json");
const consumerConfig = join(work, "billing.json");
let dsp: Proc | undefined;
let server: Proc | undefined;
let consumer: Subprocess<"ignore", "pipe", "pipe"> | undefined;
let consumerOut = "";
/** The phase the test is in and the laps so far: printed after the test, so a hang says where it hung. */
let phase = "not started";
const timings: Record<string, number> = {};

beforeAll(async () => {
  buildWasm();
  dsp = await startSimDspProcess(["--latency-ms", "0..5", "--bid-rate", "1", "--fixed-price", "2", "--campaigns", CAMPAIGNS.join(",")]);
  const campaigns = CAMPAIGNS.map((id, i) => ({ id, advertiserId: `adv-${i + 1}`, dailyBudget: "1000000000", currency: "USD" }));
  writeFileSync(serverConfig, JSON.stringify({
    server: { host: "127.0.0.1" },
    breaker: { failureThreshold: 1000, openMs: 1000 },
    fraud: { enabled: false }, // one simulated traffic pool replayed fast: not what the fraud stage is tested on here
    dsps: [{ id: "d1", endpoint: dsp.url }],
    campaigns,
    audit: { dir: auditDir, ledger: "off", kafka: { brokers: kafka().brokers, topic: TOPIC, partitions: PARTITIONS } },
  }));
  // The billing consumer runs elsewhere in production: its own config and audit dir (only the ledger is used).
  writeFileSync(consumerConfig, JSON.stringify({ dsps: [], campaigns, audit: { dir: billingDir } }));
}, 60_000);

afterAll(async () => {
  console.log(`audit-kafka: last phase "${phase}", laps ${JSON.stringify(timings)}`);
  await server?.kill("SIGKILL");
  consumer?.kill("SIGKILL");
  await dsp?.kill();
  rmSync(work, { recursive: true, force: true });
});

/** `tmax billing consume` as its own process; resolves once it joined (its "running" line). */
async function startConsumer(): Promise<Subprocess<"ignore", "pipe", "pipe">> {
  const proc = Bun.spawn([BUN, join(ROOT, "src", "cli.ts"), "billing", "consume", "--config", consumerConfig, "--brokers", kafka().brokers.join(",")], {
    cwd: ROOT, stdin: "ignore", stdout: "pipe", stderr: "pipe",
  });
  const decoder = new TextDecoder();
  void (async () => { for await (const c of proc.stdout) consumerOut += decoder.decode(c, { stream: true }); })();
  void (async () => { for await (const c of proc.stderr) consumerOut += decoder.decode(c, { stream: true }); })();
  const deadline = Date.now() + TOPIC_TIMEOUT_MS;
  while (!consumerOut.includes("billing consumer running")) {
    if (proc.exitCode !== null) throw new Error(`billing consume exited ${proc.exitCode}:\n${consumerOut}`);
    if (Date.now() > deadline) throw new Error(`billing consume did not start:\n${consumerOut}`);
    await Bun.sleep(50);
  }
  return proc;
}

/** Waits until the relay created the topic with its partitions (the consumer subscribes after). */
async function topicCreated(): Promise<void> {
  const admin = new Kafka({ clientId: "audit-kafka-test", brokers: kafka().brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    const deadline = Date.now() + TOPIC_TIMEOUT_MS;
    for (;;) {
      try {
        const meta = await admin.fetchTopicMetadata({ topics: [TOPIC] });
        if (meta.topics[0]?.partitions.length === PARTITIONS) return;
      } catch { /* not there yet */ }
      if (Date.now() > deadline) throw new Error(`topic ${TOPIC} not created by the relay within ${TOPIC_TIMEOUT_MS} ms`);
      await Bun.sleep(100);
    }
  } finally {
    await admin.disconnect();
  }
}

const wins = new AnsweredWins(REQUEST_TIMEOUT_MS);
const { answered, counts } = wins;
const key = winKey;

interface LedgerWin { event_id: string; request_id: string; imp_id: string }

function readLedger(): { wins: LedgerWin[]; rows: number; distinctIds: number; anomalies: number } | null {
  let db: Database;
  try {
    db = new Database(ledgerFile, { readonly: true });
  } catch {
    return null; // the consumer has not created it yet
  }
  try {
    db.exec("PRAGMA busy_timeout = 5000");
    const wins = db.query("SELECT event_id, request_id, imp_id FROM billable_events WHERE event_type = 'auction_result'").all() as LedgerWin[];
    const ids = db.query("SELECT COUNT(*) AS n, COUNT(DISTINCT event_id) AS d FROM billable_events").get() as { n: number; d: number };
    const anomalies = (db.query("SELECT COUNT(*) AS n FROM ledger_anomalies").get() as { n: number }).n;
    return { wins, rows: ids.n, distinctIds: ids.d, anomalies };
  } finally {
    db.close();
  }
}

interface OutboxEvent { worker: string; id: string; key: string; time: string; win: boolean }

/** Every event of every worker outbox, in each worker's order. */
async function outboxEvents(): Promise<OutboxEvent[]> {
  const events: OutboxEvent[] = [];
  await scanOutboxRecords(auditDir, (worker, _s, _o, payload) => {
    const e = JSON.parse(payload.toString("utf8")) as { event_id: string; advertiser_id: string; event_time: string; event_type: string; bid_id?: string | null };
    events.push({ worker, id: e.event_id, key: e.advertiser_id, time: e.event_time, win: e.event_type === "auction_result" && e.bid_id != null });
  });
  return events;
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | null> | T | null): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(POLL_MS);
  }
}

test("load through a broker restart: every answered win billed once from Kafka, every outbox event in the topic, per-key order kept", async () => {
  const t0 = performance.now();
  const lap = (name: string, since: number) => (timings[name] = Math.round(performance.now() - since));

  phase = "start the server, the topic, the consumer";
  server = await startCli(["serve", "--config", serverConfig, "--port", "0", "--workers", String(WORKERS)]);
  await topicCreated();
  consumer = await startConsumer();
  lap("startMs", t0);

  phase = "load before the restart";
  const stop = { now: false };
  const loops = Array.from({ length: LOOPS }, (_, i) => wins.loop(server!.url, `kafka-l${i}`, stop));
  await Bun.sleep(LOAD_BEFORE_MS);
  const answeredBeforeRestart = answered.size;
  const tr = performance.now();
  phase = "broker restart";
  await kafka().restart(); // SIGTERM (controlled shutdown), a new JVM on the same ports and dir
  lap("brokerRestartMs", tr);
  const answeredDuringRestart = answered.size - answeredBeforeRestart;
  await Bun.sleep(LOAD_AFTER_MS);
  stop.now = true;
  phase = "load loops ending";
  await Promise.all(loops);
  lap("loadMs", t0);

  // The consumer's ledger gets every answered win (the relays and the consumer came back by themselves).
  const tc = performance.now();
  phase = "ledger catch-up";
  await waitFor("every answered win in the billing ledger", CATCH_UP_TIMEOUT_MS, () => {
    const ledger = readLedger();
    if (ledger === null) return null;
    const have = new Set(ledger.wins.map((w) => key(w.request_id, w.imp_id)));
    return [...answered].every((k) => have.has(k)) ? true : null;
  });
  lap("ledgerCatchUpMs", tc);

  // Every outbox event is in the topic (the server is idle now: the outboxes do not change).
  const tt = performance.now();
  phase = "topic catch-up";
  const outbox = await outboxEvents();
  const outboxIds = new Set(outbox.map((e) => e.id));
  let messages: TopicMessage[] = [];
  let topicIds = new Set<string>();
  await waitFor("every outbox event in the topic", CATCH_UP_TIMEOUT_MS, async () => {
    messages = await readTopic(kafka().brokers, TOPIC);
    topicIds = new Set(messages.map((m) => m.headers.event_id ?? ""));
    return [...outboxIds].every((id) => topicIds.has(id)) ? true : null;
  });
  lap("topicCatchUpMs", tt);

  // A spot check through the operator's tool: one answered win found by request id in the outbox.
  const [sampleRequest, sampleImp] = [...answered][0]!.split("|") as [string, string];
  const query = await runCli(["audit", "query", "--audit-dir", auditDir, "--request-id", sampleRequest, "--type", "auction_result", "--json"]);
  expect(query.code).toBe(0);
  const queried = query.stdout.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(queried.filter((e) => e.event_type === "auction_result" && e.imp_id === sampleImp && e.bid_id !== null)).toHaveLength(1);

  // The relay's state is on /metrics: connected again, nothing left to ship once the topic caught up.
  phase = "relay lag 0";
  await waitFor("relay lag 0 on /metrics", CATCH_UP_TIMEOUT_MS, async () => {
    const text = await metrics(server!.url);
    return metric(text, "tmax_audit_relay_lag_records") === 0 && metric(text, "tmax_audit_relays_disconnected") === 0 ? true : null;
  });
  expect(metric(await metrics(server.url), "tmax_audit_outboxes_unhealthy")).toBe(0);

  phase = "server stop";
  const ts = performance.now();
  expect(await server.kill("SIGTERM")).toBe(0);
  lap("serverStopMs", ts);
  const serverOutput = server.output();
  server = undefined;
  phase = "consumer stop"; // bounded (LEDGER_LIMITS.kafkaStopTimeoutMs): kafkajs once hung here for 140 s
  const tk = performance.now();
  consumer.kill("SIGTERM");
  expect(await consumer.exited).toBe(0);
  lap("consumerStopMs", tk);
  consumer = undefined;
  const consumerStats = consumerOut.split("\n").find((l) => l.includes("billing consumer stopped")) ?? "(no stats line)";
  const stopWarning = consumerOut.split("\n").find((l) => l.includes("did not confirm the stop"));
  if (stopWarning !== undefined) console.log(`audit-kafka: ${stopWarning}`);

  phase = "checks";
  // Books: exactly one row per answered win; exactly the outboxes' wins.
  const ledger = readLedger()!;
  const rowsPerWin = new Map<string, number>();
  for (const w of ledger.wins) rowsPerWin.set(key(w.request_id, w.imp_id), (rowsPerWin.get(key(w.request_id, w.imp_id)) ?? 0) + 1);
  const notOnce = [...answered].filter((k) => rowsPerWin.get(k) !== 1);
  const doubled = [...rowsPerWin].filter(([, n]) => n > 1);
  const unanswered = [...rowsPerWin.keys()].filter((k) => !answered.has(k)).length;
  const outboxWins = new Set(outbox.filter((e) => e.win).map((e) => e.id));
  const ledgerWinIds = new Set(ledger.wins.map((w) => w.event_id));

  // The topic: first copy of each event, per partition in offset order.
  const missingInTopic = [...outboxIds].filter((id) => !topicIds.has(id));
  const duplicates = messages.length - topicIds.size;
  const partitionsOfKey = new Map<string, Set<number>>();
  const firstCopies = new Map<string, string[]>(); // `${worker}|${key}` -> event ids in topic order
  const seen = new Set<string>();
  const outboxById = new Map(outbox.map((e) => [e.id, e]));
  let unknownInTopic = 0;
  let wrongKey = 0;
  for (const m of messages) {
    const id = m.headers.event_id ?? "";
    const e = outboxById.get(id);
    if (!e) { unknownInTopic++; continue; } // nothing in the topic that no outbox holds
    if (m.key !== e.key) wrongKey++;
    partitionsOfKey.set(m.key, (partitionsOfKey.get(m.key) ?? new Set()).add(m.partition));
    if (seen.has(id)) continue;
    seen.add(id);
    const stream = `${e.worker}|${e.key}`;
    firstCopies.set(stream, [...(firstCopies.get(stream) ?? []), id]);
  }
  const splitKeys = [...partitionsOfKey].filter(([k, p]) => k !== "" && p.size !== 1).map(([k]) => k);
  const unkeyedPartitions = partitionsOfKey.get("")?.size ?? 0;
  const disordered: string[] = [];
  let timeReversals = 0;
  const outboxStreams = new Map<string, OutboxEvent[]>();
  for (const e of outbox) outboxStreams.set(`${e.worker}|${e.key}`, [...(outboxStreams.get(`${e.worker}|${e.key}`) ?? []), e]);
  for (const [stream, events] of outboxStreams) {
    if (stream.endsWith("|")) continue; // unkeyed: no order promised
    const inTopic = firstCopies.get(stream) ?? [];
    if (inTopic.join(",") !== events.map((e) => e.id).join(",")) disordered.push(stream);
    const times = inTopic.map((id) => outboxById.get(id)!.time); // ISO-8601 UTC, same length: compare as strings
    for (let i = 1; i < times.length; i++) if (times[i]! < times[i - 1]!) timeReversals++;
  }
  const relayErrors = serverOutput.split("\n").filter((l) => l.includes("kafka-relay failed")).length;

  console.log(
    `audit-kafka: client sent ${counts.sent}, 200 ${counts.ok}, 204 ${counts.nobid}, other ${counts.other}, errors ${counts.errors}; ` +
    `answered wins ${answered.size} (${answeredDuringRestart} while the broker restarted)\n` +
    `audit-kafka: outbox events ${outbox.length} (wins ${outboxWins.size}) in ${outboxStreams.size} worker/key streams; topic messages ${messages.length}, ` +
    `distinct ${topicIds.size}, duplicates ${duplicates}, outbox events missing in topic ${missingInTopic.length}, ` +
    `topic events in no outbox ${unknownInTopic}, wrong key ${wrongKey}; keys split over partitions ${splitKeys.length}, unkeyed events over ${unkeyedPartitions} partitions; ` +
    `streams out of outbox order ${disordered.length}; event_time reversals within a stream ${timeReversals}\n` +
    `audit-kafka: ledger auction_result rows ${ledger.wins.length}, billable rows ${ledger.rows}, distinct event_ids ${ledger.distinctIds}, anomalies ${ledger.anomalies}; ` +
    `answered wins without exactly one row ${notOnce.length}; (request, imp) with 2+ rows ${doubled.length}; recorded but not answered ${unanswered}; ` +
    `relay error lines ${relayErrors}; consumer ${consumerStats.slice(consumerStats.indexOf("{"))}\n` +
    `audit-kafka: timings ${JSON.stringify(timings)}, total ${Math.round(performance.now() - t0)} ms`,
  );

  expect(counts.mismatched).toBe(0);
  expect(answered.size).toBeGreaterThan(100);
  expect(answeredDuringRestart).toBeGreaterThan(0); // answers never wait for Kafka
  // relayErrors (printed above) is not asserted: kafkajs's own send retries absorb a short restart now and
  // then (2 runs of 8 saw no failed send); what must hold is below: nothing lost, nothing twice, order kept.
  expect(notOnce).toEqual([]);
  expect(doubled).toEqual([]);
  expect(ledger.distinctIds).toBe(ledger.rows);
  expect(ledger.anomalies).toBe(0);
  expect([...outboxWins].filter((id) => !ledgerWinIds.has(id))).toEqual([]);
  expect([...ledgerWinIds].filter((id) => !outboxWins.has(id))).toEqual([]);
  expect(missingInTopic).toEqual([]);
  expect(unknownInTopic).toBe(0);
  expect(wrongKey).toBe(0);
  expect(splitKeys).toEqual([]);
  expect(unkeyedPartitions).toBe(PARTITIONS);
  expect(disordered).toEqual([]);
  expect(timeReversals).toBe(0);
}, 150_000);
