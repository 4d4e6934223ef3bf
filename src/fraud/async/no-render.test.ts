// No-render clusters over a synthetic event stream: wins (auction_result) joined to their subnet
// (bid_request) and to their billing / loss notices, judged after the grace delay, inside the window.
import { expect, test } from "bun:test";
import { NO_RENDER_LIMITS, NoRenderDetector, type NoRenderSettings } from "./no-render.ts";
import { Tier3Analyzer } from "./analyzer.ts";
import { startTier3 } from "./run.ts";
import type { EventSource } from "./outbox-tail.ts";
import { fraudSettings } from "../settings.ts";
import { createFraudState } from "../stage.ts";
import { isBlocked, isSubnetSuspect } from "../shared/blocks.ts";

const T0 = Date.UTC(2026, 11, 4, 12);
const WINDOW = 60_000;
const SETTINGS: NoRenderSettings = { action: "flag", minWins: 10, maxBilledShare: 0.2, graceMs: 2_000 };
const iso = (ms: number) => new Date(ms).toISOString();

const request = (id: string, subnet: string, at: number, imps = 1) => ({
  event_type: "bid_request", event_time: iso(at), request_id: id, imp_count: imps,
  fraud: { result: "allow", tier: 0, reason: null, ip_subnet: subnet, device_key: "0000abcd" },
});
const result = (id: string, at: number, imp = "1", bid: string | null = `bid-${id}-${imp}`) => ({ event_type: "auction_result", event_time: iso(at), request_id: id, imp_id: imp, bid_id: bid });
const notice = (type: "billing_notice" | "loss_notice", id: string, at: number, imp = "1") => ({ event_type: type, event_time: iso(at), request_id: id, imp_id: imp, bid_id: `bid-${id}-${imp}` });

/** `n` won requests from `subnet`, 100 ms apart from `start`, ids `${tag}-i`. */
function wins(d: { ingest(e: object): void }, tag: string, subnet: string, n: number, start = T0): string[] {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = `${tag}-${i}`;
    d.ingest(request(id, subnet, start + i * 100));
    d.ingest(result(id, start + i * 100 + 5));
    ids.push(id);
  }
  return ids;
}

test("a subnet whose wins are never billed is caught; one whose wins are billed is not", () => {
  const d = new NoRenderDetector(SETTINGS, WINDOW);
  wins(d, "bot", "84.1.1.0/24", 20);
  const human = wins(d, "human", "85.1.1.0/24", 20);
  for (const id of human.slice(0, 5)) d.ingest(notice("billing_notice", id, T0 + 3_000)); // 25% billed: above 0.2
  expect(d.analyze(T0 + 10_000)).toEqual([{ subnet: "84.1.1.0/24", wins: 20, billed: 0 }]);
});

test("too few wins are not judged; a billed share just under the threshold is", () => {
  const few = new NoRenderDetector(SETTINGS, WINDOW);
  wins(few, "bot", "84.1.1.0/24", 9);
  expect(few.analyze(T0 + 10_000)).toEqual([]);
  const d = new NoRenderDetector(SETTINGS, WINDOW);
  const ids = wins(d, "bot", "84.1.1.0/24", 20);
  for (const id of ids.slice(0, 3)) d.ingest(notice("billing_notice", id, T0 + 3_000)); // 15%
  expect(d.analyze(T0 + 10_000)).toEqual([{ subnet: "84.1.1.0/24", wins: 20, billed: 3 }]);
});

