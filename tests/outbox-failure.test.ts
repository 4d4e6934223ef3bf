// A failing or slow disk, injected under the outbox: appends reject quickly with typed errors,
// healthy() turns false (the server sheds with no-bid), and nothing unacknowledged becomes visible.
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  nodeIo, Outbox, OutboxClosedError, OutboxDiskError, OutboxError, OutboxOverloadedError, type OutboxIo,
} from "../src/audit/outbox/index.ts";

/** How fast a refused append must reject: no waiting for a window or the disk (it is a microtask). */
const FAST_REJECT_MS = 10;
const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "outbox-fail-"));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

const MODES = ["loop", "pool"] as const;
const errno = (code: string) => Object.assign(new Error(`${code}: injected`), { code });

/**
 * node:fs whose writes can be switched to fail, to hang until released (on the pool), or to take
 * `slowMs` (in the loop: a blocking write cannot hang a test and then be released). A group commit is
 * one durable write.
 */
function faultyIo() {
  const base = nodeIo();
  const faults = { write: null as string | null, hold: false, release: () => {}, slowMs: 0 };
  const io: OutboxIo = {
    ...base,
    write: async (fd, buf, offset, length, position) => {
      if (faults.hold) await new Promise<void>((resolve) => (faults.release = resolve));
      if (faults.write) throw errno(faults.write);
      return base.write(fd, buf, offset, length, position);
    },
    writeSync: (fd, buf, offset, length, position) => {
      if (faults.write) throw errno(faults.write);
      Bun.sleepSync(faults.slowMs);
      return base.writeSync(fd, buf, offset, length, position);
    },
  };
  return { io, faults };
}

async function timeToReject(promise: Promise<void>): Promise<{ error: unknown; ms: number }> {
  const started = performance.now();
  const error = await promise.then(() => null, (err: unknown) => err);
  return { error, ms: performance.now() - started };
}

