// A background thread lowers its own nice value (Linux: per thread), and only its own: the thread
// that started it keeps the process's.
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { BACKGROUND_NICE } from "./thread-priority.ts";

/** The main thread's nice value from /proc (field 19 of stat, after the parenthesised name). */
const mainNice = () => Number(readFileSync(`/proc/${process.pid}/stat`, "utf8").split(") ")[1]!.split(" ")[16]);

test.skipIf(process.platform !== "linux")("lowerThisThread sets the calling thread's nice, not the process's", async () => {
  const before = mainNice();
  const worker = new Worker(new URL("./thread-priority.fixture.ts", import.meta.url).href);
  try {
    const { tid, nice } = await new Promise<{ tid: number; nice: number | null }>((resolve) => (worker.onmessage = (e) => resolve(e.data)));
    expect(tid).toBeGreaterThan(0);
    expect(tid).not.toBe(process.pid);
    expect(nice).toBe(BACKGROUND_NICE);
    expect(mainNice()).toBe(before);
  } finally {
    worker.terminate();
  }
});
