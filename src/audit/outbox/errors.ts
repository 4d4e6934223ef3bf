// Typed errors of the outbox: the server tells "shed this request" (overloaded, disk failed,
// closed) from programming errors by class or by `code`.
import type { Position } from "./format.ts";

export type OutboxErrorCode =
  | "OUTBOX_DISK_FAILED"
  | "OUTBOX_OVERLOADED"
  | "OUTBOX_CLOSED"
  | "OUTBOX_RECORD_TOO_LARGE"
  | "OUTBOX_CORRUPT"
  | "OUTBOX_POSITION_GONE";

export class OutboxError extends Error {
  constructor(readonly code: OutboxErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A write or fsync failed: nothing appended since is durable; the outbox stays failed until reopened. */
export class OutboxDiskError extends OutboxError {
  constructor(readonly operation: string, cause: unknown) {
    super("OUTBOX_DISK_FAILED", `outbox ${operation} failed: ${(cause as Error)?.message ?? String(cause)}`, { cause });
  }
}

/** More than maxPendingBytes wait to be durable: rejected at once, the caller sheds the request. */
export class OutboxOverloadedError extends OutboxError {
  constructor(readonly pendingBytes: number, readonly maxPendingBytes: number) {
    super("OUTBOX_OVERLOADED", `outbox queue full: ${pendingBytes} bytes pending, limit ${maxPendingBytes}`);
  }
}

export class OutboxClosedError extends OutboxError {
  constructor() {
    super("OUTBOX_CLOSED", "outbox is closed");
  }
}

export class OutboxRecordTooLargeError extends OutboxError {
  constructor(readonly recordBytes: number, readonly maxRecordBytes: number) {
    super("OUTBOX_RECORD_TOO_LARGE", `record of ${recordBytes} bytes exceeds maxRecordBytes ${maxRecordBytes}`);
  }
}

/** Committed data that does not parse (a sealed segment, or below the committed position). */
export class OutboxCorruptionError extends OutboxError {
  constructor(readonly segment: number, readonly offset: number, readonly reason: string) {
    super("OUTBOX_CORRUPT", `outbox segment ${segment} corrupt at offset ${offset}: ${reason}`);
  }
}

/** A reader asked for a position whose segment was already deleted (every consumer acked it). */
export class OutboxPositionGoneError extends OutboxError {
  constructor(readonly position: Position, readonly oldest: Position) {
    super("OUTBOX_POSITION_GONE", `position ${position.segment}:${position.offset} was deleted; oldest is ${oldest.segment}:${oldest.offset}`);
  }
}
