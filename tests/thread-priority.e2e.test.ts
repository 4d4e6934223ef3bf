// Through a real `tmax serve`: the worker's audit consumer thread runs at BACKGROUND_NICE while the
// threads that answer auctions keep the process's priority (src/server/thread-priority.ts).
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { startTmax, type Proc } from "./support/processes.ts";
import { bidRequest, postAuction } from "./support/openrtb.ts";
import { BACKGROUND_NICE } from "../src/server/thread-priority.ts";

let tmax: Proc;

beforeAll(async () => {
  tmax = await startTmax({ dsps: [], campaigns: [{ id: "c1", advertiserId: "a1", dailyBudget: 10, currency: "USD" }] }, 1);
});

afterAll(async () => {
  await tmax?.kill();
});

/** Every thread of a process: its name and nice value (/proc/PID/task/TID/stat, field 19). */
function threads(pid: number): Array<{ name: string; nice: number }> {
  const out: Array<{ name: string; nice: number }> = [];
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      out.push({ name: stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")), nice: Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[16]) });
    } catch { /* the thread ended meanwhile */ }
  }
  return out;
}

test.skipIf(process.platform !== "linux")("the audit consumer thread runs at nice 10, the request worker and main thread do not", async () => {
  expect((await postAuction(tmax.url, bidRequest())).status).toBe(204); // no DSPs: a served no-bid, the worker is up
  const main = threads(tmax.proc.pid).find((t) => t.name !== "Worker")!;
  let workers: Array<{ name: string; nice: number }> = [];
  for (let i = 0; i < 50 && !workers.some((t) => t.nice === BACKGROUND_NICE); i++) {
    workers = threads(tmax.proc.pid).filter((t) => t.name === "Worker");
    await Bun.sleep(100);
  }
  console.log(`threads named Worker: ${JSON.stringify(workers)}`);
  expect(workers.filter((t) => t.nice === BACKGROUND_NICE).length).toBeGreaterThanOrEqual(1); // the consumer thread
  expect(workers.filter((t) => t.nice === main.nice).length).toBeGreaterThanOrEqual(1); // the request worker
  expect(main.nice).not.toBe(BACKGROUND_NICE);
});
