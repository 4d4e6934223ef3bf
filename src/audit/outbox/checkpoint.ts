// Consumer checkpoints: each registered consumer's acknowledged position (everything before it is
// processed downstream), kept in one small JSON file replaced atomically: written to a temporary
// file, fsync'd, renamed over the old one, then the directory fsync'd. Concurrent saves coalesce:
// at most one write in flight and one queued, the queued one taking the newest positions.
import { join } from "node:path";
import type { Position } from "./format.ts";
import { writeFully, type OutboxIo } from "./io.ts";
import { OutboxCorruptionError } from "./errors.ts";

export const CHECKPOINT_FILE = "consumers.checkpoint.json";
const CHECKPOINT_TEMP = CHECKPOINT_FILE + ".tmp";
const CHECKPOINT_VERSION = 1;

interface CheckpointFile {
  version: number;
  consumers: Record<string, [segment: number, offset: number]>;
}

export class Checkpoints {
  private readonly current = new Map<string, Position>();
  /** The positions in the file on disk (what retention may act on). */
  private durable = new Map<string, Position>();
  private queued: Promise<void> | null = null;
  private last: Promise<void> = Promise.resolve();

  private constructor(private readonly dir: string, private readonly io: OutboxIo) {}

  static async load(dir: string, io: OutboxIo): Promise<Checkpoints> {
    const checkpoints = new Checkpoints(dir, io);
    const bytes = await io.readFile(join(dir, CHECKPOINT_FILE));
    if (bytes !== null) {
      for (const [name, position] of parseCheckpoint(bytes)) checkpoints.current.set(name, position);
    }
    checkpoints.durable = new Map(checkpoints.current);
    return checkpoints;
  }

  get(name: string): Position | undefined {
    return this.current.get(name);
  }

  set(name: string, position: Position): void {
    this.current.set(name, { segment: position.segment, offset: position.offset });
  }

  delete(name: string): boolean {
    return this.current.delete(name);
  }

  entries(): [string, Position][] {
    return [...this.current].map(([name, p]) => [name, { ...p }]);
  }

  /** The lowest durable position over all consumers; null when none is registered (keep everything). */
  durableMinimum(): Position | null {
    let min: Position | null = null;
    for (const p of this.durable.values()) {
      if (min === null || p.segment < min.segment || (p.segment === min.segment && p.offset < min.offset)) min = p;
    }
    return min;
  }

  /** Resolves when no checkpoint write is in flight or queued. */
  async idle(): Promise<void> {
    await this.last.catch(() => {});
  }

  /** Writes the current positions; resolves once they are durable. */
  save(): Promise<void> {
    if (this.queued !== null) return this.queued;
    const run = this.last.catch(() => {}).then(() => {
      this.queued = null;
      return this.writeNow();
    });
    this.queued = run;
    this.last = run;
    return run;
  }

  private async writeNow(): Promise<void> {
    const snapshot = new Map(this.current);
    const file: CheckpointFile = { version: CHECKPOINT_VERSION, consumers: {} };
    for (const [name, p] of snapshot) file.consumers[name] = [p.segment, p.offset];
    const body = Buffer.from(JSON.stringify(file) + "\n");
    const temp = join(this.dir, CHECKPOINT_TEMP);
    const fd = await this.io.open(temp, "replace");
    try {
      await writeFully(this.io, fd, body, body.length, 0);
      await this.io.fsync(fd);
    } finally {
      await this.io.close(fd);
    }
    await this.io.rename(temp, join(this.dir, CHECKPOINT_FILE));
    await this.io.fsyncDir(this.dir);
    this.durable = snapshot;
  }
}

function parseCheckpoint(bytes: Buffer): Map<string, Position> {
  let file: CheckpointFile;
  try {
    file = JSON.parse(bytes.toString("utf8")) as CheckpointFile;
  } catch (err) {
    throw new OutboxCorruptionError(0, 0, `${CHECKPOINT_FILE} is not JSON: ${(err as Error).message}`);
  }
  if (file?.version !== CHECKPOINT_VERSION || typeof file.consumers !== "object" || file.consumers === null) {
    throw new OutboxCorruptionError(0, 0, `${CHECKPOINT_FILE} has an unknown shape`);
  }
  const positions = new Map<string, Position>();
  for (const [name, pair] of Object.entries(file.consumers)) {
    const [segment, offset] = Array.isArray(pair) ? pair : [];
    if (!Number.isSafeInteger(segment) || !Number.isSafeInteger(offset)) {
      throw new OutboxCorruptionError(0, 0, `${CHECKPOINT_FILE}: bad position for ${name}`);
    }
    positions.set(name, { segment: segment!, offset: offset! });
  }
  return positions;
}
