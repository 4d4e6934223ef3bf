// The embedded budget books: region allocator and global coordinator in this process (the default,
// no external service). Same semantics as the Redis scripts (redis.ts); one shared suite tests both.
// Each call is synchronous inside, so it is atomic with respect to every other call.
import { assertMicros, type CampaignDay, type GlobalBooks, type GlobalStore, type LeaseGrant, type LeaseReturn, type RegionBooks, type RegionStore, type SettleResult } from "./types.ts";

/** closed: settled with the region; upped: closed by settleUp (its remainder went to global). */
interface Lease { grantedMicros: number; expiresAtMs: number; state: "live" | "stranded" | "closed" | "upped"; upMicros: number }

/** A closed lease is remembered this long (a retried settle still finds it), then forgotten: memory stays bounded. */
export const CLOSED_LEASE_KEEP_MS = 3_600_000;
interface RegionEntry {
  alloc: number; leased: number; spent: number; stranded: number; leases: Map<string, Lease>; applied: Set<string>;
  granted: number; released: number; returned: number; returnedUp: number;
}

const keyOf = (k: CampaignDay) => `${k.campaign}\u0000${k.day}`;
const keyFromString = (k: string): CampaignDay => {
  const [campaign, day] = k.split("\u0000");
  return { campaign: campaign!, day: day! };
};

export class MemoryRegionStore implements RegionStore {
  private readonly entries = new Map<string, RegionEntry>();
  private readonly seen = new Map<string, number>();
  private readonly pendingUps = new Map<string, { key: CampaignDay; leaseId: string; upMicros: number }>();

  constructor(private readonly nowMs: () => number = Date.now) {}

  private entry(key: CampaignDay): RegionEntry {
    const k = keyOf(key);
    let e = this.entries.get(k);
    if (e === undefined) this.entries.set(k, (e = { alloc: 0, leased: 0, spent: 0, stranded: 0, leases: new Map(), applied: new Set(), granted: 0, released: 0, returned: 0, returnedUp: 0 }));
    return e;
  }

  async claim(key: CampaignDay, leaseId: string, wantMicros: number, ttlMs: number, minMicros = 1): Promise<LeaseGrant> {
    assertMicros(wantMicros, "wantMicros");
    const e = this.entry(key);
    const existing = e.leases.get(leaseId);
    if (existing !== undefined) return { grantedMicros: existing.grantedMicros, availableMicros: available(e) };
    const granted = available(e) < minMicros ? 0 : Math.max(0, Math.min(wantMicros, available(e)));
    if (granted > 0) {
      e.leases.set(leaseId, { grantedMicros: granted, expiresAtMs: this.nowMs() + ttlMs, state: "live", upMicros: 0 });
      e.leased += granted;
      e.granted += granted;
    }
    return { grantedMicros: granted, availableMicros: available(e) };
  }

  async settle(key: CampaignDay, leaseId: string, returnedMicros: number): Promise<SettleResult> {
    assertMicros(returnedMicros, "returnedMicros");
    const e = this.entry(key);
    const lease = e.leases.get(leaseId);
    if (lease === undefined) return { settled: false, upMicros: 0 };
    if (lease.state === "closed" || lease.state === "upped") return { settled: false, upMicros: lease.upMicros };
    if (returnedMicros > lease.grantedMicros) throw new RangeError(`lease ${leaseId}: returned ${returnedMicros} > granted ${lease.grantedMicros}`);
    if (lease.state === "live") e.leased -= lease.grantedMicros;
    else e.stranded -= lease.grantedMicros;
    e.spent += lease.grantedMicros - returnedMicros;
    e.returned += returnedMicros;
    lease.state = "closed";
    lease.upMicros = this.handUp(e);
    return { settled: true, upMicros: lease.upMicros };
  }

