import { expect, test } from "bun:test";
import { auditEventProblem } from "./schema.ts";

const win = {
  event_id: "e1", event_version: 1, event_time: "2026-12-04T17:00:00.123Z", request_id: "r1", exchange_id: null, publisher_id: "p1",
  advertiser_id: "a1", campaign_id: "c1", dsp_id: "d1", region: "local", pod: "pod-1", worker: 0,
  event_type: "auction_result", imp_id: "1", bid_id: "b1", bid_price_micros: 3_000_000, win_price_micros: 2_010_000, cost_micros: 2_010,
  no_bid_reason: null, processing_ms: 71.2,
};

test("a well-formed event passes; each kind of damage is named", () => {
  expect(auditEventProblem(win)).toBeNull();
  expect(auditEventProblem({ ...win, event_time: "yesterday" })).toContain("/event_time");
  expect(auditEventProblem({ ...win, cost_micros: 2010.5 })).toContain("/cost_micros");
  expect(auditEventProblem({ ...win, event_type: "nope" })).toBe('unknown event_type "nope"');
  const { advertiser_id: _, ...missing } = win;
  expect(auditEventProblem(missing)).toContain("/advertiser_id");
});
