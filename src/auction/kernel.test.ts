// One shared suite for every auction kernel (WASM debug, WASM release, TS reference), plus the
// differential test: >= 100,000 random auctions on which all three must agree exactly.
import { beforeAll, describe, expect, test } from "bun:test";
import { makeRng } from "../util/rng.ts";
import { buildWasm } from "../../scripts/build-wasm.ts";
import { createSharedMemory, layout as L } from "./memory.ts";
import { loadWasmKernel, referenceKernel, type AuctionKernel } from "./kernel.ts";
import { AuctionScratch } from "./scratch.ts";
import { SharedBudget } from "../budget/shared-budget.ts";
import { FreqCapTable } from "../freqcap/table.ts";
import { tableBytes } from "../freqcap/testing.ts";

beforeAll(() => void buildWasm());

type Factory = (memory: WebAssembly.Memory) => AuctionKernel;
const KERNELS: Record<string, Factory> = {
  "wasm-debug": (m) => loadWasmKernel(m, "debug"),
  "wasm-release": (m) => loadWasmKernel(m, "release"),
  "ts-reference": (m) => referenceKernel(m),
};

function setup(factory: Factory, budgets: number[] = [1_000_000_000, 1_000_000_000, 1_000_000_000]) {
  const memory = createSharedMemory();
  const budget = new SharedBudget(memory);
  budgets.forEach((micros, slot) => budget.reset(slot, micros));
  return { kernel: factory(memory), scratch: new AuctionScratch(memory, 0), budget, memory };
}

for (const [name, factory] of Object.entries(KERNELS)) {
  describe(`auction kernel: ${name}`, () => {
    test("second price: winner pays runner-up + 0.01 CPM", () => {
      const { kernel, scratch } = setup(factory);
      scratch.beginImp(500_000, 2);
      scratch.addBid(2_000_000, 0, 0);
      scratch.addBid(3_000_000, 1, 0);
      scratch.addBid(1_200_000, 2, 0);
      expect(scratch.run(kernel)).toBe(1);
      expect(scratch.winner(0)).toBe(1);
      expect(scratch.clearingPriceMicros(0)).toBe(2_010_000);
      expect(scratch.costMicros(0)).toBe(2010); // 2.01 CPM = 2010 micros per impression
    });

    test("second price: a lone bid pays floor + 0.01, never more than its bid", () => {
      const { kernel, scratch } = setup(factory);
      scratch.beginImp(1_000_000, 2);
      scratch.addBid(3_000_000, 0, 0);
      scratch.beginImp(1_000_000, 2);
      scratch.addBid(1_005_000, 0, 0);
      expect(scratch.run(kernel)).toBe(2);
      expect(scratch.clearingPriceMicros(0)).toBe(1_010_000);
      expect(scratch.clearingPriceMicros(1)).toBe(1_005_000);
    });

    test("first price pays the bid; bids below the floor and blocked bids are not eligible", () => {
      const { kernel, scratch } = setup(factory);
      scratch.beginImp(1_000_000, 1);
      scratch.addBid(990_000, 0, 0);
      scratch.addBid(5_000_000, 1, L.FLAG_BLOCKED);
      scratch.addBid(1_500_000, 2, 0);
      scratch.run(kernel);
      expect(scratch.winner(0)).toBe(2);
      expect(scratch.clearingPriceMicros(0)).toBe(1_500_000);
    });

    test("ties go to the lowest index and pay the tied price", () => {
      const { kernel, scratch } = setup(factory);
      scratch.beginImp(0, 2);
      scratch.addBid(2_000_000, 0, 0);
      scratch.addBid(2_000_000, 1, 0);
      scratch.run(kernel);
      expect(scratch.winner(0)).toBe(0);
      expect(scratch.clearingPriceMicros(0)).toBe(2_000_000);
    });

    test("no eligible bid: no winner", () => {
      const { kernel, scratch } = setup(factory);
      scratch.beginImp(3_000_000, 2);
      scratch.addBid(2_000_000, 0, 0);
      scratch.beginImp(0, 2);
      expect(scratch.run(kernel)).toBe(0);
      expect(scratch.winner(0)).toBe(-1);
      expect(scratch.winner(1)).toBe(-1);
    });

    test("a winner that cannot afford the cost is skipped and the next bid wins at its own second price", () => {
      const { kernel, scratch, budget } = setup(factory, [100, 1_000_000_000, 1_000_000_000]);
      scratch.beginImp(100_000, 2);
      const rich = scratch.addBid(1_000_000, 1, 0);
      const poor = scratch.addBid(9_000_000, 0, 0); // would cost ~1010 micros, only 100 left
      scratch.addBid(500_000, 2, 0);
      scratch.run(kernel);
      expect(scratch.winner(0)).toBe(rich);
      expect(scratch.bidFlags(poor)).toBe(L.FLAG_NO_BUDGET);
      expect(scratch.budgetSkips(0)).toBe(1);
      expect(scratch.clearingPriceMicros(0)).toBe(510_000);
      expect(budget.books(0)).toEqual({ remainingMicros: 100, reservedMicros: 0 });
      expect(budget.books(1)).toEqual({ remainingMicros: 1_000_000_000 - 510, reservedMicros: 510 });
    });

    test("budget is spent exactly to zero and never below", () => {
      const { kernel, scratch, budget } = setup(factory, [2_500]);
      let wins = 0;
      for (let i = 0; i < 5; i++) {
        scratch.reset();
        scratch.beginImp(0, 1);
        scratch.addBid(1_000_000, 0, 0); // 1000 micros per impression
        wins += scratch.run(kernel);
      }
      expect(wins).toBe(2);
      expect(budget.books(0)).toEqual({ remainingMicros: 500, reservedMicros: 2_000 });
    });

    test("cost rounds up to whole micros", () => {
      const { kernel, scratch } = setup(factory);
      scratch.beginImp(0, 1);
      scratch.addBid(1_234_567, 0, 0);
      scratch.run(kernel);
      expect(scratch.costMicros(0)).toBe(1_235);
    });
  });
}

