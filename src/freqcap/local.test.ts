// Seeding the local table from a remote store's counts, and finding local misses.
import { beforeAll, expect, test } from "bun:test";
import { buildWasm } from "../../scripts/build-wasm.ts";
import { createSharedMemory, layout as L } from "../auction/memory.ts";
import { loadWasmFreqCap } from "./kernel.ts";
import { FreqCapTable } from "./table.ts";
import { LocalCaps } from "./local.ts";
import { capIncrementOf, remoteCapSink, reportCapIncrements, requestCaps, type CapIncrement } from "./request.ts";
import type { CampaignSettings } from "../config/load.ts";
import { hashUserKey, userKeyHex } from "./user-key.ts";

beforeAll(() => void buildWasm());

const NOW = 1_760_000_000;
const USER = hashUserKey("u:alice");

function setup() {
  const memory = createSharedMemory();
  const table = new FreqCapTable(memory);
  table.setRules(0, [{ max: 3, windowSec: 3600 }, { max: 10, windowSec: 86_400 }]);
  table.setRules(1, []);
  table.setRules(2, [{ max: 1, windowSec: 60 }]);
  return new LocalCaps(loadWasmFreqCap(memory, "release"), table);
}

test("seedCounts: remote counts and window starts become local windows; takes continue from them", () => {
  const local = setup();
  expect(local.missing(USER, [0, 1, 2])).toEqual([0, 2]);
  expect(local.seedCounts(USER, 0, [2, 7], [NOW - 600, NOW - 50_000], NOW)).toBe(L.CAP_OK);
  expect(local.missing(USER, [0, 1, 2])).toEqual([2]);
  expect(local.counts(USER, 0, NOW)).toEqual([2, 7]);
  expect(local.kernel.windowEnd(USER, 0, 0, NOW)).toBe(NOW - 600 + 3600);
  expect(local.kernel.take(USER, 0, NOW)).toBe(L.CAP_OK);
  expect(local.kernel.take(USER, 0, NOW)).toBe(L.CAP_CAPPED);
  expect(local.counts(USER, 0, NOW + 3000)).toEqual([0, 8]); // the hourly window from the remote start has ended
});

test("seedCounts skips closed windows and never lowers what the table holds", () => {
  const local = setup();
  local.kernel.take(USER, 0, NOW);
  local.kernel.take(USER, 0, NOW);
  local.seedCounts(USER, 0, [1, 0], [NOW - 10, 0], NOW);
  expect(local.counts(USER, 0, NOW)).toEqual([2, 2]);
  local.seedCounts(USER, 2, [5], [NOW - 60], NOW); // ended exactly now: nothing to seed
  expect(local.missing(USER, [2])).toEqual([2]);
});

test("the remote sink reports each increment under the hashed user key, never the raw id", () => {
  const calls: unknown[][] = [];
  const sink = remoteCapSink({ recordImpression: (...args) => void calls.push(args) });
  const caps = [{ max: 3, windowSec: 3600 }];
  const increments: CapIncrement[] = [{ userKey: USER, slot: 0, campaignId: "c1", caps, nowSec: NOW }];
  sink.record(increments);
  expect(calls).toEqual([[userKeyHex(USER), "c1", caps, NOW]]);
  expect(userKeyHex(USER)).toMatch(/^[0-9a-f]{16}$/);
});

test("per request: caps off unless a candidate is capped; the key, or the no-key policy; increments only with a key", () => {
  const campaign = (slot: number, caps: CampaignSettings["frequencyCaps"]): CampaignSettings =>
    ({ id: `c${slot}`, advertiserId: "a", dailyBudgetMicros: 1, currency: "USD", slot, frequencyCaps: caps });
  const campaigns = [campaign(0, []), campaign(1, [{ max: 1, windowSec: 60 }])];
  const nowMs = NOW * 1000 + 999;
  expect(requestCaps({ user: { id: "alice" } }, [{ slot: 0 }], campaigns, "deny", nowMs).capMode).toBe(L.CAP_MODE_OFF);
  const keyed = requestCaps({ user: { id: "alice" } }, [{ slot: 0 }, { slot: 1 }], campaigns, "deny", nowMs);
  expect(keyed).toEqual({ userKey: USER, nowSec: NOW, capMode: L.CAP_MODE_KEY });
  expect(requestCaps({}, [{ slot: 1 }], campaigns, "deny", nowMs).capMode).toBe(L.CAP_MODE_DENY);
  expect(requestCaps({}, [{ slot: 1 }], campaigns, "allow", nowMs).capMode).toBe(L.CAP_MODE_OFF);
  expect(capIncrementOf(keyed, campaigns[1]!)).toEqual({ userKey: USER, slot: 1, campaignId: "c1", caps: campaigns[1]!.frequencyCaps, nowSec: NOW });
  expect(capIncrementOf(keyed, campaigns[0]!)).toBeNull();
  reportCapIncrements({ record: () => { throw new Error("down"); } }, [capIncrementOf(keyed, campaigns[1]!)!]); // does not throw
});
