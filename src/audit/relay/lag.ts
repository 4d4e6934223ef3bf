// Bytes of the outbox between two positions, for the relay's lag: within the active segment it is
// the offset difference; a sealed segment's size is its file size (sealed segments never change, so
// each is stat'ed once and remembered until it is deleted).
import { statSync } from "node:fs";
import { join } from "node:path";
import { comparePositions, SEGMENT_HEADER_BYTES, type FollowableOutbox, type Position } from "../outbox/index.ts";
import { segmentFileName } from "../outbox/format.ts";

export class OutboxDistance {
  private readonly sealedBytes = new Map<number, number>();

  constructor(private readonly outbox: FollowableOutbox) {}

  /** Record bytes (frames) from `from` up to `to`; 0 when `to` is not after `from`. */
  bytesBetween(from: Position, to: Position): number {
    if (comparePositions(to, from) <= 0) return 0;
    if (from.segment === to.segment) return to.offset - from.offset;
    let bytes = Math.max(0, this.sealedSize(from.segment) - Math.max(from.offset, SEGMENT_HEADER_BYTES));
    for (const id of this.outbox.segmentIds()) {
      if (id > from.segment && id < to.segment) bytes += Math.max(0, this.sealedSize(id) - SEGMENT_HEADER_BYTES);
    }
    return bytes + Math.max(0, to.offset - SEGMENT_HEADER_BYTES);
  }

  private sealedSize(id: number): number {
    const known = this.sealedBytes.get(id);
    if (known !== undefined) return known;
    let size = 0;
    try {
      size = statSync(join(this.outbox.dir, segmentFileName(id))).size;
    } catch {
      return 0; // deleted meanwhile: nothing of it is left to ship
    }
    this.forgetBelow(this.outbox.segmentIds()[0] ?? id);
    this.sealedBytes.set(id, size);
    return size;
  }

  private forgetBelow(oldest: number): void {
    for (const id of this.sealedBytes.keys()) if (id < oldest) this.sealedBytes.delete(id);
  }
}
