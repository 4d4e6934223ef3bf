import { expect, test } from "bun:test";
import { gapVariation, Tier3Analyzer } from "./analyzer.ts";

const T0 = Date.UTC(2026, 11, 4, 12);
const event = (atMs: number, subnet: string, device: string) => ({ event_type: "bid_request", event_time: new Date(atMs).toISOString(), fraud: { ip_subnet: subnet, device_key: device } });
const analyzer = () => new Tier3Analyzer({ windowMs: 10_000, subnetBurst: 20, devicesPerSubnet: 8, regularGapCv: 0.05, noRender: { action: "flag", minWins: 10, maxBilledShare: 0.05, graceMs: 1_000 } });

test("a burst from one subnet blocks it, once per window; quiet subnets are left alone", () => {
  const a = analyzer();
  for (let i = 0; i < 21; i++) a.ingest(event(T0 + i * 100, "84.1.1.0/24", `d${i % 3}`));
  for (let i = 0; i < 5; i++) a.ingest(event(T0 + i * 700, "85.1.1.0/24", `h${i}`));
  const actions = a.analyze(T0 + 2500);
  expect(actions.filter((x) => x.kind === "block_subnet")).toEqual([{ kind: "block_subnet", subnet: "84.1.1.0/24", why: "21 requests in 10000 ms" }]);
  expect(a.analyze(T0 + 3000).filter((x) => x.kind === "block_subnet")).toEqual([]);
  expect(a.analyze(T0 + 30_000)).toEqual([]); // the window moved on: nothing left
});

test("machine-regular timing blocks the device; human timing does not", () => {
  const a = analyzer();
  for (let i = 0; i < 7; i++) a.ingest(event(T0 + i * 1000 + (i % 2) * 10, "86.1.1.0/24", "bot"));
  const human = [0, 800, 4100, 4600, 9000, 12000, 12500];
  for (const t of human) a.ingest(event(T0 + t, "87.1.1.0/24", "person"));
  const actions = a.analyze(T0 + 13_000);
  expect(actions.map((x) => x.kind === "block_device" && x.deviceKey)).toEqual(["bot"]);
});

test("many devices on one subnet mark it suspect", () => {
  const a = analyzer();
  for (let i = 0; i < 9; i++) a.ingest(event(T0 + i * 500, "88.1.1.0/24", `phone-${i}`));
  expect(a.analyze(T0 + 5000)).toEqual([{ kind: "suspect_subnet", subnet: "88.1.1.0/24", why: "9 devices in 10000 ms" }]);
});

test("gap variation", () => {
  expect(gapVariation([0, 100, 200, 300])).toBe(0);
  expect(gapVariation([0, 100, 300, 400])).toBeCloseTo(0.3536, 3);
});
