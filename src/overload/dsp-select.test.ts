import { describe, expect, test } from "bun:test";
import { DspSelector } from "./dsp-select.ts";

function learn(s: DspSelector, dsp: number, bidRate: number, latencyMs: number): void {
  for (let i = 0; i < 200; i++) s.observe(dsp, (i % 100) < bidRate * 100, latencyMs);
}

describe("DSP selection under pressure", () => {
  test("no pressure: every DSP is called", () => {
    const s = new DspSelector(5, 3, 0.8);
    for (let d = 0; d < 5; d++) learn(s, d, 0.5, d === 4 ? 69 : 20);
    s.refresh(0, 70);
    for (let d = 0; d < 5; d++) expect(s.isAllowed(d)).toBe(true);
  });

  test("little pressure: even a slow DSP is still called", () => {
    const s = new DspSelector(2, 3, 0.8);
    learn(s, 0, 0.5, 20);
    learn(s, 1, 0.5, 69);
    s.refresh(0.2, 70);
    expect(s.isAllowed(1)).toBe(true);
  });

  test("some pressure: a consistently slow DSP is skipped (with rare probes), the others are called", () => {
    const s = new DspSelector(5, 3, 0.8);
    for (let d = 0; d < 5; d++) learn(s, d, 0.5, d === 4 ? 65 : 20);
    s.refresh(0.5, 65);
    expect([0, 1, 2, 3].every((d) => s.isAllowed(d))).toBe(true);
    expect(s.isAllowed(4)).toBe(false);
    let calls = 0;
    for (let i = 0; i < 100; i++) if (s.allows(4)) calls++;
    expect(calls).toBe(5); // one probe in dspProbeEvery (20)
  });

  test("heavy pressure: only the top N by bid rate per ms of latency", () => {
    const s = new DspSelector(5, 3, 0.8);
    learn(s, 0, 0.9, 20); // best
    learn(s, 1, 0.1, 20); // rarely bids
    learn(s, 2, 0.8, 30);
    learn(s, 3, 0.8, 60); // slowish
    learn(s, 4, 0.7, 25);
    s.refresh(0.9, 50);
    expect([0, 1, 2, 3, 4].filter((d) => s.isAllowed(d))).toEqual([0, 2, 4]);
  });

  test("never skips every DSP: when all are slow the best one stays", () => {
    const s = new DspSelector(3, 3, 0.8);
    learn(s, 0, 0.2, 70);
    learn(s, 1, 0.9, 70);
    learn(s, 2, 0.5, 70);
    s.refresh(0.5, 60);
    expect([0, 1, 2].filter((d) => s.isAllowed(d))).toEqual([1]);
  });
});
