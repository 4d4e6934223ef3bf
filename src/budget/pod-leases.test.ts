// The pod control plane over the embedded books: leases in shared memory, refill, shrink, expiry,
// a dead pod's stranded lease, and the money rule across pods (never more than the budget).
import { describe, expect, test } from "bun:test";
import { budgetSlotOffset, createSharedMemory, layout as L } from "../auction/memory.ts";
import { SharedBudget } from "./shared-budget.ts";
import { BudgetBoard, BOARD_RELEASED, BOARD_STARVED } from "./board.ts";
import { BudgetHierarchy, giveBackHandUps } from "./hierarchy.ts";
import { PodLeases, type LeaseCampaign, type LeaseSettings } from "./pod-leases.ts";
import { MemoryGlobalStore, MemoryRegionStore } from "./store/memory.ts";

const campaign: LeaseCampaign = { id: "c1", slot: 0, dailyBudgetMicros: 1_000_000, timeZone: "UTC" };
const settings: LeaseSettings = { leaseTtlMs: 30_000, refillAtUse: 0.7, minLeaseMicros: 5_000, leaseShare: 0.1, maxLeaseFraction: 0.05, eager: true };

interface Pod { memory: WebAssembly.Memory; slots: SharedBudget; board: BudgetBoard; hierarchy: BudgetHierarchy; leases: PodLeases }

function pod(name: string, region: MemoryRegionStore, global: MemoryGlobalStore, s: LeaseSettings = settings, campaigns = [campaign]): Pod {
  const memory = createSharedMemory();
  const slots = new SharedBudget(memory);
  for (const c of campaigns) slots.reset(c.slot, 0);
  const board = BudgetBoard.allocate(campaigns.length);
  const hierarchy = new BudgetHierarchy(region, global, { regionId: "eu", pod: name, leaseTtlMs: s.leaseTtlMs, regionChunkLeases: 2 });
  return { memory, slots, board, hierarchy, leases: new PodLeases(slots, board, hierarchy, campaigns, s) };
}

/** What the auction kernel does: CAS remaining down by cost (never below zero), add to reserved. */
function spend(memory: WebAssembly.Memory, slot: number, cost: number): boolean {
  const i64 = new BigInt64Array(memory.buffer);
  const at = (budgetSlotOffset(slot) >> 3) + L.BUDGET_REMAINING_OFF / 8;
  for (;;) {
    const r = Atomics.load(i64, at);
    if (r < BigInt(cost)) return false;
    if (Atomics.compareExchange(i64, at, r, r - BigInt(cost)) === r) {
      Atomics.add(i64, at + 1, BigInt(cost));
      return true;
    }
  }
}

const DAY_MS = 86_400_000;
/** The spending runs tick a simulated clock for up to 3,000 rounds of 1.1 s (55 min): they start at 00:01 UTC of
 *  the real day so the whole run stays inside one campaign day whatever time the suite runs (from 23:05 the
 *  run crossed midnight and spent two days' budgets). */
const dayStart = Math.floor(Date.now() / DAY_MS) * DAY_MS + 60_000;
const today = () => new Date(dayStart).toISOString().slice(0, 10);

