// The Kafka relay across broker failures (real broker): a controlled restart and a kill -9 while
// events keep being appended. The relay keeps its position, backs off, resumes by itself; at the
// end every event is in the topic (duplicates only from resent unacknowledged batches, counted),
// none is missing, and each advertiser's events come in order.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Outbox } from "../src/audit/outbox/index.ts";
import { startKafkaRelay, type KafkaRelay, type RelayErrorContext } from "../src/audit/relay/index.ts";
import { appendTestEvents, checkTopic, readTopic } from "../src/audit/relay/testing.ts";
import { useKafka } from "./support/kafka.ts";

const PARTITIONS = 4;
const ADVERTISERS = 30;
const TOPIC = "bid-events-failures";
/** Events appended per tick of the background writer, and the tick. */
const APPEND_BATCH = 40;
const APPEND_EVERY_MS = 10;
/** How long the broker stays dead after kill -9: longer than kafkajs's own retries of a request (~3 s). */
const OUTAGE_MS = 4_000;
const kafka = useKafka({ partitions: PARTITIONS });
const dir = mkdtempSync(join(tmpdir(), "relay-fail-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function waitUntil(what: string, cond: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await Bun.sleep(20);
  }
}

/** Appends in the background until stopped; the count of appended events so far. */
function writer(outbox: Outbox, run: string) {
  const seqs = new Map<string, number>();
  let appended = 0;
  let running = true;
  const done = (async () => {
    while (running) {
      await appendTestEvents(outbox, run, APPEND_BATCH, ADVERTISERS, seqs);
      appended += APPEND_BATCH;
      await Bun.sleep(APPEND_EVERY_MS);
    }
  })();
  return { get appended() { return appended; }, stop: async () => ((running = false), await done) };
}

/** Waits until the relay acknowledged `more` records beyond what it had: it is shipping again. */
async function resumed(relay: KafkaRelay, more: number, what: string): Promise<number> {
  const from = relay.stats().acked;
  const t0 = performance.now();
  await waitUntil(what, () => relay.stats().acked >= from + more);
  return Math.round(performance.now() - t0);
}

describe("kafka relay across broker failures (real broker)", () => {
  test("restart and kill -9 mid-stream while appending: nothing lost, order kept, the relay resumes by itself", async () => {
    const outbox = await Outbox.open({ dir });
    const errors = new Map<RelayErrorContext, number>();
    const relay = await startKafkaRelay({
      outbox, brokers: kafka().brokers, clientId: "relay-fail-test", topic: TOPIC, partitions: PARTITIONS, lingerMs: 2,
      onError: (_e, context) => errors.set(context, (errors.get(context) ?? 0) + 1),
    });
    const w = writer(outbox, "fail");
    const timings: Record<string, number> = {};
    await waitUntil("1,000 acked", () => relay.stats().acked >= 1_000);

    let t0 = performance.now();
    await kafka().restart(); // SIGTERM (controlled shutdown), then a new JVM on the same dir
    timings.restartMs = Math.round(performance.now() - t0);
    timings.resumeAfterRestartMs = await resumed(relay, 500, "shipping after restart()");

    const pid = kafka().pid;
    kafka().kill("SIGKILL"); // a crash, while the relay is sending
    await kafka().exited;
    const ackedAtKill = relay.stats().acked;
    await Bun.sleep(OUTAGE_MS); // appends go on with no broker at all
    expect(relay.stats().acked).toBe(ackedAtKill);
    expect(relay.stats().lagRecords).toBeGreaterThan(0);
    expect(relay.stats().failures).toBeGreaterThan(0); // past kafkajs's own retries: the relay backs off
    expect(relay.stats().connected).toBe(false);
    t0 = performance.now();
    await kafka().restart();
    timings.restartAfterKillMs = Math.round(performance.now() - t0);
    expect(kafka().pid).not.toBe(pid);
    timings.resumeAfterKillMs = await resumed(relay, 500, "shipping after kill -9 and restart");

    await w.stop();
    await outbox.flush();
    await waitUntil("the relay to catch up", () => relay.stats().lagRecords === 0 && relay.stats().acked >= w.appended);
    const stats = relay.stats();
    expect(stats).toMatchObject({ connected: true, lagBytes: 0, malformed: 0 });
    expect(stats.lastError).not.toBeNull();
    await relay.stop();
    await outbox.close();

    const messages = await readTopic(kafka().brokers, TOPIC);
    const check = checkTopic(messages, "fail");
    expect(check.counts.size).toBe(w.appended); // every event_id is there (none missing)
    expect(check.disordered).toEqual([]); // per advertiser: one partition, first occurrences in order
    expect(messages.length).toBe(w.appended + check.duplicates);
    expect(check.duplicates).toBeLessThanOrEqual(stats.resent); // duplicates only from resent batches
    console.log(
      `relay-broker-failure: ${w.appended} events, ${check.duplicates} duplicates, resent ${stats.resent}, ` +
      `failures ${stats.failures} (${[...errors].map(([c, n]) => `${c} ${n}`).join(", ")}), ${JSON.stringify(timings)}`,
    );
  }, 120_000);
});
