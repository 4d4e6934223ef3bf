// Group commit: records appended from many concurrent requests are framed into a shared batch
// buffer; one durable write per batch (the active segment is O_DSYNC) makes them durable, then every append of the batch
// resolves (they share one promise: no promise per record). Batches commit one at a time, in
// append order, so records are never reordered. A batch commits when its first record has waited
// commitWindowMs, when it is full, or at once while the outbox flushes or closes.
//
// Where the durable write runs (commitWrites):
// - "loop": on the event-loop thread, at the end of the current turn of the loop (setImmediate), as
//   Redis writes its append-only file before it answers (appendfsync always): every record appended
//   during the turn joins the group, and the answers waiting on it go on in the same turn. A write on
//   the thread pool instead costs its waiters a second turn of the loop for the completion to come
//   back, and on a loop busy with auctions each turn is milliseconds. The write blocks the loop for
//   its duration (about 0.1 ms for a turn's records on a local SSD), so a group above
//   loopWriteMaxBytes goes to the pool, and a write that blocked longer than loopWriteSlowMs moves
//   commits to the pool for loopWriteBackoffMs, doubled for each slow write in a row (up to
//   LOOP_WRITE_MAX_BACKOFF_FACTOR times): a slow disk must not stall the requests that do not wait on
//   it, while one slow write (a busy moment of a shared disk, or the thread preempted mid-write) costs
//   only a second on the pool. A segment rotation (several files and syncs) always runs on the pool.
// - "pool": on the thread pool (node:fs's asynchronous write); the loop never waits for the disk.
import { FRAME_HEADER_BYTES, frameBytes, sealFrame, SEGMENT_HEADER_BYTES } from "./format.ts";
import type { SegmentStore } from "./segments.ts";
import { LOOP_WRITE_MAX_BACKOFF_FACTOR, SPARE_BATCH_BUFFERS } from "./limits.ts";
import {
  OutboxClosedError, OutboxDiskError, OutboxOverloadedError, OutboxRecordTooLargeError, type OutboxError,
} from "./errors.ts";

/** Where a group's durable write runs: the event-loop thread at the end of its turn, or the thread pool. */
export type CommitWrites = "loop" | "pool";

export interface CommitLimits {
  commitWindowMs: number;
  commitWrites: CommitWrites;
  /** A group larger than this is written on the pool even in "loop" mode. */
  loopWriteMaxBytes: number;
  /** An in-loop write slower than this moves commits to the pool... */
  loopWriteSlowMs: number;
  /** ... for this long. */
  loopWriteBackoffMs: number;
  segmentBytes: number;
  maxRecordBytes: number;
  maxBatchBytes: number;
  maxPendingBytes: number;
  shedAtPendingBytes: number;
  slowCommitMs: number;
}

export type OutboxState = "ok" | "slow" | "overloaded" | "failed" | "closed";

export interface CommitStats {
  appendedRecords: number;
  committedRecords: number;
  committedBytes: number;
  /** Group commits: one durable write each. */
  commits: number;
  /** Of those, written on the event-loop thread; the rest on the thread pool. */
  loopCommits: number;
  /** In-loop writes slower than loopWriteSlowMs (each moved commits to the pool for a while). */
  slowLoopWrites: number;
  rotations: number;
  rejectedRecords: number;
  lastCommitMs: number;
  maxCommitMs: number;
}

interface Batch {
  buf: Buffer;
  used: number;
  records: number;
  /** The batch starts a new segment (the previous one would exceed segmentBytes). */
  rotate: boolean;
  sealed: boolean;
  firstAtMs: number;
  done: Promise<void>;
  resolve: () => void;
  reject: (err: Error) => void;
}

const ignore = () => {};

export class GroupCommitter {
  private queue: Batch[] = [];
  private readonly spare: Buffer[] = [];
  private pendingBytes = 0;
  private pendingRecords = 0;
  /** The active segment's size once every queued batch is written. */
  private projectedSegmentBytes: number;
  private committing = false;
  private commitStartedAt = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  /** An in-loop commit is due at the end of this turn of the loop. */
  private turnEndCommit = false;
  /** Until then (performance.now() ms) commits go to the pool: an in-loop write was slow. */
  private poolUntilMs = 0;
  /** The pool time after the next slow in-loop write (doubles while they keep coming). */
  private backoffMs: number;
  private failure: OutboxDiskError | null = null;
  private closed = false;
  readonly stats: CommitStats = {
    appendedRecords: 0, committedRecords: 0, committedBytes: 0, commits: 0, loopCommits: 0, slowLoopWrites: 0, rotations: 0,
    rejectedRecords: 0, lastCommitMs: 0, maxCommitMs: 0,
  };

