// The file operations the outbox uses, behind an interface so tests can inject failures (EIO,
// ENOSPC, a hanging or slow write) and count writes and fsyncs. The default runs on node:fs: its
// asynchronous calls run off the JavaScript thread (a slow disk never blocks the event loop), and
// writeSync, the committer's in-loop write, blocks it for the write (bounded there: committer.ts).
import * as fs from "node:fs";

/**
 * "durable": read-write, and each write returns only once its data is on disk (O_DSYNC: what a write
 * then an fdatasync give, in one trip to the thread pool instead of two; on a busy event loop each trip
 * waits for a turn of the loop, so this halves a group commit's latency).
 */
export type OpenMode = "read" | "readwrite" | "durable" | "create" | "replace";

export interface OutboxIo {
  mkdirp(dir: string): Promise<void>;
  readdir(dir: string): Promise<string[]>;
  open(path: string, mode: OpenMode): Promise<number>;
  close(fd: number): Promise<void>;
  size(fd: number): Promise<number>;
  /** Reads up to `length` bytes at `position`; returns the count read (0 at end of file). */
  read(fd: number, buf: Buffer, offset: number, length: number, position: number): Promise<number>;
  /** Writes up to `length` bytes at `position`; returns the count written (may be partial; durable on a "durable" file). */
  write(fd: number, buf: Buffer, offset: number, length: number, position: number): Promise<number>;
  /** The same, blocking the calling thread (the committer's in-loop writes, see committer.ts). */
  writeSync(fd: number, buf: Buffer, offset: number, length: number, position: number): number;
  /** Makes the file's written data durable (fdatasync). */
  fsync(fd: number): Promise<void>;
  truncate(fd: number, size: number): Promise<void>;
  /** Makes a directory's entries (create, rename, unlink) durable. */
  fsyncDir(dir: string): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  readFile(path: string): Promise<Buffer | null>;
}

const FLAGS: Record<OpenMode, string | number> = {
  read: "r", readwrite: "r+", durable: fs.constants.O_RDWR | fs.constants.O_DSYNC, create: "wx", replace: "w",
};

function call<T>(run: (done: (err: NodeJS.ErrnoException | null, value?: T) => void) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => run((err, value) => (err ? reject(err) : resolve(value as T))));
}

async function fsyncDirectory(dir: string): Promise<void> {
  const fd = await call<number>((done) => fs.open(dir, "r", done));
  try {
    await call<void>((done) => fs.fsync(fd, done));
  } finally {
    await call<void>((done) => fs.close(fd, done));
  }
}

async function readWhole(path: string): Promise<Buffer | null> {
  try {
    return await call<Buffer>((done) => fs.readFile(path, done));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}

export function nodeIo(): OutboxIo {
  return {
    mkdirp: async (dir) => void (await call<string | undefined>((done) => fs.mkdir(dir, { recursive: true }, done))),
    readdir: (dir) => call<string[]>((done) => fs.readdir(dir, done)),
    open: (path, mode) => call<number>((done) => fs.open(path, FLAGS[mode], done)),
    close: (fd) => call<void>((done) => fs.close(fd, done)),
    size: async (fd) => (await call<fs.Stats>((done) => fs.fstat(fd, done))).size,
    read: (fd, buf, offset, length, position) => call<number>((done) => fs.read(fd, buf, offset, length, position, done)),
    write: (fd, buf, offset, length, position) => call<number>((done) => fs.write(fd, buf, offset, length, position, done)),
    writeSync: (fd, buf, offset, length, position) => fs.writeSync(fd, buf, offset, length, position),
    fsync: (fd) => call<void>((done) => fs.fdatasync(fd, done)),
    truncate: (fd, size) => call<void>((done) => fs.ftruncate(fd, size, done)),
    fsyncDir: fsyncDirectory,
    rename: (from, to) => call<void>((done) => fs.rename(from, to, done)),
    unlink: (path) => call<void>((done) => fs.unlink(path, done)),
    readFile: readWhole,
  };
}

/** writeFully on the calling thread (blocking). */
export function writeFullySync(io: OutboxIo, fd: number, buf: Buffer, length: number, position: number): void {
  let done = 0;
  while (done < length) {
    const n = io.writeSync(fd, buf, done, length - done, position + done);
    if (n <= 0) throw new Error(`write returned ${n} at ${position + done}`);
    done += n;
  }
}

/** Writes all `length` bytes at `position`, looping over partial writes. */
export async function writeFully(io: OutboxIo, fd: number, buf: Buffer, length: number, position: number): Promise<void> {
  let done = 0;
  while (done < length) {
    const n = await io.write(fd, buf, done, length - done, position + done);
    if (n <= 0) throw new Error(`write returned ${n} at ${position + done}`);
    done += n;
  }
}
