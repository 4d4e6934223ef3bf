// Named limits and defaults of the durable outbox. Every number the outbox uses lives here, units last.

export const OUTBOX_DEFAULTS = {
  /** Longest time a record waits in memory before its group's durable write starts. 0: as soon as the
   *  commit in flight (if any) ends; records appended meanwhile form the next group. Measured under the
   *  overload chaos run: 0 vs 2 ms halved the commit wait's median (<= 1 ms vs <= 5 ms at 2,500 rps). */
  commitWindowMs: 0,
  /** Where a group's durable write runs (committer.ts): "loop" (end of the event loop's turn) or "pool". */
  commitWrites: "loop" as "loop" | "pool",
  /** A group larger than this is written on the thread pool even in "loop" mode (it would block the loop too long). */
  loopWriteMaxBytes: 256 * 1024,
  /** An in-loop durable write slower than this (the disk is slow now) moves commits to the thread pool... */
  loopWriteSlowMs: 5,
  /** ... for this long, then the loop tries again (doubled for each slow write in a row, see below). Measured
   *  on the 2-core box under the overload chaos load: 6 writes of 2-15 ms in 30 s over 2 workers (most
   *  of 3-8 KiB: the thread preempted, or the shared disk busy); 2 ms and 10 s kept the workers on the
   *  pool half the time. */
  loopWriteBackoffMs: 1_000,
  /** A segment file rotates before a record would take it past this size. */
  segmentBytes: 64 * 1024 * 1024,
  /** The largest record append accepts (the payload, without its 8-byte frame header). */
  maxRecordBytes: 1024 * 1024,
  /** A group (one write + fsync) is sealed at this size and committed at once. */
  maxBatchBytes: 4 * 1024 * 1024,
  /** Bytes appended but not yet fsync'd above which append rejects at once (OutboxOverloadedError). */
  maxPendingBytes: 32 * 1024 * 1024,
  /** Bytes not yet fsync'd at or above which healthy() turns false (the server sheds new requests). */
  shedAtPendingBytes: 16 * 1024 * 1024,
  /** A commit (write + fsync) in flight for longer than this makes healthy() false until it ends. */
  slowCommitMs: 50,
  /** Bytes a reader or the recovery scan reads from a segment file per read call. */
  readChunkBytes: 1024 * 1024,
} as const;

/** Slow in-loop writes in a row double the pool time up to this many times loopWriteBackoffMs (a disk slow for good: one blocked write a minute). */
export const LOOP_WRITE_MAX_BACKOFF_FACTOR = 64;
/** Batch buffers kept for reuse after their commit (each maxBatchBytes large). */
export const SPARE_BATCH_BUFFERS = 2;
/** Records a reader returns per read() unless told otherwise. */
export const DEFAULT_READ_RECORDS = 1024;
/** Consumer names: what may appear in the checkpoint file. */
export const CONSUMER_NAME_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;
