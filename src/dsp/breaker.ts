// A circuit breaker per DSP (per worker): `failureThreshold` consecutive failures (timeouts or
// errors) open it; while open the DSP is skipped; after `openMs` it is half-open and lets traffic
// through again; `halfOpenSuccesses` successes close it, one failure opens it again.
export const BREAKER_CLOSED = 0;
export const BREAKER_OPEN = 1;
export const BREAKER_HALF_OPEN = 2;
export type BreakerState = typeof BREAKER_CLOSED | typeof BREAKER_OPEN | typeof BREAKER_HALF_OPEN;

export interface BreakerSettings { failureThreshold: number; openMs: number; halfOpenSuccesses: number }

export class Breaker {
  private state: BreakerState = BREAKER_CLOSED;
  private failures = 0;
  private successes = 0;
  private openedAt = 0;

  constructor(private readonly settings: BreakerSettings, private readonly onChange?: (state: BreakerState) => void) {}

  /** May the DSP be called now? Moves open -> half-open once `openMs` has passed. */
  allows(nowMs: number): boolean {
    if (this.state !== BREAKER_OPEN) return true;
    if (nowMs - this.openedAt < this.settings.openMs) return false;
    this.moveTo(BREAKER_HALF_OPEN);
    this.successes = 0;
    return true;
  }

  recordSuccess(): void {
    this.failures = 0;
    if (this.state === BREAKER_HALF_OPEN && ++this.successes >= this.settings.halfOpenSuccesses) this.moveTo(BREAKER_CLOSED);
  }

  recordFailure(nowMs: number): void {
    this.failures++;
    if (this.state === BREAKER_HALF_OPEN || (this.state === BREAKER_CLOSED && this.failures >= this.settings.failureThreshold)) {
      this.openedAt = nowMs;
      this.moveTo(BREAKER_OPEN);
    }
  }

  get current(): BreakerState {
    return this.state;
  }

  private moveTo(state: BreakerState): void {
    if (state === this.state) return;
    this.state = state;
    this.onChange?.(state);
  }
}
