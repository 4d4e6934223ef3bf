// The outbox feeder of the archive: a registered outbox consumer ("archive") that reads committed
// records, buffers their events, and writes them to the warm tier every `flushEveryRecords` events
// or `flushEveryMs`; it acks the outbox only after the Parquet parts are fsync'd and renamed into
// place, so a crash at any point replays (never loses) events. A replayed batch starts at the same
// outbox position and so has the same part names: the parts are replaced, not duplicated.
import { basename } from "node:path";
import type { ConsumableOutbox, OutboxReader, OutboxRecord, Position } from "../outbox/index.ts";
import { archivableProblem, type ArchivableEvent } from "./columns.ts";
import type { ArchiveIo } from "./durable.ts";
import { threadEncoder, type Encoder } from "./encoder.ts";
import { ARCHIVE_DEFAULTS } from "./limits.ts";
import { ArchiveWriter, type BatchWriter, type WrittenPart } from "./writer.ts";
import type { YieldGate } from "../consumers/yield-gate.ts";

export const ARCHIVE_CONSUMER = "archive";
const SEGMENT_DIGITS = 20;
const OFFSET_DIGITS = 12;
const WRITER_ID_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

export interface OutboxArchiverOptions {
  /** The outbox, or a read-only view of it in another thread (src/audit/consumers). */
  outbox: ConsumableOutbox;
  archiveDir: string;
  flushEveryRecords?: number;
  flushEveryMs?: number;
  consumerName?: string;
  /** Pause before a failed write (or read) is tried again. */
  retryBackoffMs?: number;
  /** Names the part files; default the outbox directory's name ("w0"). */
  writerId?: string;
  /** Default: an ArchiveWriter on archiveDir. */
  writer?: BatchWriter;
  io?: ArchiveIo;
  /**
   * Where the default writer encodes Parquet: "thread" (a helper thread the archiver starts and
   * ends: what a request-serving worker should use), an Encoder, or this thread (default).
   */
  encoder?: Encoder | "thread";
  /** Pauses reading while the request thread is at capacity (src/audit/consumers/yield-gate.ts). */
  gate?: YieldGate;
  onFlush?: (flush: { events: number; parts: WrittenPart[]; acked: Position }) => void;
  onError?: (err: unknown) => void;
}

export interface ArchiverStats {
  records: number;
  events: number;
  /** Records that were not valid events: archived as `event_type: "unparsed"` with the raw text. */
  unparsed: number;
  flushes: number;
  parts: number;
  failures: number;
  lastError: string | null;
  acked: Position | null;
}

export interface OutboxArchiver {
  stats(): ArchiverStats;
  /** Stops reading, writes and acks what is buffered (best effort), and resolves when done. */
  stop(): Promise<void>;
  /** Resolves when the archiver has stopped (after stop(), or when the outbox closed). */
  readonly done: Promise<void>;
}

export async function startOutboxArchiver(options: OutboxArchiverOptions): Promise<OutboxArchiver> {
  const flushEveryRecords = options.flushEveryRecords ?? ARCHIVE_DEFAULTS.flushEveryRecords;
  const flushEveryMs = options.flushEveryMs ?? ARCHIVE_DEFAULTS.flushEveryMs;
  if (!Number.isSafeInteger(flushEveryRecords) || flushEveryRecords <= 0) throw new RangeError("flushEveryRecords must be a positive integer");
  if (!(flushEveryMs > 0 && Number.isFinite(flushEveryMs))) throw new RangeError("flushEveryMs must be a positive number");
  const writerId = options.writerId ?? defaultWriterId(options.outbox.dir);
  const thread = options.encoder === "thread" ? threadEncoder() : null;
  const encoder = thread?.encode ?? (options.encoder === "thread" ? undefined : options.encoder);
  const writer = options.writer ?? new ArchiveWriter({ archiveDir: options.archiveDir, writerId, io: options.io, encoder });
  const name = options.consumerName ?? ARCHIVE_CONSUMER;
  const from = await options.outbox.registerConsumer(name);
  const loop = new ArchiverLoop(options, writer, writerId, name, flushEveryRecords, flushEveryMs);
  const done = loop.run(from).finally(() => thread?.close());
  return { stats: () => loop.snapshot(), stop: async () => { loop.abort(); await done; }, done };
}

function defaultWriterId(dir: string): string {
  const name = basename(dir);
  return WRITER_ID_PATTERN.test(name) ? name : "w0";
}

class ArchiverLoop {
  private readonly stopping = new AbortController();
  private pending: ArchivableEvent[] = [];
  private pendingKey: string | null = null;
  private pendingNext: Position | null = null;
  private pendingSince = 0;
  private readonly retryBackoffMs: number;
  private readonly stats: ArchiverStats = { records: 0, events: 0, unparsed: 0, flushes: 0, parts: 0, failures: 0, lastError: null, acked: null };

  constructor(
    private readonly options: OutboxArchiverOptions, private readonly writer: BatchWriter, private readonly writerId: string,
    private readonly name: string, private readonly flushEveryRecords: number, private readonly flushEveryMs: number,
  ) {
    this.retryBackoffMs = options.retryBackoffMs ?? ARCHIVE_DEFAULTS.retryBackoffMs;
  }

