// The retention policy of the audit trail and its application to the archive.
//   hot  (hotDays):   the outbox segments and the billing ledger; enforced by their owners.
//   warm (warmDays):  Parquet parts under archive/warm, kept until a partition's whole day is older
//                     than warmDays, then moved (compacted, verified) to archive/cold.
//   cold (coldYears): one ZSTD Parquet file per date + advertiser, deleted once its day is older
//                     than coldYears: the only deletion of archived events.
// applyRetention is idempotent (a second run with the same `now` does nothing) and crash-safe
// (see compact.ts). Run one at a time (one process, e.g. the main thread on a timer).
import { archiveIo, pruneEmptyDirs, unlinkAll, type ArchiveIo } from "./durable.ts";
import { compactPartition, type CompactionResult } from "./compact.ts";
import { dayStartMs, listDates, listPartitions, readdirOrEmpty, type PartitionRef, type Tier } from "./layout.ts";
import { MS_PER_DAY, RETENTION_DEFAULTS, RETENTION_MAX } from "./limits.ts";

export interface RetentionPolicy {
  hotDays: number;
  warmDays: number;
  coldYears: number;
}

/** The policy with defaults filled in; a RangeError naming the field (`audit.retention.<field>`) when invalid. */
export function resolveRetentionPolicy(partial: Partial<RetentionPolicy> = {}): RetentionPolicy {
  const policy: RetentionPolicy = { ...RETENTION_DEFAULTS, ...stripUndefined(partial) };
  for (const key of ["hotDays", "warmDays", "coldYears"] as const) {
    const value = policy[key];
    if (!Number.isSafeInteger(value) || value < 1 || value > RETENTION_MAX[key]) {
      throw new RangeError(`audit.retention.${key}: must be an integer from 1 to ${RETENTION_MAX[key]}, got ${value}`);
    }
  }
  if (policy.warmDays < policy.hotDays) throw new RangeError(`audit.retention.warmDays: must be at least hotDays (${policy.hotDays})`);
  if (policy.coldYears * 365 < policy.warmDays) throw new RangeError(`audit.retention.coldYears: must cover warmDays (${policy.warmDays} days)`);
  return policy;
}

function stripUndefined(partial: Partial<RetentionPolicy>): Partial<RetentionPolicy> {
  return Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined));
}

/** When a warm partition of `date` moves to cold: once its whole day is warmDays old. */
export function warmEndsMs(date: string, policy: RetentionPolicy): number {
  return dayStartMs(date) + (1 + policy.warmDays) * MS_PER_DAY;
}

/** When a cold partition of `date` may be deleted: once its whole day is coldYears old (calendar years, UTC). */
export function coldEndsMs(date: string, policy: RetentionPolicy): number {
  const end = new Date(dayStartMs(date) + MS_PER_DAY);
  end.setUTCFullYear(end.getUTCFullYear() + policy.coldYears);
  return end.getTime();
}

export interface RetentionOptions {
  archiveDir: string;
  now: Date;
  policy?: Partial<RetentionPolicy>;
  io?: ArchiveIo;
}

export interface RetentionReport {
  now: string;
  policy: RetentionPolicy;
  /** Warm partitions moved to cold in this run. */
  compacted: CompactionResult[];
  /** Warm partitions still inside the warm period. */
  warmKept: number;
  /** Cold partitions deleted: their retention had ended. */
  coldDeleted: { date: string; advertiserDir: string; files: number }[];
  coldKept: number;
  /** Partitions that failed (left as they were; the next run tries again). */
  errors: { tier: Tier; date: string; advertiserDir: string; error: string }[];
}

export async function applyRetention(options: RetentionOptions): Promise<RetentionReport> {
  const policy = resolveRetentionPolicy(options.policy);
  const io = options.io ?? archiveIo();
  const now = options.now.getTime();
  if (!Number.isFinite(now)) throw new RangeError("applyRetention: now is not a valid date");
  const report: RetentionReport = { now: options.now.toISOString(), policy, compacted: [], warmKept: 0, coldDeleted: [], coldKept: 0, errors: [] };
  await moveWarmToCold(io, options.archiveDir, now, policy, report);
  await deleteExpiredCold(io, options.archiveDir, now, policy, report);
  return report;
}

async function moveWarmToCold(io: ArchiveIo, archiveDir: string, now: number, policy: RetentionPolicy, report: RetentionReport): Promise<void> {
  for (const date of await listDates(archiveDir, "warm")) {
    const partitions = await listPartitions(archiveDir, "warm", date);
    if (warmEndsMs(date, policy) > now) {
      report.warmKept += partitions.length;
      continue;
    }
    for (const partition of partitions) {
      await guarded(report, partition, async () => {
        const result = await compactPartition(io, archiveDir, partition);
        if (result !== null) report.compacted.push(result);
      });
    }
  }
}

async function deleteExpiredCold(io: ArchiveIo, archiveDir: string, now: number, policy: RetentionPolicy, report: RetentionReport): Promise<void> {
  for (const date of await listDates(archiveDir, "cold")) {
    const partitions = await listPartitions(archiveDir, "cold", date);
    if (coldEndsMs(date, policy) > now) {
      report.coldKept += partitions.length;
      continue;
    }
    for (const partition of partitions) {
      await guarded(report, partition, async () => {
        const files = await readdirOrEmpty(partition.dir);
        await unlinkAll(io, partition.dir, files);
        await pruneEmptyDirs(io, partition.dir, 2);
        report.coldDeleted.push({ date, advertiserDir: partition.advertiserDir, files: files.length });
      });
    }
  }
}

async function guarded(report: RetentionReport, partition: PartitionRef, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (err) {
    const error = String((err as Error)?.message ?? err);
    report.errors.push({ tier: partition.tier, date: partition.date, advertiserDir: partition.advertiserDir, error });
  }
}

/** The retention report as one log line. */
export function summarizeRetention(report: RetentionReport): string {
  return JSON.stringify({
    level: report.errors.length > 0 ? "warn" : "info", msg: "audit retention", now: report.now,
    compacted: report.compacted.length, warmKept: report.warmKept, coldDeleted: report.coldDeleted.length,
    coldKept: report.coldKept, errors: report.errors.map((e) => `${e.tier}/${e.date}/${e.advertiserDir}: ${e.error}`),
  });
}