  async settleUp(key: CampaignDay, leaseId: string, upMicros: number): Promise<SettleResult> {
    assertMicros(upMicros, "upMicros");
    const e = this.entry(key);
    const lease = e.leases.get(leaseId);
    if (lease === undefined) return { settled: false, upMicros: 0 };
    if (lease.state === "upped") return { settled: false, upMicros: lease.upMicros };
    if (lease.state === "closed") return { settled: false, upMicros: 0, conflict: true };
    if (upMicros > lease.grantedMicros) throw new RangeError(`lease ${leaseId}: returned ${upMicros} > granted ${lease.grantedMicros}`);
    if (lease.state === "live") e.leased -= lease.grantedMicros;
    else e.stranded -= lease.grantedMicros;
    e.spent += lease.grantedMicros - upMicros;
    e.alloc -= upMicros;
    e.returnedUp += upMicros;
    lease.state = "upped";
    lease.upMicros = this.handUp(e);
    return { settled: true, upMicros: lease.upMicros };
  }

  /** No live lease left: the region's idle allocation goes back to the global pool. */
  private handUp(e: RegionEntry): number {
    if (e.leased !== 0) return 0;
    const up = Math.max(0, available(e));
    e.alloc -= up;
    return up;
  }

  async credit(key: CampaignDay, transferId: string, amountMicros: number): Promise<boolean> {
    assertMicros(amountMicros, "amountMicros");
    const e = this.entry(key);
    if (e.applied.has(transferId)) return false;
    e.applied.add(transferId);
    e.alloc += amountMicros;
    return true;
  }

  async release(key: CampaignDay, releaseId: string, amountMicros: number): Promise<boolean> {
    assertMicros(amountMicros, "amountMicros");
    const e = this.entry(key);
    if (e.applied.has(releaseId)) return false;
    e.applied.add(releaseId);
    e.spent -= amountMicros;
    e.released += amountMicros;
    return true;
  }

  async expire(graceMs: number): Promise<number> {
    const now = this.nowMs();
    let stranded = 0;
    for (const [k, e] of this.entries) {
      for (const [id, lease] of e.leases) {
        if ((lease.state === "closed" || lease.state === "upped") && lease.expiresAtMs + CLOSED_LEASE_KEEP_MS < now) e.leases.delete(id);
        if (lease.state !== "live" || lease.expiresAtMs + graceMs > now) continue;
        lease.state = "stranded";
        e.leased -= lease.grantedMicros;
        e.stranded += lease.grantedMicros;
        stranded++;
        const up = this.handUp(e);
        if (up > 0) this.pendingUps.set(`${k}\u0000${id}`, { key: keyFromString(k), leaseId: id, upMicros: up });
      }
    }
    return stranded;
  }

  async handUps(limit: number): Promise<Array<{ key: CampaignDay; leaseId: string; upMicros: number }>> {
    return [...this.pendingUps.values()].slice(0, limit);
  }

  async ackHandUp(key: CampaignDay, leaseId: string): Promise<void> {
    this.pendingUps.delete(`${keyOf(key)}\u0000${leaseId}`);
  }

  async books(key: CampaignDay): Promise<RegionBooks> {
    const e = this.entry(key);
    let live = 0;
    for (const l of e.leases.values()) if (l.state === "live") live++;
    return { allocMicros: e.alloc, leasedMicros: e.leased, spentMicros: e.spent, strandedMicros: e.stranded, availableMicros: available(e), liveLeases: live,
      grantedMicros: e.granted, releasedMicros: e.released, returnedMicros: e.returned, returnedUpMicros: e.returnedUp };
  }

  async once(key: string, ttlMs: number): Promise<boolean> {
    const now = this.nowMs();
    const until = this.seen.get(key);
    if (until !== undefined && until > now) return false;
    this.seen.set(key, now + ttlMs);
    return true;
  }

  async close(): Promise<void> {}
}

function available(e: RegionEntry): number {
  return e.alloc - e.leased - e.spent - e.stranded;
}

interface GlobalEntry { budget: number; allocated: number; byRegion: Map<string, number>; transfers: Map<string, number>; leaseReturns: Map<string, number>; leaseReturnedByRegion: Map<string, number> }

