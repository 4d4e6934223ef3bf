// The [fraud] stage of the pipeline in-process: a block is answered only after its audit record,
// and sheds like the auction path when the audit cannot take it.
import { expect, test } from "bun:test";
import { parseConfig } from "../config/load.ts";
import { CounterLayout, CounterReader, WorkerCounters } from "../metrics/counters.ts";
import { createSharedMemory } from "../auction/memory.ts";
import { createFraudState, FraudStage } from "../fraud/stage.ts";
import { fraudBlocked, screen, ALL_DSPS } from "./fraud.ts";
import { buildWasm } from "../../scripts/build-wasm.ts";
import type { WorkerContext } from "./context.ts";
import type { BidRequest } from "../openrtb/request.ts";

function context(record: (events: readonly string[]) => Promise<void>) {
  buildWasm();
  const config = parseConfig({ dsps: [{ id: "d0", endpoint: "http://127.0.0.1:9/" }], campaigns: [], fraud: { async: { enabled: false } } });
  const layout = new CounterLayout(1, 1);
  const buffer = layout.allocate();
  const ctx = {
    config, workerIndex: 0, counters: new WorkerCounters(layout, buffer, 0), audit: { record, healthy: () => true },
    campaignBySlot: [], campaignSlotById: new Map(),
    fraud: new FraudStage(config.fraud, createFraudState(1), 0, createSharedMemory(), "release"),
  } as unknown as WorkerContext;
  return { ctx, reader: new CounterReader(layout, buffer) };
}

const fromCloud = () => ({ id: "r1", imp: [{ id: "1" }], device: { ua: "Mozilla/5.0", ip: "34.120.1.1" } }) as BidRequest;

test("a blocked request is audited (fraud block, one auction_result per imp) before its 204 with nbr 5", async () => {
  const recorded: string[] = [];
  const { ctx, reader } = context(async (events) => void recorded.push(...events));
  const req = fromCloud();
  expect(screen(ctx, req)).toBe(0);
  const answer = await fraudBlocked(ctx, req, "ex1", performance.now());
  expect(answer.status).toBe(204);
  expect(answer.headers).toMatchObject({ "x-tmax-nbr": "5", "x-tmax-no-bid-reason": "invalid_traffic", "x-tmax-fraud-reason": "datacenter_ip" });
  const events = recorded.map((e) => JSON.parse(e));
  expect(events[0]).toMatchObject({ event_type: "bid_request", fraud: { result: "block", tier: 1, reason: "datacenter_ip", nbr: 5, ip_subnet: "34.120.1.0/24" } });
  expect(events[1]).toMatchObject({ event_type: "auction_result", no_bid_reason: "invalid_traffic" });
  expect(reader.noBids("invalid_traffic")).toBe(1);
});

test("when the audit cannot take the record, the block sheds (204, nbr 1) like the auction path", async () => {
  const { ctx, reader } = context(() => Promise.reject(new Error("disk full")));
  const req = fromCloud();
  expect(screen(ctx, req)).toBe(0);
  const answer = await fraudBlocked(ctx, req, null, performance.now());
  expect(answer.headers).toMatchObject({ "x-tmax-nbr": "1", "x-tmax-no-bid-reason": "audit_unavailable" });
  expect(reader.noBids("audit_unavailable")).toBe(1);
  expect(reader.noBids("invalid_traffic")).toBe(0);
});

test("without a fraud stage every request goes to every DSP", () => {
  const { ctx } = context(async () => {});
  delete (ctx as { fraud?: unknown }).fraud;
  expect(screen(ctx, fromCloud())).toBe(ALL_DSPS);
});
