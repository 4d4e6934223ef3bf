import { expect, test } from "bun:test";
import { coalesced } from "./coalesce.ts";

test("a burst sends once at once and once at the end of the interval; after a quiet spell at once again", async () => {
  const sent: number[] = [];
  const start = performance.now();
  const c = coalesced(() => sent.push(performance.now() - start), 30);
  for (let i = 0; i < 100; i++) c.notify();
  expect(sent).toHaveLength(1); // the first, at once
  await Bun.sleep(60);
  expect(sent).toHaveLength(2); // the other 99 folded into one trailing send
  expect(sent[1]!).toBeGreaterThanOrEqual(29);
  await Bun.sleep(40);
  c.notify();
  expect(sent).toHaveLength(3); // quiet for longer than the interval: at once
});

test("flush sends a pending one now; cancel drops it", async () => {
  let sent = 0;
  const c = coalesced(() => sent++, 1_000);
  c.notify();
  c.notify();
  expect(sent).toBe(1);
  c.flush();
  expect(sent).toBe(2);
  c.flush(); // nothing pending
  expect(sent).toBe(2);
  c.notify();
  c.cancel();
  await Bun.sleep(20);
  expect(sent).toBe(2);
});
