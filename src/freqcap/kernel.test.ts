// One shared suite for every frequency-cap kernel (WASM debug, WASM release, TS reference), plus the
// differential test: random sequences of cap operations on which all three agree exactly, table
// bytes included.
import { beforeAll, describe, expect, test } from "bun:test";
import { buildWasm } from "../../scripts/build-wasm.ts";
import { createSharedMemory, layout as L } from "../auction/memory.ts";
import { loadWasmFreqCap, referenceFreqCap, type FreqCapKernel } from "./kernel.ts";
import { FreqCapTable } from "./table.ts";
import { collidingUserKeys, mulberry32, tableBytes } from "./testing.ts";

beforeAll(() => void buildWasm());

type Factory = (memory: WebAssembly.Memory) => FreqCapKernel;
const KERNELS: Record<string, Factory> = {
  "wasm-debug": (m) => loadWasmFreqCap(m, "debug"),
  "wasm-release": (m) => loadWasmFreqCap(m, "release"),
  "ts-reference": (m) => referenceFreqCap(m),
};

const T0 = 1_760_000_000;
const HOUR = 3600;
const DAY = 86_400;
const ALICE = 0x1234_5678_9abc_def0n;
const BOB = -0x0fed_cba9_8765_4321n;

function setup(factory: Factory) {
  const memory = createSharedMemory();
  const table = new FreqCapTable(memory);
  table.setRules(0, [{ max: 3, windowSec: HOUR }]);
  table.setRules(1, [{ max: 3, windowSec: HOUR }, { max: 5, windowSec: DAY }]);
  table.setRules(2, []);
  return { caps: factory(memory), table, memory };
}

