// The budget control plane of one pod (main thread): the stores (embedded or Redis), the hierarchy
// client and the pod's leases, ticking every `budget.tickMs` off the request path; the region's
// expiry (stranding leases nobody settled) runs every EXPIRY_INTERVAL_MS on every pod (idempotent).
import type { TmaxConfig } from "../config/load.ts";
import { regionChunkLeases } from "../config/budget.ts";
import { BudgetBoard } from "./board.ts";
import { BudgetHierarchy } from "./hierarchy.ts";
import { PodLeases, type LeaseCampaign } from "./pod-leases.ts";
import type { SharedBudget } from "./shared-budget.ts";
import { journaledStores } from "./store/journal.ts";
import { MemoryGlobalStore, MemoryRegionStore } from "./store/memory.ts";
import { join } from "node:path";
import { budgetRedis, RedisGlobalStore, RedisRegionStore } from "./store/redis.ts";
import type { GlobalStore, RegionStore } from "./store/types.ts";

/** How often a pod asks its region to strand leases past expiry + grace. */
export const EXPIRY_INTERVAL_MS = 1_000;
/** Longest wait for the stores and the first leases at start (then serving begins; leases follow). */
export const START_LEASES_TIMEOUT_MS = 5_000;
/** Longest wait at shutdown for leases to be taken out and settled upward. */
export const SURRENDER_TIMEOUT_MS = 3_000;

export interface BudgetRuntime {
  board: BudgetBoard;
  leases: PodLeases;
  hierarchy: BudgetHierarchy;
  stop(): Promise<void>;
}

/** The embedded books' journal, in the audit dir (survives restarts with the audit trail). */
export const BUDGET_JOURNAL_FILE = "budget.journal";

export function budgetStores(config: TmaxConfig): { region: RegionStore; global: GlobalStore; close?: () => void } {
  const b = config.budget;
  if (b.mode === "embedded") {
    return b.journal ? journaledStores(join(config.audit.dir, BUDGET_JOURNAL_FILE)) : { region: new MemoryRegionStore(), global: new MemoryGlobalStore() };
  }
  const region = b.regions.find((r) => r.id === b.region)!;
  return {
    region: new RedisRegionStore(budgetRedis({ url: region.redisUrl, commandTimeoutMs: b.commandTimeoutMs })),
    global: new RedisGlobalStore(budgetRedis({ url: b.globalRedisUrl!, commandTimeoutMs: b.commandTimeoutMs })),
  };
}

export function leaseCampaigns(config: TmaxConfig): LeaseCampaign[] {
  return config.campaigns.map((c) => ({ id: c.id, slot: c.slot, dailyBudgetMicros: c.dailyBudgetMicros, timeZone: c.timeZone ?? "UTC" }));
}

export async function startBudget(config: TmaxConfig, slots: SharedBudget): Promise<BudgetRuntime> {
  const b = config.budget;
  const { region, global, close: closeStores } = budgetStores(config);
  const hierarchy = new BudgetHierarchy(region, global, { regionId: b.region, pod: config.server.pod, leaseTtlMs: b.leaseTtlMs, regionChunkLeases: regionChunkLeases(b) });
  const board = BudgetBoard.allocate(config.campaigns.length);
  for (const c of config.campaigns) slots.reset(c.slot, 0);
  const leases = new PodLeases(slots, board, hierarchy, leaseCampaigns(config), { ...b, eager: b.mode === "embedded" });
  if (region instanceof RedisRegionStore && global instanceof RedisGlobalStore) await readyWithin([region, global], START_LEASES_TIMEOUT_MS);
  await Promise.race([leases.tick(Date.now()), Bun.sleep(START_LEASES_TIMEOUT_MS)]);
  let stopped = false;
  let lastExpiry = 0;
  let running: Promise<void> = Promise.resolve();
  const loop = async () => {
    while (!stopped) {
      const now = Date.now();
      try {
        // Awaited: a pass's claims (each at most ~4 store round trips of commandTimeoutMs) may delay the
        // next pass's expiries by that much; keep leaseGraceMs above it. (Claims run beside the pass were
        // tried: delivery in the torture run fell from ~92% to ~80%, cause not found; not kept.)
        await leases.tick(now);
        await hierarchy.retryPending();
        if (now - lastExpiry >= EXPIRY_INTERVAL_MS) {
          lastExpiry = now;
          await region.expire(b.leaseGraceMs).catch(() => 0);
          await hierarchy.giveBackHandUps().catch(() => 0); // unacknowledged ones are listed again next time
          await hierarchy.reconcileLeaseReturns().catch(() => 0); // lease remainders given to global while the region was down
        }
      } catch (err) {
        console.error(JSON.stringify({ level: "error", msg: "budget control plane tick failed", error: String((err as Error).stack ?? err) }));
      }
      await Bun.sleep(b.tickMs);
    }
  };
  running = loop();
  return {
    board, leases, hierarchy,
    stop: async () => {
      stopped = true;
      await running;
      await Promise.race([leases.surrender(performance.now() + SURRENDER_TIMEOUT_MS), Bun.sleep(SURRENDER_TIMEOUT_MS + 500)]);
      if (hierarchy.pendingCount() > 0) console.error(JSON.stringify({ level: "warn", msg: "budget steps not applied at shutdown: their money stays counted as spent", pending: hierarchy.pendingCount() }));
      await region.close();
      await global.close();
      closeStores?.();
    },
  };
}

async function readyWithin(stores: Array<{ ready(timeoutMs: number): Promise<void> }>, timeoutMs: number): Promise<void> {
  await Promise.all(stores.map((s) => s.ready(timeoutMs).catch(() => {
    console.error(JSON.stringify({ level: "warn", msg: "budget redis not ready at start: serving with no leases until it is", timeoutMs }));
  })));
}
