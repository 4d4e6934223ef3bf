// Tier 3's "no-render clusters": a subnet whose won auctions almost never come back as a billing
// notice. OpenRTB sends tmax no clicks, so the "no-click clusters" are found through the
// signal tmax does receive: the exchange calls the burl (GET /notice/billing, audited as a
// billing_notice) only once the ad was really rendered and billed. Traffic that wins and never
// renders is not a person looking at a page.
//
// The join, all from the event stream:
//   bid_request     request_id -> fraud.ip_subnet (kept until each of its imp_count auction_results is seen)
//   auction_result  a win (bid_id set): (request_id, imp_id, bid_id) -> its subnet, at the win's event time
//   billing_notice  the same key: the win was rendered and billed
//   loss_notice     the same key: the win lost at the exchange (lurl): not a won impression, left out
// Events of one key may come in any order (another worker's outbox, another Kafka partition): a win
// whose bid_request is not seen yet, and a notice whose win is not seen yet, wait (bounded, windowed).
//
// A win is judged only once it is `graceMs` old (notices still in flight are not missing), and counts
// while it is inside the analysis window. A subnet with >= minWins such wins of which a billed share
// below maxBilledShare was billed is reported; a notice arriving after the grace still counts as billed.
export interface NoRenderSettings {
  /** "flag": the subnet is marked suspect (its requests flagged); "block": it is blocked; "off": not analysed. */
  action: "flag" | "block" | "off";
  /** Judged wins (older than the grace, inside the window, not lost at the exchange) a subnet needs before it is judged. */
  minWins: number;
  /** A subnet whose billed share of those wins is below this is a no-render cluster. */
  maxBilledShare: number;
  /** How old a win must be before a missing billing notice counts (< the window). */
  graceMs: number;
}

/** Limits of the no-render join (the oldest entry is dropped first past each). */
export const NO_RENDER_LIMITS = {
  /** Wins tracked (inside the window): ~150 bytes each. */
  maxWins: 200_000,
  /** bid_requests whose auction_results are not all seen yet. */
  maxOpenRequests: 100_000,
  /** Wins whose bid_request is not seen yet (another partition, or an unscreened request). */
  maxUnjoinedWins: 50_000,
  /** Billing / loss notices whose win is not seen yet. */
  maxEarlyNotices: 50_000,
} as const;

export interface NoRenderFinding { subnet: string; wins: number; billed: number }

interface Win { key: string; subnet: string; at: number; billed: boolean; lost: boolean; counted: boolean; gone: boolean }
interface Tally { wins: number; billed: number }

type Outcome = "billed" | "lost";

/** The fields of an audit event the join reads (any event type; the rest are ignored). */
export interface StreamEvent {
  event_type?: string;
  event_time?: string;
  request_id?: string | null;
  imp_id?: string | null;
  bid_id?: string | null;
  imp_count?: number;
  fraud?: { result?: string; ip_subnet: string | null };
}

/**
 * A map whose entries leave in arrival order (past a size limit, or expired by time) through a queue
 * of its own, never by iterating the map (slow after many deletions at its head). An entry deleted
 * directly leaves a stale queue slot, skipped and compacted away.
 */
class ArrivalMap<V> {
  private readonly map = new Map<string, V>();
  private queue: Array<{ key: string; value: V }> = [];
  private head = 0;

  constructor(private readonly limit: number, private readonly onDrop: (value: V) => void = () => {}) {}

  get size(): number { return this.map.size; }
  get(key: string): V | undefined { return this.map.get(key); }
  has(key: string): boolean { return this.map.has(key); }
  /** Removes without calling onDrop (the caller settled the entry). */
  delete(key: string): void { this.map.delete(key); }

  set(key: string, value: V): void {
    this.map.set(key, value);
    this.queue.push({ key, value });
    while (this.map.size > this.limit) this.dropOldest();
    if (this.queue.length - this.head > 4 * Math.max(this.map.size, 1024)) {
      this.queue = this.queue.slice(this.head).filter((e) => this.map.get(e.key) === e.value);
      this.head = 0;
    }
  }

  /** Drops (onDrop) entries from the oldest while `gone(value)`; stops at the first that is not. */
  expire(gone: (value: V) => boolean): void {
    for (let e = this.first(); e !== undefined && gone(e.value); e = this.first()) this.drop(e);
  }

