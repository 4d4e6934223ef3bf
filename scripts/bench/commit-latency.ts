#!/usr/bin/env bun
// `npm run bench:commit`: what one durable group commit costs the request that waits for it, on an idle
// event loop and on a busy one (a 3 ms task every turn, as under load: every trip to the thread pool
// then waits for a turn of the loop before its callback runs).
//
//   write+fdatasync  the outbox's first commit: an async positional write, then an async fdatasync
//   O_DSYNC write    one async write (thread pool) on a file opened O_DSYNC (durable when it returns)
//   O_DSYNC in loop  the same write made on the event-loop thread at the end of its turn (setImmediate)
//   outbox, pool     Outbox.append() itself (commit window 0, one appender), audit.commitWrites "pool":
//                    the O_DSYNC write on the pool plus framing, checksum and the group-commit machinery
//   outbox, loop     the same with "loop" (the default): the write at the end of the loop's turn
// Each row: commits timed back to back for --seconds, 16 KiB each (a group of ~10 auctions' events).
// Prints p50/p90/p99 in ms and the p50 ratio against write+fdatasync measured in the same run.
// Back to back, "pool" and "loop" wait the same turn of a busy loop (the next commit starts when the
// previous resolves); the loop's gain shows in a server, where records come in from socket callbacks
// while a commit is in flight (README, Overload: tmax_audit_commit_wait_seconds). The in-loop rows'
// idle times are what a commit blocks the loop for.
//
// usage: bun scripts/bench/commit-latency.ts [--seconds 3] [--busy-ms 3]
import * as fs from "node:fs";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Outbox } from "../../src/audit/outbox/index.ts";

const GROUP_BYTES = 16 * 1024;
const FILE_WRAP_BYTES = 64 * 1024 * 1024;

const { values } = parseArgs({ args: process.argv.slice(2), strict: true, options: { seconds: { type: "string", default: "3" }, "busy-ms": { type: "string", default: "3" } } });
const seconds = Number(values.seconds);
const busyMs = Number(values["busy-ms"]);
if (!(seconds > 0 && seconds <= 60)) throw new Error(`--seconds: expected (0, 60], got "${values.seconds}"`);
if (!(busyMs > 0 && busyMs <= 50)) throw new Error(`--busy-ms: expected (0, 50], got "${values["busy-ms"]}"`);

const call = <T>(run: (done: (err: NodeJS.ErrnoException | null, value?: T) => void) => void) =>
  new Promise<T>((resolve, reject) => run((err, value) => (err ? reject(err) : resolve(value as T))));
const group = Buffer.alloc(GROUP_BYTES, 0x61);
const dir = mkdtempSync(join(tmpdir(), "tmax-commit-bench-"));

type Commit = () => Promise<void>;
interface Variant { name: string; open(): Promise<{ commit: Commit; close(): Promise<void> }> }

function rawFile(name: string, flags: number, commit: (fd: number, at: number) => Promise<void>): Variant {
  return {
    name,
    async open() {
      const path = join(dir, name.replace(/\W+/g, "-"));
      const fd = fs.openSync(path, flags | fs.constants.O_CREAT, 0o644);
      let at = 0;
      return {
        commit: async () => {
          await commit(fd, at);
          at = (at + GROUP_BYTES) % FILE_WRAP_BYTES;
        },
        close: async () => { fs.closeSync(fd); fs.rmSync(path); },
      };
    },
  };
}

const variants: Variant[] = [
  rawFile("write+fdatasync", fs.constants.O_RDWR, async (fd, at) => {
    await call<number>((d) => fs.write(fd, group, 0, GROUP_BYTES, at, d));
    await call<void>((d) => fs.fdatasync(fd, d));
  }),
  rawFile("O_DSYNC write", fs.constants.O_RDWR | fs.constants.O_DSYNC, async (fd, at) => {
    await call<number>((d) => fs.write(fd, group, 0, GROUP_BYTES, at, d));
  }),
  rawFile("O_DSYNC in loop", fs.constants.O_RDWR | fs.constants.O_DSYNC, async (fd, at) => {
    await new Promise<void>((resolve) => setImmediate(() => (fs.writeSync(fd, group, 0, GROUP_BYTES, at), resolve())));
  }),
  outboxAppend("pool"),
  outboxAppend("loop"),
];

function outboxAppend(commitWrites: "loop" | "pool"): Variant {
  return {
    name: `outbox, ${commitWrites}`,
    async open() {
      const outbox = await Outbox.open({ dir: join(dir, `outbox-${commitWrites}`), commitWindowMs: 0, commitWrites });
      const record = group.subarray(0, GROUP_BYTES - 8);
      return { commit: () => outbox.append(record), close: () => outbox.close() };
    },
  };
}

async function timeCommits(v: Variant): Promise<number[]> {
  const { commit, close } = await v.open();
  const times: number[] = [];
  const end = performance.now() + seconds * 1000;
  while (performance.now() < end) {
    const start = performance.now();
    await commit();
    times.push(performance.now() - start);
  }
  await close();
  return times.sort((a, b) => a - b);
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
const ms = (x: number) => x.toFixed(2).padStart(7);

let busy: ReturnType<typeof setInterval> | null = null;
try {
  for (const loop of ["idle", "busy"] as const) {
    if (loop === "busy") busy = setInterval(() => { const until = performance.now() + busyMs; while (performance.now() < until); }, 0);
    console.log(`\n${loop} event loop${loop === "busy" ? ` (a ${busyMs} ms task every turn)` : ""}, ${GROUP_BYTES / 1024} KiB per commit, ${seconds} s per row`);
    console.log(`${"commit".padEnd(18)}${"count".padStart(8)}${"p50 ms".padStart(9)}${"p90 ms".padStart(9)}${"p99 ms".padStart(9)}   p50 vs write+fdatasync`);
    let baselineP50 = 0;
    for (const v of variants) {
      const t = await timeCommits(v);
      const p50 = pct(t, 0.5);
      if (baselineP50 === 0) baselineP50 = p50;
      console.log(`${v.name.padEnd(18)}${String(t.length).padStart(8)}  ${ms(p50)}  ${ms(pct(t, 0.9))}  ${ms(pct(t, 0.99))}   ${(p50 / baselineP50).toFixed(2)}x`);
    }
  }
} finally {
  if (busy !== null) clearInterval(busy);
  rmSync(dir, { recursive: true, force: true });
}
