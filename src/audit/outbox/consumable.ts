// What an outbox consumer (archiver, ledger feeder) needs from an outbox: implemented by the
// Outbox itself (consumer in the writer's thread) and by a read-only view of it in another thread
// (src/audit/consumers), which reads the segment files up to the committed end the writer posts and
// sends its acks back to the writer. Also the state such a view is built from.
import type { Position } from "./format.ts";
import type { OutboxState } from "./committer.ts";
import type { OutboxReader } from "./reader.ts";

export interface ConsumableOutbox {
  /** The outbox directory (names the archive's part files). */
  readonly dir: string;
  /** Registers the consumer (idempotent); returns where it resumes. */
  registerConsumer(name: string): Promise<Position>;
  /** Everything before `acked` is processed; resolves once the checkpoint is durable. */
  ack(name: string, acked: Position): Promise<void>;
  /** A reader of committed records from `from`. Close it when done. */
  reader(from: Position): OutboxReader;
  state(): OutboxState;
  /** Resolves when something is committed past `after`, or on close, failure or abort. */
  waitForCommit(after: Position, signal?: AbortSignal): Promise<void>;
}

/** What the Kafka relay reads: a consumable outbox that also tells its committed end and its segments (for the lag). */
export interface FollowableOutbox extends ConsumableOutbox {
  committedPosition(): Position;
  segmentIds(): readonly number[];
}

/** The segments of an outbox as its writer sees them after a commit (structured-clone friendly). */
export interface SegmentSnapshot {
  /** Segment ids on disk, oldest first; the last one is active. */
  ids: number[];
  /** Sizes of the sealed segments. */
  sealed: [id: number, bytes: number][];
  /** The end of the durable records (in the active segment). */
  committed: Position;
  state: OutboxState;
}
