// The audit archive (warm and cold Parquet tiers) and its retention: public API. See README.md.
export { ArchiveWriter, groupByPartition, type ArchiveWriterOptions, type BatchWriter, type WrittenPart } from "./writer.ts";
export {
  startOutboxArchiver, recordEvents, ARCHIVE_CONSUMER, UNPARSED_TYPE,
  type OutboxArchiver, type OutboxArchiverOptions, type ArchiverStats,
} from "./archiver.ts";
export {
  applyRetention, resolveRetentionPolicy, summarizeRetention, warmEndsMs, coldEndsMs,
  type RetentionOptions, type RetentionPolicy, type RetentionReport,
} from "./retention.ts";
export { compactPartition, ColdVerificationError, mergeEvents, compareEvents, type CompactionResult } from "./compact.ts";
export { readEventsFile, readEvents, encodeEvents, type ArchiveCodec, type EncodeOptions, type ReadFilter } from "./parquet.ts";
export { archivableProblem, eventTimeMs, type ArchivableEvent } from "./columns.ts";
export { archiveIo, type ArchiveIo } from "./durable.ts";
export { inlineEncoder, threadEncoder, ENCODE_WORKER_URL, type Encoder, type ThreadEncoder } from "./encoder.ts";
export {
  archiveDirOf, advertiserDirName, partitionDir, listDates, listPartitions, listParquetFiles, utcDate, datesBetween,
  COLD_FILE, NO_ADVERTISER_DIR, type PartitionRef, type Tier,
} from "./layout.ts";
export { ARCHIVE_DEFAULTS, RETENTION_DEFAULTS } from "./limits.ts";
