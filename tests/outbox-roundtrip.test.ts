// The outbox round trip on real files: what is appended is read back byte for byte, in order; many
// concurrent appends share few write + fsync groups; a tail-following reader sees new commits.
import { afterEach, describe, expect, test } from "bun:test";
import { constants, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nodeIo, Outbox, OutboxRecordTooLargeError, outboxDir, type OpenMode, type OutboxIo, type OutboxRecord } from "../src/audit/outbox/index.ts";

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "outbox-rt-"));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** node:fs with fsync and write calls (on the pool or in the loop) counted. */
function countingIo(): OutboxIo & { fsyncs: number; writes: number; durableFds: number[] } {
  const base = nodeIo();
  const io = {
    ...base,
    fsyncs: 0,
    writes: 0,
    durableFds: [] as number[],
    open: async (path: string, mode: OpenMode) => {
      const fd = await base.open(path, mode);
      if (mode === "durable") io.durableFds.push(fd);
      return fd;
    },
    fsync: (fd: number) => (io.fsyncs++, base.fsync(fd)),
    write: (fd: number, buf: Buffer, offset: number, length: number, position: number) => (io.writes++, base.write(fd, buf, offset, length, position)),
    writeSync: (fd: number, buf: Buffer, offset: number, length: number, position: number) => (io.writes++, base.writeSync(fd, buf, offset, length, position)),
  };
  return io;
}

const text = (r: OutboxRecord) => new TextDecoder().decode(r.data);

async function readAll(outbox: Outbox): Promise<OutboxRecord[]> {
  const reader = outbox.reader();
  const out: OutboxRecord[] = [];
  for (let batch = await reader.read(); batch.length > 0; batch = await reader.read()) out.push(...batch);
  await reader.close();
  return out;
}

