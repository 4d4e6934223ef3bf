// The durable outbox of one writer (one per worker thread, in its own directory): append records,
// each resolving only once its group commit is fsync'd; read them back in order (tail-following);
// let named consumers acknowledge positions; delete segments every consumer has acknowledged.
import { join } from "node:path";
import { comparePositions, type Position } from "./format.ts";
import { nodeIo, type OutboxIo } from "./io.ts";
import { SegmentStore, type RecoveryReport } from "./segments.ts";
import { GroupCommitter, type CommitLimits, type CommitStats, type OutboxState } from "./committer.ts";
import { Checkpoints } from "./checkpoint.ts";
import { OutboxReader, type OutboxRecord } from "./reader.ts";
import { CONSUMER_NAME_PATTERN, OUTBOX_DEFAULTS } from "./limits.ts";
import { OutboxClosedError } from "./errors.ts";
import { resolveLimits } from "./options.ts";
import type { ConsumableOutbox, SegmentSnapshot } from "./consumable.ts";
import { deferred, raceAbort } from "./wait.ts";

export interface OutboxOptions extends Partial<CommitLimits> {
  dir: string;
  readChunkBytes?: number;
  /** File operations; tests inject failures or count fsyncs. */
  io?: OutboxIo;
}

export interface OutboxStats extends CommitStats {
  state: OutboxState;
  pendingBytes: number;
  queueDepth: number;
  committed: Position;
  segments: number;
  deletedSegments: number;
  /** The last failure to delete acknowledged segments (retried on the next ack), or null. */
  retentionError: string | null;
}

/** The directory of worker `workerIndex`'s outbox under the configured audit directory. */
export function outboxDir(auditDir: string, workerIndex: number): string {
  return join(auditDir, "outbox", `w${workerIndex}`);
}

export class Outbox implements ConsumableOutbox {
  private wake = deferred();
  private readonly commitListeners = new Set<() => void>();
  private closed = false;
  private deletedSegments = 0;
  private retentionError: string | null = null;

  private constructor(
    readonly dir: string,
    /** What the start found: segments, records in the active segment, and any torn tail cut off. */
    readonly recovery: RecoveryReport,
    private readonly store: SegmentStore,
    private readonly committer: GroupCommitter,
    private readonly checkpoints: Checkpoints,
    private readonly io: OutboxIo,
    private readonly readChunkBytes: number,
  ) {}

  static async open(options: OutboxOptions): Promise<Outbox> {
    const limits = resolveLimits(options);
    const io = options.io ?? nodeIo();
    const readChunkBytes = options.readChunkBytes ?? OUTBOX_DEFAULTS.readChunkBytes;
    if (!Number.isSafeInteger(readChunkBytes) || readChunkBytes <= 0) throw new RangeError("outbox option readChunkBytes must be a positive integer");
    const { store, recovery } = await SegmentStore.open(options.dir, io, readChunkBytes);
    const checkpoints = await Checkpoints.load(options.dir, io);
    let outbox: Outbox | null = null;
    const committer = new GroupCommitter(store, limits, () => outbox?.notify());
    outbox = new Outbox(options.dir, recovery, store, committer, checkpoints, io, readChunkBytes);
    await outbox.applyRetention(); // a crash may have come between a checkpoint and its deletions
    return outbox;
  }

  /** Resolves once the record is fsync'd; rejects with an OutboxError (shed the request) otherwise. */
  append(record: Uint8Array | string): Promise<void> {
    return this.committer.append(record);
  }

  /** Commits what is queued now, without waiting for the commit window. */
  flush(): Promise<void> {
    return this.committer.flush();
  }

  /** False while the disk failed, a commit is slow or too much waits for its fsync: shed new requests. */
  healthy(): boolean {
    return this.committer.state() === "ok";
  }

  state(): OutboxState {
    return this.committer.state();
  }

  get pendingBytes(): number {
    return this.committer.queuedBytes;
  }

  get queueDepth(): number {
    return this.committer.queuedRecords;
  }

  stats(): OutboxStats {
    return {
      ...this.committer.stats, state: this.state(), pendingBytes: this.pendingBytes, queueDepth: this.queueDepth,
      committed: this.committedPosition(), segments: this.store.segmentIds().length, deletedSegments: this.deletedSegments,
      retentionError: this.retentionError,
    };
  }

  /** The end of the durable records (where the next commit lands). */
  committedPosition(): Position {
    return this.store.committed();
  }

  /** The start of the oldest segment still on disk. */
  oldestPosition(): Position {
    return this.store.oldest();
  }

  segmentIds(): number[] {
    return this.store.segmentIds();
  }

  /** The segments, their sizes and the committed end: what a reader in another thread needs. */
  segmentSnapshot(): SegmentSnapshot {
    return { ids: this.store.segmentIds(), sealed: this.store.sealedSizes(), committed: this.committedPosition(), state: this.state() };
  }

