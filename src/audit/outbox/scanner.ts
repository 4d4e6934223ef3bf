// Reads record frames in order from one segment file, in chunks, up to a byte bound (`end`): the
// file size for the recovery scan, the committed size for readers. Never reads past `end`.
import { checkFrame, FRAME_HEADER_BYTES, type TornReason } from "./format.ts";
import type { OutboxIo } from "./io.ts";

export type ScanStep =
  /** `payload` is a view into the scanner's buffer, valid until the next call. */
  | { kind: "record"; offset: number; next: number; payload: Buffer }
  | { kind: "end"; offset: number }
  | { kind: "torn"; offset: number; reason: TornReason };

export class FrameScanner {
  private buf: Buffer;
  /** File position of buf[0], and how many bytes of the buffer hold file data. */
  private bufStart = 0;
  private bufLength = 0;

  constructor(private readonly io: OutboxIo, private readonly fd: number, public pos: number, public end: number, chunkBytes: number) {
    this.buf = Buffer.allocUnsafe(chunkBytes);
  }

  /** The next step when its bytes are already in the buffer (no I/O), else null: a reader's fast path. */
  nextBuffered(): ScanStep | null {
    const offset = this.pos;
    const remaining = this.end - offset;
    if (remaining <= 0) return { kind: "end", offset };
    if (remaining < FRAME_HEADER_BYTES) return { kind: "torn", offset, reason: "partial-header" };
    if (!this.buffered(FRAME_HEADER_BYTES)) return null;
    const payloadBytes = this.buf.readUInt32LE(offset - this.bufStart + 4);
    if (payloadBytes <= remaining - FRAME_HEADER_BYTES && !this.buffered(FRAME_HEADER_BYTES + payloadBytes)) return null;
    return this.frame(offset, remaining);
  }

  async next(): Promise<ScanStep> {
    const buffered = this.nextBuffered();
    if (buffered !== null) return buffered;
    const offset = this.pos;
    const remaining = this.end - offset;
    await this.ensure(FRAME_HEADER_BYTES);
    const payloadBytes = this.buf.readUInt32LE(offset - this.bufStart + 4);
    if (payloadBytes <= remaining - FRAME_HEADER_BYTES) await this.ensure(FRAME_HEADER_BYTES + payloadBytes);
    return this.frame(offset, remaining);
  }

  /** The frame at `offset`, whose bytes (up to `remaining`) are buffered as far as they exist. */
  private frame(offset: number, remaining: number): ScanStep {
    const at = offset - this.bufStart;
    const check = checkFrame(this.buf, at, remaining);
    if (!check.ok) return { kind: "torn", offset, reason: check.reason };
    this.pos = offset + FRAME_HEADER_BYTES + check.payloadBytes;
    const payload = this.buf.subarray(at + FRAME_HEADER_BYTES, at + FRAME_HEADER_BYTES + check.payloadBytes);
    return { kind: "record", offset, next: this.pos, payload };
  }

  private buffered(bytes: number): boolean {
    return this.pos >= this.bufStart && this.pos + bytes <= this.bufStart + this.bufLength;
  }

  /** Makes bytes [pos, pos + bytes) present in the buffer (the caller checked they are below `end`). */
  private async ensure(bytes: number): Promise<void> {
    if (this.buffered(bytes)) return;
    this.compact(bytes);
    while (this.bufLength < bytes) {
      const from = this.bufStart + this.bufLength;
      const want = Math.min(this.buf.length - this.bufLength, this.end - from);
      const got = want > 0 ? await this.io.read(this.fd, this.buf, this.bufLength, want, from) : 0;
      if (got <= 0) throw new Error(`segment file ends at ${from}, before ${this.bufStart + bytes}`);
      this.bufLength += got;
    }
  }

  /** Moves the still-unread buffered bytes to the front, growing the buffer for a large record. */
  private compact(bytes: number): void {
    const inBuffer = this.pos >= this.bufStart && this.pos < this.bufStart + this.bufLength;
    const keep = inBuffer ? this.bufStart + this.bufLength - this.pos : 0;
    const from = this.pos - this.bufStart;
    if (bytes > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(bytes, this.buf.length * 2));
      if (keep > 0) this.buf.copy(bigger, 0, from, from + keep);
      this.buf = bigger;
    } else if (keep > 0 && from > 0) {
      this.buf.copy(this.buf, 0, from, from + keep);
    }
    this.bufStart = this.pos;
    this.bufLength = keep;
  }
}
