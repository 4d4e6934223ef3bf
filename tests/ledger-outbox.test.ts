// The embedded ledger feeder against a real Outbox on a temp dir: it applies every committed
// record, follows new ones, acks only after the SQLite commit (a crash in between replays the batch,
// and the replay changes nothing), resumes at its checkpoint, lets the outbox delete acked segments,
// and survives a SIGKILL of the process running it: no duplicates, nothing missing.
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { comparePositions, Outbox } from "../src/audit/outbox/index.ts";
import { Ledger, OUTBOX_CONSUMER, startOutboxLedgerFeeder, type OutboxLedgerFeeder } from "../src/audit/ledger/index.ts";
import { encode, eventStream, expectedBooks } from "../src/audit/ledger/fixtures.ts";
import type { AuditEvent } from "../src/audit/schema.ts";
import { BUN, ROOT } from "./support/processes.ts";

const CATCH_UP_TIMEOUT_MS = 30_000;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "ledger-outbox-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function openOutbox(dir: string, segmentBytes?: number): Promise<Outbox> {
  const outbox = await Outbox.open({ dir: join(dir, "outbox"), commitWindowMs: 1, segmentBytes });
  cleanups.push(() => outbox.close());
  return outbox;
}

function openLedger(dir: string): Ledger {
  const ledger = Ledger.open(join(dir, "ledger.sqlite"));
  cleanups.push(() => ledger.close());
  return ledger;
}

async function append(outbox: Outbox, events: AuditEvent[]): Promise<void> {
  await Promise.all(events.map((e) => outbox.append(encode(e))));
}