  /** Calls `listener` after every commit (and on failure or close); returns the unsubscribe. */
  onCommit(listener: () => void): () => void {
    this.commitListeners.add(listener);
    return () => this.commitListeners.delete(listener);
  }

  /** A reader of committed records from `from` (default: the oldest kept). Close it when done. */
  reader(from: Position = this.oldestPosition()): OutboxReader {
    return new OutboxReader(this.store, this.io, from, this.readChunkBytes);
  }

  /** Every committed record from `from` on, then each new one as it commits, until aborted or closed. */
  async *follow(from: Position = this.oldestPosition(), options: { signal?: AbortSignal; maxRecords?: number } = {}): AsyncGenerator<OutboxRecord> {
    const reader = this.reader(from);
    try {
      while (!options.signal?.aborted) {
        const records = await reader.read(options.maxRecords);
        yield* records;
        if (records.length > 0) continue;
        if (this.closed || this.committer.failed !== null) return;
        await this.waitForCommit(reader.position, options.signal);
      }
    } finally {
      await reader.close();
    }
  }

  /** Resolves when something is committed past `after`, or on close, failure or abort. */
  async waitForCommit(after: Position, signal?: AbortSignal): Promise<void> {
    while (comparePositions(this.committedPosition(), after) <= 0 && !this.closed && this.committer.failed === null) {
      if (signal?.aborted) return;
      await raceAbort(this.wake.promise, signal);
    }
  }

  /** Registers a consumer (idempotent); segments are kept until it acks past them. Returns its position. */
  async registerConsumer(name: string, from: Position = this.oldestPosition()): Promise<Position> {
    this.checkOpen();
    if (!CONSUMER_NAME_PATTERN.test(name)) throw new RangeError(`consumer name ${JSON.stringify(name)} must match ${CONSUMER_NAME_PATTERN}`);
    const known = this.checkpoints.get(name);
    if (known !== undefined) return known;
    if (comparePositions(from, this.committedPosition()) > 0) throw new RangeError(`consumer ${name} cannot start at ${fmt(from)}, past the committed end`);
    const position = this.store.normalize(from);
    this.checkpoints.set(name, position);
    await this.checkpoints.save();
    return position;
  }

  async unregisterConsumer(name: string): Promise<void> {
    this.checkOpen();
    if (!this.checkpoints.delete(name)) return;
    await this.checkpoints.save();
    await this.applyRetention();
  }

  /** The position the consumer acked last (where it resumes), or undefined if it is not registered. */
  consumerPosition(name: string): Position | undefined {
    return this.checkpoints.get(name);
  }

  consumers(): [string, Position][] {
    return this.checkpoints.entries();
  }

  /**
   * Everything before `acked` (a record's `next`) is processed by `name`. Resolves once the
   * checkpoint is durable and the segments below every consumer's position are deleted. The end of
   * a sealed segment is stored as the start of the next one, so a stored position never dangles.
   */
  async ack(name: string, acked: Position): Promise<void> {
    this.checkOpen();
    const current = this.checkpoints.get(name);
    if (current === undefined) throw new RangeError(`consumer ${name} is not registered`);
    if (comparePositions(acked, this.committedPosition()) > 0) throw new RangeError(`ack ${name} at ${fmt(acked)} is past the committed end ${fmt(this.committedPosition())}`);
    const position = this.store.normalize(acked);
    if (comparePositions(position, current) < 0) throw new RangeError(`ack ${name} at ${fmt(acked)} goes back from ${fmt(current)}`);
    if (comparePositions(position, current) === 0) return;
    this.checkpoints.set(name, position);
    await this.checkpoints.save();
    await this.applyRetention();
  }

  /** Commits what is queued, then releases the files. Appends after close reject with OutboxClosedError. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.committer.close();
    this.closed = true;
    this.notify();
    await this.checkpoints.idle();
    await this.store.close();
  }

  /** Deletes the segments every consumer durably acked. A failure is kept in stats and retried on the next ack. */
  private async applyRetention(): Promise<void> {
    const min = this.checkpoints.durableMinimum();
    if (min === null) return;
    try {
      // Read the count after the await: `x += await y` reads x first, and a concurrent pass's deletions would be lost.
      const deleted = await this.store.deleteBelow(min.segment);
      this.deletedSegments += deleted.length;
      this.retentionError = null;
    } catch (err) {
      this.retentionError = String((err as Error)?.message ?? err);
    }
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = deferred();
    wake.resolve();
    for (const listener of this.commitListeners) {
      try {
        listener();
      } catch {
        // a listener's failure is its own; the commit stands
      }
    }
  }

  private checkOpen(): void {
    if (this.closed) throw new OutboxClosedError();
  }
}

function fmt(p: Position): string {
  return `${p.segment}:${p.offset}`;
}

