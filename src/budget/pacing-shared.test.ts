// The shared pacing buffer: scaling, the exact ends (p = 1 always bids, p = 0 never), the draw
// frequency in between, and a writer on this thread read by a real Bun Worker.
import { afterAll, expect, test } from "bun:test";
import { createPacingBuffer, PacingReader, PacingWriter, scaleProbability } from "./pacing-shared.ts";
import { makeRng } from "../util/rng.ts";

test("slots start at p = 1; p = 1 bids on every draw, p = 0 on none", () => {
  const buffer = createPacingBuffer(4);
  const writer = new PacingWriter(buffer);
  const reader = new PacingReader(buffer);
  expect(reader.probability(3)).toBe(1);
  writer.set(1, 0);
  for (const r of [0, 0.5, 1 - Number.EPSILON]) {
    expect(reader.shouldBid(0, r)).toBe(true);
    expect(reader.shouldBid(1, r)).toBe(false);
  }
});

test("in between, shouldBid is true for about p of the draws", () => {
  const buffer = createPacingBuffer(1);
  new PacingWriter(buffer).set(0, 0.25);
  const reader = new PacingReader(buffer);
  const rng = makeRng(3);
  let bids = 0;
  for (let i = 0; i < 100_000; i++) if (reader.shouldBid(0, rng())) bids++;
  expect(bids / 100_000).toBeGreaterThan(0.24);
  expect(bids / 100_000).toBeLessThan(0.26);
});

test("bad values and slots are refused", () => {
  const writer = new PacingWriter(createPacingBuffer(2));
  expect(() => writer.set(0, 1.01)).toThrow(RangeError);
  expect(() => writer.set(0, NaN)).toThrow(RangeError);
  expect(() => writer.set(2, 0.5)).toThrow(RangeError);
  expect(() => createPacingBuffer(0)).toThrow(RangeError);
  expect(() => new PacingReader(createPacingBuffer(2)).shouldBid(2, 0.5)).toThrow(RangeError);
  expect(scaleProbability(1)).toBe(0xffff_ffff);
});

const worker = new Worker(new URL("./pacing/reader-worker.fixture.ts", import.meta.url).href);
afterAll(() => worker.terminate());

function ask(message: object): Promise<Array<{ p: number; bids: number }>> {
  return new Promise((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<Array<{ p: number; bids: number }>>) => resolve(e.data);
    worker.onerror = (e) => reject(new Error(e.message));
    worker.postMessage(message);
  });
}

test("a worker reads what the main thread writes, and sees later writes without a new message of the buffer", async () => {
  const buffer = createPacingBuffer(3);
  const writer = new PacingWriter(buffer);
  writer.set(0, 1);
  writer.set(1, 0);
  writer.set(2, 0.5);
  const first = await ask({ buffer, slots: 3, draws: 10_000, seed: 11 });
  expect(first.map((s) => s.p)).toEqual([1, 0, scaleProbability(0.5) / 0xffff_ffff]);
  expect(first[0]!.bids).toBe(10_000);
  expect(first[1]!.bids).toBe(0);
  expect(first[2]!.bids).toBeGreaterThan(4_500);
  expect(first[2]!.bids).toBeLessThan(5_500);
  writer.set(0, 0);
  writer.set(1, 1);
  const second = await ask({ slots: 3, draws: 1_000, seed: 12 }); // same reader, same memory
  expect(second[0]!.bids).toBe(0);
  expect(second[1]!.bids).toBe(1_000);
});