test("wins younger than the grace delay are not judged; notices arriving within it count", () => {
  // Two subnets' wins interleaved, at T0 .. T0 + 1.1 s.
  const stream = (d: NoRenderDetector) => {
    const late: string[] = [];
    for (let i = 0; i < 12; i++) {
      late.push(...wins(d, `late-${i}`, "86.1.1.0/24", 1, T0 + i * 100));
      wins(d, `never-${i}`, "87.1.1.0/24", 1, T0 + i * 100);
    }
    return { late };
  };
  const d = new NoRenderDetector(SETTINGS, WINDOW);
  const { late } = stream(d);
  // At T0 + 2.5 s only the wins up to T0 + 0.5 s are past the 2 s grace: 5 per subnet, under minWins.
  expect(d.analyze(T0 + 2_500)).toEqual([]);
  expect(d.sizes.subnets).toBe(2);
  // The late subnet's ads render 1.5 .. 2.6 s after winning: within the grace for most, after it for the first ones.
  for (const id of late) d.ingest(notice("billing_notice", id, T0 + 2_600));
  expect(d.analyze(T0 + 5_000)).toEqual([{ subnet: "87.1.1.0/24", wins: 12, billed: 0 }]);
  // Without a grace the same stream, judged before the notices came, takes the late subnet too.
  const hasty = new NoRenderDetector({ ...SETTINGS, graceMs: 0 }, WINDOW);
  stream(hasty);
  expect(hasty.analyze(T0 + 2_500).map((f) => f.subnet)).toEqual(["86.1.1.0/24", "87.1.1.0/24"]);
});

test("a notice read before its win, and a win read before its bid_request, still join; lost wins are left out", () => {
  const d = new NoRenderDetector(SETTINGS, WINDOW);
  for (let i = 0; i < 12; i++) {
    const id = `x-${i}`;
    d.ingest(notice("billing_notice", id, T0 + 500)); // another worker's outbox was read first
    d.ingest(result(id, T0 + i * 10)); // another Kafka partition: the win before its request
    d.ingest(request(id, "88.1.1.0/24", T0 + i * 10));
  }
  // Every win of this subnet lost at the exchange (lurl): no won impression to render.
  for (const id of wins(d, "lost", "89.1.1.0/24", 12)) d.ingest(notice("loss_notice", id, T0 + 3_000));
  // Lost after being judged: taken back out.
  const judgedThenLost = wins(d, "judged", "90.1.1.0/24", 12);
  expect(d.analyze(T0 + 4_000)).toEqual([{ subnet: "90.1.1.0/24", wins: 12, billed: 0 }]);
  for (const id of judgedThenLost) d.ingest(notice("loss_notice", id, T0 + 4_500));
  expect(d.analyze(T0 + 5_000)).toEqual([]);
  expect(d.sizes).toMatchObject({ requests: 0, unjoinedWins: 0, earlyNotices: 0 });
});

test("multi-imp requests: each winning imp is its own win; no-bid imps are not wins", () => {
  const d = new NoRenderDetector(SETTINGS, WINDOW);
  for (let i = 0; i < 5; i++) {
    const id = `m-${i}`;
    d.ingest(request(id, "91.1.1.0/24", T0 + i, 3));
    d.ingest(result(id, T0 + i, "1"));
    d.ingest(result(id, T0 + i, "2"));
    d.ingest(result(id, T0 + i, "3", null));
  }
  expect(d.analyze(T0 + 5_000)).toEqual([{ subnet: "91.1.1.0/24", wins: 10, billed: 0 }]);
  expect(d.sizes.requests).toBe(0); // every imp's result seen: the request is released
});

