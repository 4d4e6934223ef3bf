// A pod's view of the budget hierarchy (global coordinator -> region allocator -> pod lease): claims
// leases from its region, tops the region up from global when it runs dry, settles leases, forwards
// released reservations and hands idle region allocation back to global. Works over any store pair
// (embedded or Redis). Money moves between stores in two steps, always taken from the source before
// it is given to the destination, each step idempotent by an id: a failure in between leaves money
// counted nowhere as spendable (never twice); the step is kept and retried with the same id.
import { LIMITS } from "../config/limits.ts";
import type { CampaignDay, GlobalStore, RegionStore } from "./store/types.ts";

export interface HierarchyOptions {
  regionId: string;
  pod: string;
  leaseTtlMs: number;
  /** A region tops up from global by this many times the lease it could not grant. */
  regionChunkLeases: number;
}

export interface Claim {
  grantedMicros: number;
  /** What the hierarchy still had for the campaign after the grant (region available + global unallocated, last seen). */
  leftMicros: number;
}

type Pending =
  | { op: "transfer"; key: CampaignDay; id: string; wantMicros: number; budgetMicros: number }
  | { op: "credit"; key: CampaignDay; id: string; amountMicros: number }
  | { op: "settle"; key: CampaignDay; leaseId: string; returnedMicros: number }
  | { op: "giveBack"; key: CampaignDay; id: string; amountMicros: number }
  | { op: "release"; key: CampaignDay; id: string; amountMicros: number };

/** Hand-ups given back per control-plane pass. */
export const HAND_UPS_PER_CALL = 500;

/** Region -> global for allocation handed up at expiry: give back (id `${leaseId}:xup`, applied once), then ack. */
export async function giveBackHandUps(region: RegionStore, global: GlobalStore, regionId: string, limit = HAND_UPS_PER_CALL): Promise<number> {
  let done = 0;
  for (const h of await region.handUps(limit)) {
    await global.giveBack(h.key, `${h.leaseId}:xup`, regionId, h.upMicros);
    await region.ackHandUp(h.key, h.leaseId);
    done++;
  }
  return done;
}

export class BudgetHierarchy {
  private seq = 0;
  private readonly epoch = Date.now().toString(36);
  private pending: Pending[] = [];
  private readonly unallocated = new Map<string, number>();
  dropped = 0;

  constructor(readonly region: RegionStore, readonly global: GlobalStore, private readonly opts: HierarchyOptions) {}

  /** Unique across this pod's restarts (the epoch) and within its life (the sequence). */
  nextId(kind: string): string {
    return `${this.opts.pod}:${this.epoch}:${kind}${this.seq++}`;
  }

  /** Claims lease `leaseId`: the whole want from the region, else the region is topped up from global and
   *  grants what it can. Throws when a store is unreachable (the caller retries with the same id). */
  async claim(key: CampaignDay, leaseId: string, budgetMicros: number, wantMicros: number): Promise<Claim> {
    const first = await this.region.claim(key, leaseId, wantMicros, this.opts.leaseTtlMs, wantMicros);
    const k = `${key.campaign}\u0000${key.day}`;
    if (first.grantedMicros > 0) return { grantedMicros: first.grantedMicros, leftMicros: first.availableMicros + (this.unallocated.get(k) ?? budgetMicros) };
    const id = this.nextId("t");
    // Never ask for more than the budget: wantMicros x chunk leases can pass 2^53 micros for a large budget.
    const chunk = Math.min(budgetMicros, wantMicros * this.opts.regionChunkLeases);
    const transfer: Pending = { op: "transfer", key, id, wantMicros: chunk, budgetMicros };
    const granted = await this.transfer(transfer).catch((err) => {
      this.keep(transfer);
      throw err;
    });
    const second = granted > 0 ? await this.region.claim(key, leaseId, wantMicros, this.opts.leaseTtlMs) : first;
    return { grantedMicros: second.grantedMicros, leftMicros: second.availableMicros + (this.unallocated.get(k) ?? 0) };
  }

  /** Global -> region: grant (idempotent by id), then credit the region (kept for retry if that fails). */
  private async transfer(t: Extract<Pending, { op: "transfer" }>): Promise<number> {
    const g = await this.global.grant(t.key, t.id, this.opts.regionId, t.wantMicros, t.budgetMicros);
    this.unallocated.set(`${t.key.campaign}\u0000${t.key.day}`, g.unallocatedMicros);
    if (g.grantedMicros > 0) {
      const credit: Pending = { op: "credit", key: t.key, id: t.id, amountMicros: g.grantedMicros };
      await this.region.credit(t.key, t.id, g.grantedMicros).catch(() => this.keep(credit));
    }
    return g.grantedMicros;
  }

  /** Closes a lease with the part taken back out of shared memory; kept for retry when the region is unreachable. */
  async settle(key: CampaignDay, leaseId: string, returnedMicros: number): Promise<void> {
    await this.run({ op: "settle", key, leaseId, returnedMicros });
  }

  /** A loss notice's released reservation, forwarded once (id) to the region's books. */
  async release(key: CampaignDay, amountMicros: number): Promise<void> {
    await this.run({ op: "release", key, id: this.nextId("r"), amountMicros });
  }

  /** Gives global the idle allocation regions handed up when leases stranded (idempotent ids), then acks. */
  async giveBackHandUps(limit = HAND_UPS_PER_CALL): Promise<number> {
    return await giveBackHandUps(this.region, this.global, this.opts.regionId, limit);
  }

  /** Retries every kept step once, in order; those that fail again stay. */
  async retryPending(): Promise<number> {
    const batch = this.pending;
    this.pending = [];
    for (const p of batch) await this.run(p);
    return this.pending.length;
  }

  pendingCount(): number {
    return this.pending.length;
  }

  private async run(p: Pending): Promise<void> {
    try {
      await this.apply(p);
    } catch {
      this.keep(p);
    }
  }

  private async apply(p: Pending): Promise<void> {
    switch (p.op) {
      case "transfer": await this.transfer(p); return;
      case "credit": await this.region.credit(p.key, p.id, p.amountMicros); return;
      case "release": await this.region.release(p.key, p.id, p.amountMicros); return;
      case "giveBack": await this.global.giveBack(p.key, p.id, this.opts.regionId, p.amountMicros); return;
      case "settle": {
        const r = await this.region.settle(p.key, p.leaseId, p.returnedMicros);
        if (r.upMicros > 0) await this.run({ op: "giveBack", key: p.key, id: `${p.leaseId}:up`, amountMicros: r.upMicros });
        return;
      }
    }
  }

  /** Bounded: past the limit a step is dropped and counted; its money stays counted as spent (the safe side). */
  private keep(p: Pending): void {
    if (this.pending.length >= LIMITS.maxPendingBudgetOps) {
      this.dropped++;
      return;
    }
    this.pending.push(p);
  }
}
