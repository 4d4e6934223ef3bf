// The outbox half of `npm run bench:audit`: group-committed appends against raw file writes with a
// fixed fsync cadence (RAW_SYNC_EVERY_MS), in this process, on the same disk.
//
//   outbox    Outbox.open({ dir }) with its defaults (commit window 0, 64 MiB segments); N async
//             appenders, each `await outbox.append(event)` in a loop (an append resolves only after
//             its group's durable write). Counted: appends resolved inside the measured time.
//   raw       the floor: one synchronous loop, writeSync(event) per record to a file (a new one every
//             64 MiB, like segments), fdatasync whenever RAW_SYNC_EVERY_MS has passed since the last.
//             No framing, no checksum, no promises, no concurrency: what the disk and the syscalls
//             cost with a fixed durability cadence.
//   raw-batch the same records copied into one buffer per RAW_SYNC_EVERY_MS and written with one write,
//             then fdatasync (the outbox's write pattern without its machinery); shown for reference.
import { closeSync, fdatasyncSync, fsyncSync, mkdirSync, openSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { Outbox } from "../../src/audit/outbox/index.ts";
import { OUTBOX_DEFAULTS } from "../../src/audit/outbox/limits.ts";
import { testEvent } from "../../src/audit/relay/testing.ts";

export interface WriteResult {
  name: string;
  events: number;
  seconds: number;
  eventsPerSec: number;
  mbPerSec: number;
  fsyncs: number;
  /** Mean records per fsync. */
  perFsync: number;
  detail: Record<string, number>;
}

/** `count` distinct valid audit events of about `bytes` bytes each (dsp_response, 30 advertisers). */
export function eventPool(count: number, bytes: number, run = "bench"): string[] {
  return Array.from({ length: count }, (_, i) => testEvent({ run, advertiser: `adv-${String(i % 30).padStart(3, "0")}`, seq: i }, bytes));
}

function result(name: string, events: number, bytes: number, seconds: number, fsyncs: number, detail: Record<string, number> = {}): WriteResult {
  return {
    name, events, seconds: round(seconds, 3), eventsPerSec: Math.round(events / seconds), mbPerSec: round(bytes / seconds / 1e6, 1),
    fsyncs, perFsync: fsyncs > 0 ? round(events / fsyncs, 1) : 0, detail,
  };
}

const round = (x: number, digits: number) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Appenders hammer one outbox for warmupS, then measured for durationS. */
export async function benchOutbox(dir: string, pool: string[], appenders: number, warmupS: number, durationS: number): Promise<WriteResult> {
  const outbox = await Outbox.open({ dir });
  let measuring = false;
  let stopped = false;
  let events = 0;
  let bytes = 0;
  const loop = async (start: number) => {
    for (let i = start; !stopped; i += appenders) {
      const record = pool[i % pool.length]!;
      await outbox.append(record);
      if (measuring) {
        events++;
        bytes += record.length;
      }
    }
  };
  const loops = Array.from({ length: appenders }, (_, i) => loop(i));
  await Bun.sleep(warmupS * 1000);
  const s0 = outbox.stats();
  measuring = true;
  const t0 = performance.now();
  await Bun.sleep(durationS * 1000);
  measuring = false;
  const seconds = (performance.now() - t0) / 1000;
  const s1 = outbox.stats();
  stopped = true;
  await Promise.all(loops);
  await outbox.close();
  rmSync(dir, { recursive: true, force: true });
  const commits = s1.commits - s0.commits;
  return result(`outbox append (${appenders} appenders, window ${OUTBOX_DEFAULTS.commitWindowMs} ms)`, events, bytes, seconds, commits /* one O_DSYNC write each */, {
    commits, recordsPerCommit: commits > 0 ? round((s1.committedRecords - s0.committedRecords) / commits, 1) : 0,
    maxCommitMs: round(s1.maxCommitMs, 2), rotations: s1.rotations - s0.rotations,
  });
}

/** Sequential files of at most `segmentBytes`, like the outbox's segments (without its headers). */
class RawFiles {
  private fd = -1;
  private size = 0;
  private index = 0;
  fsyncs = 0;
  constructor(private readonly dir: string, private readonly segmentBytes: number) {
    mkdirSync(dir, { recursive: true });
    this.next();
  }
  private next(): void {
    if (this.fd >= 0) {
      fdatasyncSync(this.fd);
      this.fsyncs++;
      closeSync(this.fd);
      rmSync(join(this.dir, `${this.index - 1}.raw`)); // keep the disk use bounded (the outbox keeps its segments)
    }
    this.fd = openSync(join(this.dir, `${this.index++}.raw`), "wx");
    const dirFd = openSync(this.dir, "r");
    fsyncSync(dirFd);
    closeSync(dirFd);
    this.size = 0;
  }
  write(data: string | Buffer, length: number): void {
    if (this.size + length > this.segmentBytes) this.next();
    if (typeof data === "string") writeSync(this.fd, data);
    else writeSync(this.fd, data, 0, length);
    this.size += length;
  }
  sync(): void {
    fdatasyncSync(this.fd);
    this.fsyncs++;
  }
  close(): void {
    closeSync(this.fd);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const CLOCK_EVERY = 32; // records between clock reads in the synchronous loops

/** writeSync per record, fdatasync each commit window; warmupS first (not counted). */
/**
 * The raw baselines' fsync cadence. The outbox's default window is 0 (a commit starts as soon as the
 * previous one ends: groups form while the disk works), which a synchronous loop cannot imitate; 2 ms
 * was the outbox's former window and bounds the baselines' syncs to 500 a second.
 */
export const RAW_SYNC_EVERY_MS = 2;

export function benchRawWrites(dir: string, pool: string[], warmupS: number, durationS: number, windowMs = RAW_SYNC_EVERY_MS): WriteResult {
  const files = new RawFiles(dir, OUTBOX_DEFAULTS.segmentBytes);
  const lengths = pool.map((r) => Buffer.byteLength(r));
  const run = (seconds: number) => {
    let events = 0;
    let bytes = 0;
    const fsyncs0 = files.fsyncs;
    const t0 = performance.now();
    const end = t0 + seconds * 1000;
    let lastSync = t0;
    for (let i = 0; ; i++) {
      const k = i % pool.length;
      files.write(pool[k]!, lengths[k]!);
      events++;
      bytes += lengths[k]!;
      if (i % CLOCK_EVERY === CLOCK_EVERY - 1) {
        const now = performance.now();
        if (now - lastSync >= windowMs) {
          files.sync();
          lastSync = performance.now();
        }
        if (now >= end) break;
      }
    }
    files.sync();
    return { events, bytes, seconds: (performance.now() - t0) / 1000, fsyncs: files.fsyncs - fsyncs0 };
  };
  run(warmupS);
  const m = run(durationS);
  files.close();
  return result(`raw writeSync per record + fdatasync every ${windowMs} ms`, m.events, m.bytes, m.seconds, m.fsyncs);
}

/** Records copied into one buffer during each commit window, one write + fdatasync per window. */
export function benchRawBatched(dir: string, pool: string[], warmupS: number, durationS: number, windowMs = RAW_SYNC_EVERY_MS): WriteResult {
  const files = new RawFiles(dir, OUTBOX_DEFAULTS.segmentBytes);
  const buf = Buffer.allocUnsafeSlow(OUTBOX_DEFAULTS.maxBatchBytes);
  const run = (seconds: number) => {
    let events = 0;
    let bytes = 0;
    const fsyncs0 = files.fsyncs;
    const t0 = performance.now();
    const end = t0 + seconds * 1000;
    let windowStart = t0;
    let used = 0;
    const commit = () => {
      files.write(buf, used);
      files.sync();
      used = 0;
    };
    for (let i = 0; ; i++) {
      const record = pool[i % pool.length]!;
      if (used + record.length * 3 > buf.length) commit();
      used += buf.write(record, used, "utf8");
      events++;
      bytes += record.length;
      if (i % CLOCK_EVERY === CLOCK_EVERY - 1) {
        const now = performance.now();
        if (now - windowStart >= windowMs) {
          commit();
          windowStart = performance.now();
        }
        if (now >= end) break;
      }
    }
    if (used > 0) commit();
    return { events, bytes, seconds: (performance.now() - t0) / 1000, fsyncs: files.fsyncs - fsyncs0 };
  };
  run(warmupS);
  const m = run(durationS);
  files.close();
  return result(`raw: one write per ${windowMs} ms window + fdatasync`, m.events, m.bytes, m.seconds, m.fsyncs);
}