export class MemoryGlobalStore implements GlobalStore {
  private readonly entries = new Map<string, GlobalEntry>();
  /** Lease returns not yet acknowledged by their region ("region\0campaign\0day\0lease id"). */
  private readonly unacked = new Map<string, LeaseReturn>();

  private entry(key: CampaignDay, budgetMicros: number | null): GlobalEntry | undefined {
    const k = keyOf(key);
    let e = this.entries.get(k);
    if (e === undefined && budgetMicros !== null) this.entries.set(k, (e = { budget: budgetMicros, allocated: 0, byRegion: new Map(), transfers: new Map(), leaseReturns: new Map(), leaseReturnedByRegion: new Map() }));
    return e;
  }

  async grant(key: CampaignDay, transferId: string, region: string, wantMicros: number, budgetMicros: number): Promise<{ grantedMicros: number; unallocatedMicros: number }> {
    assertMicros(wantMicros, "wantMicros");
    assertMicros(budgetMicros, "budgetMicros");
    const e = this.entry(key, budgetMicros)!;
    const done = e.transfers.get(transferId);
    if (done !== undefined) return { grantedMicros: done, unallocatedMicros: e.budget - e.allocated };
    const granted = Math.max(0, Math.min(wantMicros, e.budget - e.allocated));
    e.transfers.set(transferId, granted);
    e.allocated += granted;
    e.byRegion.set(region, (e.byRegion.get(region) ?? 0) + granted);
    return { grantedMicros: granted, unallocatedMicros: e.budget - e.allocated };
  }

  async giveBack(key: CampaignDay, transferId: string, region: string, amountMicros: number): Promise<boolean> {
    assertMicros(amountMicros, "amountMicros");
    const e = this.entry(key, null);
    if (e === undefined || e.transfers.has(transferId)) return false;
    takeBack(e, region, amountMicros);
    e.transfers.set(transferId, amountMicros);
    return true;
  }

  async returnLease(key: CampaignDay, leaseId: string, region: string, amountMicros: number): Promise<boolean> {
    assertMicros(amountMicros, "amountMicros");
    const e = this.entry(key, null);
    if (e === undefined || e.leaseReturns.has(leaseId)) return false;
    takeBack(e, region, amountMicros);
    e.leaseReturns.set(leaseId, amountMicros);
    e.leaseReturnedByRegion.set(region, (e.leaseReturnedByRegion.get(region) ?? 0) + amountMicros);
    this.unacked.set(`${region}\u0000${keyOf(key)}\u0000${leaseId}`, { key, leaseId, amountMicros });
    return true;
  }

  async leaseReturns(region: string, limit: number): Promise<LeaseReturn[]> {
    const out: LeaseReturn[] = [];
    for (const [k, r] of this.unacked) if (out.length < limit && k.startsWith(`${region}\u0000`)) out.push(r);
    return out;
  }

  async ackLeaseReturn(key: CampaignDay, region: string, leaseId: string): Promise<void> {
    this.unacked.delete(`${region}\u0000${keyOf(key)}\u0000${leaseId}`);
  }

  async books(key: CampaignDay): Promise<GlobalBooks> {
    const e = this.entry(key, null);
    if (e === undefined) return { budgetMicros: 0, allocatedMicros: 0, unallocatedMicros: 0, byRegion: {}, leaseReturnedByRegion: {} };
    return {
      budgetMicros: e.budget, allocatedMicros: e.allocated, unallocatedMicros: e.budget - e.allocated, byRegion: Object.fromEntries(e.byRegion),
      leaseReturnedByRegion: Object.fromEntries(e.leaseReturnedByRegion),
    };
  }

  async close(): Promise<void> {}
}

/** A region hands `amountMicros` of its allocation back to global; never more than it holds. */
function takeBack(e: GlobalEntry, region: string, amountMicros: number): void {
  const held = e.byRegion.get(region) ?? 0;
  if (amountMicros > held) throw new RangeError(`region ${region} gives back ${amountMicros} but holds ${held}`);
  e.allocated -= amountMicros;
  e.byRegion.set(region, held - amountMicros);
}
