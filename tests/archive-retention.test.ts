// Retention with a fake clock: warm partitions move to one verified ZSTD cold file per date +
// advertiser only once their warm period is over; cold files are deleted only once their cold
// period is over; a crash between the cold write and the warm delete (or during the cold write)
// leaves a complete copy, and the next run finishes the move. Runs are idempotent.
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { parquetMetadata } from "hyparquet";
import {
  applyRetention, archiveIo, ArchiveWriter, coldEndsMs, COLD_FILE, partitionDir, readEventsFile, resolveRetentionPolicy, warmEndsMs,
  type ArchivableEvent, type ArchiveIo,
} from "../src/audit/archive/index.ts";
import { manyRequests, requestEvents } from "../src/audit/archive/fixtures.ts";

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "archive-ret-"));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const DAY_MS = 24 * 60 * 60 * 1000;
const policy = resolveRetentionPolicy();

function files(dir: string, suffix = ""): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true }).map(String).filter((p) => p.endsWith(suffix)).sort();
}

const ids = (events: readonly ArchivableEvent[]) => events.map((e) => e.event_id).sort();

/** Writes `events` as warm parts, one call per batch (several parts per partition). */
async function writeWarm(archiveDir: string, ...batches: ArchivableEvent[][]): Promise<void> {
  const writer = new ArchiveWriter({ archiveDir, writerId: "w0" });
  for (const [i, batch] of batches.entries()) await writer.writeBatch(batch, `b${i}`);
}

/** An io whose operation `op` throws `times` times when its path argument matches `match`. */
function failingIo(op: "unlink" | "rename", match: RegExp, times = 1): ArchiveIo & { failures: number } {
  const base = archiveIo();
  const io = {
    ...base,
    failures: 0,
    [op]: async (...args: [string, string]) => {
      if (io.failures < times && match.test(args[0])) {
        io.failures += 1;
        throw Object.assign(new Error(`${op} failed (simulated crash)`), { code: "EIO" });
      }
      return (base[op] as (...a: [string, string]) => Promise<void>)(...args);
    },
  };
  return io;
}

describe("retention policy", () => {
  test("defaults hot 7 days, warm 90 days, cold 7 years; bad values are refused by field", () => {
    expect(policy).toEqual({ hotDays: 7, warmDays: 90, coldYears: 7 });
    expect(resolveRetentionPolicy({ warmDays: 30, coldYears: undefined })).toEqual({ hotDays: 7, warmDays: 30, coldYears: 7 });
    expect(() => resolveRetentionPolicy({ warmDays: 0 })).toThrow(/audit\.retention\.warmDays/);
    expect(() => resolveRetentionPolicy({ coldYears: 1.5 })).toThrow(/audit\.retention\.coldYears/);
    expect(() => resolveRetentionPolicy({ hotDays: 10, warmDays: 5 })).toThrow(/at least hotDays/);
    expect(() => resolveRetentionPolicy({ warmDays: 800, coldYears: 2 })).toThrow(/cover warmDays/);
    expect(new Date(warmEndsMs("2025-01-01", policy)).toISOString()).toBe("2025-04-02T00:00:00.000Z"); // Jan 1 + 1 + 90 days
    expect(new Date(coldEndsMs("2025-01-01", policy)).toISOString()).toBe("2032-01-02T00:00:00.000Z");
  });
});

