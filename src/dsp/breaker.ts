// A circuit breaker per DSP (per worker), on the failure RATE over a sliding time window (as
// resilience4j / Hystrix do), not on consecutive failures: at 1000+ calls/s a healthy DSP that
// times out now and then, or one stall of this machine making a few in-flight calls late together,
// gives 5 failures in a row often, and a consecutive-failure breaker flapped open on it.
// - Closed: every call and its result count in the window; it opens once the window holds at
//   least `failureThreshold` failures AND at least `failureRate` of its calls failed.
// - Open: the DSP is skipped for `openMs`, then the breaker is half-open.
// - Half-open: at most `halfOpenSuccesses` trial calls go (the rest is still skipped, so a burst of
//   traffic does not hit a DSP that may still be down); that many successful trials close it with a
//   fresh window, any failed trial opens it again.
// "Neutral" results (our own queue bound or stall, see src/pipeline/collect.ts) count for nothing.
export const BREAKER_CLOSED = 0;
export const BREAKER_OPEN = 1;
export const BREAKER_HALF_OPEN = 2;
export type BreakerState = typeof BREAKER_CLOSED | typeof BREAKER_OPEN | typeof BREAKER_HALF_OPEN;

/** The window is a ring of this many time buckets of `windowMs / WINDOW_BUCKETS` each. */
export const WINDOW_BUCKETS = 10;

export interface BreakerSettings {
  /** Fewest failures in the window that may open the breaker (so a quiet DSP's 1 of 2 does not). */
  failureThreshold: number;
  /** Share of the window's calls that failed at or above which it opens, in (0, 1]. */
  failureRate: number;
  windowMs: number;
  openMs: number;
  halfOpenSuccesses: number;
}

export class Breaker {
  private state: BreakerState = BREAKER_CLOSED;
  // The window: calls and failures per bucket, their sums, and the newest bucket's number
  // (time / bucketMs). Buckets the clock has moved past are cleared before they are reused.
  private readonly bucketMs: number;
  private readonly bucketCalls = new Float64Array(WINDOW_BUCKETS);
  private readonly bucketFailures = new Float64Array(WINDOW_BUCKETS);
  private windowCalls = 0;
  private windowFailures = 0;
  private newestBucket = 0;
  private openedAtMs = 0;
  // Half-open: trials sent and not yet answered, trials that succeeded, when the last one was sent.
  private trialsInFlight = 0;
  private trialSuccesses = 0;
  private lastTrialAtMs = 0;

  constructor(private readonly settings: BreakerSettings, private readonly onChange?: (state: BreakerState) => void) {
    this.bucketMs = settings.windowMs / WINDOW_BUCKETS;
  }

  /** May the DSP be called now? Moves open -> half-open once `openMs` has passed; in half-open, true means a trial call. */
  allows(nowMs: number): boolean {
    if (this.state === BREAKER_CLOSED) return true;
    if (this.state === BREAKER_OPEN) {
      if (nowMs - this.openedAtMs < this.settings.openMs) return false;
      this.trialsInFlight = 0;
      this.trialSuccesses = 0;
      this.moveTo(BREAKER_HALF_OPEN);
    }
    // A trial whose result never came back (a lost callback) must not keep the DSP skipped for
    // good: once the newest trial is older than openMs, all in flight are forgotten.
    if (this.trialsInFlight > 0 && nowMs - this.lastTrialAtMs > this.settings.openMs) this.trialsInFlight = 0;
    if (this.trialSuccesses + this.trialsInFlight >= this.settings.halfOpenSuccesses) return false;
    this.trialsInFlight++;
    this.lastTrialAtMs = nowMs;
    return true;
  }

  recordSuccess(nowMs: number): void {
    if (this.state === BREAKER_CLOSED) this.count(nowMs, 0);
    else if (this.state === BREAKER_HALF_OPEN && this.endTrial() && ++this.trialSuccesses >= this.settings.halfOpenSuccesses) {
      this.clearWindow();
      this.moveTo(BREAKER_CLOSED);
    }
    // Open: a late answer to a call made before it opened says nothing new.
  }

  recordFailure(nowMs: number): void {
    if (this.state === BREAKER_CLOSED) {
      this.count(nowMs, 1);
      const { failureThreshold, failureRate } = this.settings;
      if (this.windowFailures >= failureThreshold && this.windowFailures / this.windowCalls >= failureRate) this.open(nowMs);
    } else if (this.state === BREAKER_HALF_OPEN && this.endTrial()) this.open(nowMs);
  }

  /** A result that says nothing about the DSP: in half-open it frees its trial's slot for another. */
  recordNeutral(): void {
    if (this.state === BREAKER_HALF_OPEN) this.endTrial();
  }

  get current(): BreakerState {
    return this.state;
  }

  /**
   * Ends one trial in flight; false when none is (its result comes from a trial already forgotten,
   * or from a call made before the breaker opened that outlasted openMs: not a trial, ignored).
   */
  private endTrial(): boolean {
    if (this.trialsInFlight === 0) return false;
    this.trialsInFlight--;
    return true;
  }

  private count(nowMs: number, failures: number): void {
    this.advance(nowMs);
    const i = this.newestBucket % WINDOW_BUCKETS;
    this.bucketCalls[i]!++;
    this.bucketFailures[i]! += failures;
    this.windowCalls++;
    this.windowFailures += failures;
  }

  /** Moves the window to `nowMs`: the buckets between the newest and now are stale, emptied for reuse. */
  private advance(nowMs: number): void {
    const bucket = Math.floor(nowMs / this.bucketMs);
    if (bucket <= this.newestBucket) return; // same bucket (or a clock step back: keep counting in the newest)
    const stale = Math.min(bucket - this.newestBucket, WINDOW_BUCKETS);
    for (let k = 1; k <= stale; k++) {
      const i = (this.newestBucket + k) % WINDOW_BUCKETS;
      this.windowCalls -= this.bucketCalls[i]!;
      this.windowFailures -= this.bucketFailures[i]!;
      this.bucketCalls[i] = 0;
      this.bucketFailures[i] = 0;
    }
    this.newestBucket = bucket;
  }

  private clearWindow(): void {
    this.bucketCalls.fill(0);
    this.bucketFailures.fill(0);
    this.windowCalls = 0;
    this.windowFailures = 0;
  }

  private open(nowMs: number): void {
    this.openedAtMs = nowMs;
    this.moveTo(BREAKER_OPEN);
  }

  private moveTo(state: BreakerState): void {
    if (state === this.state) return;
    this.state = state;
    this.onChange?.(state);
  }
}
