// The archive tiers as query sources. The partitioning limits what is read: only the date
// directories overlapping [from, to), and for an advertiser query only that advertiser's
// directory; a request-id lookup skips row groups by their request_id bloom filter.
import { datesBetween, dayStartMs, listDates, listParquetFiles, listPartitions, partitionDir, archiveDirOf, type Tier } from "../archive/layout.ts";
import { readEventsFile } from "../archive/parquet.ts";
import { MS_PER_DAY } from "../archive/limits.ts";
import { matchesFilter, type AuditEventRecord, type AuditFilter, type AuditSource, type SourceResult } from "./types.ts";

/** Past this many days an advertiser query lists the dates present instead of naming each day. */
const MAX_NAMED_DAYS = 4_000;

export function archiveSource(tier: Tier): AuditSource {
  return {
    name: tier,
    async find(auditDir: string, filter: AuditFilter): Promise<SourceResult> {
      const archiveDir = archiveDirOf(auditDir);
      const events: AuditEventRecord[] = [];
      let files = 0;
      for (const dir of await partitionDirs(archiveDir, tier, filter)) {
        for (const file of await listParquetFiles(dir)) {
          const got = await readEventsFile(file, { requestId: filter.requestId });
          if (got === null) continue; // moved to cold (or deleted) under us: cold is read after warm
          files += 1;
          for (const event of got) if (matchesFilter(event, filter)) events.push(event);
        }
      }
      return { events, files };
    },
  };
}

async function partitionDirs(archiveDir: string, tier: Tier, filter: AuditFilter): Promise<string[]> {
  const dates = await relevantDates(archiveDir, tier, filter);
  if (filter.advertiserId !== undefined) {
    const advertiserId = filter.advertiserId;
    return dates.map((date) => partitionDir(archiveDir, tier, date, advertiserId));
  }
  const dirs: string[] = [];
  for (const date of dates) for (const p of await listPartitions(archiveDir, tier, date)) dirs.push(p.dir);
  return dirs;
}

/** The dates whose UTC day overlaps [from, to). */
async function relevantDates(archiveDir: string, tier: Tier, filter: AuditFilter): Promise<string[]> {
  const bounded = Number.isFinite(filter.fromMs) && Number.isFinite(filter.toMs);
  if (bounded && filter.toMs <= filter.fromMs) return [];
  if (bounded && (filter.toMs - filter.fromMs) / MS_PER_DAY <= MAX_NAMED_DAYS) return datesBetween(filter.fromMs, filter.toMs - 1);
  const present = await listDates(archiveDir, tier);
  return present.filter((d) => dayStartMs(d) < filter.toMs && dayStartMs(d) + MS_PER_DAY > filter.fromMs);
}