  snapshot(): ArchiverStats {
    return { ...this.stats, acked: this.stats.acked && { ...this.stats.acked } };
  }

  abort(): void {
    this.stopping.abort();
  }

  async run(from: Position): Promise<void> {
    const outbox = this.options.outbox;
    const reader = outbox.reader(from);
    try {
      while (!this.stopping.signal.aborted && outbox.state() !== "closed") {
        if (this.options.gate !== undefined && !(await this.options.gate.pass(this.stopping.signal))) break;
        if (this.due()) {
          if (!(await this.flush())) await this.sleep(this.retryBackoffMs);
          continue;
        }
        const records = await this.readSome(reader);
        if (records === null) await this.sleep(this.retryBackoffMs);
        else if (records.length === 0) await this.waitForMore(reader.position);
      }
      await this.flush();
    } finally {
      await reader.close();
    }
  }

  private async readSome(reader: OutboxReader): Promise<OutboxRecord[] | null> {
    const want = Math.max(1, Math.min(ARCHIVE_DEFAULTS.readBatchRecords, this.flushEveryRecords - this.pending.length));
    try {
      const records = await reader.read(want);
      if (records.length < want) this.options.gate?.caughtUp();
      for (const record of records) this.take(record);
      return records;
    } catch (err) {
      this.fail(err);
      return null;
    }
  }

  private take(record: OutboxRecord): void {
    if (this.pending.length === 0) {
      this.pendingKey = batchKey(record.position);
      this.pendingSince = performance.now();
    }
    const origin = `${this.writerId}:${record.position.segment}:${record.position.offset}`;
    for (const event of recordEvents(record.data, origin)) {
      if (event.event_type === UNPARSED_TYPE) this.stats.unparsed += 1;
      this.pending.push(event);
    }
    this.pendingNext = record.next;
    this.stats.records += 1;
  }

  private due(): boolean {
    if (this.pending.length === 0) return false;
    return this.pending.length >= this.flushEveryRecords || performance.now() - this.pendingSince >= this.flushEveryMs;
  }

  /** Writes the buffered events, then acks; false (batch kept for a retry) when either failed. */
  private async flush(): Promise<boolean> {
    if (this.pendingNext === null) return true;
    const acked = this.pendingNext;
    try {
      const parts = this.pending.length > 0 ? await this.writer.writeBatch(this.pending, this.pendingKey ?? undefined) : [];
      await this.options.outbox.ack(this.name, acked);
      this.stats.events += this.pending.length;
      this.stats.flushes += 1;
      this.stats.parts += parts.length;
      this.stats.acked = { ...acked };
      this.options.onFlush?.({ events: this.pending.length, parts, acked });
      this.pending = [];
      this.pendingNext = null;
      return true;
    } catch (err) {
      this.fail(err);
      return false;
    }
  }

  private fail(err: unknown): void {
    this.stats.failures += 1;
    this.stats.lastError = String((err as Error)?.message ?? err);
    this.options.onError?.(err);
  }

  private async waitForMore(position: Position): Promise<void> {
    const outbox = this.options.outbox;
    if (outbox.state() === "failed") return this.sleep(this.retryBackoffMs);
    if (this.pending.length === 0) return outbox.waitForCommit(position, this.stopping.signal);
    const left = Math.max(1, this.flushEveryMs - (performance.now() - this.pendingSince));
    await outbox.waitForCommit(position, AbortSignal.any([this.stopping.signal, AbortSignal.timeout(left)]));
  }

  private sleep(ms: number): Promise<void> {
    const signal = this.stopping.signal;
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        signal.removeEventListener("abort", done);
        resolve();
      }
      signal.addEventListener("abort", done, { once: true });
    });
  }
}

/** The part-name key of a batch starting at `position`: the same after a replay from there. */
function batchKey(position: Position): string {
  return `${String(position.segment).padStart(SEGMENT_DIGITS, "0")}-${String(position.offset).padStart(OFFSET_DIGITS, "0")}`;
}

export const UNPARSED_TYPE = "unparsed";

/**
 * The events of one outbox record (one JSON event, or several on separate lines). A line that is
 * not a valid event is kept as an "unparsed" event with its raw text, never dropped.
 */
export function recordEvents(data: Uint8Array, origin: string): ArchivableEvent[] {
  const lines = new TextDecoder().decode(data).split("\n").filter((line) => line.trim() !== "");
  return lines.map((line, i) => parseLine(line, `${origin}:${i}`));
}

function parseLine(line: string, origin: string): ArchivableEvent {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    value = undefined;
  }
  const problem = value === undefined ? "not JSON" : archivableProblem(value);
  if (problem === null) return value as ArchivableEvent;
  const fields = typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
  return {
    event_id: `unparsed:${origin}`,
    event_type: UNPARSED_TYPE,
    event_time: new Date().toISOString(),
    request_id: typeof fields.request_id === "string" ? fields.request_id : null,
    advertiser_id: typeof fields.advertiser_id === "string" ? fields.advertiser_id : "",
    problem,
    raw: line,
  };
}
