// A pod's view of the budget hierarchy (global coordinator -> region allocator -> pod lease): claims
// leases from its region, tops the region up from global when it runs dry, settles leases, forwards
// released reservations and hands idle region allocation back to global. Works over any store pair
// (embedded or Redis). Money moves between stores in two steps, always taken from the source before
// it is given to the destination, each step idempotent by an id: a failure in between leaves money
// counted nowhere as spendable (never twice); the step is kept and retried with the same id.
//
// Region unreachable (its Redis down, global up): an expired lease's remainder, already out of the pod's
// shared memory, goes straight to global when its settle provably never reached the region (notSent:
// the client was not connected, so nothing was written). Then only settleUp may close that lease at the
// region: the pod keeps it (and global lists the return until a pod of the region acknowledges it, so
// the region's books are closed even if this pod dies). A settle that failed in any other way (timeout,
// connection lost after writing) may have been applied, or may still be: that lease never goes to
// global, its settle is retried with the region. So a remainder is spendable in one place only.
import { LIMITS } from "../config/limits.ts";
import { notSent, type CampaignDay, type GlobalStore, type RegionStore } from "./store/types.ts";

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
  /** maybeSent: an attempt failed in a way that may have reached the region: never given to global then. */
  | { op: "settle"; key: CampaignDay; leaseId: string; returnedMicros: number; maybeSent?: boolean }
  /** The remainder goes to global (the region's settle was never sent); then settleUp closes the lease in the region. */
  | { op: "returnUp"; key: CampaignDay; leaseId: string; amountMicros: number }
  | { op: "settleUp"; key: CampaignDay; leaseId: string; amountMicros: number }
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

/** Lease returns closed per control-plane pass. */
export const LEASE_RETURNS_PER_CALL = 500;

/** Region <- global: every lease remainder a pod of this region gave straight to global while the region was unreachable
 *  is closed in the region with settleUp (idempotent; the lease's idle hand-up given back with its usual id), then acked.
 *  Run by every pod of the region: closes the books even when the pod that returned the remainder is gone. */
export async function reconcileLeaseReturns(region: RegionStore, global: GlobalStore, regionId: string, limit = LEASE_RETURNS_PER_CALL, onConflict?: (leaseId: string) => void): Promise<number> {
  let done = 0;
  for (const r of await global.leaseReturns(regionId, limit)) {
    const res = await region.settleUp(r.key, r.leaseId, r.amountMicros);
    if (res.conflict === true) onConflict?.(r.leaseId);
    if (res.upMicros > 0) await global.giveBack(r.key, `${r.leaseId}:up`, regionId, res.upMicros);
    await global.ackLeaseReturn(r.key, regionId, r.leaseId);
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
  /** Lease remainders this pod gave straight to global (its region unreachable). */
  returnedUp = 0;
  /** settleUp found the lease closed by a plain settle: its remainder exists twice (never expected; logged). */
  conflicts = 0;

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

  /** Closes in the region the lease remainders any pod of it gave straight to global, then acknowledges them. */
  async reconcileLeaseReturns(limit = LEASE_RETURNS_PER_CALL): Promise<number> {
    return await reconcileLeaseReturns(this.region, this.global, this.opts.regionId, limit, (leaseId) => this.conflict(leaseId));
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
        let r;
        try {
          r = await this.region.settle(p.key, p.leaseId, p.returnedMicros);
        } catch (err) {
          if (!notSent(err)) p.maybeSent = true; // may be applied: from now on this lease is settled with the region only
          else if (p.maybeSent !== true && p.returnedMicros > 0) {
            await this.run({ op: "returnUp", key: p.key, leaseId: p.leaseId, amountMicros: p.returnedMicros });
            return;
          }
          throw err;
        }
        if (r.upMicros > 0) await this.run({ op: "giveBack", key: p.key, id: `${p.leaseId}:up`, amountMicros: r.upMicros });
        return;
      }
      case "returnUp": // kept until global has it (any failure: retried; the plain settle is never sent again)
        if (await this.global.returnLease(p.key, p.leaseId, this.opts.regionId, p.amountMicros)) this.returnedUp++;
        await this.run({ op: "settleUp", key: p.key, leaseId: p.leaseId, amountMicros: p.amountMicros });
        return;
      case "settleUp": {
        const r = await this.region.settleUp(p.key, p.leaseId, p.amountMicros);
        if (r.conflict === true) this.conflict(p.leaseId);
        if (r.upMicros > 0) await this.run({ op: "giveBack", key: p.key, id: `${p.leaseId}:up`, amountMicros: r.upMicros });
        await this.global.ackLeaseReturn(p.key, this.opts.regionId, p.leaseId).catch(() => undefined); // else reconcileLeaseReturns acks it
        return;
      }
    }
  }

  private conflict(leaseId: string): void {
    this.conflicts++;
    console.error(JSON.stringify({ level: "error", msg: "budget: a lease remainder given to global was also settled with the region (counted twice)", leaseId }));
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
