import { describe, expect, test } from "bun:test";
import { makeBidRequest, makeRng } from "./requests.ts";

describe("makeRng", () => {
  test("same seed same sequence, values in [0,1)", () => {
    const a = makeRng(123), b = makeRng(123), c = makeRng(124);
    const sa = Array.from({ length: 1000 }, a), sb = Array.from({ length: 1000 }, b);
    expect(sa).toEqual(sb);
    expect(Array.from({ length: 1000 }, c)).not.toEqual(sa);
    for (const x of sa) { expect(x).toBeGreaterThanOrEqual(0); expect(x).toBeLessThan(1); }
    const mean = sa.reduce((s, x) => s + x, 0) / sa.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.05);
  });
});

describe("makeBidRequest", () => {
  test("deterministic for a seed, different across seeds", () => {
    const one = JSON.stringify(makeBidRequest(makeRng(7)));
    expect(JSON.stringify(makeBidRequest(makeRng(7)))).toBe(one);
    expect(JSON.stringify(makeBidRequest(makeRng(8)))).not.toBe(one);
  });

  test("valid OpenRTB 2.6 shape over many requests", () => {
    const rng = makeRng(99);
    const ids = new Set<string>();
    let sites = 0, apps = 0, badv = 0;
    for (let n = 0; n < 500; n++) {
      const r = makeBidRequest(rng) as any;
      const size = JSON.stringify(r).length;
      expect(size).toBeGreaterThan(700);
      expect(size).toBeLessThan(2500);
      expect(typeof r.id).toBe("string");
      ids.add(r.id);
      expect((r.site === undefined) !== (r.app === undefined)).toBe(true);
      if (r.site) { sites++; expect(r.site.domain).toBeTruthy(); expect(r.site.page).toStartWith("https://"); expect(r.site.publisher.id).toBeTruthy(); }
      if (r.app) { apps++; expect(r.app.bundle).toBeTruthy(); expect(r.app.publisher.id).toBeTruthy(); }
      expect(r.imp.length).toBeGreaterThanOrEqual(1);
      expect(r.imp.map((i: any) => i.id)).toEqual(r.imp.map((_: unknown, k: number) => String(k + 1)));
      for (const imp of r.imp) {
        expect(imp.bidfloor).toBeGreaterThanOrEqual(0);
        expect(imp.bidfloorcur).toBe("USD");
        expect(imp.secure).toBe(1);
        expect(imp.banner.w > 0 || imp.banner.format?.length > 0).toBe(true);
      }
      expect(r.device.ua).toStartWith("Mozilla/5.0");
      expect(r.device.ip).toMatch(/^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/);
      expect(r.device.geo.country).toMatch(/^[A-Z]{3}$/);
      expect([2, 4]).toContain(r.device.devicetype);
      expect(r.user.id).toBeTruthy();
      expect(r.at).toBe(2);
      expect(r.tmax).toBe(100);
      expect(r.cur).toEqual(["USD"]);
      expect(r.source.tid).toBeTruthy();
      expect(r.regs).toBeDefined();
      if (r.badv) { badv++; expect(r.badv.length).toBeGreaterThan(0); }
    }
    expect(ids.size).toBe(500);
    expect(sites).toBeGreaterThan(200);
    expect(apps).toBeGreaterThan(100);
    expect(badv).toBeGreaterThan(50);
  });

  test("options are honoured", () => {
    const r = makeBidRequest(makeRng(5), { imps: 4, tmaxMs: 50, floorCpm: 2.5, at: 1 }) as any;
    expect(r.imp.length).toBe(4);
    expect(r.imp.every((i: any) => i.bidfloor === 2.5)).toBe(true);
    expect(r.tmax).toBe(50);
    expect(r.at).toBe(1);
  });
});
