// scripts/services/kafka.ts against a real Apache Kafka (KRaft, jars from Maven Central): 1,000 keyed
// messages through an idempotent acks=-1 kafkajs producer, the broker restarted mid-stream (same
// dir), all consumed in a consumer group in per-key order with nothing lost or doubled; a kill -9 and
// restart keep them; stop() and a dying parent leave no java process; the cache serves a start
// without mvn. Prints its timings.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Kafka, logLevel, Partitioners, type LogEntry } from "kafkajs";
import { createTopic, fetchKafka, isKafkaCached, KAFKA_VERSION, startKafka, type KafkaService } from "../scripts/services/kafka.ts";
import { alive, javaProcessesMentioning, KAFKA_HOOK_TIMEOUT_MS, requireKafka } from "./support/kafka.ts";
import { BUN, ROOT } from "./support/processes.ts";

const SCRIPT = join(ROOT, "scripts", "services", "kafka.ts");
const TOPIC = "bid-events";
const PARTITIONS = 3;
const MESSAGES = 1_000;
const KEYS = 25;
const BATCH = 20;
/** The broker is restarted (not awaited) once this many messages are acknowledged... */
const RESTART_AFTER = 500;
/** ...and here the producer waits until the old JVM is gone, if it is not yet. */
const HOLD_AT = 700;

const timings: Record<string, number> = {};
const since = (t0: number) => Math.round(performance.now() - t0);

/** kafkajs logs (connection errors while the broker restarts are expected): counted, the last kept. */
function quietLogs() {
  const seen = { error: 0, warn: 0, last: [] as string[] };
  const logCreator = () => ({ level, label, log }: LogEntry) => {
    if (level > logLevel.WARN) return;
    if (level === logLevel.ERROR) seen.error++;
    else seen.warn++;
    seen.last = [...seen.last.slice(-2), `${label} ${log.message}`];
  };
  return { seen, logCreator };
}

async function waitUntil(what: string, cond: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(50);
  }
}