  constructor(private readonly store: SegmentStore, private readonly limits: CommitLimits, private readonly onCommit: () => void) {
    this.projectedSegmentBytes = store.committed().offset;
    this.backoffMs = limits.loopWriteBackoffMs;
  }

  append(record: Uint8Array | string): Promise<void> {
    const payloadBytes = typeof record === "string" ? Buffer.byteLength(record, "utf8") : record.byteLength;
    const refusal = this.refusal(frameBytes(payloadBytes));
    if (refusal !== null) return this.reject(refusal);
    const size = frameBytes(payloadBytes);
    const batch = this.batchFor(size);
    const at = batch.used;
    if (typeof record === "string") batch.buf.write(record, at + FRAME_HEADER_BYTES, payloadBytes, "utf8");
    else batch.buf.set(record, at + FRAME_HEADER_BYTES);
    sealFrame(batch.buf, at, payloadBytes);
    batch.used += size;
    batch.records++;
    this.pendingBytes += size;
    this.pendingRecords++;
    this.stats.appendedRecords++;
    this.schedule();
    return batch.done;
  }

  /** Commits everything appended so far without waiting for the window; resolves when it is durable. */
  flush(): Promise<void> {
    const last = this.queue[this.queue.length - 1];
    if (last === undefined) return this.failure ? Promise.reject(this.failure) : Promise.resolve();
    last.sealed = true;
    this.schedule();
    return last.done;
  }

  /** Refuses new appends, commits what is queued. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.flush().catch(ignore);
    this.clearTimer();
  }

  state(): OutboxState {
    if (this.closed) return "closed";
    if (this.failure !== null) return "failed";
    if (this.committing && performance.now() - this.commitStartedAt > this.limits.slowCommitMs) return "slow";
    if (this.pendingBytes >= this.limits.shedAtPendingBytes) return "overloaded";
    return "ok";
  }

  get failed(): OutboxDiskError | null {
    return this.failure;
  }

  /** Bytes appended and not yet durable (including the commit in flight). */
  get queuedBytes(): number {
    return this.pendingBytes;
  }

  get queuedRecords(): number {
    return this.pendingRecords;
  }

  private refusal(size: number): OutboxError | null {
    if (this.failure !== null) return this.failure;
    if (this.closed) return new OutboxClosedError();
    if (size - FRAME_HEADER_BYTES > this.limits.maxRecordBytes) return new OutboxRecordTooLargeError(size - FRAME_HEADER_BYTES, this.limits.maxRecordBytes);
    if (this.pendingBytes + size > this.limits.maxPendingBytes) return new OutboxOverloadedError(this.pendingBytes, this.limits.maxPendingBytes);
    return null;
  }

  private reject(err: OutboxError): Promise<void> {
    this.stats.rejectedRecords++;
    return Promise.reject(err);
  }

  /** The open batch with room for `size` bytes, sealing the current one when full or at a segment's end. */
  private batchFor(size: number): Batch {
    const last = this.queue[this.queue.length - 1];
    let batch = last !== undefined && !last.sealed ? last : undefined;
    const rotate = this.projectedSegmentBytes + size > this.limits.segmentBytes && this.projectedSegmentBytes > SEGMENT_HEADER_BYTES;
    if (rotate || batch === undefined || batch.used + size > batch.buf.length) {
      if (batch !== undefined) batch.sealed = true;
      batch = this.newBatch(size, rotate);
      if (rotate) this.projectedSegmentBytes = SEGMENT_HEADER_BYTES;
    }
    this.projectedSegmentBytes += size;
    return batch;
  }

