// Outbox options: defaults from limits.ts, checked once at open (a bad value is a RangeError).
import { FRAME_HEADER_BYTES, SEGMENT_HEADER_BYTES } from "./format.ts";
import type { CommitLimits } from "./committer.ts";
import { OUTBOX_DEFAULTS } from "./limits.ts";

/** The format's own bound: a frame's length field is a u32 and a reader buffers one whole record. */
const FORMAT_MAX_RECORD_BYTES = 256 * 1024 * 1024;

export function resolveLimits(options: Partial<CommitLimits>): CommitLimits {
  const segmentBytes = options.segmentBytes ?? OUTBOX_DEFAULTS.segmentBytes;
  const limits: CommitLimits = {
    commitWindowMs: options.commitWindowMs ?? OUTBOX_DEFAULTS.commitWindowMs,
    commitWrites: options.commitWrites ?? OUTBOX_DEFAULTS.commitWrites,
    loopWriteMaxBytes: options.loopWriteMaxBytes ?? OUTBOX_DEFAULTS.loopWriteMaxBytes,
    loopWriteSlowMs: options.loopWriteSlowMs ?? OUTBOX_DEFAULTS.loopWriteSlowMs,
    loopWriteBackoffMs: options.loopWriteBackoffMs ?? OUTBOX_DEFAULTS.loopWriteBackoffMs,
    segmentBytes,
    // a small segment (tests) lowers the default so that one record still fits
    maxRecordBytes: options.maxRecordBytes ?? Math.min(OUTBOX_DEFAULTS.maxRecordBytes, segmentBytes - SEGMENT_HEADER_BYTES - FRAME_HEADER_BYTES),
    maxBatchBytes: options.maxBatchBytes ?? OUTBOX_DEFAULTS.maxBatchBytes,
    maxPendingBytes: options.maxPendingBytes ?? OUTBOX_DEFAULTS.maxPendingBytes,
    shedAtPendingBytes: options.shedAtPendingBytes ?? Math.min(OUTBOX_DEFAULTS.shedAtPendingBytes, options.maxPendingBytes ?? Infinity),
    slowCommitMs: options.slowCommitMs ?? OUTBOX_DEFAULTS.slowCommitMs,
  };
  checkLimits(limits);
  return limits;
}

function checkLimits(l: CommitLimits): void {
  if (!(l.commitWindowMs >= 0 && Number.isFinite(l.commitWindowMs))) fail("commitWindowMs", "a finite number >= 0");
  if (!(l.slowCommitMs > 0 && Number.isFinite(l.slowCommitMs))) fail("slowCommitMs", "a finite number > 0");
  if (l.commitWrites !== "loop" && l.commitWrites !== "pool") fail("commitWrites", `"loop" or "pool"`);
  if (!(l.loopWriteSlowMs > 0 && Number.isFinite(l.loopWriteSlowMs))) fail("loopWriteSlowMs", "a finite number > 0");
  if (!(l.loopWriteBackoffMs >= 0 && Number.isFinite(l.loopWriteBackoffMs))) fail("loopWriteBackoffMs", "a finite number >= 0");
  for (const key of ["loopWriteMaxBytes", "segmentBytes", "maxRecordBytes", "maxBatchBytes", "maxPendingBytes", "shedAtPendingBytes"] as const) {
    if (!Number.isSafeInteger(l[key]) || l[key] <= 0) fail(key, "a positive integer");
  }
  if (l.maxRecordBytes > FORMAT_MAX_RECORD_BYTES) fail("maxRecordBytes", `at most ${FORMAT_MAX_RECORD_BYTES}`);
  const largestFrame = FRAME_HEADER_BYTES + l.maxRecordBytes;
  if (SEGMENT_HEADER_BYTES + largestFrame > l.segmentBytes) fail("segmentBytes", `at least ${SEGMENT_HEADER_BYTES + largestFrame} (one largest record)`);
  if (largestFrame > l.maxPendingBytes) fail("maxPendingBytes", `at least ${largestFrame} (one largest record)`);
  if (l.shedAtPendingBytes > l.maxPendingBytes) fail("shedAtPendingBytes", "at most maxPendingBytes");
}

function fail(key: string, what: string): never {
  throw new RangeError(`outbox option ${key} must be ${what}`);
}
