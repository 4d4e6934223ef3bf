// Reads committed records in order from a position, across segment boundaries. It never reads past
// what is fsync'd (the view's end for the active segment), so a record a reader returns is durable.
import { comparePositions, SEGMENT_HEADER_BYTES, type Position } from "./format.ts";
import type { OutboxIo } from "./io.ts";
import { FrameScanner, type ScanStep } from "./scanner.ts";
import { OutboxCorruptionError, OutboxPositionGoneError } from "./errors.ts";
import { DEFAULT_READ_RECORDS } from "./limits.ts";

export interface OutboxRecord {
  /** Where the record starts. */
  position: Position;
  /** Where the next record starts: the position to ack once this record is processed. */
  next: Position;
  /** The payload as appended (a copy, the caller may keep it). */
  data: Uint8Array;
}

/** What a reader needs to know about the segments (implemented by the outbox's segment store). */
export interface SegmentView {
  end(segment: number): number | undefined;
  after(segment: number): number | undefined;
  oldest(): Position;
  path(segment: number): string;
}

export class OutboxReader {
  private pos: Position;
  private fd: number | null = null;
  private scanner: FrameScanner | null = null;
  private scannerSegment = -1;

  constructor(private readonly view: SegmentView, private readonly io: OutboxIo, from: Position, private readonly chunkBytes: number) {
    this.pos = { segment: from.segment, offset: Math.max(from.offset, SEGMENT_HEADER_BYTES) };
  }

  /** The position of the next record this reader returns. */
  get position(): Position {
    return { ...this.pos };
  }

  /** Up to `maxRecords` committed records from the current position; empty when there are none yet. */
  async read(maxRecords = DEFAULT_READ_RECORDS): Promise<OutboxRecord[]> {
    const out: OutboxRecord[] = [];
    while (out.length < maxRecords) {
      const end = this.readableEnd();
      if (end === null) break;
      if (this.pos.offset === end) {
        const next = this.view.after(this.pos.segment);
        if (next === undefined) break;
        this.pos = { segment: next, offset: SEGMENT_HEADER_BYTES };
        continue;
      }
      out.push(this.readBuffered(end) ?? (await this.readOne(end)));
    }
    return out;
  }

  async close(): Promise<void> {
    await this.closeFile();
  }

  /** The end of the current segment, or null when it does not exist yet; throws when it was deleted. */
  private readableEnd(): number | null {
    const end = this.view.end(this.pos.segment);
    if (end === undefined) {
      const oldest = this.view.oldest();
      if (comparePositions(this.pos, oldest) < 0) throw new OutboxPositionGoneError(this.position, oldest);
      return null;
    }
    if (this.pos.offset > end) throw new RangeError(`position ${this.pos.segment}:${this.pos.offset} is past the committed end ${end}`);
    return end;
  }

  /** The next record without I/O when the open scanner holds all of it (most records), else null. */
  private readBuffered(end: number): OutboxRecord | null {
    const scanner = this.scanner;
    if (scanner === null || this.scannerSegment !== this.pos.segment || scanner.pos !== this.pos.offset) return null;
    scanner.end = end;
    const step = scanner.nextBuffered();
    return step === null ? null : this.accept(this.pos.segment, step);
  }

  private async readOne(end: number): Promise<OutboxRecord> {
    const segment = this.pos.segment;
    const scanner = await this.scannerAt(segment);
    scanner.end = end;
    const step = await scanner.next().catch((err: Error) => {
      throw new OutboxCorruptionError(segment, this.pos.offset, err.message);
    });
    return this.accept(segment, step);
  }

  private accept(segment: number, step: ScanStep): OutboxRecord {
    if (step.kind !== "record") {
      throw new OutboxCorruptionError(segment, step.offset, step.kind === "torn" ? step.reason : "unexpected end");
    }
    this.pos = { segment, offset: step.next };
    return { position: { segment, offset: step.offset }, next: { segment, offset: step.next }, data: new Uint8Array(step.payload) };
  }

  private async scannerAt(segment: number): Promise<FrameScanner> {
    if (this.scanner !== null && this.scannerSegment === segment && this.scanner.pos === this.pos.offset) return this.scanner;
    if (this.scannerSegment !== segment) await this.openSegment(segment);
    this.scanner = new FrameScanner(this.io, this.fd!, this.pos.offset, this.pos.offset, this.chunkBytes);
    return this.scanner;
  }

  private async openSegment(segment: number): Promise<void> {
    await this.closeFile();
    try {
      this.fd = await this.io.open(this.view.path(segment), "read");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") throw new OutboxPositionGoneError(this.position, this.view.oldest());
      throw err;
    }
    this.scannerSegment = segment;
  }

  private async closeFile(): Promise<void> {
    const fd = this.fd;
    this.fd = null;
    this.scanner = null;
    this.scannerSegment = -1;
    if (fd !== null) await this.io.close(fd);
  }
}