  private newBatch(size: number, rotate: boolean): Batch {
    const buf = size <= this.limits.maxBatchBytes
      ? this.spare.pop() ?? Buffer.allocUnsafeSlow(this.limits.maxBatchBytes)
      : Buffer.allocUnsafeSlow(size);
    let resolve = ignore;
    let reject: (err: Error) => void = ignore;
    const done = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    done.catch(ignore); // every caller awaits it; this only keeps an unobserved rejection quiet
    const batch: Batch = { buf, used: 0, records: 0, rotate, sealed: false, firstAtMs: performance.now(), done, resolve, reject };
    this.queue.push(batch);
    return batch;
  }

  private schedule(): void {
    const head = this.queue[0];
    if (this.committing || head === undefined) return;
    const waitMs = head.sealed || this.closed ? 0 : head.firstAtMs + this.limits.commitWindowMs - performance.now();
    if (waitMs <= 0) {
      this.clearTimer();
      if (this.writesInLoop(head)) this.commitAtTurnEnd();
      else void this.commitHead(head);
    } else if (this.timer === null) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.schedule();
      }, waitMs);
    }
  }

  private writesInLoop(head: Batch): boolean {
    return this.limits.commitWrites === "loop" && !head.rotate && head.used <= this.limits.loopWriteMaxBytes && performance.now() >= this.poolUntilMs;
  }

  /** Commits the head on this thread once the current turn of the loop ends; appends made until then join it. */
  private commitAtTurnEnd(): void {
    if (this.turnEndCommit) return;
    this.turnEndCommit = true;
    setImmediate(() => {
      this.turnEndCommit = false;
      const head = this.queue[0];
      if (this.committing || head === undefined) return;
      if (this.writesInLoop(head)) this.commitHeadNow(head);
      else void this.commitHead(head);
    });
  }

  /** The in-loop commit: one blocking durable write. */
  private commitHeadNow(batch: Batch): void {
    batch.sealed = true;
    const startedAt = performance.now();
    this.commitStartedAt = startedAt;
    try {
      this.store.writeNow(batch.buf, batch.used);
    } catch (err) {
      this.fail("write", err);
      return;
    }
    const writeMs = performance.now() - startedAt;
    if (writeMs > this.limits.loopWriteSlowMs) {
      this.stats.slowLoopWrites++;
      this.poolUntilMs = startedAt + writeMs + this.backoffMs;
      this.backoffMs = Math.min(this.backoffMs * 2, this.limits.loopWriteBackoffMs * LOOP_WRITE_MAX_BACKOFF_FACTOR);
    } else {
      this.backoffMs = this.limits.loopWriteBackoffMs;
    }
    this.stats.loopCommits++;
    this.finish(batch);
    this.schedule();
  }

  private async commitHead(batch: Batch): Promise<void> {
    batch.sealed = true;
    this.committing = true;
    this.commitStartedAt = performance.now();
    let operation = "write";
    try {
      if (batch.rotate) {
        operation = "rotate";
        await this.store.rotate();
        this.stats.rotations++;
        operation = "write";
      }
      await this.store.write(batch.buf, batch.used); // durable when it returns
      this.finish(batch);
    } catch (err) {
      this.fail(operation, err);
    } finally {
      this.committing = false;
      this.schedule();
    }
  }

  /** The batch is durable: readers may see it, its appends resolve. */
  private finish(batch: Batch): void {
    this.store.advance(batch.used);
    this.queue.shift();
    this.pendingBytes -= batch.used;
    this.pendingRecords -= batch.records;
    const elapsedMs = performance.now() - this.commitStartedAt;
    const stats = this.stats;
    stats.committedRecords += batch.records;
    stats.committedBytes += batch.used;
    stats.commits++;
    stats.lastCommitMs = elapsedMs;
    stats.maxCommitMs = Math.max(stats.maxCommitMs, elapsedMs);
    if (batch.buf.length === this.limits.maxBatchBytes && this.spare.length < SPARE_BATCH_BUFFERS) this.spare.push(batch.buf);
    batch.resolve();
    this.onCommit();
  }

  /** A write (or a rotation) failed: every queued record is rejected, and every later append. */
  private fail(operation: string, err: unknown): void {
    this.failure = new OutboxDiskError(operation, err);
    const failed = this.queue;
    this.queue = [];
    this.pendingBytes = 0;
    this.pendingRecords = 0;
    this.clearTimer();
    for (const batch of failed) {
      this.stats.rejectedRecords += batch.records;
      batch.reject(this.failure);
    }
    this.onCommit();
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
