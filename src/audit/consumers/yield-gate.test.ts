// The yield gate between a request thread and its audit consumers: a consumer pauses while the
// worker says it is busy and until it has been calm a while, never when the bound is 0, at most
// maxYieldMs since it was last caught up (a flickering busy flag resets neither); behind, it catches
// up in measured steps until a read comes back short; aborting ends a pause.
import { expect, test } from "bun:test";
import { allocateYieldCells, CATCH_UP_PAUSE_SHARE, clearYielding, RESUME_CALM_MS, YieldGate, YieldSignal, YIELD_POLL_MS } from "./yield-gate.ts";

function setup(maxYieldMs: number) {
  const cells = allocateYieldCells();
  const clock = { ms: 1_000 };
  return { cells, signal: new YieldSignal(cells), gate: new YieldGate(cells, maxYieldMs, () => clock.ms), clock };
}

/** Whether `promise` has settled after a few poll periods of real time. */
async function settledSoon(promise: Promise<unknown>): Promise<boolean> {
  let settled = false;
  void promise.then(() => (settled = true));
  await Bun.sleep(YIELD_POLL_MS * 4);
  return settled;
}

test("passes at once while the worker is not busy, and always when the bound is 0", async () => {
  const calm = setup(30_000);
  expect(await calm.gate.pass(new AbortController().signal)).toBe(true);
  const never = setup(0);
  never.signal.busy(true);
  expect(await never.gate.pass(new AbortController().signal)).toBe(true);
  expect(never.signal.stats()).toEqual({ yielding: 0, yieldedMs: 0, forcedCatchUps: 0 });
});

test("pauses while busy, counts the pause, goes on once the worker has been calm for RESUME_CALM_MS", async () => {
  const { signal, gate, clock } = setup(30_000);
  signal.busy(true);
  const passing = gate.pass(new AbortController().signal);
  expect(await settledSoon(passing)).toBe(false);
  expect(signal.stats().yielding).toBe(1);
  clock.ms += 250;
  await Bun.sleep(YIELD_POLL_MS * 3);
  signal.busy(false);
  expect(await settledSoon(passing)).toBe(false); // calm for less than RESUME_CALM_MS: a flicker (the pause saw the calm begin)
  clock.ms += RESUME_CALM_MS;
  expect(await settledSoon(passing)).toBe(true);
  expect(await passing).toBe(true);
  expect(signal.stats().yielding).toBe(0);
  expect(signal.stats().yieldedMs).toBe(250 + RESUME_CALM_MS);
  expect(signal.stats().forcedCatchUps).toBe(0);
});

test("at maxYieldMs the pause ends even while busy; the catch-up then pauses after each batch as long as it took, until a read comes back short", async () => {
  const { signal, gate, clock } = setup(5_000);
  signal.busy(true);
  const passing = gate.pass(new AbortController().signal);
  expect(await settledSoon(passing)).toBe(false);
  clock.ms += 5_000;
  expect(await settledSoon(passing)).toBe(true);
  expect(signal.stats().forcedCatchUps).toBe(1);
  clock.ms += 100; // the consumer's batch took 100 ms
  const step = gate.pass(new AbortController().signal);
  expect(await settledSoon(step)).toBe(false);
  clock.ms += 100 * CATCH_UP_PAUSE_SHARE;
  expect(await settledSoon(step)).toBe(true);
  gate.caughtUp();
  const again = gate.pass(new AbortController().signal);
  expect(await settledSoon(again)).toBe(false); // caught up: a new pause may begin
  signal.busy(false);
  await Bun.sleep(YIELD_POLL_MS * 2); // the pause sees the calm begin
  clock.ms += RESUME_CALM_MS;
  expect(await settledSoon(again)).toBe(true);
  expect(signal.stats().forcedCatchUps).toBe(1);
});

test("after a pause the consumer catches up in measured steps, also while calm; caught up, it runs freely", async () => {
  const { signal, gate, clock } = setup(30_000);
  signal.busy(true);
  const passing = gate.pass(new AbortController().signal);
  expect(await settledSoon(passing)).toBe(false);
  signal.busy(false);
  await Bun.sleep(YIELD_POLL_MS * 2);
  clock.ms += RESUME_CALM_MS;
  expect(await passing).toBe(true);
  clock.ms += 40; // a batch of 40 ms
  const step = gate.pass(new AbortController().signal);
  expect(await settledSoon(step)).toBe(false);
  clock.ms += 40 * CATCH_UP_PAUSE_SHARE;
  expect(await settledSoon(step)).toBe(true);
  gate.caughtUp();
  clock.ms += 40;
  expect(await settledSoon(gate.pass(new AbortController().signal))).toBe(true); // not behind: no step pause
  expect(signal.stats().forcedCatchUps).toBe(0);
});

test("busy again while catching up after a calm: the consumer pauses again", async () => {
  const { signal, gate, clock } = setup(30_000);
  signal.busy(true);
  const passing = gate.pass(new AbortController().signal);
  signal.busy(false);
  await Bun.sleep(YIELD_POLL_MS * 2);
  clock.ms += RESUME_CALM_MS;
  expect(await passing).toBe(true);
  signal.busy(true);
  const again = gate.pass(new AbortController().signal);
  expect(await settledSoon(again)).toBe(false);
  clock.ms += 30_000; // the bound, counted from the first pause
  expect(await settledSoon(again)).toBe(true);
  expect(signal.stats().forcedCatchUps).toBe(1);
});

test("a flickering busy flag neither ends the pause nor restarts the bound", async () => {
  const { signal, gate, clock } = setup(5_000);
  signal.busy(true);
  const passing = gate.pass(new AbortController().signal);
  expect(await settledSoon(passing)).toBe(false);
  clock.ms += 4_000;
  signal.busy(false); // calm for 100 ms: less than RESUME_CALM_MS
  await Bun.sleep(YIELD_POLL_MS * 2);
  clock.ms += 100;
  expect(await settledSoon(passing)).toBe(false);
  signal.busy(true);
  clock.ms += 900; // 5 s since the first pause
  expect(await settledSoon(passing)).toBe(true);
  expect(signal.stats().forcedCatchUps).toBe(1);
});

test("aborting ends a pause with false", async () => {
  const { signal, gate } = setup(30_000);
  signal.busy(true);
  const abort = new AbortController();
  const passing = gate.pass(abort.signal);
  expect(await settledSoon(passing)).toBe(false);
  abort.abort();
  expect(await passing).toBe(false);
  expect(signal.stats().yielding).toBe(0);
});

test("a replacement consumer thread starts its count of pausing consumers from 0", async () => {
  const { cells, signal, gate } = setup(30_000);
  signal.busy(true);
  const abort = new AbortController();
  const passing = gate.pass(abort.signal); // its thread "dies" while pausing: nobody counts it out
  await Bun.sleep(YIELD_POLL_MS * 2);
  expect(signal.stats().yielding).toBe(1);
  clearYielding(cells);
  expect(signal.stats().yielding).toBe(0);
  abort.abort(); // (end the loop this test left running)
  await passing;
});
