// The reading side of the relay: follows the outbox from the relay's checkpoint and keeps at most
// one batch worth of records ready (turned into Kafka messages), so the next batch is read while the
// previous one is on the wire. It never reads past what is committed (fsync'd), never skips a
// record: a read failure is reported and retried from the last good position.
import type { Message } from "kafkajs";
import { comparePositions, type FollowableOutbox, type OutboxReader, type OutboxRecord, type Position } from "../outbox/index.ts";
import { routeRecord } from "./extract.ts";
import { READ_CHUNK_RECORDS, READ_RETRY_MS } from "./limits.ts";
import { Notifier, sleep } from "./wait.ts";

export interface Pending {
  message: Message;
  next: Position;
  /** Bytes of the record in the outbox (payload and frame header). */
  bytes: number;
  readAtMs: number;
}

export interface FeedLimits {
  batchMaxRecords: number;
  batchMaxBytes: number;
}

export class OutboxFeed {
  private queue: Pending[] = [];
  private queuedBytes = 0;
  private reader: OutboxReader;
  private readonly space = new Notifier();
  /** Notified after every read (records or not): the sender re-checks what is ready. */
  readonly arrived = new Notifier();
  readRecords = 0;
  readBytes = 0;
  malformed = 0;

  constructor(
    private readonly outbox: FollowableOutbox,
    from: Position,
    private readonly limits: FeedLimits,
    private readonly report: (error: unknown, context: "read" | "malformed") => void,
  ) {
    this.reader = outbox.reader(from);
  }

  get length(): number {
    return this.queue.length;
  }

  /** Where the reader goes on (the outbox position after the last record it read). */
  get readPosition(): Position {
    return this.reader.position;
  }

  get oldestReadAtMs(): number | undefined {
    return this.queue[0]?.readAtMs;
  }

  /** One batch is ready: the reader waits until the sender takes it. */
  full(): boolean {
    return this.queue.length >= this.limits.batchMaxRecords || this.queuedBytes >= this.limits.batchMaxBytes;
  }

  /** Nothing queued and everything committed so far was read. */
  caughtUp(): boolean {
    return this.queue.length === 0 && comparePositions(this.reader.position, this.outbox.committedPosition()) >= 0;
  }

  /** Up to the batch limits from the head of the queue (at least one record, however large). */
  take(): Pending[] {
    let count = 0;
    let bytes = 0;
    while (count < this.queue.length && count < this.limits.batchMaxRecords) {
      const size = this.queue[count]!.bytes;
      if (count > 0 && bytes + size > this.limits.batchMaxBytes) break;
      bytes += size;
      count++;
    }
    const taken = this.queue.splice(0, count);
    this.queuedBytes -= bytes;
    this.space.notify();
    return taken;
  }

  /** Reads until the signal aborts or the outbox closes. */
  async run(signal: AbortSignal): Promise<void> {
    try {
      while (!signal.aborted) {
        if (this.full()) await this.space.wait(undefined, signal);
        else if (!(await this.readSome(signal))) return;
      }
    } finally {
      await this.reader.close().catch(() => {});
      this.arrived.notify();
    }
  }

  /** One read; false when the outbox is closed (nothing more will come). */
  private async readSome(signal: AbortSignal): Promise<boolean> {
    let records: OutboxRecord[];
    try {
      records = await this.reader.read(this.chunkRecords());
    } catch (error) {
      if (this.outbox.state() === "closed") return false;
      this.report(error, "read");
      await sleep(READ_RETRY_MS, signal);
      await this.reopen();
      return true;
    }
    if (records.length > 0) this.push(records);
    this.arrived.notify();
    if (records.length > 0) return true;
    const state = this.outbox.state();
    if (state === "closed") return false;
    if (state === "failed") await sleep(READ_RETRY_MS, signal); // no commit will wake us until reopened
    else await this.outbox.waitForCommit(this.reader.position, signal);
    return true;
  }

  /** Records to ask for: the room left in the batch, judged by the mean record size so far. */
  private chunkRecords(): number {
    const roomRecords = this.limits.batchMaxRecords - this.queue.length;
    const meanBytes = this.readRecords > 0 ? this.readBytes / this.readRecords : 1;
    const roomByBytes = Math.floor((this.limits.batchMaxBytes - this.queuedBytes) / meanBytes);
    return Math.max(1, Math.min(READ_CHUNK_RECORDS, roomRecords, roomByBytes));
  }

  private push(records: OutboxRecord[]): void {
    const now = performance.now();
    for (const record of records) {
      const routed = routeRecord(record.data);
      const bytes = record.next.offset - record.position.offset;
      if (routed.malformed) {
        this.malformed++;
        this.report(new Error(`malformed audit record at ${record.position.segment}:${record.position.offset}, shipped without a key`), "malformed");
      }
      this.queue.push({ message: routed.message, next: record.next, bytes, readAtMs: now });
      this.queuedBytes += bytes;
      this.readRecords++;
      this.readBytes += bytes;
    }
  }

  /** A fresh reader at the position after the last record read (the failed one is read again). */
  private async reopen(): Promise<void> {
    const at = this.reader.position;
    await this.reader.close().catch(() => {});
    this.reader = this.outbox.reader(at);
  }
}
