// The budget hierarchy's books: one interface for a region allocator and one for the global
// coordinator, each with an embedded (in-process) and a Redis implementation (memory.ts, redis.ts),
// held to one shared test suite (store.suite.ts). All amounts are integer micros.
//
// Per campaign and campaign-local day (a new day is a new set of books, so budgets reset by key):
//   global:  budget, allocated (to regions, in total and per region)
//   region:  alloc (received from global), leased (in live leases), spent (closed leases' spent part,
//            minus released reservations), stranded (leases that expired unreported: counted as spent)
//            available = alloc - leased - spent - stranded
// A lease is granted by a region to a pod; the pod settles it with the part it provably did not spend
// (taken out of its shared memory first). A lease not settled by its expiry + grace is stranded:
// counted as spent in full (nothing ever overspends); a late settle still gives back what it returns.
// Every mutation is idempotent by an id the caller chooses (lease id, transfer id, release id), so a
// caller that lost a reply retries with the same id and nothing is counted twice.
//
// Region down (its Redis unreachable, the global one reachable): a pod whose lease expired has taken
// the unspent remainder out of its shared memory; if its settle provably never reached the region
// (StoreUnreachableError: the command was not sent), it gives the remainder straight to global
// (`GlobalStore.returnLease`, once per lease id, listed until the region acknowledges it), and from
// then on only `RegionStore.settleUp` may close that lease: the region counts the remainder as
// returned upward (alloc shrinks by it), never as available. A settle that may have been sent never
// takes that path (it is retried with the region), so a remainder is spendable in one place only.
// Region books invariant, per campaign day (checked by the shared suite):
//   granted = leased + stranded + spent + released + returned + returnedUp
// and once every lease return is acknowledged: region alloc == global's allocation to the region.

export interface CampaignDay {
  campaign: string;
  /** YYYY-MM-DD in the campaign's time zone. */
  day: string;
}

export interface LeaseGrant {
  grantedMicros: number;
  /** What the region still has unleased for the campaign after this grant. */
  availableMicros: number;
}

export interface SettleResult {
  /** False when the lease was already settled (a retry) or is unknown. */
  settled: boolean;
  /** Allocation the region handed back upward (it has no live lease left for the campaign); the caller gives it to global.
   *  A repeated settle answers the first one's hand-up again (its reply may have been lost); giving it back is idempotent. */
  upMicros: number;
  /** settleUp only: the lease was already closed by a plain settle (its remainder made available in the region), so the
   *  remainder given to global exists twice. Never expected (a settle that may have been sent never goes to global); reported. */
  conflict?: boolean;
}

/** A store call that was provably never sent (the client was not connected): nothing of it can ever be applied. Any other
 *  failure (timeout, connection lost with the command written) may have been applied, or be applied later. */
export class StoreUnreachableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StoreUnreachableError";
  }
}

export const notSent = (err: unknown): boolean => err instanceof StoreUnreachableError;

export interface RegionBooks {
  allocMicros: number;
  leasedMicros: number;
  spentMicros: number;
  strandedMicros: number;
  availableMicros: number;
  liveLeases: number;
  /** Day totals for the invariant granted = leased + stranded + spent + released + returned + returnedUp: every lease
   *  granted, released reservations, remainders returned to the region by settle, remainders given to global (settleUp). */
  grantedMicros: number;
  releasedMicros: number;
  returnedMicros: number;
  returnedUpMicros: number;
}

export interface GlobalBooks {
  budgetMicros: number;
  allocatedMicros: number;
  unallocatedMicros: number;
  byRegion: Record<string, number>;
  /** Lease remainders given straight to global per region (its store was unreachable); included in unallocated. */
  leaseReturnedByRegion: Record<string, number>;
}

export interface LeaseReturn { key: CampaignDay; leaseId: string; amountMicros: number }

export interface RegionStore {
  /** Grants up to `wantMicros` (nothing if less than `minMicros` is available) as lease `leaseId`, expiring `ttlMs`
   *  after the grant; a repeated id returns the first grant. */
  claim(key: CampaignDay, leaseId: string, wantMicros: number, ttlMs: number, minMicros?: number): Promise<LeaseGrant>;
  /** Closes a lease: `returnedMicros` (<= granted) was provably not spent and is available again. */
  settle(key: CampaignDay, leaseId: string, returnedMicros: number): Promise<SettleResult>;
  /** Closes a lease (live or already stranded) whose unspent `upMicros` (<= granted) its pod gave straight to global
   *  (GlobalStore.returnLease): counted as returned upward (alloc and the lease leave the books, available is unchanged),
   *  the rest of the lease as spent. Once per lease: a repeat answers the first's hand-up; a later plain settle of the
   *  lease changes nothing; a lease already closed by a plain settle answers `conflict` and changes nothing. */
  settleUp(key: CampaignDay, leaseId: string, upMicros: number): Promise<SettleResult>;
  /** Adds allocation received from global (transfer `transferId`, applied once). */
  credit(key: CampaignDay, transferId: string, amountMicros: number): Promise<boolean>;
  /** A released reservation (loss notice) is spent no more (release `releaseId`, applied once). */
  release(key: CampaignDay, releaseId: string, amountMicros: number): Promise<boolean>;
  /** Strands every live lease past its expiry + `graceMs`; returns how many. A campaign left with no live
   *  lease hands its idle allocation up: recorded as a pending hand-up until `ackHandUp`. */
  expire(graceMs: number): Promise<number>;
  /** Hand-ups recorded by expiry, not yet acknowledged (the caller gives each to global, id `${leaseId}:xup`, then acks). */
  handUps(limit: number): Promise<Array<{ key: CampaignDay; leaseId: string; upMicros: number }>>;
  ackHandUp(key: CampaignDay, leaseId: string): Promise<void>;
  books(key: CampaignDay): Promise<RegionBooks>;
  /** SET NX with TTL: true the first time `key` is seen (notice de-duplication across pods). */
  once(key: string, ttlMs: number): Promise<boolean>;
  close(): Promise<void>;
}

export interface GlobalStore {
  /** Allocates up to `wantMicros` of the campaign's day budget to `region` (transfer id: applied once). */
  grant(key: CampaignDay, transferId: string, region: string, wantMicros: number, budgetMicros: number): Promise<{ grantedMicros: number; unallocatedMicros: number }>;
  /** Takes back allocation a region no longer holds (transfer id: applied once). */
  giveBack(key: CampaignDay, transferId: string, region: string, amountMicros: number): Promise<boolean>;
  /** An expired lease's unspent remainder, given back by its pod because `region` was unreachable: taken off the region's
   *  allocation into unallocated, once per lease id; listed (leaseReturns) until the region has closed the lease with
   *  settleUp and it is acknowledged. False when already applied (or the day's books are gone). */
  returnLease(key: CampaignDay, leaseId: string, region: string, amountMicros: number): Promise<boolean>;
  /** Lease returns of `region` not yet acknowledged (the region's pods close each with settleUp, then ack). */
  leaseReturns(region: string, limit: number): Promise<LeaseReturn[]>;
  ackLeaseReturn(key: CampaignDay, region: string, leaseId: string): Promise<void>;
  books(key: CampaignDay): Promise<GlobalBooks>;
  close(): Promise<void>;
}

export function assertMicros(value: number, what: string): void {
  if (!(Number.isSafeInteger(value) && value >= 0)) throw new RangeError(`${what} must be non-negative integer micros, got ${value}`);
}
