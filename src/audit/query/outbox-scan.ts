// A read-only scan of the outbox segment files of every worker (audit.dir/outbox/w*/), without the
// Outbox writer: for queries, from another process or while the server runs. It reads each segment
// up to its current size and stops at the first incomplete frame of the newest segment (a commit in
// progress, or a torn tail the writer cuts off at its next open); a bad frame in an older segment is
// reported as a warning. Segments deleted under the scan (acknowledged by every consumer, so
// already archived) are skipped.
import { join } from "node:path";
import { checkSegmentHeader, parseSegmentFileName, segmentFileName, SEGMENT_HEADER_BYTES } from "../outbox/format.ts";
import { nodeIo, type OutboxIo } from "../outbox/io.ts";
import { FrameScanner } from "../outbox/scanner.ts";
import { recordEvents } from "../archive/archiver.ts";
import { readdirOrEmpty } from "../archive/layout.ts";
import { matchesFilter, type AuditEventRecord, type AuditFilter, type AuditSource, type SourceResult } from "./types.ts";

const WORKER_DIR_PATTERN = /^w\d+$/;
const SCAN_CHUNK_BYTES = 1024 * 1024;
/** An id made only of these is written verbatim by any JSON encoder: records lacking its bytes are skipped unparsed. */
const VERBATIM_ID_PATTERN = /^[A-Za-z0-9._:@-]+$/;

export interface OutboxScanStats {
  workers: number;
  segments: number;
  records: number;
  warnings: string[];
}

/** Calls `onRecord` for every readable record of every worker outbox, in order per worker. */
export async function scanOutboxRecords(
  auditDir: string,
  onRecord: (worker: string, segment: number, offset: number, payload: Buffer) => void,
  io: OutboxIo = nodeIo(),
): Promise<OutboxScanStats> {
  const root = join(auditDir, "outbox");
  const stats: OutboxScanStats = { workers: 0, segments: 0, records: 0, warnings: [] };
  const workers = (await readdirOrEmpty(root)).filter((n) => WORKER_DIR_PATTERN.test(n)).sort();
  for (const worker of workers) {
    stats.workers += 1;
    const dir = join(root, worker);
    const ids = (await readdirOrEmpty(dir)).map(parseSegmentFileName).filter((id): id is number => id !== null).sort((a, b) => a - b);
    for (const [i, id] of ids.entries()) {
      const newest = i === ids.length - 1;
      const path = join(dir, segmentFileName(id));
      await scanSegment(io, path, id, newest, stats, (segment, offset, payload) => onRecord(worker, segment, offset, payload));
    }
  }
  return stats;
}

async function scanSegment(
  io: OutboxIo, path: string, id: number, newest: boolean, stats: OutboxScanStats,
  onRecord: (segment: number, offset: number, payload: Buffer) => void,
): Promise<void> {
  let fd: number;
  try {
    fd = await io.open(path, "read");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return;
    throw err;
  }
  try {
    stats.segments += 1;
    const size = await io.size(fd);
    const header = Buffer.alloc(SEGMENT_HEADER_BYTES);
    const got = size >= SEGMENT_HEADER_BYTES ? await io.read(fd, header, 0, SEGMENT_HEADER_BYTES, 0) : 0;
    const problem = checkSegmentHeader(header.subarray(0, got), id);
    if (problem !== null) {
      if (!newest) stats.warnings.push(`${path}: ${problem}`);
      return;
    }
    const scanner = new FrameScanner(io, fd, SEGMENT_HEADER_BYTES, size, SCAN_CHUNK_BYTES);
    for (;;) {
      const step = await scanner.next();
      if (step.kind === "end") return;
      if (step.kind === "torn") {
        if (!newest) stats.warnings.push(`${path}: ${step.reason} at offset ${step.offset}; the rest of the segment is not read`);
        return;
      }
      stats.records += 1;
      onRecord(id, step.offset, step.payload);
    }
  } finally {
    await io.close(fd);
  }
}

/** The outbox as a query source: records parsed like the archiver does (same ids for unparsed ones). */
export function outboxSource(io?: OutboxIo): AuditSource {
  return {
    name: "outbox",
    async find(auditDir: string, filter: AuditFilter): Promise<SourceResult> {
      const needle = prefilterBytes(filter);
      const events: AuditEventRecord[] = [];
      const stats = await scanOutboxRecords(auditDir, (worker, segment, offset, payload) => {
        if (needle !== null && payload.indexOf(needle) < 0) return;
        for (const event of recordEvents(payload, `${worker}:${segment}:${offset}`)) {
          if (matchesFilter(event, filter)) events.push(event);
        }
      }, io);
      return { events, warnings: stats.warnings, files: stats.segments };
    },
  };
}

/** Bytes every matching record must contain (the request or advertiser id), or null to parse every record. */
function prefilterBytes(filter: AuditFilter): Buffer | null {
  const id = filter.requestId ?? filter.advertiserId;
  if (id === undefined || !VERBATIM_ID_PATTERN.test(id)) return null;
  return Buffer.from(`"${id}"`);
}
