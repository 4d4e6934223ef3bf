// A region's Redis down (issue #4): real redis-servers (global, r1, r2; AOF on). A pod of r1 holds a
// lease when r1's Redis is stopped; the lease expires in the pod, whose settle cannot be sent, so the
// unspent remainder goes straight to global, where a pod of r2 claims it. r1's Redis comes back, strands
// the lease (counted spent in full), and the pod's kept settleUp reconciles it: no campaign over budget,
// every region's books balance (granted = leased + stranded + spent + released + returned + returnedUp)
// and each region holds exactly what global says it does.
import { expect, test } from "bun:test";
import type Redis from "ioredis";
import { budgetSlotOffset, createSharedMemory, layout as L } from "../src/auction/memory.ts";
import { BudgetBoard } from "../src/budget/board.ts";
import { BudgetHierarchy } from "../src/budget/hierarchy.ts";
import { PodLeases, type LeaseCampaign, type LeaseSettings } from "../src/budget/pod-leases.ts";
import { SharedBudget } from "../src/budget/shared-budget.ts";
import { budgetRedis, RedisGlobalStore, RedisRegionStore, whenReady } from "../src/budget/store/redis.ts";
import { expectBalanced } from "../src/budget/store/store.suite.ts";
import { startRedis, type RedisService } from "../scripts/services/redis.ts";
import { clearOfMidnight } from "./support/day.ts";
import { until } from "./support/wait.ts";

const BUDGET = 1_000_000;
/** The run's real time plus the simulated ticks ahead of it (up to 44 s), within one UTC day. */
const REGION_DOWN_SPAN_MS = 90_000;
const campaign: LeaseCampaign = { id: "c-down", slot: 0, dailyBudgetMicros: BUDGET, timeZone: "UTC" };
const base: LeaseSettings = { leaseTtlMs: 2_000, refillAtUse: 0.7, minLeaseMicros: 100_000, leaseShare: 0.5, maxLeaseFraction: 0.5, eager: true };

interface Pod { memory: WebAssembly.Memory; slots: SharedBudget; hierarchy: BudgetHierarchy; leases: PodLeases; region: RedisRegionStore; global: RedisGlobalStore; regionClient: Redis }

function pod(name: string, regionId: string, regionUrl: string, globalUrl: string, settings: LeaseSettings): Pod {
  const memory = createSharedMemory();
  const slots = new SharedBudget(memory);
  slots.reset(campaign.slot, 0);
  const regionClient = budgetRedis({ url: regionUrl, commandTimeoutMs: 500 });
  const region = new RedisRegionStore(regionClient);
  const global = new RedisGlobalStore(budgetRedis({ url: globalUrl, commandTimeoutMs: 500 }));
  const hierarchy = new BudgetHierarchy(region, global, { regionId, pod: name, leaseTtlMs: settings.leaseTtlMs, regionChunkLeases: 1 });
  return { memory, slots, hierarchy, leases: new PodLeases(slots, BudgetBoard.allocate(1), hierarchy, [campaign], settings), region, global, regionClient };
}

/** What the auction kernel does: everything the slot holds is reserved (spent); returns how much. */
function spendAll(memory: WebAssembly.Memory): number {
  const i64 = new BigInt64Array(memory.buffer);
  const at = (budgetSlotOffset(campaign.slot) >> 3) + L.BUDGET_REMAINING_OFF / 8;
  for (;;) {
    const r = Atomics.load(i64, at);
    if (Atomics.compareExchange(i64, at, r, 0n) === r) {
      Atomics.add(i64, at + 1, r);
      return Number(r);
    }
  }
}

function spend(memory: WebAssembly.Memory, micros: number): void {
  const i64 = new BigInt64Array(memory.buffer);
  const at = (budgetSlotOffset(campaign.slot) >> 3) + L.BUDGET_REMAINING_OFF / 8;
  const r = Atomics.load(i64, at);
  if (r < BigInt(micros) || Atomics.compareExchange(i64, at, r, r - BigInt(micros)) !== r) throw new Error("spend failed");
  Atomics.add(i64, at + 1, BigInt(micros));
}

