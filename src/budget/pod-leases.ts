// The pod's budget control plane (main thread, off the request path): per campaign it keeps leases
// claimed from its region in the campaign's shared-memory slot, where the auction kernel's CAS is the
// only budget check. Invariant per campaign day: granted - returned == slot remaining + slot reserved.
//   - claim: when the slot holds <= (1 - refillAtUse) of its newest lease, or holds none and either
//     `eager` (embedded: claimed at start) or a worker saw a bid refused for budget (on demand), one
//     claim at a time; size = min(slow start, clamp(left x leaseShare, minLease, budget x maxLeaseFraction)):
//     the first on-demand lease is minLease, each refill doubles it (a campaign that spends fast gets
//     big leases, an idle one strands little), and leases shrink as the campaign nears exhaustion,
//     so the last dollars are not stranded in one pod.
//   - expiry: a lease expires here (ttl x LOCAL_TTL_SHARE after its claim was sent, before the region's
//     own expiry + grace); its unspent part is taken out of the slot atomically (oldest lease is spent
//     first) and only then settled upward.
//   - day roll (campaign time zone): every lease is taken out and settled to its day; reservations and
//     notice counters start again at zero.
import { BOARD_COMMITTED, BOARD_DAY, BOARD_LEASES, BOARD_RELEASED, BOARD_STARVED, BOARD_UPSTREAM_LEFT, type BudgetBoard } from "./board.ts";
import { campaignDay, dayNumber } from "./day.ts";
import type { BudgetHierarchy } from "./hierarchy.ts";
import type { SharedBudget } from "./shared-budget.ts";

/** A pod expires its lease at this share of the TTL (the region waits the full TTL plus grace). */
export const LOCAL_TTL_SHARE = 0.9;
/** After a claim granted nothing, the campaign waits this long before asking again. */
export const EXHAUSTED_RETRY_MS = 1_000;
/** Pause between retries of kept steps while surrendering at shutdown. */
const SURRENDER_RETRY_MS = 50;
/** The invariant check (and the board's lease count) runs every this many ticks: ~16k campaigns cost ms. */
const CHECK_EVERY_TICKS = 10;
/** Reads of a slot's two counters before a mismatch counts as a broken invariant. */
const CHECK_ATTEMPTS = 8;

export interface LeaseSettings { leaseTtlMs: number; refillAtUse: number; minLeaseMicros: number; leaseShare: number; maxLeaseFraction: number; eager: boolean }
export interface LeaseCampaign { id: string; slot: number; dailyBudgetMicros: number; timeZone: string }

interface Lease { id: string; micros: number; expiresAtMs: number }
interface CampaignState {
  day: string;
  leases: Lease[];
  grantedMicros: number;
  returnedMicros: number;
  forwardedReleaseMicros: number;
  claiming: boolean;
  /** A claim whose answer was lost: retried with the same id (the region answers the first grant). */
  retryClaim: { id: string; sentAtMs: number; wantMicros: number } | null;
  leftMicros: number;
  quietUntilMs: number;
  /** Budget refusals seen on the board at the last claim (more = unmet demand). */
  starvedSeen: number;
  /** Slow start: the next lease's size before the hierarchy's caps (doubles with each refill). */
  slowStartMicros: number;
}

export class PodLeases {
  private readonly states = new Map<number, CampaignState>();
  private ticks = 0;
  violations = 0;

  constructor(
    private readonly slots: SharedBudget,
    private readonly board: BudgetBoard,
    private readonly hierarchy: BudgetHierarchy,
    private readonly campaigns: LeaseCampaign[],
    private readonly settings: LeaseSettings,
  ) {}

