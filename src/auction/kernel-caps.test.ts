// The auction kernel with frequency caps, one shared suite for WASM debug, WASM release and the TS
// reference: a capped bid is not eligible (it neither wins nor sets the price), a win counts one
// impression in the same call that reserves its budget, and a budget refusal gives the count back.
import { beforeAll, describe, expect, test } from "bun:test";
import { buildWasm } from "../../scripts/build-wasm.ts";
import { createSharedMemory, layout as L } from "./memory.ts";
import { loadWasmKernel, referenceKernel, type AuctionKernel } from "./kernel.ts";
import { AuctionScratch } from "./scratch.ts";
import { SharedBudget } from "../budget/shared-budget.ts";
import { FreqCapTable } from "../freqcap/table.ts";
import { referenceFreqCap } from "../freqcap/kernel.ts";
import { collidingUserKeys } from "../freqcap/testing.ts";

beforeAll(() => void buildWasm());

const KERNELS: Record<string, (memory: WebAssembly.Memory) => AuctionKernel> = {
  "wasm-debug": (m) => loadWasmKernel(m, "debug"),
  "wasm-release": (m) => loadWasmKernel(m, "release"),
  "ts-reference": (m) => referenceKernel(m),
};

const NOW = 1_760_000_000;
const ALICE = 0x51_7e57_a11ce_0001n;
const BOB = 0x51_7e57_b0b0_0002n;
const CAPPED = 0; // campaign slot with a cap of 2 per hour
const FREE = 1; // no cap
const POOR = 2; // cap of 2 per hour, and budget for one impression only

function setup(factory: (memory: WebAssembly.Memory) => AuctionKernel) {
  const memory = createSharedMemory();
  const budget = new SharedBudget(memory);
  [1_000_000_000, 1_000_000_000, 1_500].forEach((micros, slot) => budget.reset(slot, micros));
  const table = new FreqCapTable(memory);
  table.setRules(CAPPED, [{ max: 2, windowSec: 3600 }]);
  table.setRules(POOR, [{ max: 2, windowSec: 3600 }]);
  const kernel = factory(memory);
  const scratch = new AuctionScratch(memory, 0);
  /** One imp: a 3.00 CPM bid of `top`, then a 1.00 CPM bid of FREE; returns the winner's bid index. */
  const auction = (userKey: bigint, top: number, capMode: number = L.CAP_MODE_KEY, nowSec = NOW) => {
    scratch.reset();
    scratch.setCaps(userKey, nowSec, capMode);
    scratch.beginImp(100_000, 2);
    scratch.addBid(3_000_000, top, 0);
    scratch.addBid(1_000_000, FREE, 0);
    scratch.run(kernel);
    return scratch.winner(0);
  };
  return { kernel, scratch, budget, caps: referenceFreqCap(memory), auction };
}

for (const [name, factory] of Object.entries(KERNELS)) {
  describe(`auction kernel with frequency caps: ${name}`, () => {
    test("wins count up to the cap; then the capped bid is not eligible and the next bid wins at its own second price", () => {
      const { scratch, caps, auction } = setup(factory);
      expect([auction(ALICE, CAPPED), auction(ALICE, CAPPED)]).toEqual([0, 0]);
      expect(caps.count(ALICE, CAPPED, 0, NOW)).toBe(2);
      expect(auction(ALICE, CAPPED)).toBe(1);
      expect(scratch.bidFlags(0)).toBe(L.FLAG_FREQ_CAPPED);
      expect(scratch.clearingPriceMicros(0)).toBe(110_000); // floor + 0.01: the capped 3.00 sets no price
      expect(caps.count(ALICE, CAPPED, 0, NOW)).toBe(2);
      expect(auction(BOB, CAPPED)).toBe(0); // another user is not affected
      expect(auction(ALICE, CAPPED, L.CAP_MODE_KEY, NOW + 3600)).toBe(0); // a new window
    });

    test("only the winner's impression is counted", () => {
      const { caps, auction } = setup(factory);
      auction(ALICE, FREE);
      expect(caps.hasEntry(ALICE, CAPPED)).toBe(false);
      auction(ALICE, CAPPED);
      expect(caps.count(ALICE, CAPPED, 0, NOW)).toBe(1);
    });

    test("a winner whose budget refuses gives its count back", () => {
      const { budget, caps, auction } = setup(factory);
      expect(auction(ALICE, POOR)).toBe(0); // costs 1010 micros: affordable once
      expect(auction(ALICE, POOR)).toBe(1);
      expect(budget.books(POOR).reservedMicros).toBe(1_010);
      expect(caps.count(ALICE, POOR, 0, NOW)).toBe(1);
    });

    test("two imps of one request: a campaign capped by the first win does not take the second", () => {
      const { kernel, scratch, caps, auction } = setup(factory);
      auction(ALICE, CAPPED);
      scratch.reset();
      scratch.setCaps(ALICE, NOW, L.CAP_MODE_KEY);
      for (let imp = 0; imp < 2; imp++) {
        scratch.beginImp(0, 1);
        scratch.addBid(3_000_000, CAPPED, 0);
        scratch.addBid(1_000_000, FREE, 0);
      }
      expect(scratch.run(kernel)).toBe(2);
      expect([scratch.winner(0), scratch.winner(1)]).toEqual([0, 3]);
      expect(scratch.bidFlags(2)).toBe(L.FLAG_FREQ_CAPPED);
      expect(caps.count(ALICE, CAPPED, 0, NOW)).toBe(2);
    });

    test("no user key: \"deny\" refuses capped campaigns, \"allow\" ignores caps; neither counts", () => {
      const { scratch, caps, auction } = setup(factory);
      expect(auction(0n, CAPPED, L.CAP_MODE_DENY)).toBe(1);
      expect(scratch.bidFlags(0)).toBe(L.FLAG_FREQ_CAPPED);
      for (let i = 0; i < 3; i++) expect(auction(0n, CAPPED, L.CAP_MODE_OFF)).toBe(0);
      expect(caps.hasEntry(0n, CAPPED)).toBe(false);
    });

    test("a full table marks the bid capped with no room (stricter, never looser)", () => {
      const { scratch, auction } = setup(factory);
      const keys = collidingUserKeys(CAPPED, 0x1357, L.FREQCAP_PROBE_LIMIT + 1, 5);
      for (let i = 0; i < L.FREQCAP_PROBE_LIMIT; i++) expect(auction(keys[i]!, CAPPED)).toBe(0);
      expect(auction(keys[L.FREQCAP_PROBE_LIMIT]!, CAPPED)).toBe(1);
      expect(scratch.bidFlags(0)).toBe(L.FLAG_FREQ_CAPPED | L.FLAG_FREQ_NO_ROOM);
    });
  });
}