test("region r1's Redis down: its pod's expired lease remainder goes to global, r2 claims it; r1 back: books balance, nothing over budget", async () => {
  await clearOfMidnight(REGION_DOWN_SPAN_MS);
  const servers: RedisService[] = [];
  const pods: Pod[] = [];
  try {
    for (let i = 0; i < 3; i++) servers.push(await startRedis({ appendonly: true }));
    const [globalRedis, r1Redis, r2Redis] = servers as [RedisService, RedisService, RedisService];
    const a = pod("pod-a", "r1", r1Redis.url, globalRedis.url, base);
    const b = pod("pod-b", "r2", r2Redis.url, globalRedis.url, { ...base, leaseTtlMs: 600_000 });
    pods.push(a, b);
    await Promise.all(pods.flatMap((p) => [p.region.ready(5_000), p.global.ready(5_000)]));
    const day = new Date().toISOString().slice(0, 10);
    const key = { campaign: campaign.id, day };

    // A (r1) leases half the budget and spends 100,000 of it; B (r2) leases the other half and spends it all.
    const t0 = Date.now();
    await a.leases.tick(t0);
    expect(a.slots.remaining(0)).toBe(500_000);
    spend(a.memory, 100_000);
    await b.leases.tick(Date.now());
    let bSpent = spendAll(b.memory);
    expect(bSpent).toBe(500_000);
    await b.leases.tick(Date.now() + 1_000); // wants more: global has none
    expect(b.slots.remaining(0)).toBe(0);
    expect((await b.global.books(key)).unallocatedMicros).toBe(0);

    // r1's Redis stops (clean: AOF flushed). A's lease expires in A (0.9 x TTL); its settle cannot be sent.
    r1Redis.kill("SIGTERM");
    await r1Redis.exited;
    await until("r1's client to notice", () => a.regionClient.status !== "ready");
    await Bun.sleep(Math.max(0, t0 + base.leaseTtlMs * 0.9 - Date.now()) + 50);
    await a.leases.tick(Date.now());
    await until("A's remainder at global", async () => (await a.global.books(key)).unallocatedMicros === 400_000);
    expect(a.slots.books(0)).toEqual({ remainingMicros: 0, reservedMicros: 100_000 });
    expect(a.hierarchy.returnedUp).toBe(1);
    expect(await a.global.books(key)).toMatchObject({ allocatedMicros: 600_000, byRegion: { r1: 100_000, r2: 500_000 }, leaseReturnedByRegion: { r1: 400_000 } });
    await a.hierarchy.retryPending(); // still down: the settleUp stays kept
    expect(a.hierarchy.pendingCount()).toBe(1);

    // B (r2) claims the returned money from global while r1 is still down, and spends it all.
    for (let round = 1; round <= 40 && (await b.global.books(key)).unallocatedMicros > 0; round++) {
      await b.leases.tick(Date.now() + round * 1_100);
      bSpent += spendAll(b.memory);
    }
    expect(bSpent).toBe(900_000);
    expect(await b.global.books(key)).toMatchObject({ allocatedMicros: 1_000_000, unallocatedMicros: 0, byRegion: { r1: 100_000, r2: 900_000 } });

    // r1 comes back (its books survived: AOF). It strands A's lease (past TTL): counted spent in full...
    await r1Redis.restart();
    await whenReady(a.regionClient, 10_000);
    await Bun.sleep(Math.max(0, t0 + base.leaseTtlMs + 300 - Date.now()));
    expect(await a.region.expire(0)).toBe(1);
    expect(await a.region.books(key)).toMatchObject({ strandedMicros: 500_000, leasedMicros: 0, availableMicros: 0 });
    // ...then A's kept settleUp closes it: 100,000 spent, 400,000 returned upward (to global, already claimed by r2).
    await until("A's settleUp", async () => (await a.hierarchy.retryPending()) === 0);
    const r1 = await a.region.books(key);
    expect(r1).toMatchObject({ allocMicros: 100_000, grantedMicros: 500_000, spentMicros: 100_000, strandedMicros: 0, leasedMicros: 0, returnedMicros: 0, returnedUpMicros: 400_000, availableMicros: 0 });
    expectBalanced(r1);
    expect(await a.hierarchy.reconcileLeaseReturns()).toBe(0); // acknowledged by A already
    expect(await a.global.leaseReturns("r1", 100)).toEqual([]);

    // A wants a lease again: nothing is left anywhere (the remainder is not spendable twice).
    await a.leases.tick(Date.now() + 2_000);
    await a.leases.tick(Date.now() + 4_000);
    expect(a.slots.remaining(0)).toBe(0);

    const g = await a.global.books(key);
    const r2 = await b.region.books(key);
    expectBalanced(r2);
    expect(r1.allocMicros).toBe(g.byRegion.r1!);
    expect(r2.allocMicros).toBe(g.byRegion.r2!);
    expect(g.leaseReturnedByRegion).toEqual({ r1: r1.returnedUpMicros });
    expect(g.allocatedMicros).toBeLessThanOrEqual(BUDGET);
    const aSpent = a.slots.books(0).reservedMicros;
    expect(aSpent + bSpent).toBeLessThanOrEqual(BUDGET); // the money rule
    expect(aSpent + bSpent).toBe(BUDGET); // and the returned remainder was spent, once
    expect(a.hierarchy.conflicts + b.hierarchy.conflicts).toBe(0);
    expect(a.leases.violations + b.leases.violations).toBe(0);
  } finally {
    for (const p of pods) {
      await p.region.close();
      await p.global.close();
    }
    for (const s of servers) await s.stop();
  }
}, 2 * REGION_DOWN_SPAN_MS); // a wait for midnight, then the run