  /** One pass over every campaign: expiry, releases, checks now; the claims it starts resolve the returned promise. */
  tick(nowMs: number): Promise<void> {
    const work: Promise<void>[] = [];
    const days = new Map<string, string>(); // one Intl call per time zone per tick, not per campaign
    const checking = this.ticks++ % CHECK_EVERY_TICKS === 0;
    for (const c of this.campaigns) {
      let day = days.get(c.timeZone);
      if (day === undefined) days.set(c.timeZone, (day = campaignDay(nowMs, c.timeZone)));
      const s = this.state(c, day);
      this.expire(c, s, nowMs, false);
      this.forwardReleases(c, s);
      if (checking) this.check(c, s);
      if (this.needsLease(c, s, nowMs)) work.push(this.claim(c, s, nowMs));
      if (checking) this.board.set(c.slot, BOARD_LEASES, s.leases.length);
    }
    return Promise.all(work).then(() => undefined);
  }

  /** Shutdown: every lease taken out of the slots and settled, kept steps retried until done or `deadlineMs` (performance.now()). */
  async surrender(deadlineMs = performance.now() + 3_000): Promise<void> {
    const settles: Promise<void>[] = [];
    for (const c of this.campaigns) {
      const s = this.states.get(c.slot);
      if (s !== undefined) settles.push(...this.expire(c, s, Number.POSITIVE_INFINITY, true));
    }
    await Promise.all(settles);
    while ((await this.hierarchy.retryPending()) > 0 && performance.now() < deadlineMs) await Bun.sleep(SURRENDER_RETRY_MS);
  }

  private state(c: LeaseCampaign, day: string): CampaignState {
    let s = this.states.get(c.slot);
    if (s !== undefined && s.day !== day) {
      this.expire(c, s, Number.POSITIVE_INFINITY, true);
      this.forwardReleases(c, s);
      try {
        this.slots.clearReserved(c.slot);
      } catch (err) {
        this.violations++; // money left in the slot that no lease accounts for: reservations are kept (safe side)
        console.error(JSON.stringify({ level: "error", msg: "budget day roll: slot not empty after every lease left", campaign: c.id, error: (err as Error).message }));
      }
      s = undefined;
    }
    if (s === undefined) {
      s = {
        day, leases: [], grantedMicros: 0, returnedMicros: 0, forwardedReleaseMicros: 0, claiming: false, retryClaim: null, leftMicros: c.dailyBudgetMicros, quietUntilMs: 0,
        starvedSeen: 0, slowStartMicros: this.settings.eager ? Number.MAX_SAFE_INTEGER : this.settings.minLeaseMicros,
      };
      this.states.set(c.slot, s);
      this.board.set(c.slot, BOARD_DAY, dayNumber(day));
      this.board.set(c.slot, BOARD_COMMITTED, 0);
      this.board.set(c.slot, BOARD_RELEASED, 0);
      this.board.set(c.slot, BOARD_UPSTREAM_LEFT, c.dailyBudgetMicros);
    }
    return s;
  }

  /** Oldest first: an expired lease's unspent part leaves the slot, then is settled upward. */
  private expire(c: LeaseCampaign, s: CampaignState, nowMs: number, all: boolean): Promise<void>[] {
    const settles: Promise<void>[] = [];
    while (s.leases.length > 0 && (all || s.leases[0]!.expiresAtMs <= nowMs)) {
      const lease = s.leases.shift()!;
      const newer = s.leases.reduce((sum, l) => sum + l.micros, 0);
      const returned = this.slots.takeUnspent(c.slot, lease.micros, newer);
      s.returnedMicros += returned;
      settles.push(this.hierarchy.settle({ campaign: c.id, day: s.day }, lease.id, returned));
    }
    return settles;
  }

  private forwardReleases(c: LeaseCampaign, s: CampaignState): void {
    const released = this.board.get(c.slot, BOARD_RELEASED);
    const delta = released - s.forwardedReleaseMicros;
    if (delta <= 0) return;
    s.forwardedReleaseMicros = released;
    void this.hierarchy.release({ campaign: c.id, day: s.day }, delta);
  }