describe("pod leases", () => {
  test("a lease lands in the slot, refills at ~70% use, and one pod spends the budget exactly, never more", async () => {
    const region = new MemoryRegionStore();
    const global = new MemoryGlobalStore();
    const p = pod("p1", region, global);
    await p.leases.tick(dayStart);
    const first = p.slots.books(0).remainingMicros;
    expect(first).toBe(50_000); // 5% of the budget: the max lease
    let spent = 0;
    for (let round = 0; round < 2_000; round++) {
      while (spend(p.memory, 0, 3_000)) spent += 3_000;
      await p.leases.tick(dayStart + round * 1_100); // past the exhausted back-off
      if (p.slots.books(0).remainingMicros < 3_000 && (await global.books({ campaign: "c1", day: today() })).unallocatedMicros === 0
        && (await region.books({ campaign: "c1", day: today() })).availableMicros < 3_000) break;
    }
    while (spend(p.memory, 0, 1_000)) spent += 1_000;
    expect(spent).toBeLessThanOrEqual(1_000_000);
    expect(spent).toBeGreaterThanOrEqual(990_000);
    expect(p.leases.violations).toBe(0);
  });

  test("an embedded whole-budget lease of a budget near 2^53 micros lands (the region's top-up is capped at the budget)", async () => {
    const huge: LeaseCampaign = { id: "big", slot: 0, dailyBudgetMicros: 5_000_000_000 * 1_000_000, timeZone: "UTC" }; // $5e9: x2 chunk leases passes 2^53
    const whole: LeaseSettings = { ...settings, leaseShare: 1, maxLeaseFraction: 1 };
    const p = pod("p1", new MemoryRegionStore(), new MemoryGlobalStore(), whole, [huge]);
    await p.leases.tick(dayStart);
    expect(p.slots.books(0).remainingMicros).toBe(huge.dailyBudgetMicros);
  });

  test("leases shrink as the campaign nears exhaustion", () => {
    const p = pod("p1", new MemoryRegionStore(), new MemoryGlobalStore());
    expect(p.leases.leaseSize(campaign, 1_000_000)).toBe(50_000);
    expect(p.leases.leaseSize(campaign, 200_000)).toBe(20_000);
    expect(p.leases.leaseSize(campaign, 10_000)).toBe(5_000);
  });

  test("three pods spending at once never exceed the budget and deliver >= 99% of it", async () => {
    const region = new MemoryRegionStore();
    const global = new MemoryGlobalStore();
    const pods = [pod("a", region, global), pod("b", region, global), pod("c", region, global)];
    let spent = 0;
    for (let round = 0; round < 3_000; round++) {
      for (const p of pods) {
        for (let k = 0; k < 3 && spend(p.memory, 0, 2_000 + ((round * 7 + k) % 5) * 500); k++) spent += 2_000 + ((round * 7 + k) % 5) * 500;
      }
      await Promise.all(pods.map((p) => p.leases.tick(dayStart + round * 1_100)));
    }
    for (const p of pods) while (spend(p.memory, 0, 1_000)) spent += 1_000;
    expect(spent).toBeLessThanOrEqual(1_000_000);
    expect(spent).toBeGreaterThanOrEqual(990_000);
  });

  test("an expired lease's unspent part leaves the slot first, then returns up to the region and global", async () => {
    const region = new MemoryRegionStore();
    const global = new MemoryGlobalStore();
    const p = pod("p1", region, global, { ...settings, leaseTtlMs: 1_000 });
    const t0 = dayStart;
    await p.leases.tick(t0);
    expect(spend(p.memory, 0, 20_000)).toBe(true);
    await p.leases.tick(t0 + 1_000); // 0.9 x ttl passed: expired here; still wanted, so a new lease comes
    await Bun.sleep(5);
    const key = { campaign: "c1", day: today() };
    const r = await region.books(key);
    expect(r.spentMicros).toBe(20_000);
    // granted - returned == remaining + reserved: the pod holds exactly its new lease and its spend.
    expect(p.slots.books(0)).toEqual({ remainingMicros: 50_000, reservedMicros: 20_000 });
    expect(p.leases.violations).toBe(0);
  });

  test("a pod that dies holding a lease: after expiry + grace the region counts it stranded (spent); others spend the rest", async () => {
    const region = new MemoryRegionStore();
    const global = new MemoryGlobalStore();
    const dead = pod("dead", region, global, { ...settings, leaseTtlMs: 20 });
    await dead.leases.tick(dayStart);
    expect(spend(dead.memory, 0, 10_000)).toBe(true);
    await Bun.sleep(40);
    expect(await region.expire(0)).toBe(1);
    expect(await giveBackHandUps(region, global, "eu")).toBe(1); // the region's idle part goes back to global
    const key = { campaign: "c1", day: today() };
    expect((await region.books(key)).strandedMicros).toBe(50_000);
    const alive = pod("alive", region, global);
    let spent = 0;
    for (let round = 0; round < 3_000; round++) {
      while (spend(alive.memory, 0, 2_500)) spent += 2_500;
      await alive.leases.tick(dayStart + round * 1_100);
    }
    expect(spent + 50_000).toBeLessThanOrEqual(1_000_000);
    expect(spent).toBeGreaterThanOrEqual(940_000);
  });

  test("released reservations (loss notices) are forwarded once to the region's books", async () => {
    const region = new MemoryRegionStore();
    const global = new MemoryGlobalStore();
    const p = pod("p1", region, global);
    await p.leases.tick(dayStart);
    expect(spend(p.memory, 0, 4_000)).toBe(true);
    p.board.add(0, BOARD_RELEASED, 4_000);
    await p.leases.tick(dayStart);
    await p.leases.tick(dayStart);
    await Bun.sleep(5);
    await p.leases.surrender();
    expect((await region.books({ campaign: "c1", day: today() })).spentMicros).toBe(0);
  });

  test("the day rolls at midnight in the campaign's time zone: leases settle to their day, the new day starts empty", async () => {
    const region = new MemoryRegionStore();
    const global = new MemoryGlobalStore();
    const tokyo: LeaseCampaign = { ...campaign, timeZone: "Asia/Tokyo" };
    const p = pod("p1", region, global, settings, [tokyo]);
    const beforeMidnight = Date.parse("2026-12-04T14:59:00Z"); // 23:59 in Tokyo
    await p.leases.tick(beforeMidnight);
    expect(spend(p.memory, 0, 7_000)).toBe(true);
    await p.leases.tick(beforeMidnight + 120_000);
    await Bun.sleep(5);
    expect((await region.books({ campaign: "c1", day: "2026-12-04" })).spentMicros).toBe(7_000);
    expect(p.slots.books(0)).toEqual({ remainingMicros: 50_000, reservedMicros: 0 });
    expect((await global.books({ campaign: "c1", day: "2026-12-05" })).allocatedMicros).toBeGreaterThan(0);
  });

  test("on demand (distributed): no lease until a bid is refused for budget; then minLease, doubling with each refill", async () => {
    const p = pod("p1", new MemoryRegionStore(), new MemoryGlobalStore(), { ...settings, eager: false, maxLeaseFraction: 1, leaseShare: 1 });
    await p.leases.tick(dayStart);
    expect(p.slots.books(0).remainingMicros).toBe(0);
    p.board.add(0, BOARD_STARVED, 1);
    await p.leases.tick(dayStart);
    expect(p.slots.books(0).remainingMicros).toBe(5_000);
    expect(spend(p.memory, 0, 4_000)).toBe(true); // 80% used: refill
    await p.leases.tick(dayStart);
    expect(p.slots.books(0).remainingMicros).toBe(1_000 + 10_000); // the region topped up from global for the whole want
    await p.leases.tick(dayStart);
    expect(p.slots.books(0).remainingMicros).toBe(11_000); // not used: no more
    expect(spend(p.memory, 0, 8_000)).toBe(true);
    await p.leases.tick(dayStart);
    expect(p.slots.books(0).remainingMicros).toBe(3_000 + 20_000); // doubled again
  });

  test("global moves allocation from an idle region to a busy one: an expired lease's remainder goes up, another region claims it", async () => {
    const global = new MemoryGlobalStore();
    const eu = new MemoryRegionStore();
    const us = new MemoryRegionStore();
    const idle = pod("idle", eu, global, { ...settings, leaseTtlMs: 1_000, maxLeaseFraction: 1, leaseShare: 1, minLeaseMicros: 1_000_000, eager: false });
    const t0 = dayStart;
    idle.board.add(0, BOARD_STARVED, 1); // one bid refused: demand, once
    await idle.leases.tick(t0);
    expect(idle.slots.books(0).remainingMicros).toBe(1_000_000); // eu holds the whole budget in one lease
    const memory = createSharedMemory();
    const slots = new SharedBudget(memory);
    slots.reset(0, 0);
    const busyHierarchy = new BudgetHierarchy(us, global, { regionId: "us", pod: "busy", leaseTtlMs: 30_000, regionChunkLeases: 2 });
    const busy = new PodLeases(slots, BudgetBoard.allocate(1), busyHierarchy, [campaign], { ...settings, maxLeaseFraction: 1, leaseShare: 1 });
    await busy.tick(t0);
    expect(slots.books(0).remainingMicros).toBe(0); // nothing left for us yet
    expect(spend(idle.memory, 0, 100_000)).toBe(true);
    await idle.leases.tick(t0 + 1_000); // expired: 900,000 leaves eu's pod, eu has no live lease left: up to global
    await Bun.sleep(5);
    const key = { campaign: "c1", day: today() };
    expect((await global.books(key)).byRegion.eu).toBe(100_000);
    await busy.tick(t0 + 2_000); // past the exhausted back-off; it last saw nothing left: a minLease first
    expect(slots.books(0).remainingMicros).toBe(5_000);
    expect(spend(memory, 0, 4_000)).toBe(true);
    await busy.tick(t0 + 2_100); // refill, sized on what is left now
    expect(slots.books(0).remainingMicros).toBe(1_000 + 895_000);
    expect((await global.books(key)).byRegion).toEqual({ eu: 100_000, us: 900_000 });
  });

  test("region unreachable: the pod spends only what its leases hold, takes them out at expiry, settles and claims again on reconnect", async () => {
    const real = new MemoryRegionStore();
    let down = false;
    // The region as seen over a network that can fail: every call refused while `down`.
    const region = new Proxy(real, { get: (target, prop) => {
      const value = Reflect.get(target, prop);
      return typeof value === "function" ? (...args: unknown[]) => (down ? Promise.reject(new Error("region unreachable")) : value.apply(target, args)) : value;
    } }) as MemoryRegionStore;
    const global = new MemoryGlobalStore();
    const p = pod("p1", region, global, { ...settings, leaseTtlMs: 1_000 });
    const t0 = dayStart;
    await p.leases.tick(t0);
    expect(p.slots.books(0).remainingMicros).toBe(50_000);
    down = true;
    expect(spend(p.memory, 0, 30_000)).toBe(true); // 60% used
    expect(spend(p.memory, 0, 10_000)).toBe(true); // 80% used: a refill is wanted but cannot be had
    await p.leases.tick(t0 + 100);
    expect(p.slots.books(0).remainingMicros).toBe(10_000);
    await p.leases.tick(t0 + 1_000); // the lease expired here: its unspent part leaves the slot
    expect(p.slots.books(0).remainingMicros).toBe(0);
    expect(spend(p.memory, 0, 1)).toBe(false);
    expect(p.hierarchy.pendingCount()).toBeGreaterThan(0); // the settle waits for the region
    down = false;
    await p.hierarchy.retryPending();
    await p.leases.tick(t0 + 2_500); // past the back-off: claims again
    const key = { campaign: "c1", day: today() };
    expect((await real.books(key)).spentMicros).toBe(40_000);
    expect(p.slots.books(0).remainingMicros).toBe(50_000);
    expect(p.leases.violations).toBe(0);
  });
});