describe("outbox round trip", () => {
  test("strings and bytes come back identical, in append order, after a reopen", async () => {
    const dir = tempDir();
    const outbox = await Outbox.open({ dir });
    const records: (string | Uint8Array)[] = ["", "a", "é ✓ 𝄞 unicode", "x".repeat(70_000), new Uint8Array([0, 1, 2, 255]), new Uint8Array(0)];
    for (let i = 0; i < 500; i++) records.push(JSON.stringify({ i, pad: "p".repeat(i % 97) }));
    await Promise.all(records.map((r) => outbox.append(r)));
    await outbox.close();

    const reopened = await Outbox.open({ dir });
    expect(reopened.recovery.truncated).toBeNull();
    expect(reopened.recovery.activeRecords).toBe(records.length);
    const back = await readAll(reopened);
    expect(back.length).toBe(records.length);
    back.forEach((r, i) => {
      const want = records[i]!;
      expect(r.data).toEqual(typeof want === "string" ? new TextEncoder().encode(want) : want);
      if (i > 0) expect(r.position).toEqual(back[i - 1]!.next);
    });
    await reopened.close();
  });

  test("2,000 concurrent appends are grouped into a handful of durable writes (no separate fsync)", async () => {
    const io = countingIo();
    const outbox = await Outbox.open({ dir: tempDir(), io, commitWindowMs: 5 });
    expect(io.durableFds).toHaveLength(1); // the active segment, opened O_DSYNC (the kernel's flags for the fd say so)
    const flags = Number.parseInt(/^flags:\s+([0-7]+)$/m.exec(readFileSync(`/proc/self/fdinfo/${io.durableFds[0]}`, "utf8"))![1]!, 8);
    expect(flags & constants.O_DSYNC).toBe(constants.O_DSYNC);
    const [fsyncsAfterOpen, writesAfterOpen] = [io.fsyncs, io.writes];
    const count = 2_000;
    await Promise.all(Array.from({ length: count }, (_, i) => outbox.append(`event-${i}-${"z".repeat(200)}`)));
    const groupWrites = io.writes - writesAfterOpen;
    expect(groupWrites).toBeGreaterThanOrEqual(1);
    expect(groupWrites).toBeLessThanOrEqual(3); // one 4 MiB batch holds all 2,000; allow for a timer split
    expect(io.fsyncs).toBe(fsyncsAfterOpen); // each write is durable when it returns: one trip per group
    expect(outbox.stats().commits).toBe(groupWrites);
    const back = await readAll(outbox);
    expect(back.map(text)).toEqual(Array.from({ length: count }, (_, i) => `event-${i}-${"z".repeat(200)}`));
    await outbox.close();
  });

  test("appends made while a commit is in flight form the next group, resolving in order", async () => {
    const outbox = await Outbox.open({ dir: tempDir(), commitWindowMs: 1 });
    const resolved: number[] = [];
    const pending: Promise<void>[] = [];
    for (let wave = 0; wave < 20; wave++) {
      for (let i = 0; i < 50; i++) {
        const id = wave * 50 + i;
        pending.push(outbox.append(String(id)).then(() => void resolved.push(id)));
      }
      await Bun.sleep(wave % 3);
    }
    await Promise.all(pending);
    expect(resolved).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect((await readAll(outbox)).map(text)).toEqual(resolved.map(String));
    expect(outbox.stats().commits).toBeLessThan(200);
    await outbox.close();
  });

  test("window 0, writes on the pool: the first append commits at once, the ones made meanwhile form one next group", async () => {
    const outbox = await Outbox.open({ dir: tempDir(), commitWrites: "pool" });
    const resolved: number[] = [];
    await Promise.all(Array.from({ length: 500 }, (_, i) => outbox.append(String(i)).then(() => void resolved.push(i))));
    expect(resolved).toEqual(Array.from({ length: 500 }, (_, i) => i));
    expect(outbox.stats().commits).toBe(2); // [0] alone, then [1..499] while it was on its way to disk
    expect(outbox.stats().loopCommits).toBe(0);
    await outbox.close();
  });

  test("window 0, writes in the loop (the default): appends of one turn of the loop form one group, written at its end", async () => {
    const outbox = await Outbox.open({ dir: tempDir() });
    const resolved: number[] = [];
    const turn = Array.from({ length: 500 }, (_, i) => outbox.append(String(i)).then(() => void resolved.push(i)));
    await Promise.resolve();
    expect(outbox.stats().commits).toBe(0); // not before the turn ends
    await Promise.all(turn);
    expect(resolved).toEqual(Array.from({ length: 500 }, (_, i) => i));
    expect(outbox.stats().commits).toBe(1);
    expect(outbox.stats().loopCommits).toBe(1);
    await outbox.append("next turn");
    expect(outbox.stats().loopCommits).toBe(2);
    expect((await readAll(outbox)).map(text)).toEqual([...resolved.map(String), "next turn"]);
    await outbox.close();
  });

  test("in the loop only groups up to loopWriteMaxBytes: a larger one is written on the pool", async () => {
    const outbox = await Outbox.open({ dir: tempDir(), loopWriteMaxBytes: 1024 });
    await outbox.append("b".repeat(2000));
    expect(outbox.stats()).toMatchObject({ commits: 1, loopCommits: 0 });
    await outbox.append("small");
    expect(outbox.stats()).toMatchObject({ commits: 2, loopCommits: 1 });
    expect((await readAll(outbox)).map(text)).toEqual(["b".repeat(2000), "small"]);
    await outbox.close();
  });

  test("append resolves only after the durable write of its group (on the pool)", async () => {
    const base = nodeIo();
    const gate = { held: true, release: () => {} };
    const io: OutboxIo = { ...base, write: async (fd, buf, offset, length, position) => {
      if (gate.held) await new Promise<void>((resolve) => (gate.release = resolve));
      return base.write(fd, buf, offset, length, position);
    } };
    const dir = tempDir();
    await (await Outbox.open({ dir })).close(); // the first segment exists: opening writes nothing
    const outbox = await Outbox.open({ dir, io, commitWindowMs: 0, commitWrites: "pool" });
    let done = false;
    const appended = outbox.append("waits for disk").then(() => void (done = true));
    await Bun.sleep(20);
    expect(done).toBe(false);
    expect(outbox.committedPosition().offset).toBe(16); // not visible to readers either
    gate.held = false;
    gate.release();
    await appended;
    expect(done).toBe(true);
    expect(outbox.committedPosition().offset).toBe(16 + 8 + "waits for disk".length);
    await outbox.close();
  });

  test("append resolves only after the durable write of its group (in the loop)", async () => {
    const base = nodeIo();
    const order: string[] = [];
    const io: OutboxIo = { ...base, writeSync: (fd, buf, offset, length, position) => {
      order.push(`write, visible at ${outbox.committedPosition().offset}`);
      return base.writeSync(fd, buf, offset, length, position);
    } };
    const dir = tempDir();
    await (await Outbox.open({ dir })).close();
    const outbox = await Outbox.open({ dir, io });
    await outbox.append("waits for disk").then(() => void order.push(`resolved, visible at ${outbox.committedPosition().offset}`));
    expect(order).toEqual(["write, visible at 16", `resolved, visible at ${16 + 8 + "waits for disk".length}`]);
    await outbox.close();
  });

  test("a record above maxRecordBytes is rejected with a typed error, the rest go on", async () => {
    const outbox = await Outbox.open({ dir: tempDir(), maxRecordBytes: 1024 });
    await expect(outbox.append("x".repeat(1025))).rejects.toBeInstanceOf(OutboxRecordTooLargeError);
    await outbox.append("x".repeat(1024));
    expect((await readAll(outbox)).length).toBe(1);
    await outbox.close();
  });

  test("follow() yields existing records, then new ones as they commit, until aborted", async () => {
    const outbox = await Outbox.open({ dir: tempDir(), commitWindowMs: 1 });
    await outbox.append("before-0");
    await outbox.append("before-1");
    const abort = new AbortController();
    const seen: string[] = [];
    const following = (async () => {
      for await (const record of outbox.follow(undefined, { signal: abort.signal })) {
        seen.push(text(record));
        if (seen.length === 5) abort.abort();
      }
    })();
    for (let waitedMs = 0; seen.length < 2 && waitedMs < 5_000; waitedMs += 5) await Bun.sleep(5);
    expect(seen).toEqual(["before-0", "before-1"]);
    for (const name of ["after-0", "after-1", "after-2"]) {
      await outbox.append(name);
      await Bun.sleep(2);
    }
    await following;
    expect(seen).toEqual(["before-0", "before-1", "after-0", "after-1", "after-2"]);
    await outbox.close();
  });

  test("per-worker directories: audit.dir/outbox/w<N>", () => {
    expect(outboxDir("/var/tmax", 3)).toBe(join("/var/tmax", "outbox", "w3"));
  });
});
