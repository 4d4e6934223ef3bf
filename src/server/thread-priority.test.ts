// A background thread lowers its own nice value (Linux: per thread), and only its own: the thread
// that started it keeps the process's.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { BACKGROUND_NICE } from "./thread-priority.ts";

/** A thread's nice value from /proc (field 19 of stat, after the parenthesised name). */
const niceOf = (tid: number) => Number(readFileSync(`/proc/${process.pid}/task/${tid}/stat`, "utf8").split(") ")[1]!.split(" ")[16]);

test.skipIf(process.platform !== "linux")("lowerThisThread sets the calling thread's nice, not the process's", async () => {
  const before = niceOf(process.pid);
  const worker = new Worker(new URL("./thread-priority.fixture.ts", import.meta.url).href);
  const tid = await new Promise<number>((resolve) => (worker.onmessage = (e: MessageEvent<number>) => resolve(e.data)));
  try {
    expect(tid).toBeGreaterThan(0);
    expect(tid).not.toBe(process.pid);
    expect(niceOf(tid)).toBe(BACKGROUND_NICE);
    expect(niceOf(process.pid)).toBe(before);
  } finally {
    worker.terminate();
  }
});
