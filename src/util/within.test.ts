import { expect, test } from "bun:test";
import { settledWithin } from "./within.ts";

test("a promise that never settles: false once the wait runs out, not before", async () => {
  const started = performance.now();
  expect(await settledWithin(new Promise(() => {}), 50)).toBe(false);
  expect(performance.now() - started).toBeGreaterThanOrEqual(45);
});

test("resolved or rejected in time: true at once; a rejection is swallowed", async () => {
  const started = performance.now();
  expect(await settledWithin(Bun.sleep(5), 10_000)).toBe(true);
  expect(await settledWithin(Promise.reject(new Error("broker gone")), 10_000)).toBe(true);
  expect(performance.now() - started).toBeLessThan(5_000); // the 10 s timer did not hold the wait
});

test("a rejection after the wait ran out is swallowed too (no unhandled rejection)", async () => {
  const late = Bun.sleep(20).then(() => { throw new Error("late"); });
  expect(await settledWithin(late, 1)).toBe(false);
  await Bun.sleep(30);
});