describe("warm -> cold", () => {
  test("nothing moves a millisecond early; at the boundary parts merge into one verified ZSTD file; a rerun is a no-op", async () => {
    const archiveDir = tempDir();
    const day1 = manyRequests("d1", "adv-1", "2025-01-01T08:00:00Z", 10, 60_000);
    const day1b = manyRequests("d1b", "adv-1", "2025-01-01T20:00:00Z", 5, 60_000);
    const day2 = manyRequests("d2", "adv-1", "2025-01-02T08:00:00Z", 3, 60_000);
    await writeWarm(archiveDir, [...day1, ...day2], day1b, day1.slice(0, 4)); // the last batch repeats 4 events (a replay)
    const warmDay1 = partitionDir(archiveDir, "warm", "2025-01-01", "adv-1");
    expect(files(warmDay1, ".parquet").length).toBe(3);

    const early = await applyRetention({ archiveDir, now: new Date(warmEndsMs("2025-01-01", policy) - 1), policy });
    expect(early.compacted).toEqual([]);
    expect(early.warmKept).toBe(4); // (2 dates) x (adv-1, _none)
    expect(files(join(archiveDir, "cold"))).toEqual([]);

    const now = new Date(warmEndsMs("2025-01-01", policy));
    const report = await applyRetention({ archiveDir, now, policy });
    expect(report.errors).toEqual([]);
    expect(report.compacted.map((c) => `${c.date} ${c.advertiserDir} parts=${c.warmParts} rows=${c.warmRows} cold=${c.coldEvents}`).sort()).toEqual([
      "2025-01-01 _none parts=3 rows=32 cold=30", "2025-01-01 adv-1 parts=3 rows=62 cold=60", // 2 + 2 rows repeated
    ]);
    expect(report.warmKept).toBe(2); // 2025-01-02 stays warm
    expect(existsSync(warmDay1)).toBe(false);
    expect(existsSync(join(archiveDir, "warm", "date=2025-01-01"))).toBe(false);

    const coldFile = join(partitionDir(archiveDir, "cold", "2025-01-01", "adv-1"), COLD_FILE);
    const cold = (await readEventsFile(coldFile))!;
    const want = [...day1, ...day1b].filter((e) => e.advertiser_id === "adv-1");
    expect(ids(cold)).toEqual(ids(want));
    expect(cold.map((e) => e.event_time)).toEqual(cold.map((e) => e.event_time).sort()); // sorted by time
    const wantById = new Map(want.map((e) => [e.event_id, e]));
    for (const e of cold) expect(e).toEqual(wantById.get(e.event_id)!);
    const bytes = readFileSync(coldFile);
    const meta = parquetMetadata(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
    expect(meta.row_groups[0]!.columns[0]!.meta_data!.codec).toBe("ZSTD");
    expect(files(archiveDir, ".tmp")).toEqual([]);

    const tree = files(archiveDir);
    const again = await applyRetention({ archiveDir, now, policy });
    expect(again.compacted).toEqual([]);
    expect(again.coldDeleted).toEqual([]);
    expect(again.coldKept).toBe(2);
    expect(files(archiveDir)).toEqual(tree);
  });

  test("late warm parts for a date already cold are merged into the cold file", async () => {
    const archiveDir = tempDir();
    const first = requestEvents({ requestId: "late-1", advertiserId: "adv-l", campaignId: "c", at: "2024-06-01T10:00:00Z" });
    await writeWarm(archiveDir, first);
    const now = new Date("2025-01-01T00:00:00Z");
    await applyRetention({ archiveDir, now, policy });
    const late = requestEvents({ requestId: "late-2", advertiserId: "adv-l", campaignId: "c", at: "2024-06-01T11:00:00Z" });
    await new ArchiveWriter({ archiveDir, writerId: "w1" }).writeBatch([...late, first[3]!], "replay");
    const report = await applyRetention({ archiveDir, now, policy });
    const merged = report.compacted.find((c) => c.advertiserDir === "adv-l")!;
    expect(merged.rewritten).toBe(true);
    expect(merged.coldEvents).toBe(8); // 4 + 4 with an advertiser; the replayed one counted once
    const cold = await readEventsFile(join(partitionDir(archiveDir, "cold", "2024-06-01", "adv-l"), COLD_FILE));
    expect(ids(cold!)).toEqual(ids([...first, ...late].filter((e) => e.advertiser_id === "adv-l")));
  });
});

describe("crash safety", () => {
  test("crash between the cold write and the warm delete: both copies complete, the next run deletes warm", async () => {
    const archiveDir = tempDir();
    const events = manyRequests("x", "adv-x", "2024-01-15T00:00:00Z", 6, 1_000);
    await writeWarm(archiveDir, events.slice(0, 18), events.slice(18));
    const now = new Date("2024-12-31T00:00:00Z");
    const warmDir = partitionDir(archiveDir, "warm", "2024-01-15", "adv-x");
    const io = failingIo("unlink", /advertiser=adv-x\/part-w0-b1\.parquet$/);
    const crashed = await applyRetention({ archiveDir, now, policy, io });
    expect(io.failures).toBe(1);
    expect(crashed.errors.map((e) => `${e.tier} ${e.advertiserDir} ${e.error}`)).toEqual(["warm adv-x unlink failed (simulated crash)"]);
    const coldFile = join(partitionDir(archiveDir, "cold", "2024-01-15", "adv-x"), COLD_FILE);
    const cold = (await readEventsFile(coldFile))!;
    const want = events.filter((e) => e.advertiser_id === "adv-x");
    expect(ids(cold)).toEqual(ids(want)); // the cold copy is complete
    const warmLeft = files(warmDir, ".parquet");
    expect(warmLeft).toEqual(["part-w0-b1.parquet"]); // b0 went, b1 is still there: nothing lost either way

    const resumed = await applyRetention({ archiveDir, now, policy });
    expect(resumed.errors).toEqual([]);
    expect(resumed.compacted.map((c) => [c.advertiserDir, c.rewritten])).toEqual([["adv-x", false]]);
    expect(existsSync(warmDir)).toBe(false);
    expect(ids((await readEventsFile(coldFile))!)).toEqual(ids(want));
  });

  test("crash during the cold write (before its rename): warm untouched, the next run completes and cleans the temp", async () => {
    const archiveDir = tempDir();
    const events = manyRequests("y", "adv-y", "2024-02-01T00:00:00Z", 4, 1_000);
    await writeWarm(archiveDir, events);
    const now = new Date("2024-12-31T00:00:00Z");
    const io = failingIo("rename", /cold\/.*events\.parquet\.tmp$/, 2);
    const crashed = await applyRetention({ archiveDir, now, policy, io });
    expect(crashed.errors.length).toBe(2); // adv-y and _none
    expect(files(join(archiveDir, "cold"), ".parquet")).toEqual([]);
    expect(files(join(archiveDir, "cold"), ".tmp").length).toBe(2);
    expect(files(join(archiveDir, "warm"), ".parquet").length).toBe(2);

    const resumed = await applyRetention({ archiveDir, now, policy });
    expect(resumed.errors).toEqual([]);
    expect(resumed.compacted.length).toBe(2);
    expect(files(archiveDir, ".tmp")).toEqual([]);
    expect(files(join(archiveDir, "warm"))).toEqual([]);
    const cold = await readEventsFile(join(partitionDir(archiveDir, "cold", "2024-02-01", "adv-y"), COLD_FILE));
    expect(ids(cold!)).toEqual(ids(events.filter((e) => e.advertiser_id === "adv-y")));
  });

  test("a cold file that does not read back right is never trusted: warm parts kept", async () => {
    const archiveDir = tempDir();
    await writeWarm(archiveDir, manyRequests("z", "adv-z", "2024-03-01T00:00:00Z", 3, 1_000));
    const base = archiveIo();
    const corrupting: ArchiveIo = {
      ...base,
      write: (fd, buf, offset, length, position) => {
        const copy = Buffer.from(buf.subarray(offset, offset + length));
        copy.fill(0, Math.floor(length / 3), Math.floor(length / 2)); // the disk returns other bytes
        return base.write(fd, copy, 0, length, position);
      },
    };
    const report = await applyRetention({ archiveDir, now: new Date("2024-12-31T00:00:00Z"), policy, io: corrupting });
    expect(report.compacted).toEqual([]);
    expect(report.errors.length).toBe(2);
    expect(files(join(archiveDir, "warm"), ".parquet").length).toBe(2);
  });

  test("a garbage warm part is reported and left in place with its partition", async () => {
    const archiveDir = tempDir();
    await writeWarm(archiveDir, manyRequests("g", "adv-g", "2024-03-02T00:00:00Z", 2, 1_000));
    const warmDir = partitionDir(archiveDir, "warm", "2024-03-02", "adv-g");
    writeFileSync(join(warmDir, "part-w9-bad.parquet"), "not parquet at all");
    const report = await applyRetention({ archiveDir, now: new Date("2024-12-31T00:00:00Z"), policy });
    expect(report.errors.map((e) => e.advertiserDir)).toEqual(["adv-g"]);
    expect(files(warmDir, ".parquet").map((f) => basename(f))).toEqual(["part-w0-b0.parquet", "part-w9-bad.parquet"]);
  });
});

describe("cold deletion", () => {
  test("cold files are deleted exactly when their 7 years end, and nothing else is", async () => {
    const archiveDir = tempDir();
    await writeWarm(archiveDir, manyRequests("old", "adv-o", "2018-03-10T12:00:00Z", 2, 1_000), manyRequests("new", "adv-o", "2018-03-11T12:00:00Z", 2, 1_000));
    await applyRetention({ archiveDir, now: new Date("2019-01-01T00:00:00Z"), policy });
    const coldOld = partitionDir(archiveDir, "cold", "2018-03-10", "adv-o");
    const coldNew = partitionDir(archiveDir, "cold", "2018-03-11", "adv-o");
    expect(existsSync(join(coldOld, COLD_FILE))).toBe(true);

    const ends = coldEndsMs("2018-03-10", policy);
    expect(new Date(ends).toISOString()).toBe("2025-03-11T00:00:00.000Z");
    const early = await applyRetention({ archiveDir, now: new Date(ends - 1), policy });
    expect(early.coldDeleted).toEqual([]);
    expect(existsSync(join(coldOld, COLD_FILE))).toBe(true);

    const due = await applyRetention({ archiveDir, now: new Date(ends), policy });
    expect(due.coldDeleted.map((d) => `${d.date} ${d.advertiserDir} ${d.files}`).sort()).toEqual(["2018-03-10 _none 1", "2018-03-10 adv-o 1"]);
    expect(existsSync(join(archiveDir, "cold", "date=2018-03-10"))).toBe(false);
    expect(existsSync(join(coldNew, COLD_FILE))).toBe(true);
    expect(due.coldKept).toBe(2);
  });

  test("a shorter policy (warm 30 days, cold 1 year) is honoured", async () => {
    const archiveDir = tempDir();
    const short = { hotDays: 3, warmDays: 30, coldYears: 1 };
    await writeWarm(archiveDir, requestEvents({ requestId: "s", advertiserId: "adv-s", campaignId: "c", at: "2025-01-01T00:00:00Z" }));
    const kept = await applyRetention({ archiveDir, now: new Date("2025-01-31T23:59:59Z"), policy: short });
    expect(kept.compacted).toEqual([]);
    const moved = await applyRetention({ archiveDir, now: new Date("2025-02-01T00:00:00Z"), policy: short });
    expect(moved.compacted.length).toBe(2);
    const stay = await applyRetention({ archiveDir, now: new Date("2026-01-01T23:59:59Z"), policy: short });
    expect(stay.coldDeleted).toEqual([]);
    const gone = await applyRetention({ archiveDir, now: new Date("2026-01-02T00:00:00Z"), policy: short });
    expect(gone.coldDeleted.length).toBe(2);
    expect(files(archiveDir, ".parquet")).toEqual([]);
  });
});