  private needsLease(c: LeaseCampaign, s: CampaignState, nowMs: number): boolean {
    if (s.claiming || nowMs < s.quietUntilMs || c.dailyBudgetMicros === 0) return false;
    if (s.retryClaim !== null) return true;
    const newest = s.leases[s.leases.length - 1];
    if (newest === undefined) return this.settings.eager || this.board.get(c.slot, BOARD_STARVED) > s.starvedSeen;
    return this.slots.remaining(c.slot) <= (1 - this.settings.refillAtUse) * newest.micros;
  }

  leaseSize(c: LeaseCampaign, leftMicros: number, slowStartMicros = Number.MAX_SAFE_INTEGER): number {
    const { minLeaseMicros, leaseShare, maxLeaseFraction } = this.settings;
    const max = Math.max(minLeaseMicros, Math.ceil(c.dailyBudgetMicros * maxLeaseFraction));
    return Math.min(slowStartMicros, max, Math.max(minLeaseMicros, Math.ceil(leftMicros * leaseShare)));
  }

  private async claim(c: LeaseCampaign, s: CampaignState, nowMs: number): Promise<void> {
    if (s.retryClaim === null && s.leases.length > 0) s.slowStartMicros = Math.min(Number.MAX_SAFE_INTEGER, s.slowStartMicros * 2); // a refill: demand is real
    const attempt = s.retryClaim ?? { id: this.hierarchy.nextId("l"), sentAtMs: nowMs, wantMicros: this.leaseSize(c, s.leftMicros, s.slowStartMicros) };
    const day = s.day;
    s.starvedSeen = this.board.get(c.slot, BOARD_STARVED);
    s.claiming = true;
    try {
      const got = await this.hierarchy.claim({ campaign: c.id, day }, attempt.id, c.dailyBudgetMicros, attempt.wantMicros);
      s.retryClaim = null;
      s.leftMicros = got.leftMicros;
      this.board.set(c.slot, BOARD_UPSTREAM_LEFT, got.leftMicros);
      if (got.grantedMicros === 0) s.quietUntilMs = nowMs + EXHAUSTED_RETRY_MS;
      else this.addLease(c, s, day, { id: attempt.id, micros: got.grantedMicros, expiresAtMs: attempt.sentAtMs + this.settings.leaseTtlMs * LOCAL_TTL_SHARE });
    } catch {
      s.retryClaim = attempt;
      s.quietUntilMs = nowMs + EXHAUSTED_RETRY_MS / 4;
    } finally {
      s.claiming = false;
    }
  }

  private addLease(c: LeaseCampaign, s: CampaignState, day: string, lease: Lease): void {
    if (this.states.get(c.slot) !== s || s.day !== day) {
      void this.hierarchy.settle({ campaign: c.id, day }, lease.id, lease.micros); // the day rolled while claiming: never added
      return;
    }
    s.leases.push(lease);
    s.grantedMicros += lease.micros;
    this.slots.addLease(c.slot, lease.micros);
  }

  /** granted - returned == remaining + reserved, exactly; a violation is logged and counted. */
  private check(c: LeaseCampaign, s: CampaignState): void {
    const held = s.grantedMicros - s.returnedMicros;
    let b = this.slots.books(c.slot);
    // A reservation landing between the two loads reads them out of step for an instant: look again.
    for (let i = 0; i < CHECK_ATTEMPTS; i++, b = this.slots.books(c.slot)) if (held === b.remainingMicros + b.reservedMicros) return;
    this.violations++;
    console.error(JSON.stringify({ level: "error", msg: "budget invariant broken: granted - returned != remaining + reserved", campaign: c.id, grantedMicros: s.grantedMicros, returnedMicros: s.returnedMicros, ...b }));
  }

  /** The pod's own figures for one campaign (status). */
  view(slot: number): { day: string; grantedMicros: number; returnedMicros: number; leases: number } | null {
    const s = this.states.get(slot);
    return s === undefined ? null : { day: s.day, grantedMicros: s.grantedMicros, returnedMicros: s.returnedMicros, leases: s.leases.length };
  }
}
