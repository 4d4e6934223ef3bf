// A read-only view of an outbox owned by another thread: it reads the segment files itself (with
// the outbox's own reader), never past the committed end the writer posted after its fsync, so
// every record it returns is durable. Acks go back to the writer, which keeps the checkpoints and
// deletes segments (it deletes only segments every consumer acked past, so never one this view
// still reads). The writer registers the consumers; the view only knows their positions.
import { join } from "node:path";
import {
  comparePositions, nodeIo, OutboxClosedError, OutboxReader, OUTBOX_DEFAULTS, SEGMENT_HEADER_BYTES,
  type FollowableOutbox, type OutboxIo, type OutboxState, type Position, type SegmentSnapshot,
} from "../outbox/index.ts";
import { segmentFileName } from "../outbox/format.ts";
import type { SegmentView } from "../outbox/reader.ts";
import { deferred, raceAbort } from "../outbox/wait.ts";

export type AckSender = (id: number, name: string, position: Position) => void;

export class RemoteOutbox implements FollowableOutbox, SegmentView {
  private ids: number[] = [];
  private sealed = new Map<number, number>();
  private committed: Position = { segment: 0, offset: 0 };
  private current: OutboxState = "ok";
  private closed = false;
  private wake = deferred();
  private nextAckId = 1;
  private readonly acks = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  private readonly positions: Map<string, Position>;

  constructor(
    readonly dir: string,
    snapshot: SegmentSnapshot,
    positions: Iterable<[string, Position]>,
    private readonly sendAck: AckSender,
    private readonly io: OutboxIo = nodeIo(),
    private readonly chunkBytes: number = OUTBOX_DEFAULTS.readChunkBytes,
  ) {
    this.positions = new Map(positions);
    this.update(snapshot);
  }

  /** The writer's segments after a commit (or an ack): wakes the readers waiting for records. */
  update(snapshot: SegmentSnapshot): void {
    if (comparePositions(snapshot.committed, this.committed) < 0 && this.ids.length > 0) return; // stale
    this.ids = snapshot.ids;
    this.sealed = new Map(snapshot.sealed);
    this.committed = snapshot.committed;
    this.current = snapshot.state;
    this.notify();
  }

  /** The writer's answer to an ack. */
  settleAck(id: number, error?: string): void {
    const waiter = this.acks.get(id);
    this.acks.delete(id);
    if (error === undefined) waiter?.resolve();
    else waiter?.reject(new Error(error));
  }

  /** The writer registered the consumer before this view existed: returns its position. */
  async registerConsumer(name: string): Promise<Position> {
    const position = this.positions.get(name);
    if (position === undefined) throw new RangeError(`consumer ${name} is not registered by the outbox writer`);
    return { ...position };
  }

  consumerPosition(name: string): Position | undefined {
    const position = this.positions.get(name);
    return position && { ...position };
  }

  ack(name: string, acked: Position): Promise<void> {
    if (this.closed) return Promise.reject(new OutboxClosedError());
    if (!this.positions.has(name)) return Promise.reject(new RangeError(`consumer ${name} is not registered`));
    const id = this.nextAckId++;
    return new Promise<void>((resolve, reject) => {
      this.acks.set(id, {
        resolve: () => {
          this.positions.set(name, { ...acked });
          resolve();
        },
        reject,
      });
      this.sendAck(id, name, { segment: acked.segment, offset: acked.offset });
    });
  }

  reader(from: Position): OutboxReader {
    return new OutboxReader(this, this.io, from, this.chunkBytes);
  }

  state(): OutboxState {
    return this.closed ? "closed" : this.current;
  }

  committedPosition(): Position {
    return { ...this.committed };
  }

  segmentIds(): readonly number[] {
    return this.ids;
  }

  async waitForCommit(after: Position, signal?: AbortSignal): Promise<void> {
    while (comparePositions(this.committed, after) <= 0 && this.state() !== "closed" && this.state() !== "failed") {
      if (signal?.aborted) return;
      await raceAbort(this.wake.promise, signal);
    }
  }

  /** No more records or acks: waiting readers return, pending acks reject. */
  close(): void {
    this.closed = true;
    for (const waiter of this.acks.values()) waiter.reject(new OutboxClosedError());
    this.acks.clear();
    this.notify();
  }

  // SegmentView (for OutboxReader)
  end(segment: number): number | undefined {
    return segment === this.committed.segment ? this.committed.offset : this.sealed.get(segment);
  }

  after(segment: number): number | undefined {
    if (!this.sealed.has(segment)) return undefined;
    const i = this.ids.indexOf(segment);
    return i < 0 ? undefined : this.ids[i + 1];
  }

  oldest(): Position {
    return { segment: this.ids[0] ?? this.committed.segment, offset: SEGMENT_HEADER_BYTES };
  }

  path(segment: number): string {
    return join(this.dir, segmentFileName(segment));
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = deferred();
    wake.resolve();
  }
}