for (const [name, factory] of Object.entries(KERNELS)) {
  describe(`freqcap kernel: ${name}`, () => {
    test("an uncapped campaign is always allowed and never uses the table", () => {
      const { caps, table } = setup(factory);
      for (let i = 0; i < 10; i++) expect(caps.take(ALICE, 2, T0)).toBe(L.CAP_OK);
      expect(caps.hasEntry(ALICE, 2)).toBe(false);
      expect(table.entriesUsed()).toBe(0);
    });

    test("counts up to max, then capped; check is read-only", () => {
      const { caps } = setup(factory);
      expect(caps.check(ALICE, 0, T0)).toBe(L.CAP_OK);
      expect(caps.hasEntry(ALICE, 0)).toBe(false);
      for (let i = 1; i <= 3; i++) {
        expect(caps.take(ALICE, 0, T0 + i)).toBe(L.CAP_OK);
        expect(caps.count(ALICE, 0, 0, T0 + i)).toBe(i);
      }
      expect(caps.check(ALICE, 0, T0 + 10)).toBe(L.CAP_CAPPED);
      expect(caps.take(ALICE, 0, T0 + 10)).toBe(L.CAP_CAPPED);
      expect(caps.count(ALICE, 0, 0, T0 + 10)).toBe(3);
    });

    test("a fixed window starts at the first impression and reopens at the next one after it ends", () => {
      const { caps } = setup(factory);
      const first = T0 + 100;
      for (let i = 0; i < 3; i++) caps.take(ALICE, 0, first + i * 600);
      expect(caps.windowEnd(ALICE, 0, 0, first)).toBe(first + HOUR);
      expect(caps.take(ALICE, 0, first + HOUR - 1)).toBe(L.CAP_CAPPED);
      expect(caps.take(ALICE, 0, first + HOUR)).toBe(L.CAP_OK);
      expect(caps.count(ALICE, 0, 0, first + HOUR)).toBe(1);
      const later = first + HOUR + 5_000;
      expect(caps.take(ALICE, 0, later)).toBe(L.CAP_OK); // window closed long ago: a new one from here
      expect(caps.windowEnd(ALICE, 0, 0, later)).toBe(later + HOUR);
    });

    test("several caps: the tightest binds, and a refused take counts in none of them", () => {
      const { caps } = setup(factory);
      let now = T0;
      let taken = 0;
      for (let hour = 0; hour < 3; hour++, now += HOUR) {
        for (let i = 0; i < 4; i++) if (caps.take(ALICE, 1, now + i) === L.CAP_OK) taken++;
      }
      expect(taken).toBe(5); // 3 in the first hour, 2 more until the daily 5
      expect(caps.count(ALICE, 1, 1, now)).toBe(5);
      expect(caps.count(ALICE, 1, 0, now)).toBe(0);
      expect(caps.take(ALICE, 1, now)).toBe(L.CAP_CAPPED);
      expect(caps.count(ALICE, 1, 0, now)).toBe(0); // the hourly window was not opened by the refused take
      expect(caps.take(ALICE, 1, T0 + DAY)).toBe(L.CAP_OK);
    });

    test("users and campaigns are counted apart", () => {
      const { caps } = setup(factory);
      for (let i = 0; i < 3; i++) caps.take(ALICE, 0, T0);
      expect(caps.take(ALICE, 0, T0)).toBe(L.CAP_CAPPED);
      expect(caps.take(BOB, 0, T0)).toBe(L.CAP_OK);
      expect(caps.take(ALICE, 1, T0)).toBe(L.CAP_OK);
      expect(caps.count(BOB, 0, 0, T0)).toBe(1);
    });

    test("release undoes a take; the last release closes the window", () => {
      const { caps } = setup(factory);
      caps.take(ALICE, 1, T0);
      caps.take(ALICE, 1, T0 + 1);
      caps.release(ALICE, 1, T0 + 1);
      expect([caps.count(ALICE, 1, 0, T0 + 1), caps.count(ALICE, 1, 1, T0 + 1)]).toEqual([1, 1]);
      caps.release(ALICE, 1, T0 + 2);
      expect(caps.windowEnd(ALICE, 1, 0, T0 + 2)).toBe(0);
      caps.take(ALICE, 1, T0 + 50);
      expect(caps.windowEnd(ALICE, 1, 0, T0 + 50)).toBe(T0 + 50 + HOUR);
      caps.release(BOB, 1, T0); // nothing to release: no effect
      expect(caps.hasEntry(BOB, 1)).toBe(false);
    });

    test("seeding merges remote counts: the larger count and the later end win, never looser", () => {
      const { caps } = setup(factory);
      expect(caps.seedWindow(ALICE, 0, 0, 2, T0 + 600, T0)).toBe(L.CAP_OK);
      expect(caps.count(ALICE, 0, 0, T0)).toBe(2);
      expect(caps.take(ALICE, 0, T0 + 1)).toBe(L.CAP_OK);
      expect(caps.take(ALICE, 0, T0 + 2)).toBe(L.CAP_CAPPED);
      caps.seedWindow(ALICE, 0, 0, 1, T0 + 900, T0 + 3); // smaller count, later end
      expect([caps.count(ALICE, 0, 0, T0 + 3), caps.windowEnd(ALICE, 0, 0, T0 + 3)]).toEqual([3, T0 + 900]);
      caps.seedWindow(BOB, 0, 0, 5, T0 - 1, T0); // already closed: nothing to merge
      expect(caps.hasEntry(BOB, 0)).toBe(false);
      caps.seedWindow(BOB, 2, 0, 5, T0 + 10, T0); // no such cap: ignored
      expect(caps.hasEntry(BOB, 2)).toBe(false);
    });

    test("table full: no room is refused (stricter), an expired entry is evicted, a live one never", () => {
      const { caps } = setup(factory);
      const keys = collidingUserKeys(0, 0x4242, L.FREQCAP_PROBE_LIMIT + 2, 7);
      for (let i = 0; i < L.FREQCAP_PROBE_LIMIT; i++) expect(caps.take(keys[i]!, 0, T0 + i)).toBe(L.CAP_OK);
      const late = keys[L.FREQCAP_PROBE_LIMIT]!;
      expect(caps.check(late, 0, T0 + 100)).toBe(L.CAP_NO_ROOM);
      expect(caps.take(late, 0, T0 + 100)).toBe(L.CAP_NO_ROOM);
      for (let i = 0; i < L.FREQCAP_PROBE_LIMIT; i++) expect(caps.count(keys[i]!, 0, 0, T0 + 100)).toBe(1);
      // keys[0]'s window ends first (T0 + HOUR): only its entry is evictable then.
      expect(caps.take(late, 0, T0 + HOUR)).toBe(L.CAP_OK);
      expect(caps.hasEntry(keys[0]!, 0)).toBe(false);
      expect(caps.count(late, 0, 0, T0 + HOUR)).toBe(1);
      for (let i = 1; i < L.FREQCAP_PROBE_LIMIT; i++) expect(caps.count(keys[i]!, 0, 0, T0 + HOUR)).toBe(1);
      expect(caps.take(keys[L.FREQCAP_PROBE_LIMIT + 1]!, 0, T0 + HOUR)).toBe(L.CAP_NO_ROOM);
      expect(caps.take(keys[0]!, 0, T0 + HOUR)).toBe(L.CAP_NO_ROOM); // evicted, and no room for it either
    });
  });
}

