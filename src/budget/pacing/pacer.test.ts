// The control-plane loop: one step per campaign per tick, p written where workers read it.
import { expect, test } from "bun:test";
import { Pacer, type PacingSource } from "./pacer.ts";
import { pacingSettings } from "./config.ts";
import { createPacingBuffer, PacingReader, PacingWriter } from "../pacing-shared.ts";

const DAY_MS = 86_400_000;

test("each tick writes every campaign's p: asap 1, an exhausted even campaign 0, a throttled one in between", () => {
  const buffer = createPacingBuffer(8);
  const reader = new PacingReader(buffer);
  const budget = 86_400_000_000;
  const campaigns = [
    { slot: 2, pacing: "asap" as const, dailyBudgetMicros: budget },
    { slot: 5, dailyBudgetMicros: budget }, // pacing absent: even
    { slot: 7, pacing: "even" as const, dailyBudgetMicros: budget },
  ];
  const pacer = new Pacer(campaigns, pacingSettings({ minParticipation: 0.05 }), new PacingWriter(buffer));
  let nowMs = 6 * 3_600_000;
  const spent = new Map([[2, budget / 2], [5, budget], [7, Math.round(budget * 0.25)]]);
  let windowsAsked = 0;
  const source: PacingSource = { dayWindow: () => (windowsAsked++, { startMs: 0, endMs: DAY_MS }), spentMicros: (slot) => spent.get(slot)! };
  for (let i = 0; i < 60; i++) {
    pacer.tick(nowMs, source);
    nowMs += 1000;
    spent.set(7, spent.get(7)! + 2_000_000); // 2x the linear curve's rate: the controller backs off
  }
  expect(windowsAsked).toBe(3); // once per campaign per day, not per tick
  expect(reader.probability(2)).toBe(1);
  expect(reader.probability(5)).toBe(0);
  expect(reader.probability(7)).toBeGreaterThan(0.05);
  expect(reader.probability(7)).toBeLessThan(1);
  expect(reader.probability(0)).toBe(1); // slots without a campaign are left alone
  const view = pacer.view(7);
  expect(view.mode).toBe("even");
  expect(view.p).toBeCloseTo(reader.probability(7), 6);
  expect(view.fullRateMicrosPerSec).not.toBeNull();
  expect(pacer.view(5).mode).toBe("even");
  expect(() => pacer.view(1)).toThrow(RangeError);
});

test("a new day (from the source's time-zone window) starts the campaign's curve over", () => {
  const buffer = createPacingBuffer(1);
  const budget = 86_400_000_000;
  const pacer = new Pacer([{ slot: 0, dailyBudgetMicros: budget }], pacingSettings(undefined), new PacingWriter(buffer));
  const source: PacingSource = {
    dayWindow: (_slot, nowMs) => ({ startMs: Math.floor(nowMs / DAY_MS) * DAY_MS, endMs: Math.floor(nowMs / DAY_MS) * DAY_MS + DAY_MS }),
    spentMicros: () => (nowMs < DAY_MS ? budget : 0),
  };
  let nowMs = DAY_MS - 5_000;
  pacer.tick(nowMs, source);
  expect(new PacingReader(buffer).probability(0)).toBe(0); // spent
  nowMs = DAY_MS + 1_000;
  pacer.tick(nowMs, source);
  expect(new PacingReader(buffer).probability(0)).toBeGreaterThan(0);
  expect(pacer.view(0).targetMicros).toBe(1_000_000); // 1 s into the new day on the linear curve
});