test("state is windowed and bounded", () => {
  const d = new NoRenderDetector(SETTINGS, WINDOW);
  wins(d, "bot", "84.1.1.0/24", 20);
  d.ingest(notice("billing_notice", "orphan", T0)); // a win never seen
  d.ingest(result("unscreened", T0)); // a bid_request never seen
  d.ingest(request("open", "84.1.1.0/24", T0, 2)); // results never seen
  expect(d.analyze(T0 + 10_000)).toHaveLength(1);
  expect(d.sizes).toEqual({ requests: 1, unjoinedWins: 1, wins: 20, earlyNotices: 1, subnets: 1 });
  expect(d.analyze(T0 + WINDOW + 5_000)).toEqual([]);
  expect(d.sizes).toEqual({ requests: 0, unjoinedWins: 0, wins: 0, earlyNotices: 0, subnets: 0 });

  const flood = new NoRenderDetector(SETTINGS, WINDOW);
  const n = NO_RENDER_LIMITS.maxWins + 1_000;
  for (let i = 0; i < n; i++) {
    flood.ingest(request(`f-${i}`, `10.${(i >> 8) & 255}.${i & 255}.0/24`, T0));
    flood.ingest(result(`f-${i}`, T0));
    flood.ingest(notice("billing_notice", `g-${i}`, T0));
  }
  expect(flood.sizes.wins).toBe(NO_RENDER_LIMITS.maxWins);
  expect(flood.sizes.earlyNotices).toBe(NO_RENDER_LIMITS.maxEarlyNotices);
  flood.analyze(T0 + 5_000);
  expect(flood.sizes.subnets).toBeLessThanOrEqual(NO_RENDER_LIMITS.maxWins);
});

test("the analyzer acts once per window, as no_render_suspect (flag) or no_render_block (block); off finds nothing", () => {
  const base = { windowMs: WINDOW, subnetBurst: 1_000, devicesPerSubnet: 1_000, regularGapCv: 0 };
  const flag = new Tier3Analyzer({ ...base, noRender: SETTINGS });
  wins(flag, "bot", "84.1.1.0/24", 20);
  expect(flag.analyze(T0 + 10_000)).toEqual([{ kind: "no_render_suspect", subnet: "84.1.1.0/24", why: "20 wins, 0 billed, in 60000 ms" }]);
  expect(flag.analyze(T0 + 11_000)).toEqual([]);
  const block = new Tier3Analyzer({ ...base, noRender: { ...SETTINGS, action: "block" } });
  wins(block, "bot", "84.1.1.0/24", 20);
  expect(block.analyze(T0 + 10_000).map((a) => a.kind)).toEqual(["no_render_block"]);
  const off = new Tier3Analyzer({ ...base, noRender: { ...SETTINGS, action: "off" } });
  wins(off, "bot", "84.1.1.0/24", 20);
  expect(off.analyze(T0 + 10_000)).toEqual([]);
});

/** A source that hands over the queued records on the next poll. */
function queueSource(): EventSource & { ingest(e: object): void } {
  let queue: Buffer[] = [];
  return {
    ingest: (e) => queue.push(Buffer.from(JSON.stringify(e))),
    async poll(onRecord) { const batch = queue; queue = []; batch.forEach(onRecord); return batch.length; },
    async close() {},
  };
}

test.each([["flag", "no_render_suspect"], ["block", "no_render_block"]] as const)("run: noRenderAction %s writes the shared tables and counts %s", async (action, kind) => {
  const settings = fraudSettings({ async: { intervalMs: 600_000, windowMs: 30_000, regularGapCv: 0, noRenderAction: action, noRenderMinWins: 5, noRenderGraceMs: 200 } });
  const state = createFraudState(1);
  const source = queueSource();
  const tier3 = startTier3(settings, state, "/nonexistent", source);
  try {
    const now = Date.now();
    wins(source, "bot", "84.3.3.0/24", 6, now - 5_000);
    const billed = wins(source, "human", "85.3.3.0/24", 6, now - 5_000);
    for (const id of billed) source.ingest(notice("billing_notice", id, now - 1_000));
    await tier3.runOnce();
    expect(isBlocked(state, "84.3.3.7", now)).toBe(action === "block");
    expect(isSubnetSuspect(state, "84.3.3.7", now)).toBe(action === "flag");
    expect(isBlocked(state, "85.3.3.7", now) || isSubnetSuspect(state, "85.3.3.7", now)).toBe(false);
    expect(state.tier3Actions(kind)).toBe(1);
    expect(tier3.actions).toEqual([{ kind, subnet: "84.3.3.0/24", why: "6 wins, 0 billed, in 30000 ms" }]);
  } finally {
    await tier3.stop();
  }
});