describe("differential: WASM debug and release agree with the TS reference on cap operations", () => {
  const OPS = 200_000;

  test(`${OPS} random take/check/release/seed/read operations: identical answers and tables`, () => {
    const rng = mulberry32(20261205);
    const pick = (n: number) => Math.floor(rng() * n);
    const sides = Object.values(KERNELS).map((factory) => {
      const memory = createSharedMemory();
      const table = new FreqCapTable(memory);
      table.setRules(0, [{ max: 2, windowSec: 60 }]);
      table.setRules(1, [{ max: 3, windowSec: 300 }, { max: 6, windowSec: 3_000 }]);
      table.setRules(2, [{ max: 1, windowSec: 30 }, { max: 4, windowSec: 600 }, { max: 9, windowSec: 7_200 }]);
      table.setRules(3, []);
      return { caps: factory(memory), memory };
    });
    const random = Array.from({ length: 40 }, () => BigInt.asIntN(64, BigInt(pick(2 ** 31)) << 33n ^ BigInt(pick(2 ** 31))));
    const crowded = [0, 1, 2].flatMap((slot) => collidingUserKeys(slot, 0x0777, L.FREQCAP_PROBE_LIMIT + 6, 99 + slot));
    let now = T0;
    const seen = new Map<string, number>();
    for (let op = 0; op < OPS; op++) {
      now += rng() < 0.99 ? pick(3) : pick(4_000);
      const user = rng() < 0.5 ? random[pick(random.length)]! : crowded[pick(crowded.length)]!;
      const slot = pick(4);
      const kind = pick(10);
      const w = pick(L.FREQCAP_WINDOWS);
      const seedCount = 1 + pick(4);
      const seedEnd = now + pick(400);
      const answers = sides.map(({ caps }) => {
        if (kind < 5) return caps.take(user, slot, now);
        if (kind < 7) return caps.check(user, slot, now);
        if (kind === 7) return (caps.release(user, slot, now), -1);
        if (kind === 8) return caps.seedWindow(user, slot, w, seedCount, seedEnd, now);
        return caps.count(user, slot, w, now) * 1e10 + caps.windowEnd(user, slot, w, now) * 2 + (caps.hasEntry(user, slot) ? 1 : 0);
      });
      if (answers[0] !== answers[1] || answers[0] !== answers[2]) {
        throw new Error(`op ${op} (kind ${kind}, slot ${slot}, user ${user}, now ${now}) differs: ${answers.join(" / ")}`);
      }
      const tag = `${kind < 5 ? "take" : "check"}:${answers[0]}`;
      if (kind < 7) seen.set(tag, (seen.get(tag) ?? 0) + 1);
    }
    const [debug, release, reference] = sides.map(({ memory }) => tableBytes(memory));
    expect(debug!.equals(reference!)).toBe(true);
    expect(release!.equals(reference!)).toBe(true);
    // The mix must reach every outcome, eviction included, or the comparison proves little.
    for (const tag of [`take:${L.CAP_OK}`, `take:${L.CAP_CAPPED}`, `take:${L.CAP_NO_ROOM}`, `check:${L.CAP_OK}`, `check:${L.CAP_CAPPED}`, `check:${L.CAP_NO_ROOM}`]) {
      expect(seen.get(tag) ?? 0).toBeGreaterThan(100);
    }
  }, 120_000);
});
