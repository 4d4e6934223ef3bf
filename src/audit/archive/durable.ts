// Crash-safe file operations of the archive, on the outbox's injectable file interface (tests
// count fsyncs and inject failures): a file appears under its final name only once its bytes are
// fsync'd (temp + fsync + rename + directory fsync), and a created directory is made durable in
// its parent before anything is put in it.
import { mkdir, rmdir, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { nodeIo, writeFully, type OutboxIo } from "../outbox/io.ts";
import { TEMP_SUFFIX } from "./layout.ts";

export interface ArchiveIo extends OutboxIo {
  /** Creates one directory level; true when it was created, false when it existed. */
  mkdir(dir: string): Promise<boolean>;
  /** Removes an empty directory; false when it is not empty or absent. */
  rmdirIfEmpty(dir: string): Promise<boolean>;
  /** Modification time in ms, or null when absent. */
  mtimeMs(path: string): Promise<number | null>;
}

export function archiveIo(base: OutboxIo = nodeIo()): ArchiveIo {
  return {
    ...base,
    mkdir: async (dir) => {
      try {
        await mkdir(dir);
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
        throw err;
      }
    },
    rmdirIfEmpty: async (dir) => {
      try {
        await rmdir(dir);
        return true;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === "ENOENT" || code === "ENOTEMPTY" || code === "EEXIST") return false;
        throw err;
      }
    },
    mtimeMs: async (path) => {
      try {
        return (await stat(path)).mtimeMs;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
        throw err;
      }
    },
  };
}

/**
 * Makes `dir` (below `root`, which must exist or is created like the rest) exist durably: each
 * level created here is fsync'd into its parent. `known` remembers directories already done.
 */
export async function ensureDir(io: ArchiveIo, root: string, dir: string, known?: Set<string>): Promise<void> {
  if (known?.has(dir)) return;
  const levels: string[] = [];
  for (let d = dir; d !== root && d !== dirname(d); d = dirname(d)) levels.unshift(d);
  await io.mkdirp(dirname(root));
  if (await io.mkdir(root)) await io.fsyncDir(dirname(root));
  for (const level of levels) {
    if (await io.mkdir(level)) await io.fsyncDir(dirname(level));
  }
  known?.add(dir);
}

/** Writes `bytes` to `path` atomically: `<path>.tmp`, fsync, rename, fsync of the directory. */
export async function writeFileAtomic(io: ArchiveIo, path: string, bytes: Uint8Array): Promise<void> {
  const temp = path + TEMP_SUFFIX;
  const fd = await io.open(temp, "replace");
  try {
    const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    await writeFully(io, fd, buf, buf.length, 0);
    await io.fsync(fd);
  } finally {
    await io.close(fd);
  }
  await io.rename(temp, path);
  await io.fsyncDir(dirname(path));
}

/** Unlinks files of one directory (absent ones are fine), then fsyncs the directory once. */
export async function unlinkAll(io: ArchiveIo, dir: string, names: readonly string[]): Promise<void> {
  for (const name of names) {
    try {
      await io.unlink(join(dir, basename(name)));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
  }
  if (names.length > 0) await io.fsyncDir(dir);
}

/** Removes `dir` and then its parent when they are empty (the parent's entry change made durable). */
export async function pruneEmptyDirs(io: ArchiveIo, dir: string, levels: number): Promise<void> {
  let current = dir;
  for (let i = 0; i < levels; i++) {
    if (!(await io.rmdirIfEmpty(current))) return;
    await io.fsyncDir(dirname(current));
    current = dirname(current);
  }
}
