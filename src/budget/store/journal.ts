// Durable embedded books: the in-process stores (memory.ts) behind a write-ahead journal. Every
// mutating call is appended (one JSON line, fsync'd) with the time it ran, then applied; at start the
// journal is replayed into fresh stores with each entry's recorded time, so the books are what they
// were (the stores are deterministic given the call and the clock). A call journaled but not applied
// before a crash is applied by the replay (its caller got no answer and retries with the same id,
// which the stores apply once). A restart within a day therefore does not grant the day's budget
// again; a lease held by a process that crashed strands at its expiry (counted as spent).
// Entries older than JOURNAL_KEEP_MS (their books no longer matter, as Redis books expire) are
// dropped when the journal is opened: the file holds about three days of lease operations.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeFileSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { MemoryGlobalStore, MemoryRegionStore } from "./memory.ts";
import type { CampaignDay, GlobalStore, RegionStore } from "./types.ts";

type Entry = { t: number; s: "r" | "g"; o: string; a: unknown[] };
/** Journal entries kept (and replayed) at open: three days. */
export const JOURNAL_KEEP_MS = 3 * 86_400_000;
const REGION_OPS = new Set(["claim", "settle", "settleUp", "credit", "release", "expire", "ackHandUp", "once"]);
const GLOBAL_OPS = new Set(["grant", "giveBack", "returnLease", "ackLeaseReturn"]);

export interface JournaledStores { region: RegionStore; global: GlobalStore; close(): void }

export function journaledStores(path: string): JournaledStores {
  const clock = { now: 0 };
  const region = new MemoryRegionStore(() => clock.now);
  const global = new MemoryGlobalStore();
  mkdirSync(dirname(path), { recursive: true });
  replay(path, region, global, clock, Date.now() - JOURNAL_KEEP_MS);
  const fd = openSync(path, "a");
  const logged = <T extends object>(inner: T, side: "r" | "g", ops: Set<string>): T => new Proxy(inner, {
    get(target, prop) {
      const value = Reflect.get(target, prop) as unknown;
      if (typeof value !== "function") return value;
      if (!ops.has(String(prop))) return (value as (...a: unknown[]) => unknown).bind(target);
      return (...args: unknown[]) => {
        const t = Date.now();
        writeSync(fd, `${JSON.stringify({ t, s: side, o: String(prop), a: args } satisfies Entry)}\n`);
        fsyncSync(fd);
        clock.now = t;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { region: logged(region, "r", REGION_OPS), global: logged(global, "g", GLOBAL_OPS), close: () => closeSync(fd) };
}

function replay(path: string, region: MemoryRegionStore, global: MemoryGlobalStore, clock: { now: number }, sinceMs: number): void {
  if (!existsSync(path)) return;
  const lines = readFileSync(path, "utf8").split("\n");
  const kept: string[] = [];
  for (const [i, line] of lines.entries()) {
    if (line === "") continue;
    let e: Entry;
    try {
      e = JSON.parse(line) as Entry;
    } catch {
      if (i === lines.length - 1 || lines.slice(i + 1).every((l) => l === "")) continue; // a torn last line: never applied
      throw new Error(`budget journal ${path} line ${i + 1}: not JSON`);
    }
    if (e.t < sinceMs) continue;
    kept.push(line);
    clock.now = e.t;
    const target = (e.s === "r" ? region : global) as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
    void target[e.o]!.apply(e.s === "r" ? region : global, e.a).catch(() => undefined); // memory ops settle synchronously
  }
  if (kept.length < lines.filter((l) => l !== "").length) {
    writeFileSync(`${path}.tmp`, kept.map((l) => `${l}\n`).join(""));
    renameSync(`${path}.tmp`, path);
  }
}

export type { CampaignDay };
