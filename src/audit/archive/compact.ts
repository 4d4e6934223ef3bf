// Moving one warm partition (date + advertiser) to the cold tier: its parts, merged with the cold
// file if one exists already, deduplicated by event_id and sorted by time, are written as one ZSTD
// file (atomically), which is then read back from disk and checked (row count, every event_id)
// before the warm parts are deleted. A crash at any step leaves the warm parts or a complete,
// verified cold file (or both: the next run sees the warm ids in the cold file and deletes them).
import { readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { eventTimeMs, type ArchivableEvent } from "./columns.ts";
import { ensureDir, pruneEmptyDirs, unlinkAll, writeFileAtomic, type ArchiveIo } from "./durable.ts";
import { COLD_FILE, dateDirName, listParquetFiles, readdirOrEmpty, TEMP_SUFFIX, tierDir, type PartitionRef } from "./layout.ts";
import { countRows, encodeEvents, readEvents, readEventsFile } from "./parquet.ts";
import { COLD_CODEC, COLD_ROW_GROUP_ROWS, STALE_TEMP_MS } from "./limits.ts";

/** Partition directory levels above the files: advertiser=..., date=... */
const PARTITION_LEVELS = 2;

export interface CompactionResult {
  date: string;
  advertiserDir: string;
  coldFile: string;
  /** Warm part files moved (deleted after the cold file was verified). */
  warmParts: number;
  /** Rows read from them (a replayed batch may repeat events). */
  warmRows: number;
  /** Distinct events in the cold file after the move. */
  coldEvents: number;
  /** False when the cold file already held every warm event (a crash came before the deletes). */
  rewritten: boolean;
}

export class ColdVerificationError extends Error {
  constructor(path: string, reason: string) {
    super(`cold file ${path} failed verification: ${reason}; warm parts kept`);
    this.name = "ColdVerificationError";
  }
}

export function coldPartitionDir(archiveDir: string, warm: PartitionRef): string {
  return join(tierDir(archiveDir, "cold"), dateDirName(warm.date), `advertiser=${warm.advertiserDir}`);
}

export async function compactPartition(io: ArchiveIo, archiveDir: string, warm: PartitionRef): Promise<CompactionResult | null> {
  const coldDir = coldPartitionDir(archiveDir, warm);
  const coldPath = join(coldDir, COLD_FILE);
  await removeTemps(io, warm.dir, STALE_TEMP_MS);
  await removeTemps(io, coldDir, 0); // only retention writes cold files: any temp is a crash's leftover
  const warmFiles = await listParquetFiles(warm.dir);
  if (warmFiles.length === 0) {
    await pruneEmptyDirs(io, warm.dir, PARTITION_LEVELS);
    return null;
  }
  const existing = (await readEventsFile(coldPath)) ?? [];
  const warmEvents = await readAll(warmFiles);
  const known = new Set(existing.map((e) => e.event_id));
  const rewritten = warmEvents.some((e) => !known.has(e.event_id));
  const expected = rewritten ? mergeEvents(existing, warmEvents) : existing;
  if (rewritten) {
    await ensureDir(io, archiveDir, coldDir);
    await writeFileAtomic(io, coldPath, encodeEvents(expected, { codec: COLD_CODEC, rowGroupRows: COLD_ROW_GROUP_ROWS }));
  }
  await verifyColdFile(coldPath, expected.length, warmEvents);
  await unlinkAll(io, warm.dir, warmFiles.map((f) => basename(f)));
  await pruneEmptyDirs(io, warm.dir, PARTITION_LEVELS);
  return {
    date: warm.date, advertiserDir: warm.advertiserDir, coldFile: coldPath, warmParts: warmFiles.length,
    warmRows: warmEvents.length, coldEvents: expected.length, rewritten,
  };
}

async function readAll(files: string[]): Promise<ArchivableEvent[]> {
  const events: ArchivableEvent[] = [];
  for (const file of files) {
    const got = await readEventsFile(file);
    if (got === null) throw new Error(`warm part ${file} vanished during compaction (another retention run?)`);
    events.push(...got);
  }
  return events;
}

/** `first` then `second`, deduplicated by event_id (the first copy kept), sorted by time then id. */
export function mergeEvents(first: readonly ArchivableEvent[], second: readonly ArchivableEvent[]): ArchivableEvent[] {
  const byId = new Map<string, ArchivableEvent>();
  for (const event of [...first, ...second]) if (!byId.has(event.event_id)) byId.set(event.event_id, event);
  return [...byId.values()].sort(compareEvents);
}

export function compareEvents(a: ArchivableEvent, b: ArchivableEvent): number {
  const dt = eventTimeMs(a) - eventTimeMs(b);
  if (dt !== 0 && Number.isFinite(dt)) return dt;
  return a.event_id < b.event_id ? -1 : a.event_id > b.event_id ? 1 : 0;
}

/** Reads the cold file back from disk: the footer and the rows agree, ids are distinct, and every warm id is there. */
export async function verifyColdFile(path: string, expectedRows: number, mustContain: readonly ArchivableEvent[]): Promise<void> {
  const bytes = await readFileOrNull(path);
  if (bytes === null) throw new ColdVerificationError(path, "missing");
  const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  const footerRows = await countRows(file);
  if (footerRows !== expectedRows) throw new ColdVerificationError(path, `footer says ${footerRows} rows, expected ${expectedRows}`);
  const events = await readEvents(file);
  if (events.length !== expectedRows) throw new ColdVerificationError(path, `${events.length} rows read, expected ${expectedRows}`);
  const ids = new Set(events.map((e) => e.event_id));
  if (ids.size !== events.length) throw new ColdVerificationError(path, "duplicate event_id");
  const missing = mustContain.find((e) => !ids.has(e.event_id));
  if (missing !== undefined) throw new ColdVerificationError(path, `event ${missing.event_id} missing`);
}

async function readFileOrNull(path: string): Promise<Buffer | null> {
  try {
    return await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}

/** Removes `*.tmp` files of a directory last modified more than `olderThanMs` ago (by the real clock). */
async function removeTemps(io: ArchiveIo, dir: string, olderThanMs: number): Promise<void> {
  const stale: string[] = [];
  for (const name of await readdirOrEmpty(dir)) {
    if (!name.endsWith(TEMP_SUFFIX)) continue;
    const mtime = await io.mtimeMs(join(dir, name));
    if (mtime !== null && Date.now() - mtime >= olderThanMs) stale.push(name);
  }
  await unlinkAll(io, dir, stale);
}