/** Resolves once the feeder's checkpoint reached the outbox's committed end. */
async function caughtUp(outbox: Outbox): Promise<void> {
  const deadline = Date.now() + CATCH_UP_TIMEOUT_MS;
  for (;;) {
    const acked = outbox.consumerPosition(OUTBOX_CONSUMER);
    if (acked !== undefined && comparePositions(acked, outbox.committedPosition()) >= 0) return;
    if (Date.now() > deadline) throw new Error(`feeder not caught up within ${CATCH_UP_TIMEOUT_MS} ms`);
    await Bun.sleep(10);
  }
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

async function startFeeder(outbox: Outbox, ledger: Ledger, extra: Partial<Parameters<typeof startOutboxLedgerFeeder>[0]> = {}): Promise<OutboxLedgerFeeder> {
  const feeder = await startOutboxLedgerFeeder({ outbox, ledger, maxBatchRecords: 100, ...extra });
  cleanups.push(() => feeder.stop());
  return feeder;
}

describe("outbox ledger feeder", () => {
  test("applies N appended events, follows new ones, and resumes at its checkpoint after a restart", async () => {
    const dir = tempDir();
    const outbox = await openOutbox(dir);
    const ledger = openLedger(dir);
    const first = eventStream(1_500, 21, "a");
    await append(outbox, first);

    const t0 = performance.now();
    const feeder = await startFeeder(outbox, ledger);
    await caughtUp(outbox);
    console.log(`outbox feeder: ${first.length} records applied in ${Math.round(performance.now() - t0)} ms`);
    expectBooks(ledger, first);

    const live = eventStream(300, 22, "b"); // appended while the feeder waits for commits
    await append(outbox, live);
    await caughtUp(outbox);
    expectBooks(ledger, [...first, ...live]);
    await feeder.stop();
    expect(feeder.stats()).toMatchObject({ duplicates: 0, invalid: 0, conflicts: 0, retries: 0 });
    expect(feeder.stats().acked).toEqual(outbox.consumerPosition(OUTBOX_CONSUMER)!);

    const restarted = await startFeeder(outbox, ledger);
    const more = eventStream(200, 23, "c");
    await append(outbox, more);
    await caughtUp(outbox);
    await restarted.stop();
    const stats = restarted.stats();
    expect(stats.inserted + stats.skipped).toBe(more.length); // nothing before the checkpoint re-read
    expect(stats.duplicates).toBe(0);
    expectBooks(ledger, [...first, ...live, ...more]);
  });

  test("a crash between the SQLite commit and the ack replays the batch; the replay changes nothing", async () => {
    const dir = tempDir();
    const outbox = await openOutbox(dir);
    const ledger = openLedger(dir);
    const events = eventStream(1_000, 31);
    await append(outbox, events);
    const CRASH_AT_BATCH = 3;
    let batches = 0;
    const errors: unknown[] = [];
    const crashing = await startFeeder(outbox, ledger, {
      afterCommit: () => {
        if (++batches === CRASH_AT_BATCH) throw new Error("crash after commit, before ack");
      },
      onError: (e) => errors.push(e),
    });
    await expect(crashing.done).rejects.toThrow(/crash after commit/);
    const checkpoint = outbox.consumerPosition(OUTBOX_CONSUMER)!;
    expect(crashing.stats().batches).toBe(CRASH_AT_BATCH - 1);
    expect(crashing.stats().acked).toEqual(checkpoint);
    const rowsAfterCrash = ledger.eventCount();
    expect(rowsAfterCrash).toBe(expectedBooks(events.slice(0, CRASH_AT_BATCH * 100)).billable); // the 3rd batch committed

    const restarted = await startFeeder(outbox, ledger);
    await caughtUp(outbox);
    await restarted.stop();
    const replayed = expectedBooks(events.slice((CRASH_AT_BATCH - 1) * 100, CRASH_AT_BATCH * 100)).billable;
    expect(restarted.stats().duplicates).toBe(replayed); // exactly the un-acked batch came again
    expect(restarted.stats().inserted).toBe(expectedBooks(events).billable - rowsAfterCrash);
    expectBooks(ledger, events);
    expect(errors.length).toBe(1);
  });

  test("a failing transaction is retried with backoff, nothing acked until it commits", async () => {
    const dir = tempDir();
    const outbox = await openOutbox(dir);
    const ledger = openLedger(dir);
    const events = eventStream(200, 41);
    await append(outbox, events);
    const real = ledger.applyPayloads.bind(ledger);
    let failures = 2;
    ledger.applyPayloads = (payloads) => {
      if (failures-- > 0) throw new Error("SQLITE_BUSY: database is locked");
      return real(payloads);
    };
    const feeder = await startFeeder(outbox, ledger);
    await caughtUp(outbox);
    await feeder.stop();
    expect(feeder.stats()).toMatchObject({ retries: 2, duplicates: 0, lastError: "SQLITE_BUSY: database is locked" });
    expectBooks(ledger, events);
  });

  test("a trickle of records shares few transactions (linger), and stop() applies what it read", async () => {
    const dir = tempDir();
    const outbox = await openOutbox(dir);
    const ledger = openLedger(dir);
    const feeder = await startFeeder(outbox, ledger, { lingerMs: 150 });
    const events = eventStream(60, 45);
    for (const e of events) {
      await outbox.append(encode(e));
      await Bun.sleep(2);
    }
    await caughtUp(outbox);
    await feeder.stop();
    expect(feeder.stats().batches).toBeLessThanOrEqual(events.length / 5); // one record per transaction without linger
    expectBooks(ledger, events);
  });

  test("acked segments are deleted by the outbox's retention", async () => {
    const dir = tempDir();
    const outbox = await openOutbox(dir, 16 * 1024);
    const ledger = openLedger(dir);
    const events = eventStream(600, 51);
    await append(outbox, events);
    expect(outbox.segmentIds().length).toBeGreaterThan(5);
    const feeder = await startFeeder(outbox, ledger);
    await caughtUp(outbox);
    await feeder.stop();
    expect(outbox.segmentIds().length).toBe(1);
    expect(outbox.stats().deletedSegments).toBeGreaterThan(4);
    expectBooks(ledger, events);
  });

  test("SIGKILL of the process running the feeder, then a restart: no duplicates, nothing missing", async () => {
    const dir = tempDir();
    const events = eventStream(4_000, 61);
    const prefill = await Outbox.open({ dir: join(dir, "outbox"), commitWindowMs: 1 });
    await append(prefill, events);
    await prefill.close();

    const script = join(dir, "feeder.ts");
    await Bun.write(script, `
      import { Outbox } from ${JSON.stringify(join(ROOT, "src/audit/outbox/index.ts"))};
      import { Ledger, startOutboxLedgerFeeder } from ${JSON.stringify(join(ROOT, "src/audit/ledger/index.ts"))};
      const outbox = await Outbox.open({ dir: ${JSON.stringify(join(dir, "outbox"))} });
      const ledger = Ledger.open(${JSON.stringify(join(dir, "ledger.sqlite"))});
      await startOutboxLedgerFeeder({ outbox, ledger, maxBatchRecords: 20, afterCommit: () => Bun.sleep(2) });
      console.log("running");
      await new Promise(() => {});`);
    const child = Bun.spawn([BUN, script], { stdout: "pipe", stderr: "pipe" });
    cleanups.push(() => void child.kill("SIGKILL"));
    const ledger = openLedger(dir);
    const deadline = Date.now() + CATCH_UP_TIMEOUT_MS;
    while (ledger.eventCount() < 500) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`child feeder made no progress: ${await new Response(child.stderr).text()}`);
      await Bun.sleep(5);
    }
    child.kill("SIGKILL");
    await child.exited;
    const rowsAtKill = ledger.eventCount();
    expect(rowsAtKill).toBeLessThan(expectedBooks(events).billable);

    const outbox = await openOutbox(dir);
    const feeder = await startFeeder(outbox, ledger);
    await caughtUp(outbox);
    await feeder.stop();
    console.log(`outbox feeder: killed at ${rowsAtKill} rows; the restart replayed ${feeder.stats().duplicates} duplicates`);
    expect(feeder.stats().inserted).toBe(expectedBooks(events).billable - rowsAtKill);
    expectBooks(ledger, events);
  });
});
