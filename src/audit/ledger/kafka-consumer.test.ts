// The feeder's stop is bounded: kafkajs can hang in stop() on a broken connection (seen once in CI:
// `tmax billing consume` ignored SIGTERM for 140 s). A hanging stop still disconnects, and the wait ends.
import { expect, test } from "bun:test";
import { stopConsumer } from "./kafka-consumer.ts";

function fakeConsumer(stop: () => Promise<void>) {
  const calls: string[] = [];
  return {
    calls,
    consumer: {
      stop: () => (calls.push("stop"), stop()),
      disconnect: async () => void calls.push("disconnect"),
    },
  };
}

test("a stop that never ends: false after the bound, and the client is still disconnected", async () => {
  const { consumer, calls } = fakeConsumer(() => new Promise(() => {}));
  const started = performance.now();
  expect(await stopConsumer(consumer, 50)).toBe(false);
  expect(performance.now() - started).toBeLessThan(2_000);
  expect(calls).toEqual(["stop", "disconnect"]);
});

test("a stop that fails or ends in time: the disconnect follows; true only when both finished", async () => {
  const clean = fakeConsumer(async () => {});
  expect(await stopConsumer(clean.consumer, 1_000)).toBe(true);
  expect(clean.calls).toEqual(["stop", "disconnect"]);
  const failing = fakeConsumer(() => Promise.reject(new Error("not connected")));
  expect(await stopConsumer(failing.consumer, 1_000)).toBe(true);
  expect(failing.calls).toEqual(["stop", "disconnect"]);
});
