// The warm archive: events -> Parquet parts partitioned by date and advertiser -> the same events
// back; typed columns; the outbox archiver acks only after the parts are fsync'd and renamed, and
// a batch replayed after a crash replaces its parts instead of duplicating them.
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import { parquetMetadata, parquetReadObjects } from "hyparquet";
import { Outbox, outboxDir, type Position } from "../src/audit/outbox/index.ts";
import {
  ArchiveWriter, archiveIo, listParquetFiles, partitionDir, readEventsFile, startOutboxArchiver, threadEncoder, UNPARSED_TYPE,
  type ArchivableEvent, type ArchiveIo, type BatchWriter,
} from "../src/audit/archive/index.ts";
import { manyRequests, requestEvents } from "../src/audit/archive/fixtures.ts";

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "archive-w-"));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Every Parquet file below `dir`, recursively. */
function allParts(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true }).map(String).filter((p) => p.endsWith(".parquet")).map((p) => join(dir, p)).sort();
}

async function readAllArchived(archiveDir: string): Promise<ArchivableEvent[]> {
  const out: ArchivableEvent[] = [];
  for (const file of allParts(archiveDir)) out.push(...((await readEventsFile(file)) ?? []));
  return out;
}

const byId = (events: readonly ArchivableEvent[]) => new Map(events.map((e) => [e.event_id, e]));

async function until(what: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!what()) {
    if (Date.now() > end) throw new Error("timed out");
    await Bun.sleep(5);
  }
}

describe("ArchiveWriter", () => {
  test("round trip: partitioned by UTC date and advertiser, events read back identical", async () => {
    const archiveDir = tempDir();
    const events = [
      ...requestEvents({ requestId: "r1", advertiserId: "adv-1", campaignId: "c1", at: "2025-03-01T23:59:57Z" }),
      ...requestEvents({ requestId: "r2", advertiserId: "adv/2 ü", campaignId: "c2", at: "2025-03-02T10:00:00Z" }),
    ];
    const parts = await new ArchiveWriter({ archiveDir, writerId: "w3" }).writeBatch(events, "batch1");
    // r1 crosses midnight: its last events fall on 03-02; bid_request/dsp_response have no advertiser
    const layout = parts.map((p) => `${p.date} ${p.advertiserId} ${p.events}`).sort();
    expect(layout).toEqual(["2025-03-01  2", "2025-03-01 adv-1 1", "2025-03-02  2", "2025-03-02 adv-1 3", "2025-03-02 adv/2 ü 4"]);
    expect(parts.find((p) => p.advertiserId === "")!.path).toContain(join("warm", "date=2025-03-01", "advertiser=_none", "part-w3-batch1.parquet"));
    expect(parts.find((p) => p.advertiserId === "adv/2 ü")!.path).toBe(
      join(archiveDir, "warm", "date=2025-03-02", "advertiser=adv%2F2%20%C3%BC", "part-w3-batch1.parquet"),
    );
    for (const part of parts) expect(dirname(part.path)).toBe(partitionDir(archiveDir, "warm", part.date, part.advertiserId));

    const back = await readAllArchived(archiveDir);
    expect(back.length).toBe(events.length);
    const want = byId(events as ArchivableEvent[]);
    for (const event of back) expect(event).toEqual(want.get(event.event_id)!);
    expect(readdirSync(archiveDir, { recursive: true }).map(String).filter((p) => p.endsWith(".tmp"))).toEqual([]);
  });

  test("typed columns: timestamps, INT64 micros, nulls, the JSON column; warm parts are snappy", async () => {
    const archiveDir = tempDir();
    const events = requestEvents({ requestId: "r9", advertiserId: "adv-9", campaignId: "c9", at: "2025-05-05T05:05:05.123Z", costMicros: 4_321 });
    const parts = await new ArchiveWriter({ archiveDir }).writeBatch(events);
    const file = parts.find((p) => p.advertiserId === "adv-9")!.path;
    const bytes = readFileSync(file);
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    const meta = parquetMetadata(buffer);
    const types = Object.fromEntries(meta.schema.slice(1).map((s) => [s.name, `${s.type}${s.converted_type ? "/" + s.converted_type : ""}`]));
    expect(types).toMatchObject({
      event_id: "BYTE_ARRAY/UTF8", event_type: "BYTE_ARRAY/UTF8", event_time: "INT64/TIMESTAMP_MILLIS", request_id: "BYTE_ARRAY/UTF8",
      advertiser_id: "BYTE_ARRAY/UTF8", campaign_id: "BYTE_ARRAY/UTF8", dsp_id: "BYTE_ARRAY/UTF8", bid_price_micros: "INT64",
      win_price_micros: "INT64", cost_micros: "INT64", event_json: "BYTE_ARRAY/JSON",
    });
    expect(meta.row_groups[0]!.columns[0]!.meta_data!.codec).toBe("SNAPPY");
    const rows = await parquetReadObjects({ file: buffer });
    const result = rows.find((r) => r.event_type === "auction_result")!;
    expect(result.event_time).toEqual(new Date("2025-05-05T05:05:08.123Z"));
    expect(result.cost_micros).toBe(4_321n);
    expect(result.win_price_micros).toBe(4_321_000n);
    expect(result.campaign_id).toBe("c9");
    const bid = rows.find((r) => r.event_type === "bid")!;
    expect(bid.cost_micros).toBeNull();
    expect(bid.bid_price_micros).toBe(4_331_000n);
  });

  test("the helper-thread encoder writes the same events as encoding inline", async () => {
    const archiveDir = tempDir();
    const events = manyRequests("h", "adv-h", "2025-01-11T00:00:00Z", 50, 1_000);
    const encoder = threadEncoder();
    try {
      const parts = await new ArchiveWriter({ archiveDir, encoder: encoder.encode }).writeBatch(events, "thread");
      expect(parts.length).toBe(2);
      const back = await readAllArchived(archiveDir);
      expect(byId(back)).toEqual(byId(events as ArchivableEvent[]));
      await expect(encoder.encode([{ event_id: "x", event_type: "t", event_time: "2025-01-01T00:00:00Z", worker: () => 1 }], { codec: "SNAPPY", rowGroupRows: 10 })).rejects.toThrow();
    } finally {
      encoder.close();
    }
  });

  test("a request-id lookup reads only matching rows; a bad event is refused", async () => {
    const archiveDir = tempDir();
    const events = manyRequests("q", "adv-1", "2025-01-10T00:00:00Z", 200, 1_000);
    const parts = await new ArchiveWriter({ archiveDir, rowGroupRows: 50 }).writeBatch(events);
    const file = parts.find((p) => p.advertiserId === "adv-1")!.path;
    const hits = await readEventsFile(file, { requestId: "q-123" });
    expect(hits!.map((e) => e.event_type).sort()).toEqual(["auction_result", "bid", "billing_notice", "win_notice"]);
    expect(await readEventsFile(join(archiveDir, "absent.parquet"))).toBeNull();
    const writer = new ArchiveWriter({ archiveDir });
    await expect(writer.writeBatch([{ event_id: "x", event_type: "bid", event_time: "yesterday" }])).rejects.toThrow(/event_time/);
    await expect(writer.writeBatch(events, "../escape")).rejects.toThrow(/batchKey/);
  });
});

