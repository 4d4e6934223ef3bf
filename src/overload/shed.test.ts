import { describe, expect, test } from "bun:test";
import { ValueShedder } from "./shed.ts";
import { OVERLOAD_DEFAULTS } from "./config.ts";
import type { BidRequest } from "../openrtb/request.ts";

const req = (floor: number, publisher?: string): BidRequest =>
  ({ id: "r", imp: [{ id: "1", bidfloor: floor }], ...(publisher ? { site: { publisher: { id: publisher } } } : {}) }) as BidRequest;

function shedShare(s: ValueShedder, r: BidRequest, share: number, n = 20_000): number {
  let shed = 0;
  for (let i = 0; i < n; i++) if (s.shouldShed(r, share)) shed++;
  return shed / n;
}

describe("value-based shedding", () => {
  const settings = { ...OVERLOAD_DEFAULTS, knownPublishers: ["pub-known"] };
  const s = new ValueShedder(settings);

  test("value: higher floors and known publishers are worth more", () => {
    expect(s.value(req(0))).toBe(0);
    expect(s.value(req(4, "pub-known"))).toBe(1);
    expect(s.value(req(1, "pub-known"))).toBe(0.5);
    expect(s.value(req(1, "pub-other"))).toBe(0.25);
    expect(s.value(req(4))).toBe(0.5);
  });

  test("nothing is shed at share 0", () => {
    expect(shedShare(s, req(0), 0)).toBe(0);
  });

  test("low floors and unknown publishers are shed first, high-value slots are kept", () => {
    const low = shedShare(s, req(0.1), 0.5);
    const unknown = shedShare(s, req(3, "pub-other"), 0.5);
    const high = shedShare(s, req(3, "pub-known"), 0.5);
    expect(low).toBeGreaterThan(0.4);
    expect(unknown).toBeLessThan(low);
    expect(high).toBeLessThan(unknown);
    expect(high).toBeLessThan(0.06);
  });

  test("before parsing: only from a share of 0.9, then at about that share", () => {
    expect(shedShare({ shouldShed: (_r: BidRequest, share: number) => s.shedBeforeParse(share) } as ValueShedder, req(0), 0.85)).toBe(0);
    const at95 = shedShare({ shouldShed: (_r: BidRequest, share: number) => s.shedBeforeParse(share) } as ValueShedder, req(0), 0.95);
    expect(at95).toBeGreaterThan(0.92);
    expect(at95).toBeLessThan(0.98);
  });

  test("even at full share no request kind is starved: minAdmitShare still passes", () => {
    const starved = new ValueShedder({ ...settings, minAdmitShare: 0.05 });
    const shed = shedShare(starved, req(0), 1);
    expect(shed).toBeLessThan(0.97);
    expect(shed).toBeGreaterThan(0.93);
  });
});
