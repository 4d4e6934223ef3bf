// The durable outbox: public API. See outbox.ts for the class, format.ts for the on-disk format.
export { Outbox, outboxDir, type OutboxOptions, type OutboxStats } from "./outbox.ts";
export type { OutboxState } from "./committer.ts";
export type { ConsumableOutbox, FollowableOutbox, SegmentSnapshot } from "./consumable.ts";
export type { RecoveryReport, TruncationReport } from "./segments.ts";
export { OutboxReader, type OutboxRecord } from "./reader.ts";
export { comparePositions, FRAME_HEADER_BYTES, SEGMENT_HEADER_BYTES, type Position } from "./format.ts";
export { nodeIo, type OutboxIo, type OpenMode } from "./io.ts";
export { OUTBOX_DEFAULTS } from "./limits.ts";
export {
  OutboxError, OutboxDiskError, OutboxOverloadedError, OutboxClosedError, OutboxRecordTooLargeError,
  OutboxCorruptionError, OutboxPositionGoneError, type OutboxErrorCode,
} from "./errors.ts";