/** An io that logs the durability steps of each file: write, fsync, rename, directory fsync. */
function loggingIo(log: string[]): ArchiveIo {
  const base = archiveIo();
  const names = new Map<number, string>();
  return {
    ...base,
    open: async (path, mode) => {
      const fd = await base.open(path, mode);
      names.set(fd, basename(path));
      return fd;
    },
    fsync: async (fd) => {
      await base.fsync(fd);
      log.push(`fsync ${names.get(fd)}`);
    },
    rename: async (from, to) => {
      await base.rename(from, to);
      log.push(`rename ${basename(from)} -> ${basename(to)}`);
    },
    fsyncDir: async (dir) => {
      await base.fsyncDir(dir);
      log.push(`fsyncDir ${basename(dir)}`);
    },
  };
}

describe("outbox archiver", () => {
  test("archives every committed event and acks only after fsync + rename + directory fsync", async () => {
    const auditDir = tempDir();
    const archiveDir = join(auditDir, "archive");
    const outbox = await Outbox.open({ dir: outboxDir(auditDir, 0) });
    const events = manyRequests("a", "adv-1", "2025-02-01T12:00:00Z", 20, 60_000);
    for (const e of events) await outbox.append(JSON.stringify(e));
    const log: string[] = [];
    const ack = outbox.ack.bind(outbox);
    outbox.ack = async (name: string, position: Position) => {
      log.push(`ack ${name}`);
      await ack(name, position);
    };
    const archiver = await startOutboxArchiver({ outbox, archiveDir, flushEveryRecords: 50, flushEveryMs: 20, io: loggingIo(log), encoder: "thread" });
    await until(() => archiver.stats().events === events.length);
    await archiver.stop();

    const back = await readAllArchived(archiveDir);
    expect(back.length).toBe(events.length);
    expect(byId(back)).toEqual(byId(events as ArchivableEvent[]));
    expect(outbox.consumerPosition("archive")).toEqual(outbox.committedPosition());
    // every part: its temp file fsync'd, renamed, the directory fsync'd, all before the ack of its batch
    const acks = log.flatMap((line, i) => (line === "ack archive" ? [i] : []));
    expect(acks.length).toBe(archiver.stats().flushes);
    for (const part of allParts(archiveDir)) {
      const name = basename(part);
      const fsynced = log.indexOf(`fsync ${name}.tmp`);
      const renamed = log.indexOf(`rename ${name}.tmp -> ${name}`);
      const dirSynced = log.indexOf(`fsyncDir ${basename(dirname(part))}`, renamed);
      expect(fsynced).toBeGreaterThanOrEqual(0);
      expect(renamed).toBeGreaterThan(fsynced);
      expect(dirSynced).toBeGreaterThan(renamed);
      expect(acks.some((a) => a > dirSynced)).toBe(true);
    }
    await outbox.close();
  });

  test("nothing is acked while the write is in flight; a failed write is retried, then acked", async () => {
    const auditDir = tempDir();
    const outbox = await Outbox.open({ dir: outboxDir(auditDir, 1) });
    const start = outbox.committedPosition();
    const events = requestEvents({ requestId: "g1", advertiserId: "adv-g", campaignId: "c", at: "2025-02-02T00:00:00Z" });
    for (const e of events) await outbox.append(JSON.stringify(e));
    const real = new ArchiveWriter({ archiveDir: join(auditDir, "archive"), writerId: "w1" });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    const gated: BatchWriter = {
      async writeBatch(batch, key) {
        calls += 1;
        if (calls === 1) throw new Error("disk full (simulated)");
        await gate;
        return real.writeBatch(batch, key);
      },
    };
    const archiver = await startOutboxArchiver({ outbox, archiveDir: join(auditDir, "archive"), writer: gated, flushEveryMs: 5, retryBackoffMs: 10 });
    await until(() => calls >= 2); // the retry is waiting on the gate
    expect(archiver.stats().failures).toBe(1);
    expect(archiver.stats().lastError).toContain("disk full");
    expect(outbox.consumerPosition("archive")).toEqual(start);
    release();
    await until(() => archiver.stats().events === events.length);
    expect(outbox.consumerPosition("archive")).toEqual(outbox.committedPosition());
    await archiver.stop();
    await outbox.close();
  });

  test("a crash after the write but before the ack replays the batch into the same parts: no duplicates", async () => {
    const auditDir = tempDir();
    const archiveDir = join(auditDir, "archive");
    const dir = outboxDir(auditDir, 0);
    let outbox = await Outbox.open({ dir });
    const events = manyRequests("c", "adv-c", "2025-02-03T00:00:00Z", 5, 1_000);
    for (const e of events) await outbox.append(JSON.stringify(e));
    const real = new ArchiveWriter({ archiveDir, writerId: "w0" });
    let crashed!: () => void;
    const crash = new Promise<void>((resolve) => (crashed = resolve));
    const crashing: BatchWriter = {
      async writeBatch(batch, key) {
        await real.writeBatch(batch, key);
        crashed();
        return new Promise(() => {}); // the process dies here: the ack never comes
      },
    };
    await startOutboxArchiver({ outbox, archiveDir, writer: crashing, flushEveryRecords: 1_000, flushEveryMs: 5 });
    await crash;
    const partsBefore = allParts(archiveDir);
    expect((await readAllArchived(archiveDir)).length).toBe(events.length);
    await outbox.close().catch(() => {});

    outbox = await Outbox.open({ dir });
    expect(outbox.consumerPosition("archive")).toEqual(outbox.oldestPosition());
    const archiver = await startOutboxArchiver({ outbox, archiveDir, flushEveryRecords: 1_000, flushEveryMs: 5 });
    await until(() => archiver.stats().events === events.length);
    await archiver.stop();
    expect(allParts(archiveDir)).toEqual(partsBefore);
    expect((await readAllArchived(archiveDir)).length).toBe(events.length);
    await outbox.close();
  });

  test("flushes on time as well as on count; a record that is not an event is kept as 'unparsed'", async () => {
    const auditDir = tempDir();
    const archiveDir = join(auditDir, "archive");
    const outbox = await Outbox.open({ dir: outboxDir(auditDir, 0) });
    const archiver = await startOutboxArchiver({ outbox, archiveDir, flushEveryRecords: 1_000_000, flushEveryMs: 30 });
    const events = requestEvents({ requestId: "t1", advertiserId: "adv-t", campaignId: "c", at: new Date() });
    for (const e of events) await outbox.append(JSON.stringify(e));
    await outbox.append("not json {");
    await outbox.append(JSON.stringify({ event_id: "e-no-time", event_type: "bid", request_id: "t1" }));
    await until(() => archiver.stats().events === events.length + 2);
    expect(archiver.stats().unparsed).toBe(2);
    const back = await readAllArchived(archiveDir);
    const unparsed = back.filter((e) => e.event_type === UNPARSED_TYPE);
    expect(unparsed.map((e) => e.raw).sort()).toEqual(["not json {", JSON.stringify({ event_id: "e-no-time", event_type: "bid", request_id: "t1" })]);
    expect(unparsed.find((e) => String(e.raw).includes("e-no-time"))!.request_id).toBe("t1");
    expect(unparsed.every((e) => /^unparsed:w0:\d+:\d+:0$/.test(e.event_id))).toBe(true);
    await archiver.stop();
    expect(await listParquetFiles(partitionDir(archiveDir, "warm", events[0]!.event_time.slice(0, 10), "adv-t"))).not.toEqual([]);
    await outbox.close();
  });
});