describe("differential: WASM debug and release agree with the TS reference", () => {
  const AUCTIONS = 100_000;

  test(`${AUCTIONS} random auctions with frequency caps: identical winners, prices, costs, flags, budgets and cap tables`, () => {
    const CAMPAIGNS = 12;
    const rng = makeRng(20261204);
    const sides = Object.values(KERNELS).map((factory) => {
      const side = setup(factory, new Array(CAMPAIGNS).fill(0));
      const table = new FreqCapTable(side.memory);
      for (let slot = 0; slot < CAMPAIGNS; slot += 2) table.setRules(slot, slot % 4 === 0 ? [{ max: 2, windowSec: 120 }] : [{ max: 1, windowSec: 30 }, { max: 5, windowSec: 900 }]);
      return side;
    });
    const users = Array.from({ length: 64 }, (_, u) => BigInt.asIntN(64, BigInt(u + 1) * 0x2545f4914f6cdd1dn));
    let nowSec = 1_760_000_000;
    let capped = 0;
    const budgets = Array.from({ length: CAMPAIGNS }, (_, c) => (c < 4 ? 20_000 : 2_000_000_000));
    for (const side of sides) budgets.forEach((b, slot) => side.budget.reset(slot, b));
    const pick = (n: number) => Math.floor(rng() * n);
    let won = 0;
    let skipped = 0;
    for (let a = 0; a < AUCTIONS; a++) {
      const imps = 1 + pick(4);
      const spec: Array<{ floor: number; at: number; bids: Array<[number, number, number]> }> = [];
      for (let i = 0; i < imps; i++) {
        const bidCount = pick(10);
        const bids: Array<[number, number, number]> = [];
        for (let b = 0; b < bidCount; b++) {
          const price = rng() < 0.3 ? 1_000_000 * (1 + pick(4)) : pick(8_000_000); // many ties
          bids.push([price, pick(CAMPAIGNS), rng() < 0.1 ? L.FLAG_BLOCKED : 0]);
        }
        spec.push({ floor: rng() < 0.3 ? 0 : pick(3_000_000), at: rng() < 0.3 ? 1 : 2, bids });
      }
      nowSec += pick(4);
      const capMode = rng() < 0.8 ? L.CAP_MODE_KEY : rng() < 0.5 ? L.CAP_MODE_DENY : L.CAP_MODE_OFF;
      const userKey = capMode === L.CAP_MODE_KEY ? users[pick(users.length)]! : 0n;
      const outcomes = sides.map(({ kernel, scratch }) => {
        scratch.reset();
        scratch.setCaps(userKey, nowSec, capMode);
        for (const imp of spec) {
          scratch.beginImp(imp.floor, imp.at);
          for (const [price, slot, flags] of imp.bids) scratch.addBid(price, slot, flags);
        }
        const wins = scratch.run(kernel);
        const perImp = spec.map((_, i) => [scratch.winner(i), scratch.clearingPriceMicros(i), scratch.costMicros(i), scratch.budgetSkips(i)]);
        const bidCount = spec.reduce((n, imp) => n + imp.bids.length, 0);
        const flags = Array.from({ length: bidCount }, (_, b) => scratch.bidFlags(b));
        return JSON.stringify([wins, perImp, flags]);
      });
      if (outcomes[0] !== outcomes[1] || outcomes[0] !== outcomes[2]) {
        throw new Error(`auction ${a} differs:\n${outcomes.join("\n")}\nspec ${JSON.stringify(spec)}`);
      }
      const [wins, perImp, flags] = JSON.parse(outcomes[0]!) as [number, number[][], number[]];
      capped += flags.filter((f) => (f & L.FLAG_FREQ_CAPPED) !== 0).length;
      won += wins;
      skipped += perImp.reduce((n, r) => n + (r[3] as number), 0);
      if (a % 10_000 === 0) for (let s = 0; s < CAMPAIGNS; s++) if (s % 3 === 0) sides.forEach((side) => side.budget.reset(s, budgets[s]!));
    }
    for (let slot = 0; slot < CAMPAIGNS; slot++) {
      const books = sides.map((side) => side.budget.books(slot));
      expect(books[1]).toEqual(books[0]!);
      expect(books[2]).toEqual(books[0]!);
    }
    expect(tableBytes(sides[0]!.memory).equals(tableBytes(sides[2]!.memory))).toBe(true);
    expect(tableBytes(sides[1]!.memory).equals(tableBytes(sides[2]!.memory))).toBe(true);
    // The random mix must exercise the interesting paths, or the comparison proves little.
    expect(won).toBeGreaterThan(AUCTIONS);
    expect(skipped).toBeGreaterThan(1_000);
    expect(capped).toBeGreaterThan(10_000);
  }, 120_000);
});
