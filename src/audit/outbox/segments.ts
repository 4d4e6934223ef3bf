// The segment files of one outbox directory: opening (with the torn-tail recovery of the active
// segment), rotation, the committed size of each segment, and deletion of acknowledged segments.
import { join } from "node:path";
import {
  checkSegmentHeader, encodeSegmentHeader, parseSegmentFileName, segmentFileName,
  SEGMENT_HEADER_BYTES, type Position,
} from "./format.ts";
import { writeFully, writeFullySync, type OutboxIo } from "./io.ts";
import { FrameScanner } from "./scanner.ts";
import { OutboxCorruptionError } from "./errors.ts";

const TEMP_SUFFIX = ".tmp";
const FIRST_SEGMENT_ID = 1;

export interface TruncationReport {
  segment: number;
  /** Where the first invalid byte was: the file now ends here. */
  offset: number;
  /** How many bytes were cut. */
  bytes: number;
  reason: string;
}

export interface RecoveryReport {
  segments: number;
  activeSegment: number;
  /** Valid records found in the active segment (sealed segments are checked by readers). */
  activeRecords: number;
  truncated: TruncationReport | null;
}

export class SegmentStore {
  /** Segment ids, oldest first; the last one is active. */
  private readonly ids: number[];
  private readonly sealedBytes = new Map<number, number>();
  private activeFd: number;
  /** Bytes of the active segment that are written and fsync'd. */
  private committedBytes: number;

  private constructor(readonly dir: string, private readonly io: OutboxIo, ids: number[], activeFd: number, committedBytes: number) {
    this.ids = ids;
    this.activeFd = activeFd;
    this.committedBytes = committedBytes;
  }

  static async open(dir: string, io: OutboxIo, chunkBytes: number): Promise<{ store: SegmentStore; recovery: RecoveryReport }> {
    await io.mkdirp(dir);
    const ids = await listSegments(dir, io);
    if (ids.length === 0) {
      await createSegment(dir, io, FIRST_SEGMENT_ID);
      ids.push(FIRST_SEGMENT_ID);
    }
    const sealed = await readSealedSizes(dir, io, ids.slice(0, -1));
    const activeId = ids[ids.length - 1]!;
    const fd = await io.open(join(dir, segmentFileName(activeId)), "durable");
    const scan = await recoverActive(io, fd, activeId, chunkBytes);
    const store = new SegmentStore(dir, io, ids, fd, scan.end);
    for (const [id, bytes] of sealed) store.sealedBytes.set(id, bytes);
    const recovery = { segments: ids.length, activeSegment: activeId, activeRecords: scan.records, truncated: scan.truncated };
    return { store, recovery };
  }

  path(id: number): string {
    return join(this.dir, segmentFileName(id));
  }

  get activeId(): number {
    return this.ids[this.ids.length - 1]!;
  }

  committed(): Position {
    return { segment: this.activeId, offset: this.committedBytes };
  }

  oldest(): Position {
    return { segment: this.ids[0]!, offset: SEGMENT_HEADER_BYTES };
  }

  /** The readable end of a segment (its size when sealed, the committed bytes when active); undefined if absent. */
  end(id: number): number | undefined {
    return id === this.activeId ? this.committedBytes : this.sealedBytes.get(id);
  }

  /** The segment after a sealed one; undefined for the active segment or an absent one. */
  after(id: number): number | undefined {
    if (!this.sealedBytes.has(id)) return undefined;
    return this.ids[this.ids.indexOf(id) + 1];
  }

  /** Writes at the committed end of the active segment, durably: it is opened "durable" (O_DSYNC). */
  async write(buf: Buffer, bytes: number): Promise<void> {
    await writeFully(this.io, this.activeFd, buf, bytes, this.committedBytes);
  }

  /** The same write on the calling thread: returns once the bytes are on disk. */
  writeNow(buf: Buffer, bytes: number): void {
    writeFullySync(this.io, this.activeFd, buf, bytes, this.committedBytes);
  }

  /** Called after a write: the bytes become visible to readers. */
  advance(bytes: number): void {
    this.committedBytes += bytes;
  }

  /** Seals the active segment and makes a new, fsync'd one (header written) the active one. */
  async rotate(): Promise<void> {
    const nextId = this.activeId + 1;
    await createSegment(this.dir, this.io, nextId);
    const fd = await this.io.open(this.path(nextId), "durable");
    const oldFd = this.activeFd;
    this.sealedBytes.set(this.activeId, this.committedBytes);
    this.ids.push(nextId);
    this.activeFd = fd;
    this.committedBytes = SEGMENT_HEADER_BYTES;
    await this.io.close(oldFd);
  }

