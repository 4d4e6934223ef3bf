import { expect, test } from "bun:test";
import { makeTraffic, SCENARIOS } from "./model.ts";
import { trafficBodies } from "./load-bodies.ts";
import { LABELS } from "./actors.ts";
import { CidrSet } from "../../fraud/ip/cidr-set.ts";
import shipped from "../../fraud/lists/datacenter.txt";

const opts = { scenario: SCENARIOS.mixed!, seed: 5, rps: 200, durationMs: 10_000 };

test("the same seed gives the same labelled traffic; another seed does not", () => {
  const a = makeTraffic(opts), b = makeTraffic(opts), c = makeTraffic({ ...opts, seed: 6 });
  expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  expect(JSON.stringify(a)).not.toBe(JSON.stringify(c));
});

test("the mix follows the scenario, in time order, and labels never travel in the body", () => {
  const traffic = makeTraffic(opts);
  expect(traffic.length).toBeGreaterThan(1900);
  expect(traffic.every((t, i) => i === 0 || traffic[i - 1]!.atMs <= t.atMs)).toBe(true);
  for (const label of LABELS) {
    const share = traffic.filter((t) => t.label === label).length / traffic.length;
    expect(Math.abs(share - SCENARIOS.mixed!.mix[label])).toBeLessThan(0.03);
  }
  expect(traffic.some((t) => JSON.stringify(t.body).includes(t.label))).toBe(false);
});

test("humans come from consumer space, data-center bots from hosting ranges", () => {
  const dc = CidrSet.parse(shipped);
  const traffic = makeTraffic(opts);
  const ipOf = (t: (typeof traffic)[number]) => (t.body.device as { ip: string }).ip;
  expect(traffic.filter((t) => t.label === "human").every((t) => !dc.has(ipOf(t)))).toBe(true);
  expect(traffic.filter((t) => t.label === "datacenter_bot").every((t) => dc.has(ipOf(t)))).toBe(true);
});

test("load bodies: unique ids, labels kept by index", () => {
  const bodies = trafficBodies("mixed", 3, 50, 4);
  const ids = new Set(Array.from({ length: 300 }, (_, i) => JSON.parse(bodies.body(i)).id));
  expect(ids.size).toBe(300);
  expect(LABELS).toContain(bodies.label(7));
  expect(() => trafficBodies("nope", 1, 1, 1)).toThrow(/unknown scenario "nope"/);
});
