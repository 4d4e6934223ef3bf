// The archive and ledger consumers in a thread of their own (src/audit/consumers), over a read-only
// view of an outbox written in this thread: they see only committed records, their acks move the
// writer's checkpoints, acked segments are deleted, a restart resumes at the checkpoints, and every
// event ends up exactly once in the ledger and in the archive.
import { afterEach, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { comparePositions, Outbox, type Position } from "../src/audit/outbox/index.ts";
import { Ledger, OUTBOX_CONSUMER } from "../src/audit/ledger/index.ts";
import { ARCHIVE_CONSUMER, readEventsFile } from "../src/audit/archive/index.ts";
import { encode, eventStream, expectedBooks } from "../src/audit/ledger/fixtures.ts";
import { startConsumerThread, type ConsumerThread } from "../src/audit/consumers/host.ts";
import { RemoteOutbox } from "../src/audit/consumers/remote-outbox.ts";
import type { AuditEvent } from "../src/audit/schema.ts";
import { allocateYieldCells, YieldSignal } from "../src/audit/consumers/yield-gate.ts";
import { until } from "./support/wait.ts";

const CATCH_UP_TIMEOUT_MS = 30_000;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "consumer-thread-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function openOutbox(dir: string, segmentBytes?: number): Promise<Outbox> {
  const outbox = await Outbox.open({ dir: join(dir, "outbox", "w0"), commitWindowMs: 1, segmentBytes });
  cleanups.push(() => outbox.close());
  return outbox;
}

async function append(outbox: Outbox, events: AuditEvent[]): Promise<void> {
  await Promise.all(events.map((e) => outbox.append(encode(e))));
}

async function caughtUp(outbox: Outbox, names: string[]): Promise<void> {
  const deadline = Date.now() + CATCH_UP_TIMEOUT_MS;
  for (;;) {
    const done = names.every((name) => {
      const acked = outbox.consumerPosition(name);
      return acked !== undefined && comparePositions(acked, outbox.committedPosition()) >= 0;
    });
    if (done) return;
    if (Date.now() > deadline) throw new Error(`consumers not caught up within ${CATCH_UP_TIMEOUT_MS} ms: ${JSON.stringify(outbox.consumers())}`);
    await Bun.sleep(10);
  }
}

async function startThread(outbox: Outbox, dir: string, yieldOptions?: { cells: SharedArrayBuffer; maxYieldMs: number }): Promise<ConsumerThread> {
  const thread = await startConsumerThread({
    outbox, workerIndex: 0, archiveDir: join(dir, "archive"), archiveFlushEveryMs: 50,
    ledger: { file: join(dir, "ledger.sqlite"), maxBatchRecords: 100, lingerMs: 5 }, yield: yieldOptions,
    onError: (e, context) => console.error("consumer thread error", context, e),
  });
  cleanups.push(() => thread.stop());
  return thread;
}

function parquetFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile() && entry.name.endsWith(".parquet")) out.push(join(entry.parentPath, entry.name));
  }
  return out;
}

async function archivedEventIds(dir: string): Promise<string[]> {
  const ids: string[] = [];
  for (const file of parquetFiles(join(dir, "archive"))) {
    for (const event of (await readEventsFile(file)) ?? []) ids.push(event.event_id);
  }
  return ids;
}

function expectLedger(dir: string, events: AuditEvent[]): void {
  const ledger = Ledger.open(join(dir, "ledger.sqlite"));
  try {
    expect(ledger.eventCount()).toBe(expectedBooks(events).billable);
    expect(ledger.anomalies()).toEqual([]);
  } finally {
    ledger.close();
  }
}

