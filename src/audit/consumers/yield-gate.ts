// Background audit work yields to auctions. While a request-serving worker is at capacity (its
// overload guard at the concurrency limit or shedding), the archive and ledger consumers of its
// outbox pause instead of reading, parsing, encoding and fsyncing next to the auctions: their work is
// bulk and may wait; the records wait durably in the outbox, nothing is lost or reordered.
//
// Measured in the overload chaos stack (2 cores, 13,000 rps offered for 10 s, 3 runs each): with the
// consumer threads not started, the auctions served within tmax went from 1,620-1,890/s to
// 2,990-3,590/s at the same share within tmax, although those threads run at nice 10 and used only
// ~18% of a core (at nice 19: no better). What they cost beyond their own time is not pinned down:
// the JIT and garbage-collector threads that work for them run at normal priority, their fsyncs
// queue next to the outbox's group commits, and the two cores share their caches.
//
// Two rules keep the moved work from landing back on the auctions in a lump. A consumer that paused
// catches up in measured steps: after each batch it pauses as long as the batch took (it works at
// most half the time), until a read comes back shorter than it asked for (it reached the committed
// end); and a pause ends only once the worker has been calm for RESUME_CALM_MS (the busy flag
// flickers while a spike goes on). A pause is bounded: once maxYieldMs have passed since a consumer
// first paused after it last caught up, it catches up in those measured steps even while the worker
// is busy. So its lag stays bounded however long the overload lasts and however the flag flickers.
// The work is moved out of a spike, not avoided: over a long overload the consumers still do all of
// it. (At full speed, and at the first calm tick, the backlog would pour onto a worker still near
// capacity; with pauses that simply ended at the bound, the chaos run's ramp once fell to 79% of
// answers within tmax, served p99 384 ms, at about the time the bound was reached.)

// One small SharedArrayBuffer per worker: the request thread writes "busy" every guard tick; each
// consumer (in the consumer thread) reads it and adds what it did to the counters the worker's metrics
// sampler reads. Int32 cells, Atomics only.
import { sleep } from "../relay/wait.ts";

/** Cells of the shared buffer. */
const BUSY = 0;
/** Consumers pausing right now. */
const YIELDING = 1;
/** Milliseconds spent pausing, summed over the consumers (whole ms, read unsigned: wraps after ~49 days of pausing, a counter reset to Prometheus). */
const YIELDED_MS = 2;
/** Pauses that hit maxYieldMs (a catch-up forced while the worker was still busy). */
const FORCED_CATCH_UPS = 3;
const CELLS = 4;

/** audit.consumerYieldMaxMs by default: a spike's first half minute without bookkeeping next to it. */
export const DEFAULT_MAX_YIELD_MS = 30_000;
/** The largest audit.consumerYieldMaxMs accepted (the billing ledger is at most this much behind, plus its catch-up). */
export const MAX_YIELD_MS_LIMIT = 600_000;
/** How often a pausing consumer looks at the busy flag again (and at its stop signal). */
export const YIELD_POLL_MS = 10;
/** A pause ends once the worker has been calm this long. */
export const RESUME_CALM_MS = 250;
/** Catching up after a pause: after each batch, a pause this many times as long as the batch took. */
export const CATCH_UP_PAUSE_SHARE = 1;

export function allocateYieldCells(): SharedArrayBuffer {
  return new SharedArrayBuffer(CELLS * Int32Array.BYTES_PER_ELEMENT);
}

/** A consumer thread that died while its consumers paused never counted them out: its replacement starts from 0. */
export function clearYielding(buffer: SharedArrayBuffer): void {
  Atomics.store(new Int32Array(buffer), YIELDING, 0);
}

/** The request thread's side: says whether the worker is at capacity, reads what the consumers did. */
export class YieldSignal {
  private readonly cells: Int32Array;

  constructor(buffer: SharedArrayBuffer) {
    this.cells = new Int32Array(buffer);
  }

  busy(atCapacity: boolean): void {
    Atomics.store(this.cells, BUSY, atCapacity ? 1 : 0);
  }

  stats(): { yielding: number; yieldedMs: number; forcedCatchUps: number } {
    return {
      yielding: Atomics.load(this.cells, YIELDING),
      yieldedMs: Atomics.load(this.cells, YIELDED_MS) >>> 0,
      forcedCatchUps: Atomics.load(this.cells, FORCED_CATCH_UPS),
    };
  }
}

/** One consumer's side: awaited before each read; `maxYieldMs` 0 never pauses. */
export class YieldGate {
  private readonly cells: Int32Array;
  /** When the consumer first paused since it last caught up (performance.now()), or -1: not behind. */
  private behindSince = -1;
  /** When the worker's busy flag was first seen clear after being set, or -1 (busy). */
  private calmSince = -1;
  /** Behind for maxYieldMs: measured steps, busy or not, until a read comes back short. */
  private forced = false;
  /** When pass() last let the consumer go: the time since is what its batch took. */
  private releasedAt = -1;

  constructor(buffer: SharedArrayBuffer, private readonly maxYieldMs: number, private readonly now: () => number = () => performance.now()) {
    this.cells = new Int32Array(buffer);
  }

  /** Resolves when the consumer may read its next batch; false when `signal` aborted while pausing. */
  async pass(signal: AbortSignal): Promise<boolean> {
    const pauseMs = this.pauseMs();
    if (pauseMs === Number.POSITIVE_INFINITY) await this.pause(signal, () => this.pauseMs() === Number.POSITIVE_INFINITY);
    else if (pauseMs > 0) {
      const until = this.now() + pauseMs;
      await this.pause(signal, () => this.now() < until);
    }
    this.releasedAt = this.now();
    return !signal.aborted;
  }

  /** The consumer's read came back shorter than asked: it is at the committed end. */
  caughtUp(): void {
    this.behindSince = -1;
    this.forced = false;
  }

  /** 0: go on; Infinity: pause until calm (or the bound); else a measured step's pause in ms. */
  private pauseMs(): number {
    if (this.maxYieldMs <= 0) return 0;
    const now = this.now();
    const busy = this.observeBusy(now);
    if (this.behindSince < 0) {
      if (!busy) return 0;
      this.behindSince = now;
    }
    if (!this.forced && now - this.behindSince >= this.maxYieldMs) {
      this.forced = true;
      Atomics.add(this.cells, FORCED_CATCH_UPS, 1);
    }
    if (!this.forced && (busy || now - this.calmSince < RESUME_CALM_MS)) return Number.POSITIVE_INFINITY;
    // Behind: catch up in measured steps, pausing after each batch as long as it took.
    return this.releasedAt < 0 ? 0 : Math.max(YIELD_POLL_MS, now - this.releasedAt) * CATCH_UP_PAUSE_SHARE;
  }

  private observeBusy(now: number): boolean {
    const busy = Atomics.load(this.cells, BUSY) === 1;
    if (busy) this.calmSince = -1;
    else if (this.calmSince < 0) this.calmSince = now;
    return busy;
  }

  private async pause(signal: AbortSignal, more: () => boolean): Promise<void> {
    Atomics.add(this.cells, YIELDING, 1);
    let last = this.now();
    try {
      do {
        await sleep(YIELD_POLL_MS, signal);
        const now = this.now();
        Atomics.add(this.cells, YIELDED_MS, Math.round(now - last));
        last = now;
      } while (!signal.aborted && more());
    } finally {
      Atomics.sub(this.cells, YIELDING, 1);
    }
  }
}
