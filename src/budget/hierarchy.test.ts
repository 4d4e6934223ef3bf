// The hierarchy's choice when a settle fails: a settle that provably never reached the region
// (StoreUnreachableError) gives the lease's remainder straight to global and later closes the lease
// with settleUp; one that may have reached it (timeout, lost reply) stays with the region for good,
// so a remainder is never spendable in two places.
import { describe, expect, test } from "bun:test";
import { BudgetHierarchy, reconcileLeaseReturns } from "./hierarchy.ts";
import { expectBalanced } from "./store/store.suite.ts";
import { MemoryGlobalStore, MemoryRegionStore } from "./store/memory.ts";
import { StoreUnreachableError, type RegionStore } from "./store/types.ts";

type Mode = "up" | "down" | "lostReply" | "timeout";

/** A region whose settles fail on demand: down = never sent; lostReply = applied, reply lost; timeout = not applied, unknown to the caller. */
function flaky(inner: MemoryRegionStore): { store: RegionStore; mode: { now: Mode } } {
  const mode = { now: "up" as Mode };
  const store = new Proxy(inner, {
    get(target, prop) {
      const value = Reflect.get(target, prop) as (...a: unknown[]) => Promise<unknown>;
      if (typeof value !== "function") return value;
      return async (...args: unknown[]) => {
        if (mode.now === "down") throw new StoreUnreachableError("region redis reconnecting: not sent");
        if (mode.now === "timeout") throw new Error("Command timed out");
        const out = await value.apply(target, args);
        if (mode.now === "lostReply" && prop === "settle") throw new Error("Command timed out");
        return out;
      };
    },
  });
  return { store, mode };
}

const key = { campaign: "c1", day: "2026-12-04" };
const REGION = "eu";

async function setup() {
  const inner = new MemoryRegionStore();
  const { store, mode } = flaky(inner);
  const global = new MemoryGlobalStore();
  const h = new BudgetHierarchy(store, global, { regionId: REGION, pod: "p1", leaseTtlMs: 30_000, regionChunkLeases: 1 });
  expect((await h.claim(key, "p1:l1", 1_000, 600)).grantedMicros).toBe(600);
  expect((await h.claim(key, "p1:l2", 1_000, 400)).grantedMicros).toBe(400);
  expect((await global.books(key)).unallocatedMicros).toBe(0);
  return { inner, mode, global, h };
}

describe("budget hierarchy, region unreachable", () => {
  test("a settle never sent gives the remainder to global (another region claims it); settleUp closes the lease when the region is back", async () => {
    const { inner, mode, global, h } = await setup();
    mode.now = "down";
    await h.settle(key, "p1:l1", 500); // 100 spent
    expect(h.returnedUp).toBe(1);
    expect(await global.books(key)).toMatchObject({ unallocatedMicros: 500, byRegion: { eu: 500 }, leaseReturnedByRegion: { eu: 500 } });
    expect((await global.grant(key, "t-us", "us", 1_000, 1_000)).grantedMicros).toBe(500);
    expect(h.pendingCount()).toBe(1); // the settleUp, kept
    expect(await h.retryPending()).toBe(1);
    mode.now = "up";
    expect(await h.retryPending()).toBe(0);
    const r = await inner.books(key);
    expect(r).toMatchObject({ allocMicros: 500, leasedMicros: 400, spentMicros: 100, availableMicros: 0, returnedUpMicros: 500 });
    expectBalanced(r);
    expect(await global.leaseReturns(REGION, 10)).toEqual([]); // acknowledged by the pod
    await h.settle(key, "p1:l2", 400); // nothing spent from l2: the region hands its idle allocation up
    const end = await inner.books(key);
    expectBalanced(end);
    const g = await global.books(key);
    expect(end.allocMicros).toBe(g.byRegion.eu!);
    expect(end.spentMicros + g.byRegion.us! + g.unallocatedMicros).toBe(1_000);
    expect(h.conflicts).toBe(0);
  });

  test("a settle that may have been applied (reply lost) never goes to global, even when the region is then down", async () => {
    const { inner, mode, global, h } = await setup();
    mode.now = "lostReply";
    await h.settle(key, "p1:l1", 500); // applied in the region: 500 available there
    mode.now = "down";
    await h.retryPending();
    expect(h.returnedUp).toBe(0);
    expect(await global.books(key)).toMatchObject({ unallocatedMicros: 0, leaseReturnedByRegion: {} });
    mode.now = "up";
    expect(await h.retryPending()).toBe(0); // the retry finds the lease closed: nothing applied twice
    const r = await inner.books(key);
    expect(r).toMatchObject({ allocMicros: 1_000, spentMicros: 100, availableMicros: 500, returnedMicros: 500, returnedUpMicros: 0 });
    expectBalanced(r);
  });

  test("a timed-out settle (unknown outcome) stays with the region too", async () => {
    const { inner, mode, global, h } = await setup();
    mode.now = "timeout";
    await h.settle(key, "p1:l1", 500);
    mode.now = "down";
    await h.retryPending();
    expect((await global.books(key)).unallocatedMicros).toBe(0);
    mode.now = "up";
    expect(await h.retryPending()).toBe(0);
    expect(await inner.books(key)).toMatchObject({ spentMicros: 100, availableMicros: 500, returnedUpMicros: 0 });
  });

  test("global down as well: the remainder waits (counted nowhere as spendable), then goes to global, never back to the region", async () => {
    const { inner, mode, global, h } = await setup();
    const realReturn = global.returnLease.bind(global);
    let globalDown = true;
    global.returnLease = async (...a) => {
      if (globalDown) throw new Error("global: Command timed out");
      return await realReturn(...a);
    };
    mode.now = "down";
    await h.settle(key, "p1:l1", 500);
    mode.now = "up"; // the region is back first: the lease still goes to global (the return may have been applied)
    await h.retryPending();
    expect((await inner.books(key)).availableMicros).toBe(0);
    globalDown = false;
    expect(await h.retryPending()).toBe(0);
    expect((await global.books(key)).unallocatedMicros).toBe(500);
    const r = await inner.books(key);
    expect(r).toMatchObject({ availableMicros: 0, returnedUpMicros: 500 });
    expectBalanced(r);
  });

  test("the pod that gave a remainder to global dies: any pod of the region closes the lease from global's list (after it stranded)", async () => {
    const inner = new MemoryRegionStore();
    const { store, mode } = flaky(inner);
    const global = new MemoryGlobalStore();
    const dead = new BudgetHierarchy(store, global, { regionId: REGION, pod: "p1", leaseTtlMs: 20, regionChunkLeases: 1 });
    expect((await dead.claim(key, "p1:l1", 1_000, 600)).grantedMicros).toBe(600);
    mode.now = "down";
    await dead.settle(key, "p1:l1", 450); // given to global; its settleUp is lost with the pod
    mode.now = "up";
    await Bun.sleep(40);
    await inner.expire(0); // the region strands it: counted spent in full
    expect(await inner.books(key)).toMatchObject({ strandedMicros: 600 });
    expect(await reconcileLeaseReturns(store, global, REGION)).toBe(1);
    const r = await inner.books(key);
    expect(r).toMatchObject({ strandedMicros: 0, spentMicros: 150, returnedUpMicros: 450, availableMicros: 0 });
    expectBalanced(r);
    const g = await global.books(key);
    expect(r.allocMicros).toBe(g.byRegion.eu!);
    expect(g.unallocatedMicros).toBe(1_000 - 150);
  });
});
