// Where archived events live on disk: one directory per tier, date (UTC day of event_time) and
// advertiser, holding Parquet files.
//
//   <archiveDir>/warm/date=2025-03-01/advertiser=adv-1/part-w0-00000000000000000002-000000004096.parquet
//   <archiveDir>/warm/date=2025-03-01/advertiser=_none/part-...parquet     (events with advertiser_id "")
//   <archiveDir>/cold/date=2024-11-20/advertiser=adv-1/events.parquet       (one compacted file)
import { createHash } from "node:crypto";
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { MAX_PARTITION_NAME_CHARS, MS_PER_DAY } from "./limits.ts";

export type Tier = "warm" | "cold";

export const NO_ADVERTISER_DIR = "_none";
export const PARQUET_SUFFIX = ".parquet";
export const TEMP_SUFFIX = ".tmp";
export const COLD_FILE = "events" + PARQUET_SUFFIX;
const DATE_PREFIX = "date=";
const ADVERTISER_PREFIX = "advertiser=";
const DATE_PATTERN = /^\d{4}-\d{2}-\d{2}$/;
const HASH_HEX_CHARS = 16;

/** The archive directory under the configured audit directory. */
export function archiveDirOf(auditDir: string): string {
  return join(auditDir, "archive");
}

export function tierDir(archiveDir: string, tier: Tier): string {
  return join(archiveDir, tier);
}

/**
 * The directory name of an advertiser: "_none" for "", else the URI-encoded id (a leading "_" or a
 * name of dots escaped so that no id collides with "_none", ".", ".."); a long id keeps a prefix
 * and gains a hash of the whole id.
 */
export function advertiserDirName(advertiserId: string): string {
  if (advertiserId === "") return ADVERTISER_PREFIX + NO_ADVERTISER_DIR;
  let name = encodeURIComponent(advertiserId).replace(/^_/, "%5F");
  if (/^\.+$/.test(name)) name = name.replaceAll(".", "%2E");
  if (name.length > MAX_PARTITION_NAME_CHARS) {
    const hash = createHash("sha256").update(advertiserId).digest("hex").slice(0, HASH_HEX_CHARS);
    name = `${name.slice(0, MAX_PARTITION_NAME_CHARS - HASH_HEX_CHARS - 1)}~${hash}`;
  }
  return ADVERTISER_PREFIX + name;
}

export function dateDirName(date: string): string {
  return DATE_PREFIX + date;
}

export function partitionDir(archiveDir: string, tier: Tier, date: string, advertiserId: string): string {
  return join(tierDir(archiveDir, tier), dateDirName(date), advertiserDirName(advertiserId));
}

/** The UTC day (YYYY-MM-DD) of a time in milliseconds. */
export function utcDate(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Milliseconds at the start of a UTC day (YYYY-MM-DD). */
export function dayStartMs(date: string): number {
  return Date.parse(`${date}T00:00:00.000Z`);
}

/** The UTC days from the one holding `fromMs` to the one holding `toMs` (inclusive), in order. */
export function datesBetween(fromMs: number, toMs: number): string[] {
  const dates: string[] = [];
  for (let day = dayStartMs(utcDate(fromMs)); day <= toMs; day += MS_PER_DAY) dates.push(utcDate(day));
  return dates;
}

export interface PartitionRef {
  tier: Tier;
  date: string;
  /** The directory name after "advertiser=" (encoded; "_none" for no advertiser). */
  advertiserDir: string;
  dir: string;
}

/** The dates present in a tier (from the date=... directory names), oldest first. */
export async function listDates(archiveDir: string, tier: Tier): Promise<string[]> {
  const names = await readdirOrEmpty(tierDir(archiveDir, tier));
  return names
    .filter((n) => n.startsWith(DATE_PREFIX) && DATE_PATTERN.test(n.slice(DATE_PREFIX.length)))
    .map((n) => n.slice(DATE_PREFIX.length))
    .sort();
}

/** The advertiser partitions of one date of a tier. */
export async function listPartitions(archiveDir: string, tier: Tier, date: string): Promise<PartitionRef[]> {
  const dateDir = join(tierDir(archiveDir, tier), dateDirName(date));
  const names = await readdirOrEmpty(dateDir);
  return names
    .filter((n) => n.startsWith(ADVERTISER_PREFIX))
    .sort()
    .map((n) => ({ tier, date, advertiserDir: n.slice(ADVERTISER_PREFIX.length), dir: join(dateDir, n) }));
}

/** The finished Parquet files of a partition directory (temporary files left out), sorted by name. */
export async function listParquetFiles(dir: string): Promise<string[]> {
  const names = await readdirOrEmpty(dir);
  return names.filter((n) => n.endsWith(PARQUET_SUFFIX)).sort().map((n) => join(dir, n));
}

export async function readdirOrEmpty(dir: string): Promise<string[]> {
  try {
    return await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
}