  /** The same place, moved to the next segment's first record when it is the end of a sealed segment. */
  normalize(position: Position): Position {
    const next = this.sealedBytes.get(position.segment) === position.offset ? this.after(position.segment) : undefined;
    return next === undefined ? { ...position } : { segment: next, offset: SEGMENT_HEADER_BYTES };
  }

  /**
   * Deletes every sealed segment whose id is below `segment`; returns their ids. They leave the
   * view first (readers stop opening them); a file whose unlink fails stays until the next open.
   */
  async deleteBelow(segment: number): Promise<number[]> {
    const doomed = this.ids.filter((id) => id < segment && this.sealedBytes.has(id));
    if (doomed.length === 0) return doomed;
    this.ids.splice(0, doomed.length);
    for (const id of doomed) this.sealedBytes.delete(id);
    for (const id of doomed) await unlinkIfPresent(this.io, this.path(id));
    await this.io.fsyncDir(this.dir);
    return doomed;
  }

  segmentIds(): number[] {
    return [...this.ids];
  }

  /** The sealed segments and their sizes (what a reader in another thread needs to know). */
  sealedSizes(): [id: number, bytes: number][] {
    return [...this.sealedBytes];
  }

  async close(): Promise<void> {
    await this.io.close(this.activeFd);
  }
}

async function unlinkIfPresent(io: OutboxIo, path: string): Promise<void> {
  try {
    await io.unlink(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
}

async function listSegments(dir: string, io: OutboxIo): Promise<number[]> {
  const ids: number[] = [];
  for (const name of await io.readdir(dir)) {
    if (name.endsWith(TEMP_SUFFIX) && parseSegmentFileName(name.slice(0, -TEMP_SUFFIX.length)) !== null) {
      await io.unlink(join(dir, name)); // a rotation cut short: never renamed, holds no records
      continue;
    }
    const id = parseSegmentFileName(name);
    if (id !== null) ids.push(id);
  }
  return ids.sort((a, b) => a - b);
}

/** Creates a segment holding only its header: written under a temporary name, fsync'd, renamed, dir fsync'd. */
async function createSegment(dir: string, io: OutboxIo, id: number): Promise<void> {
  const path = join(dir, segmentFileName(id));
  const temp = path + TEMP_SUFFIX;
  const fd = await io.open(temp, "replace");
  try {
    const header = encodeSegmentHeader(id);
    await writeFully(io, fd, header, header.length, 0);
    await io.fsync(fd);
  } finally {
    await io.close(fd);
  }
  await io.rename(temp, path);
  await io.fsyncDir(dir);
}

async function readHeader(io: OutboxIo, fd: number): Promise<Buffer> {
  const header = Buffer.alloc(SEGMENT_HEADER_BYTES);
  let got = 0;
  while (got < header.length) {
    const n = await io.read(fd, header, got, header.length - got, got);
    if (n <= 0) break;
    got += n;
  }
  return header.subarray(0, got);
}

async function readSealedSizes(dir: string, io: OutboxIo, ids: number[]): Promise<Map<number, number>> {
  const sizes = new Map<number, number>();
  for (const id of ids) {
    const fd = await io.open(join(dir, segmentFileName(id)), "read");
    try {
      const problem = checkSegmentHeader(await readHeader(io, fd), id);
      if (problem !== null) throw new OutboxCorruptionError(id, 0, problem);
      sizes.set(id, await io.size(fd));
    } finally {
      await io.close(fd);
    }
  }
  return sizes;
}

interface ActiveScan {
  end: number;
  records: number;
  truncated: TruncationReport | null;
}

/** Scans the active segment; a torn or corrupt tail (or header) is cut off, fsync'd and reported. */
async function recoverActive(io: OutboxIo, fd: number, id: number, chunkBytes: number): Promise<ActiveScan> {
  const size = await io.size(fd);
  const headerProblem = checkSegmentHeader(await readHeader(io, fd), id);
  if (headerProblem !== null) {
    const header = encodeSegmentHeader(id);
    await io.truncate(fd, 0);
    await writeFully(io, fd, header, header.length, 0);
    await io.fsync(fd);
    return { end: SEGMENT_HEADER_BYTES, records: 0, truncated: { segment: id, offset: 0, bytes: size, reason: headerProblem } };
  }
  const scanner = new FrameScanner(io, fd, SEGMENT_HEADER_BYTES, size, chunkBytes);
  let records = 0;
  for (;;) {
    const step = await scanner.next();
    if (step.kind === "record") {
      records++;
      continue;
    }
    if (step.kind === "end") return { end: step.offset, records, truncated: null };
    await io.truncate(fd, step.offset);
    await io.fsync(fd);
    return { end: step.offset, records, truncated: { segment: id, offset: step.offset, bytes: size - step.offset, reason: step.reason } };
  }
}