  dropOldest(): void {
    const e = this.first();
    if (e !== undefined) this.drop(e);
  }

  private first(): { key: string; value: V } | undefined {
    while (this.head < this.queue.length) {
      const e = this.queue[this.head]!;
      if (this.map.get(e.key) === e.value) return e;
      this.head++;
    }
    this.queue = [];
    this.head = 0;
    return undefined;
  }

  private drop(e: { key: string; value: V }): void {
    this.map.delete(e.key);
    this.head++;
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    this.onDrop(e.value);
  }
}

export class NoRenderDetector {
  /** request_id -> its subnet and the imps whose auction_result is still to come. */
  private readonly requests = new ArrivalMap<{ subnet: string; at: number; imps: number }>(NO_RENDER_LIMITS.maxOpenRequests);
  /** request_id -> wins seen before their bid_request (limited by their count: see result()). */
  private readonly unjoined = new ArrivalMap<{ at: number; wins: Array<{ key: string; at: number }> }>(Number.POSITIVE_INFINITY, (u) => { this.unjoinedWins -= u.wins.length; });
  private unjoinedWins = 0;
  /** (request_id, imp_id, bid_id) -> the win, in arrival order (about event-time order). */
  private readonly wins = new ArrivalMap<Win>(NO_RENDER_LIMITS.maxWins, (w) => this.retire(w));
  /** Wins not yet older than the grace, in arrival order; `head` is the first not yet judged. */
  private maturing: Win[] = [];
  private head = 0;
  private readonly early = new ArrivalMap<{ at: number; outcome: Outcome }>(NO_RENDER_LIMITS.maxEarlyNotices);
  /** Per subnet: judged wins inside the window, and how many of them were billed. */
  private readonly tallies = new Map<string, Tally>();

  constructor(private readonly settings: NoRenderSettings, private readonly windowMs: number) {}

  /** Tracked entries (tests: the state stays bounded and windowed). */
  get sizes(): { requests: number; unjoinedWins: number; wins: number; earlyNotices: number; subnets: number } {
    return { requests: this.requests.size, unjoinedWins: this.unjoinedWins, wins: this.wins.size, earlyNotices: this.early.size, subnets: this.tallies.size };
  }

  ingest(event: StreamEvent): void {
    if (this.settings.action === "off" || event.event_time === undefined) return;
    const type = event.event_type;
    const requestId = event.request_id;
    if (typeof requestId !== "string") return;
    const at = Date.parse(event.event_time);
    if (Number.isNaN(at)) return;
    if (type === "bid_request") this.request(requestId, at, event);
    else if (type === "auction_result") this.result(requestId, at, event);
    else if (type === "billing_notice" || type === "loss_notice") {
      if (typeof event.imp_id !== "string" || typeof event.bid_id !== "string") return;
      this.notice(winKey(requestId, event.imp_id, event.bid_id), at, type === "billing_notice" ? "billed" : "lost");
    }
  }

  /** The subnets that are no-render clusters at unix ms `nowMs`, after judging wins past the grace and dropping what left the window. */
  analyze(nowMs: number): NoRenderFinding[] {
    if (this.settings.action === "off") return [];
    const since = nowMs - this.windowMs;
    const judged = nowMs - this.settings.graceMs;
    // An event time a window ahead of the clock is garbage: dropped, so it cannot hold the queues up.
    const future = nowMs + this.windowMs;
    const stale = (at: number) => at < since || at > future;
    while (this.head < this.maturing.length && (this.maturing[this.head]!.at <= judged || this.maturing[this.head]!.at > future)) {
      const win = this.maturing[this.head++]!;
      if (win.at > future && !win.gone) {
        this.wins.delete(win.key);
        this.retire(win);
      }
      if (win.gone || win.lost || win.at < since) continue;
      win.counted = true;
      const tally = this.tally(win.subnet);
      tally.wins++;
      if (win.billed) tally.billed++;
    }
    if (this.head > 1024 && this.head * 2 > this.maturing.length) {
      this.maturing = this.maturing.slice(this.head);
      this.head = 0;
    }
    // Each map is in arrival order, about event-time order: expiry stops at the first entry still inside.
    this.wins.expire((w) => stale(w.at));
    this.requests.expire((r) => stale(r.at));
    this.unjoined.expire((u) => stale(u.at));
    this.early.expire((n) => stale(n.at));
    const { minWins, maxBilledShare } = this.settings;
    const found: NoRenderFinding[] = [];
    for (const [subnet, t] of this.tallies) {
      if (t.wins >= minWins && t.billed < maxBilledShare * t.wins) found.push({ subnet, wins: t.wins, billed: t.billed });
    }
    return found;
  }

