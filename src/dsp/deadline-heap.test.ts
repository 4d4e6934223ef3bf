import { expect, test } from "bun:test";
import { DeadlineHeap } from "./deadline-heap.ts";

test("pops in deadline order, with removals anywhere", () => {
  let state = 42;
  const next = () => ((state = (Math.imul(state, 1103515245) + 12345) >>> 0) % 10_000);
  const heap = new DeadlineHeap<{ deadlineAt: number; heapIndex: number }>();
  const items = Array.from({ length: 2_000 }, () => ({ deadlineAt: next(), heapIndex: -1 }));
  items.forEach((item) => heap.push(item));
  const removed = new Set(items.filter((_, i) => i % 3 === 0));
  removed.forEach((item) => heap.remove(item));
  heap.remove(items[0]!); // removing twice is harmless
  const popped: number[] = [];
  for (let item = heap.pop(); item !== undefined; item = heap.pop()) popped.push(item.deadlineAt);
  const expected = items.filter((item) => !removed.has(item)).map((item) => item.deadlineAt).sort((a, b) => a - b);
  expect(popped).toEqual(expected);
  expect(heap.peek()).toBeUndefined();
});
