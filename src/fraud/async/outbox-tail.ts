// Tier 3's event source in embedded mode: a read-only tail of every worker's audit outbox. It is
// not a registered outbox consumer (no checkpoint, never holds back segment deletion): it starts at
// the end of what is on disk and reads what is appended after, poll by poll. A segment deleted
// before it was read is skipped (tier 3 is a heuristic, not a ledger); a frame still being written
// is read on the next poll.
import { join } from "node:path";
import { nodeIo, type OutboxIo } from "../../audit/outbox/io.ts";
import { parseSegmentFileName, segmentFileName, SEGMENT_HEADER_BYTES } from "../../audit/outbox/format.ts";
import { FrameScanner } from "../../audit/outbox/scanner.ts";

const WORKER_DIR = /^w\d+$/;
const CHUNK_BYTES = 256 * 1024;

export interface EventSource {
  /** Calls `onRecord` for every record appended since the previous poll. */
  poll(onRecord: (payload: Buffer) => void): Promise<number>;
  close(): Promise<void>;
}

export class OutboxTail implements EventSource {
  /** Per worker directory: the segment being read and the offset of its next frame. */
  private readonly at = new Map<string, { segment: number; offset: number }>();
  private started = false;

  constructor(private readonly auditDir: string, private readonly io: OutboxIo = nodeIo()) {}

  async poll(onRecord: (payload: Buffer) => void): Promise<number> {
    const root = join(this.auditDir, "outbox");
    const workers = (await this.list(root)).filter((n) => WORKER_DIR.test(n));
    let records = 0;
    for (const worker of workers) {
      const dir = join(root, worker);
      const ids = (await this.list(dir)).map(parseSegmentFileName).filter((id): id is number => id !== null).sort((a, b) => a - b);
      if (ids.length === 0) continue;
      let pos = this.at.get(worker);
      if (pos === undefined) {
        // First sight: from the end of what is there (at start), or the beginning of a worker's first segment (later).
        pos = this.started ? { segment: ids[0]!, offset: SEGMENT_HEADER_BYTES } : { segment: ids.at(-1)!, offset: await this.sizeOf(join(dir, segmentFileName(ids.at(-1)!))) };
        this.at.set(worker, pos);
        if (!this.started) continue;
      }
      for (const id of ids) {
        if (id < pos.segment) continue;
        if (id > pos.segment) pos = { segment: id, offset: SEGMENT_HEADER_BYTES };
        records += await this.readSegment(join(dir, segmentFileName(id)), pos, onRecord);
        this.at.set(worker, pos);
      }
    }
    this.started = true;
    return records;
  }

  async close(): Promise<void> {}

  private async readSegment(path: string, pos: { segment: number; offset: number }, onRecord: (payload: Buffer) => void): Promise<number> {
    let fd: number;
    try {
      fd = await this.io.open(path, "read");
    } catch {
      return 0; // deleted meanwhile
    }
    let records = 0;
    try {
      const size = await this.io.size(fd);
      const scanner = new FrameScanner(this.io, fd, Math.max(pos.offset, SEGMENT_HEADER_BYTES), size, CHUNK_BYTES);
      for (;;) {
        const step = await scanner.next();
        if (step.kind !== "record") break; // end, or a frame still being written
        onRecord(step.payload);
        pos.offset = step.next;
        records++;
      }
    } finally {
      await this.io.close(fd);
    }
    return records;
  }

  private async sizeOf(path: string): Promise<number> {
    try {
      const fd = await this.io.open(path, "read");
      try {
        return await this.io.size(fd);
      } finally {
        await this.io.close(fd);
      }
    } catch {
      return SEGMENT_HEADER_BYTES;
    }
  }

  private async list(dir: string): Promise<string[]> {
    try {
      return await this.io.readdir(dir);
    } catch {
      return [];
    }
  }
}
