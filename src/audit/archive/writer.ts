// The warm-tier writer: a batch of events becomes one Parquet part file per (date, advertiser)
// partition, each written atomically (temp + fsync + rename + directory fsync). Independent of
// where events come from (outbox, Kafka): writeBatch resolves only once every part is durable.
import { join } from "node:path";
import { advertiserOf, archivableProblem, eventTimeMs, type ArchivableEvent } from "./columns.ts";
import { archiveIo, ensureDir, writeFileAtomic, type ArchiveIo } from "./durable.ts";
import { partitionDir, PARQUET_SUFFIX, utcDate } from "./layout.ts";
import type { ArchiveCodec } from "./parquet.ts";
import { inlineEncoder, type Encoder } from "./encoder.ts";
import { WARM_CODEC, WARM_ROW_GROUP_ROWS } from "./limits.ts";

const NAME_PART_PATTERN = /^[A-Za-z0-9_-]{1,96}$/;

export interface ArchiveWriterOptions {
  archiveDir: string;
  /** Names this writer's part files (one writer per id at a time), e.g. the outbox's "w0". */
  writerId?: string;
  codec?: ArchiveCodec;
  rowGroupRows?: number;
  io?: ArchiveIo;
  /** Where Parquet encoding runs; default on this thread. A request-serving thread passes threadEncoder().encode. */
  encoder?: Encoder;
}

export interface WrittenPart {
  path: string;
  date: string;
  advertiserId: string;
  events: number;
}

/** What the archiver needs from a writer (tests substitute their own). */
export interface BatchWriter {
  writeBatch(events: readonly ArchivableEvent[], batchKey?: string): Promise<WrittenPart[]>;
}

export class ArchiveWriter implements BatchWriter {
  readonly archiveDir: string;
  readonly writerId: string;
  private readonly codec: ArchiveCodec;
  private readonly rowGroupRows: number;
  private readonly io: ArchiveIo;
  private readonly encoder: Encoder;
  private readonly knownDirs = new Set<string>();
  private counter = 0;

  constructor(options: ArchiveWriterOptions) {
    this.archiveDir = options.archiveDir;
    this.writerId = options.writerId ?? "w0";
    if (!NAME_PART_PATTERN.test(this.writerId)) throw new RangeError(`writerId ${JSON.stringify(this.writerId)} must match ${NAME_PART_PATTERN}`);
    this.codec = options.codec ?? WARM_CODEC;
    this.rowGroupRows = options.rowGroupRows ?? WARM_ROW_GROUP_ROWS;
    this.io = options.io ?? archiveIo();
    this.encoder = options.encoder ?? inlineEncoder;
  }

  /**
   * Writes the events, one part per partition, and resolves once all are durable. `batchKey` names
   * the parts (`part-<writerId>-<batchKey>.parquet`): a source that replays a batch from the same
   * position after a crash passes the same key and replaces the part instead of duplicating it.
   */
  async writeBatch(events: readonly ArchivableEvent[], batchKey: string = this.nextKey()): Promise<WrittenPart[]> {
    if (!NAME_PART_PATTERN.test(batchKey)) throw new RangeError(`batchKey ${JSON.stringify(batchKey)} must match ${NAME_PART_PATTERN}`);
    events.forEach(checkEvent);
    const written: WrittenPart[] = [];
    for (const group of groupByPartition(events)) {
      const dir = partitionDir(this.archiveDir, "warm", group.date, group.advertiserId);
      const path = join(dir, `part-${this.writerId}-${batchKey}${PARQUET_SUFFIX}`);
      await this.writePart(dir, path, await this.encoder(group.events, { codec: this.codec, rowGroupRows: this.rowGroupRows }));
      written.push({ path, date: group.date, advertiserId: group.advertiserId, events: group.events.length });
    }
    return written;
  }

  /** A directory remembered as present may have been pruned by retention since: made again once. */
  private async writePart(dir: string, path: string, bytes: Uint8Array): Promise<void> {
    await ensureDir(this.io, this.archiveDir, dir, this.knownDirs);
    try {
      await writeFileAtomic(this.io, path, bytes);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      this.knownDirs.clear();
      await ensureDir(this.io, this.archiveDir, dir, this.knownDirs);
      await writeFileAtomic(this.io, path, bytes);
    }
  }

  private nextKey(): string {
    this.counter += 1;
    return `${Date.now()}-${process.pid}-${this.counter}`;
  }
}

function checkEvent(event: ArchivableEvent, index: number): void {
  const problem = archivableProblem(event);
  if (problem !== null) throw new TypeError(`event ${index} cannot be archived: ${problem}`);
}

interface PartitionGroup {
  date: string;
  advertiserId: string;
  events: ArchivableEvent[];
}

/** Events grouped by (UTC date of event_time, advertiser), each group in input order. */
export function groupByPartition(events: readonly ArchivableEvent[]): PartitionGroup[] {
  const groups = new Map<string, PartitionGroup>();
  for (const event of events) {
    const date = utcDate(eventTimeMs(event));
    const advertiserId = advertiserOf(event);
    const key = `${date}\u0000${advertiserId}`;
    let group = groups.get(key);
    if (group === undefined) groups.set(key, (group = { date, advertiserId, events: [] }));
    group.events.push(event);
  }
  return [...groups.values()];
}
