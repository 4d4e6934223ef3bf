// Background threads (a worker's audit consumer thread, the Parquet encode thread) run at a lower
// scheduling priority than the threads that answer auctions. Their work is bulk and may wait a few
// milliseconds; an auction may not: on a busy box the kernel otherwise hands a request thread's core
// to a Parquet flush or a SQLite batch in the middle of an auction, and those milliseconds land on the
// p99. Linux nice values are per thread (setpriority on a thread id), reached through bun:ffi;
// elsewhere, or if libc cannot be loaded, nothing changes.
import { dlopen, FFIType } from "bun:ffi";
import { log } from "../log/logger.ts";

/** The nice value of background threads (request threads keep the process's, normally 0). */
export const BACKGROUND_NICE = 10;
const PRIO_PROCESS = 0;

/**
 * Lowers the calling thread's priority to `nice`; returns its thread id, or 0 (and a debug line) when
 * it cannot.
 */
export function lowerThisThread(what: string, nice = BACKGROUND_NICE): number {
  if (process.platform !== "linux") return 0;
  try {
    const libc = dlopen("libc.so.6", {
      gettid: { args: [], returns: FFIType.i32 },
      setpriority: { args: [FFIType.i32, FFIType.u32, FFIType.i32], returns: FFIType.i32 },
    });
    try {
      const tid = libc.symbols.gettid();
      return libc.symbols.setpriority(PRIO_PROCESS, tid, nice) === 0 ? tid : 0;
    } finally {
      libc.close();
    }
  } catch (err) {
    log.debug("thread priority unchanged", { thread: what, error: String(err) });
    return 0;
  }
}