describe("audit consumer thread", () => {
  test("archives and bills every committed record, acks through the writer, segments get deleted, resumes after a restart", async () => {
    const dir = tempDir();
    const outbox = await openOutbox(dir, 64 * 1024);
    const first = eventStream(2_000, 41, "a");
    await append(outbox, first); // before the thread starts: read from the oldest segment
    const segmentsBefore = outbox.segmentIds().length;
    expect(segmentsBefore).toBeGreaterThan(3);

    const thread = await startThread(outbox, dir);
    const live = eventStream(1_000, 42, "b"); // while it follows the commits
    await append(outbox, live);
    await caughtUp(outbox, [ARCHIVE_CONSUMER, OUTBOX_CONSUMER]);
    // every consumer acked past every sealed segment: only the active one is left (deletion follows the
    // checkpoint write; the deleted count is added once the whole deletion pass is done)
    const settled = () => outbox.segmentIds().length === 1 && outbox.stats().deletedSegments >= segmentsBefore;
    for (let i = 0; i < 300 && !settled(); i++) await Bun.sleep(10);
    expect(outbox.segmentIds().length).toBe(1);
    expect(outbox.stats().deletedSegments).toBeGreaterThanOrEqual(segmentsBefore);
    expect(outbox.stats().retentionError).toBeNull();
    await thread.stop();
    expect(thread.restarts()).toBe(0);
    expectLedger(dir, [...first, ...live]);

    const stoppedAt = outbox.consumerPosition(OUTBOX_CONSUMER)!;
    const more = eventStream(500, 43, "c");
    await append(outbox, more); // nobody consumes these until the next start
    expect(comparePositions(outbox.consumerPosition(OUTBOX_CONSUMER)!, stoppedAt)).toBe(0);
    const again = await startThread(outbox, dir);
    await caughtUp(outbox, [ARCHIVE_CONSUMER, OUTBOX_CONSUMER]);
    await again.stop();
    const all = [...first, ...live, ...more];
    expectLedger(dir, all);
    const archived = await archivedEventIds(dir);
    expect(new Set(archived).size).toBe(archived.length); // no event twice
    expect(new Set(archived)).toEqual(new Set(all.map((e) => e.event_id)));
  }, 60_000);

  test("while the worker is at capacity archive and ledger pause; they catch up once it is not, every event once", async () => {
    const dir = tempDir();
    const outbox = await openOutbox(dir);
    const cells = allocateYieldCells();
    const worker = new YieldSignal(cells);
    const thread = await startThread(outbox, dir, { cells, maxYieldMs: 60_000 });
    const before = eventStream(200, 71, "p");
    await append(outbox, before);
    await caughtUp(outbox, [ARCHIVE_CONSUMER, OUTBOX_CONSUMER]);
    worker.busy(true);
    const during = eventStream(500, 72, "q");
    await append(outbox, during);
    const ackedAtBusy = [outbox.consumerPosition(ARCHIVE_CONSUMER), outbox.consumerPosition(OUTBOX_CONSUMER)];
    await until("both consumers pausing", () => worker.stats().yielding === 2);
    await Bun.sleep(300); // long past the archive's 50 ms flush and the ledger's linger
    expect([outbox.consumerPosition(ARCHIVE_CONSUMER), outbox.consumerPosition(OUTBOX_CONSUMER)]).toEqual(ackedAtBusy);
    expect(comparePositions(outbox.consumerPosition(OUTBOX_CONSUMER)!, outbox.committedPosition())).toBeLessThan(0);
    worker.busy(false);
    await caughtUp(outbox, [ARCHIVE_CONSUMER, OUTBOX_CONSUMER]);
    // Acked to the end, a consumer may still be in a catch-up step's pause: it learns it is caught up
    // only from its next read coming back short (seen once in CI: 1 pausing right after the acks).
    await until("no consumer pausing once caught up", () => worker.stats().yielding === 0, 5_000);
    expect(worker.stats().yielding).toBe(0);
    expect(worker.stats().yieldedMs).toBeGreaterThanOrEqual(2 * 250);
    expect(worker.stats().forcedCatchUps).toBe(0);
    await thread.stop();
    const all = [...before, ...during];
    expectLedger(dir, all);
    const archived = await archivedEventIds(dir);
    expect(archived.length).toBe(all.length);
    expect(new Set(archived)).toEqual(new Set(all.map((e) => e.event_id)));
  }, 60_000);

  test("a pause lasts at most maxYieldMs: a worker busy for good still gets its records consumed", async () => {
    const dir = tempDir();
    const outbox = await openOutbox(dir);
    const cells = allocateYieldCells();
    const worker = new YieldSignal(cells);
    worker.busy(true);
    const thread = await startThread(outbox, dir, { cells, maxYieldMs: 200 });
    const events = eventStream(300, 73, "r");
    await append(outbox, events);
    await caughtUp(outbox, [ARCHIVE_CONSUMER, OUTBOX_CONSUMER]); // without the bound: never
    expect(worker.stats().forcedCatchUps).toBeGreaterThanOrEqual(2); // each consumer cut its pause short at least once
    await thread.stop();
    expectLedger(dir, events);
  }, 60_000);

  test("stop writes and acks what the archiver holds before the thread ends", async () => {
    const dir = tempDir();
    const outbox = await openOutbox(dir);
    const thread = await startConsumerThread({
      outbox, workerIndex: 0, archiveDir: join(dir, "archive"), archiveFlushEveryMs: 60_000, archiveFlushEveryRecords: 1_000_000, ledger: null,
    });
    const events = eventStream(300, 51, "s");
    await append(outbox, events);
    await Bun.sleep(200); // read, buffered, not flushed (60 s)
    expect(outbox.consumerPosition(ARCHIVE_CONSUMER)!.offset).toBe(16);
    await thread.stop();
    expect(outbox.consumerPosition(ARCHIVE_CONSUMER)).toEqual(outbox.committedPosition());
    expect(outbox.consumerPosition(OUTBOX_CONSUMER)).toBeUndefined(); // no ledger: not registered
    expect((await archivedEventIds(dir)).length).toBe(events.length);
  }, 30_000);

  test("a thread that cannot start its consumers fails the start", async () => {
    const dir = tempDir();
    const outbox = await openOutbox(dir);
    mkdirSync(join(dir, "not-a-file.sqlite"));
    await expect(startConsumerThread({
      outbox, workerIndex: 0, archiveDir: join(dir, "archive"), ledger: { file: join(dir, "not-a-file.sqlite"), maxBatchRecords: 10, lingerMs: 0 },
    })).rejects.toThrow(/could not start/);
  }, 30_000);

  test("the read-only view returns only records up to the committed end it was told", async () => {
    const dir = tempDir();
    const outbox = await openOutbox(dir);
    await append(outbox, eventStream(10, 61, "v"));
    const acks: [string, Position][] = [];
    const view = new RemoteOutbox(outbox.dir, outbox.segmentSnapshot(), [["x", outbox.oldestPosition()]], (id, name, position) => {
      acks.push([name, position]);
      queueMicrotask(() => view.settleAck(id));
    });
    await append(outbox, eventStream(5, 62, "w")); // committed, but the view was not told
    const reader = view.reader(await view.registerConsumer("x"));
    expect((await reader.read(100)).length).toBe(10);
    expect(await reader.read(100)).toEqual([]);
    let woke = false;
    const waiting = view.waitForCommit(reader.position).then(() => (woke = true));
    await Bun.sleep(10);
    expect(woke).toBe(false);
    view.update(outbox.segmentSnapshot());
    await waiting;
    const rest = await reader.read(100);
    expect(rest.length).toBe(5);
    await view.ack("x", rest[4]!.next);
    expect(acks).toEqual([["x", rest[4]!.next]]);
    expect(view.consumerPosition("x")).toEqual(rest[4]!.next);
    await reader.close();
    view.close();
    await expect(view.ack("x", rest[4]!.next)).rejects.toThrow();
  });
});