/** `bun scripts/services/kafka.ts up`, resolved with its JSON line. */
async function startUp(): Promise<{ proc: ReturnType<typeof Bun.spawn>; info: { brokers: string[]; pid: number; dir: string } }> {
  const proc = Bun.spawn([BUN, SCRIPT, "up", "--partitions", "2"], { cwd: ROOT, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
  let out = "";
  while (!out.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`kafka.ts up exited before its JSON line: ${out}${await new Response(proc.stderr as ReadableStream).text()}`);
    out += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return { proc, info: JSON.parse(out.split("\n")[0]!) };
}

describe("kafka service (real broker, KRaft)", () => {
  let kafka: KafkaService;

  beforeAll(async () => {
    requireKafka(); // java/mvn missing: KafkaMissingError, a failure (never a skip)
    let t0 = performance.now();
    const fetched = await fetchKafka();
    timings[fetched.fetched ? "fetchColdMs" : "fetchWarmMs"] = since(t0);
    t0 = performance.now();
    kafka = await startKafka({ partitions: PARTITIONS });
    timings.startMs = since(t0);
  }, KAFKA_HOOK_TIMEOUT_MS);

  afterAll(async () => {
    await kafka?.stop();
    console.log(`kafka-service timings (Kafka ${KAFKA_VERSION}): ${JSON.stringify(timings)}`);
  });

  test("the cache is complete: a start needs java only, not mvn", async () => {
    expect(isKafkaCached()).toBe(true);
    const again = await fetchKafka();
    expect(again.fetched).toBe(false);
    expect(again.jars).toBeGreaterThan(40);
    // A PATH holding only java: `fetch` still answers from the cache.
    const bin = mkdtempSync(join(tmpdir(), "tmax-javaonly-"));
    symlinkSync(Bun.which("java")!, join(bin, "java"));
    const run = Bun.spawnSync([BUN, SCRIPT, "fetch"], { cwd: ROOT, env: { ...process.env, PATH: bin }, stdout: "pipe", stderr: "pipe" });
    rmSync(bin, { recursive: true, force: true });
    expect(run.stderr.toString()).toBe("");
    expect(JSON.parse(run.stdout.toString())).toMatchObject({ version: KAFKA_VERSION, fetched: false });
  });

  test("no java on PATH: a clear failure naming java (and CI=true), not a skip", () => {
    const run = Bun.spawnSync([BUN, SCRIPT, "up"], { cwd: ROOT, env: { ...process.env, PATH: "/nonexistent", CI: "true" }, stdout: "pipe", stderr: "pipe" });
    expect(run.exitCode).toBe(1);
    const err = run.stderr.toString();
    expect(err).toContain("`java` (Java 17+) is not on PATH");
    expect(err).toContain("CI=true: a missing service fails the run");
  });

  test(`${MESSAGES} keyed messages, idempotent acks=-1, broker restarted mid-stream: none lost, none doubled, per-key order`, async () => {
    const logs = quietLogs();
    const retry = { initialRetryTime: 100, maxRetryTime: 1_000, retries: Number.MAX_SAFE_INTEGER };
    const client = new Kafka({ clientId: "kafka-service-test", brokers: kafka.brokers, logCreator: logs.logCreator, retry });

    let t0 = performance.now();
    expect(await createTopic(kafka.brokers, TOPIC, PARTITIONS)).toBe(true);
    timings.createTopicMs = since(t0);

    const producer = client.producer({ idempotent: true, maxInFlightRequests: 1, retry, createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    const nextSeq = new Array<number>(KEYS).fill(0);
    const sends: { start: number; end: number }[] = [];
    let acked = 0;
    let restarting: Promise<void> | undefined;
    let oldJvmExited: Promise<unknown> | undefined;
    let restartAt = 0;
    let oldExitAt = 0;
    let restartDoneAt = 0;
    const pidBefore = kafka.pid;
    // A failed restart would leave the idempotent producer retrying forever: fail with its reason instead.
    let failRestart: (error: unknown) => void = () => {};
    const restartFailed = new Promise<never>((_, reject) => (failRestart = reject));
    restartFailed.catch(() => {});
    t0 = performance.now();
    while (acked < MESSAGES) {
      if (acked === RESTART_AFTER) {
        // Not awaited: the producer goes on sending while the broker shuts down and comes back.
        restartAt = performance.now();
        oldJvmExited = kafka.exited.then(() => void (oldExitAt = performance.now()));
        restarting = kafka.restart().then(() => void (restartDoneAt = performance.now()), failRestart);
      }
      // At HOLD_AT, wait for the old JVM to be gone (if it is not yet), so the next send surely meets no broker.
      if (acked === HOLD_AT) await Promise.race([oldJvmExited, restartFailed]);
      const messages = Array.from({ length: BATCH }, (_, j) => {
        const k = (acked + j) % KEYS;
        const key = `campaign-${String(k).padStart(2, "0")}`;
        return { key, value: JSON.stringify({ key, seq: nextSeq[k]!++, n: acked + j }) };
      });
      const start = performance.now();
      await Promise.race([producer.send({ topic: TOPIC, acks: -1, messages }), restartFailed]);
      sends.push({ start, end: performance.now() });
      acked += BATCH;
    }
    timings.produceMs = since(t0);
    await restarting;
    timings.restartMs = Math.round(restartDoneAt - restartAt);
    timings.brokerDownMs = Math.round(restartDoneAt - oldExitAt);
    // Sends pending while no broker ran (in flight across the shutdown, or issued during it): each
    // kept retrying and was acknowledged by the new JVM, none failed.
    const acrossDowntime = sends.filter((x) => x.start < restartDoneAt && x.end > oldExitAt);
    timings.sendsAcrossDowntime = acrossDowntime.length;
    timings.longestSendMs = Math.round(Math.max(...sends.map((x) => x.end - x.start)));
    expect(acrossDowntime.length).toBeGreaterThanOrEqual(1);
    expect(sends.filter((x) => x.end > restartDoneAt).length).toBeGreaterThanOrEqual(1); // the stream went on after it
    expect(kafka.pid).not.toBe(pidBefore);
    expect(alive(pidBefore)).toBe(false);
    await producer.disconnect();

    // The log holds exactly MESSAGES records: the retries across the restart were deduplicated.
    const admin = client.admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(TOPIC);
    await admin.disconnect();
    expect(offsets.length).toBe(PARTITIONS);
    expect(offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0)).toBe(MESSAGES);

    t0 = performance.now();
    const received: { partition: number; key: string; seq: number; n: number }[] = [];
    const consumer = client.consumer({ groupId: "kafka-service-test", sessionTimeout: 10_000, heartbeatInterval: 1_000 });
    await consumer.connect();
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const body = JSON.parse(message.value!.toString()) as { key: string; seq: number; n: number };
        expect(message.key!.toString()).toBe(body.key);
        received.push({ partition, ...body });
      },
    });
    await waitUntil(`${MESSAGES} messages`, () => received.length >= MESSAGES, 30_000);
    timings.consumeMs = since(t0);
    await Bun.sleep(300); // anything beyond MESSAGES would be a duplicate: give it a moment to show
    await consumer.disconnect();

    expect(received.length).toBe(MESSAGES);
    expect(new Set(received.map((r) => r.n)).size).toBe(MESSAGES);
    const byKey = new Map<string, { partition: number; seqs: number[] }>();
    for (const r of received) {
      const entry = byKey.get(r.key) ?? { partition: r.partition, seqs: [] };
      expect(r.partition).toBe(entry.partition); // one key, one partition
      entry.seqs.push(r.seq);
      byKey.set(r.key, entry);
    }
    expect(byKey.size).toBe(KEYS);
    for (const [, { seqs }] of byKey) expect(seqs).toEqual(seqs.map((_, i) => i)); // in order, no gap
    expect(new Set([...byKey.values()].map((e) => e.partition)).size).toBe(PARTITIONS); // keys spread
    console.log(`kafka-service: kafkajs logged ${logs.seen.error} errors, ${logs.seen.warn} warnings (the restart); last: ${logs.seen.last.join(" | ")}`);
  }, 120_000);

  test("kill -9 (a crash) is noticed; restart() recovers the same dir: topic and messages are still there", async () => {
    const pid = kafka.pid;
    kafka.kill("SIGKILL");
    expect(await kafka.exited).toBe("SIGKILL");
    expect(kafka.running).toBe(false);
    const t0 = performance.now();
    await kafka.restart();
    timings.restartAfterCrashMs = since(t0);
    expect(kafka.pid).not.toBe(pid);
    const admin = new Kafka({ clientId: "kafka-service-crash", brokers: kafka.brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const offsets = await admin.fetchTopicOffsets(TOPIC);
    await admin.disconnect();
    expect(offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0)).toBe(MESSAGES);
  }, 60_000);

  test("stop() ends the JVM (SIGTERM, controlled shutdown), removes its temp dir, leaves no java process", async () => {
    const { pid, dir } = kafka;
    const t0 = performance.now();
    await kafka.stop();
    timings.stopMs = since(t0);
    expect(alive(pid)).toBe(false);
    expect(javaProcessesMentioning(dir)).toEqual([]);
    expect(existsSync(dir)).toBe(false);
    await kafka.stop(); // idempotent
  }, 60_000);

  test("CLI `up`: one JSON line; Ctrl-C stops the broker; a SIGKILLed parent takes the broker with it", async () => {
    let t0 = performance.now();
    const first = await startUp();
    timings.cliUpMs = since(t0);
    expect(first.info.brokers).toEqual([expect.stringMatching(/^127\.0\.0\.1:\d+$/)]);
    expect(alive(first.info.pid)).toBe(true);
    const admin = new Kafka({ clientId: "kafka-service-cli", brokers: first.info.brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    expect(await admin.listTopics()).toEqual([]);
    await admin.disconnect();
    t0 = performance.now();
    first.proc.kill("SIGINT");
    expect(await first.proc.exited).toBe(0);
    timings.cliCtrlCStopMs = since(t0);
    expect(alive(first.info.pid)).toBe(false);
    expect(existsSync(first.info.dir)).toBe(false);

    const second = await startUp();
    expect(alive(second.info.pid)).toBe(true);
    second.proc.kill("SIGKILL"); // no handler runs: only the kernel's pdeathsig can end the JVM
    await second.proc.exited;
    await waitUntil("the orphaned JVM to die", () => !alive(second.info.pid), 10_000);
    expect(javaProcessesMentioning(second.info.dir)).toEqual([]);
    rmSync(second.info.dir, { recursive: true, force: true }); // nobody was left to remove it
  }, 120_000);
});