  private request(requestId: string, at: number, event: StreamEvent): void {
    const subnet = event.fraud?.ip_subnet;
    // Unscreened or blocked (a blocked request's results are no-bids): no win to attribute.
    if (typeof subnet !== "string" || event.fraud?.result === "block" || this.requests.has(requestId)) return;
    const waiting = this.unjoined.get(requestId);
    let imps = typeof event.imp_count === "number" ? event.imp_count : 1;
    if (waiting !== undefined) {
      this.unjoined.delete(requestId);
      this.unjoinedWins -= waiting.wins.length;
      for (const w of waiting.wins) this.addWin(w.key, subnet, w.at);
      imps -= waiting.wins.length;
    }
    if (imps <= 0) return;
    this.requests.set(requestId, { subnet, at, imps });
  }

  private result(requestId: string, at: number, event: StreamEvent): void {
    const request = this.requests.get(requestId);
    if (request !== undefined && --request.imps <= 0) this.requests.delete(requestId);
    if (typeof event.bid_id !== "string" || typeof event.imp_id !== "string") return; // no winner for this imp
    const key = winKey(requestId, event.imp_id, event.bid_id);
    if (request !== undefined) return this.addWin(key, request.subnet, at);
    let waiting = this.unjoined.get(requestId);
    if (waiting === undefined) this.unjoined.set(requestId, (waiting = { at, wins: [] }));
    waiting.wins.push({ key, at });
    this.unjoinedWins++;
    while (this.unjoinedWins > NO_RENDER_LIMITS.maxUnjoinedWins) this.unjoined.dropOldest();
  }

  private notice(key: string, at: number, outcome: Outcome): void {
    const win = this.wins.get(key);
    if (win !== undefined) return this.settle(win, outcome);
    if (this.early.has(key)) return;
    this.early.set(key, { at, outcome });
  }

  private addWin(key: string, subnet: string, at: number): void {
    if (this.wins.has(key)) return; // a repeat (Kafka redelivery)
    const win: Win = { key, subnet, at, billed: false, lost: false, counted: false, gone: false };
    const early = this.early.get(key);
    if (early !== undefined) {
      this.early.delete(key);
      this.settle(win, early.outcome);
    }
    this.maturing.push(win);
    this.wins.set(key, win); // past maxWins the oldest win is retired
    // Both in arrival order: a win retired past the limit is at the maturing queue's head.
    while (this.head < this.maturing.length && this.maturing[this.head]!.gone) this.head++;
  }

  /** A billing or loss notice for a known win; the first one decides (tmax's notice handler refuses the other). */
  private settle(win: Win, outcome: Outcome): void {
    if (win.billed || win.lost) return;
    if (outcome === "billed") {
      win.billed = true;
      if (win.counted) this.tally(win.subnet).billed++;
    } else {
      win.lost = true;
      if (win.counted) {
        win.counted = false;
        this.untally(win.subnet, false);
      }
    }
  }

  /** A win leaves (out of the window, or past maxWins): its judgement leaves its subnet's tally. */
  private retire(win: Win): void {
    win.gone = true;
    if (win.counted) this.untally(win.subnet, win.billed);
  }

  private tally(subnet: string): Tally {
    let t = this.tallies.get(subnet);
    if (t === undefined) this.tallies.set(subnet, (t = { wins: 0, billed: 0 }));
    return t;
  }

  private untally(subnet: string, billed: boolean): void {
    const t = this.tallies.get(subnet);
    if (t === undefined) return;
    t.wins--;
    if (billed) t.billed--;
    if (t.wins <= 0) this.tallies.delete(subnet);
  }
}

const winKey = (requestId: string, impId: string, bidId: string) => `${requestId}\u0000${impId}\u0000${bidId}`;
