// The screen over shared state: two screeners (as two workers would have) over one FraudState.
import { expect, test } from "bun:test";
import { Screener } from "./screen.ts";
import { fraudSettings } from "./settings.ts";
import { loadFraudLists } from "./lists.ts";
import { createFraudState } from "./stage.ts";
import { blockDevice, blockUntil, markSubnetSuspect } from "./shared/blocks.ts";
import { deviceKeyHex } from "./screen.ts";
import { BLOCK, ALLOW, FLAG } from "./verdict.ts";
import type { BidRequest } from "../openrtb/request.ts";

const UA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36";
const req = (device: Record<string, unknown> = {}, extra: Record<string, unknown> = {}): BidRequest =>
  ({ id: "r", imp: [{ id: "1" }], device: { ua: UA, ip: "81.2.3.4", geo: { country: "GBR" }, ...device }, user: { id: "u1" }, ...extra }) as BidRequest;

function pair(overrides: Record<string, unknown> = {}) {
  const settings = fraudSettings({ rateLimits: { windowMs: 1000, maxPerIp: 1000, maxPerDevice: 5 }, geoIntervalSec: 60, ...overrides });
  const state = createFraudState(2);
  const lists = loadFraudLists(settings);
  return { state, a: new Screener(settings, lists, state, null), b: new Screener(settings, lists, state, null) };
}

test("static tier 1 rules: data-center IP (5), crawler UA (3), supply chain (16)", () => {
  const { a } = pair();
  expect(a.screen(req({ ip: "3.5.140.2" }), 1e12)).toMatchObject({ action: BLOCK, reason: "datacenter_ip", nbr: 5, tier: 1 });
  expect(a.screen(req({ ip: "2604:a880:400::1" }), 1e12)).toMatchObject({ action: BLOCK, reason: "datacenter_ip", nbr: 5 });
  expect(a.screen(req({ ua: "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)" }), 1e12)).toMatchObject({ action: BLOCK, reason: "crawler_ua", nbr: 3 });
  expect(a.screen(req({}, { source: { schain: { complete: 0, nodes: [{ asi: "x.example", sid: "1", hp: 1 }] } } }), 1e12)).toMatchObject({ reason: "schain_incomplete", nbr: 16 });
  expect(a.screen(req(), 1e12)).toMatchObject({ action: ALLOW, reason: null, nbr: 0 });
});

test("the device rate limit is shared: requests split over two workers add up", () => {
  const { a, b } = pair();
  const t = 1_000_000_000_000;
  const verdicts = [a, b, a, b, a].map((s, i) => s.screen(req(), t + i).action);
  expect(verdicts).toEqual([ALLOW, ALLOW, ALLOW, ALLOW, ALLOW]);
  expect(b.screen(req(), t + 6)).toMatchObject({ action: BLOCK, reason: "device_rate", nbr: 4 });
  // Two windows later the device is welcome again; another device never was limited.
  expect(a.screen(req(), t + 2500).action).toBe(ALLOW);
  expect(a.screen(req({}, { user: { id: "u2" } }), t + 7).action).toBe(ALLOW);
});

test("impossible geography: two countries within the interval block, after it they do not", () => {
  const { a, b } = pair();
  const t = 1_000_000_000_000;
  expect(a.screen(req(), t).action).toBe(ALLOW);
  expect(b.screen(req({ geo: { country: "USA" } }), t + 10_000)).toMatchObject({ action: BLOCK, reason: "impossible_geo" });
  expect(a.screen(req({ geo: { country: "FRA" } }), t + 200_000).action).toBe(ALLOW);
});

test("a tier 3 block of a subnet reaches every screener at once", () => {
  const { state, a, b } = pair();
  const t = 1_000_000_000_000;
  expect(a.screen(req({ ip: "81.2.3.99" }), t).action).toBe(ALLOW);
  blockUntil(state, "81.2.3.0/24", t, t + 60_000);
  expect(b.screen(req({ ip: "81.2.3.4" }), t + 1).reason).toBe("async_blocklist");
  expect(a.screen(req({ ip: "81.2.4.4" }), t + 1).action).toBe(ALLOW);
  expect(a.screen(req({ ip: "81.2.3.4" }), t + 61_000).action).toBe(ALLOW);
});

test("signals: distinct devices per IP and machine-regular timing", () => {
  const { a } = pair({ rateLimits: { windowMs: 1000, maxPerIp: 1000, maxPerDevice: 1000 } });
  const t = 1_000_000_000_000;
  for (let i = 0; i < 10; i++) a.screen(req({ ip: "82.1.1.1" }, { user: { id: `farm-${i}` } }), t + i);
  expect(a.lastSignals.ipDevices).toBeGreaterThanOrEqual(6);
  for (let i = 0; i < 8; i++) a.screen(req({ ip: "83.1.1.1" }, { user: { id: "metronome" } }), t + i * 500);
  expect(a.lastSignals.deviceJitter).toBe(0);
});

test("tier 3 marks: a suspect subnet is flagged, a blocked device is blocked on any IP", () => {
  const { state, a } = pair();
  const t = 1_000_000_000_000;
  markSubnetSuspect(state, "81.2.3.0/24", t, t + 60_000);
  expect(a.screen(req(), t + 1)).toMatchObject({ action: FLAG, reason: "async_suspect", tier: 3, nbr: 0 });
  expect(a.lastSignals.suspect).toBe(true);
  const other = req({ ip: "93.1.1.1" }, { user: { id: "bot-7" } });
  expect(a.screen(other, t + 2).action).toBe(ALLOW);
  blockDevice(state, deviceKeyHex(other), t + 2, t + 60_000);
  expect(a.screen(req({ ip: "94.1.1.1" }, { user: { id: "bot-7" } }), t + 3)).toMatchObject({ action: BLOCK, reason: "async_blocklist", tier: 3 });
});

test("while a reload rewrites the model, requests pass unscored instead of meeting a half-written model", () => {
  const settings = fraudSettings({});
  const state = createFraudState(1);
  const rows = new Float32Array(64 * 256);
  const alwaysBot = { name: "always-0.99", rows, scoreBatch: (_r: Float32Array, n: number, _f: number, out: Float32Array | Float64Array) => out.fill(0.99, 0, n), marginBatch: () => {} };
  const s = new Screener(settings, loadFraudLists(settings), state, alwaysBot);
  const t = 1_000_000_000_000;
  expect(s.screen(req({}, { user: { id: "a" } }), t)).toMatchObject({ action: BLOCK, reason: "model_score" });
  state.writingModel(() => {
    const v = s.screen(req({}, { user: { id: "b" } }), t + 1);
    expect(v.action).toBe(ALLOW);
    expect(v.score).toBeNaN();
  });
  expect(s.screen(req({}, { user: { id: "c" } }), t + 2).reason).toBe("model_score");
});