describe("disk failure and back-pressure", () => {
  test.each(MODES)("a durable write's error (EIO) rejects the group with OutboxDiskError; later appends reject at once (writes: %s)", async (commitWrites) => {
    const { io, faults } = faultyIo();
    const outbox = await Outbox.open({ dir: tempDir(), io, commitWrites });
    await outbox.append("durable");
    const committed = outbox.committedPosition();
    faults.write = "EIO";
    const inFlight = await Promise.all(Array.from({ length: 10 }, (_, i) => outbox.append(`lost-${i}`).catch((e: unknown) => e)));
    for (const err of inFlight) expect(err).toBeInstanceOf(OutboxDiskError);
    expect((inFlight[0] as OutboxDiskError).operation).toBe("write");
    expect(outbox.healthy()).toBe(false);
    expect(outbox.state()).toBe("failed");
    expect(outbox.committedPosition()).toEqual(committed); // readers never see the failed group

    faults.write = null; // even if the disk comes back: after a failed durable write nothing is trusted until reopen
    const { error, ms } = await timeToReject(outbox.append("after"));
    expect(error).toBeInstanceOf(OutboxDiskError);
    expect((error as OutboxError).code).toBe("OUTBOX_DISK_FAILED");
    expect(ms).toBeLessThan(FAST_REJECT_MS);
    await outbox.close();

    const reopened = await Outbox.open({ dir: outbox.dir });
    const first = (await reopened.reader().read())[0]!;
    expect(new TextDecoder().decode(first.data)).toBe("durable");
    expect(reopened.healthy()).toBe(true);
    await reopened.append("works again");
    await reopened.close();
  });

  test.each(MODES)("a write error (ENOSPC, disk full) fails the outbox the same way (writes: %s)", async (commitWrites) => {
    const { io, faults } = faultyIo();
    const outbox = await Outbox.open({ dir: tempDir(), io, commitWrites });
    faults.write = "ENOSPC";
    const err = await outbox.append("no room").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OutboxDiskError);
    expect((err as OutboxDiskError).operation).toBe("write");
    expect(String((err as Error).message)).toContain("ENOSPC");
    expect(outbox.healthy()).toBe(false);
    await outbox.close();
  });

  test("a commit on the pool slower than slowCommitMs makes healthy() false while it lasts", async () => {
    const { io, faults } = faultyIo();
    const slowCommitMs = 50;
    const outbox = await Outbox.open({ dir: tempDir(), io, slowCommitMs, commitWindowMs: 0, commitWrites: "pool" });
    faults.hold = true;
    const slow = outbox.append("slow disk"); // window 0: its commit starts now and hangs in its durable write
    expect(outbox.healthy()).toBe(true); // in flight, not yet slow
    await Bun.sleep(slowCommitMs * 2);
    expect(outbox.state()).toBe("slow");
    expect(outbox.healthy()).toBe(false);
    faults.hold = false;
    faults.release();
    await slow;
    expect(outbox.healthy()).toBe(true);
    await outbox.close();
  });

  test("an in-loop write slower than loopWriteSlowMs moves commits to the pool for loopWriteBackoffMs, doubled while slow", async () => {
    const { io, faults } = faultyIo();
    const loopWriteBackoffMs = 200;
    const outbox = await Outbox.open({ dir: tempDir(), io, loopWriteSlowMs: 5, loopWriteBackoffMs });
    const loopCommits = () => outbox.stats().loopCommits;
    await outbox.append("fast");
    expect(outbox.stats()).toMatchObject({ commits: 1, loopCommits: 1, slowLoopWrites: 0 });
    faults.slowMs = 20; // the disk slows down: this write still blocks the loop, once
    await outbox.append("slow");
    expect(outbox.stats()).toMatchObject({ commits: 2, loopCommits: 2, slowLoopWrites: 1 });
    await outbox.append("on the pool");
    await outbox.append("still on the pool");
    expect(outbox.stats()).toMatchObject({ commits: 4, loopCommits: 2 });
    await Bun.sleep(loopWriteBackoffMs + 30);
    await outbox.append("slow again"); // the loop tries again: still slow, so twice as long on the pool
    expect(outbox.stats()).toMatchObject({ loopCommits: 3, slowLoopWrites: 2 });
    await Bun.sleep(loopWriteBackoffMs + 30);
    await outbox.append("pool: the second backoff is longer");
    expect(loopCommits()).toBe(3);
    faults.slowMs = 0;
    await Bun.sleep(loopWriteBackoffMs + 30);
    await outbox.append("back in the loop");
    expect(outbox.stats()).toMatchObject({ loopCommits: 4, slowLoopWrites: 2 });
    faults.slowMs = 20;
    await outbox.append("slow after a fast one");
    await Bun.sleep(loopWriteBackoffMs + 30);
    faults.slowMs = 0;
    await outbox.append("the backoff was reset by the fast write: one period only");
    expect(loopCommits()).toBe(6);
    await outbox.close();
    const reopened = await Outbox.open({ dir: outbox.dir });
    const back = (await reopened.reader().read()).map((r) => new TextDecoder().decode(r.data));
    expect(back).toEqual([
      "fast", "slow", "on the pool", "still on the pool", "slow again", "pool: the second backoff is longer", "back in the loop",
      "slow after a fast one", "the backoff was reset by the fast write: one period only",
    ]);
    await reopened.close();
  });

  test("the queue bound: past shedAtPendingBytes unhealthy, past maxPendingBytes rejected at once", async () => {
    const { io, faults } = faultyIo();
    const maxPendingBytes = 64 * 1024;
    const shedAtPendingBytes = 32 * 1024;
    const outbox = await Outbox.open({ dir: tempDir(), io, maxPendingBytes, shedAtPendingBytes, maxRecordBytes: 4096, commitWindowMs: 0, commitWrites: "pool" });
    faults.hold = true; // the disk stalls: nothing commits
    const record = "k".repeat(1000);
    const accepted: Promise<void>[] = [];
    let refusal: Promise<void> | null = null;
    for (let i = 0; i < 100 && refusal === null; i++) {
      const rejectedBefore = outbox.stats().rejectedRecords;
      const appended = outbox.append(record);
      if (outbox.stats().rejectedRecords > rejectedBefore) refusal = appended;
      else accepted.push(appended);
    }
    expect(refusal).not.toBeNull();
    const { error, ms } = await timeToReject(refusal!);
    expect(error).toBeInstanceOf(OutboxOverloadedError);
    expect((error as OutboxError).code).toBe("OUTBOX_OVERLOADED");
    expect(ms).toBeLessThan(FAST_REJECT_MS);
    expect(outbox.pendingBytes).toBeLessThanOrEqual(maxPendingBytes);
    expect(outbox.pendingBytes).toBeGreaterThan(maxPendingBytes - 1008);
    expect(outbox.queueDepth).toBe(accepted.length);
    expect(outbox.state()).toBe("overloaded");
    expect(outbox.healthy()).toBe(false);

    faults.hold = false;
    faults.release();
    await Promise.all(accepted); // everything accepted is committed once the disk comes back
    expect(outbox.pendingBytes).toBe(0);
    expect(outbox.healthy()).toBe(true);
    await outbox.close();
  });

  test("after close, append rejects with OutboxClosedError; close commits what was queued", async () => {
    const dir = tempDir();
    const outbox = await Outbox.open({ dir, commitWindowMs: 50 });
    const queued = outbox.append("queued before close");
    await outbox.close();
    await queued;
    await expect(outbox.append("late")).rejects.toBeInstanceOf(OutboxClosedError);
    const reopened = await Outbox.open({ dir });
    expect(reopened.recovery.activeRecords).toBe(1);
    await reopened.close();
  });
});
