// Every bound of the overload guard, named once (units last).
export const OVERLOAD_LIMITS = {
  /** How often the pressure controller samples its signals and adapts (also the lag probe's period). */
  tickMs: 10,
  /** Internal-processing durations kept for the sliding p99 (a ring; the newest this many). */
  internalWindowSamples: 512,
  /** The sliding p99 only counts samples younger than this. */
  internalWindowMs: 300,
  /** Fewer internal-processing samples than this in the window say nothing (a quiet worker is not pressured). */
  internalMinSamples: 20,
  /** Event-loop lag is the smallest lateness of this many ticks in a row (one stray late tick is not overload). */
  lagSpanTicks: 3,
  /** The adaptive concurrency limit (limit.ts) adapts once per this period. */
  limitPeriodMs: 100,
  /** Fewer finished auctions than this in a period say nothing about internal time. */
  limitMinSamples: 20,
  /** More than this share of a period's auctions over overload.internalTargetMs = its p99 is over: decrease. */
  limitOverShare: 0.01,
  /** Up to this share over target a period is a mild over: it cuts only when the next period is over too (one noisy period is not overload). */
  limitSevereOverShare: 0.05,
  /** A decrease cuts at least this share of the limit ... */
  limitMinDecrease: 0.05,
  /** ... and at most this share (also the cut for sustained event-loop lag). */
  limitMaxDecrease: 0.5,
  /** The limit counts as reached (so it may grow) when the period's peak in flight is at least this share of it. */
  limitBindingShare: 0.9,
  /** A growing limit gains this share of itself per period (at least 1). */
  limitIncreaseShare: 0.02,
  /** The limit grows only while the period's p99 is under this share of overload.internalTargetMs. */
  limitGrowHeadroom: 0.75,
  /**
   * ... and while at most this share of the period's auctions had every DSP they called time out (the
   * DSPs cannot take more). Normal at the limit's 55 ms deadline with three DSPs answering in 20..70 ms:
   * ~2.7%; when the chaos run's DSP simulators fell behind, house ads (no bid in time) were 43-65%.
   */
  limitStarvedShare: 0.1,
  /**
   * While the limit is reached the DSP deadline is set as if at least this pressure (70 -> 55 ms by
   * default): the worker is at its capacity even when the pressure signals read calm (the limit keeps
   * them calm), and a shorter wait gives the admitted auctions room on the noisy path back. Measured
   * in the overload chaos run at 2x and 5x: 0.75 (55 ms) against 0.5 (60 ms) cut late answers (stalls
   * of 25-50 ms, garbage collection and a shared box, land after the window) for ~2% more house ads
   * (DSPs answering in 20..70 ms: none of three in by 55 ms 2.7% of the time, by 60 ms 0.8%).
   */
  limitReachedPressure: 0.75,
  /**
   * ... and for this long after the limit was last reached: a worker near capacity reaches it in most
   * periods, not all, and an auction admitted in a period that did not got the full 70 ms window, with
   * 15 ms less room for the waits of a loaded box (at 4,000 rps in the chaos stack 12-20% of the time).
   */
  limitReachedHoldMs: 1_000,
  /** Slow DSPs are skipped only from this pressure on. */
  slowSkipPressure: 0.4,
  /**
   * From this shed share on, requests are shed before their body is parsed (the share is so high
   * that value barely matters, and parsing is then most of what a shed costs): with probability
   * share, capped at 1 - minAdmitShare; counted (reason "overload"), not audited (no request id yet).
   */
  preParseShedShare: 0.9,
  /** Publishers listed in overload.knownPublishers. */
  maxKnownPublishers: 10_000,
  /** Exchanges with their own rate limit (each one slot in the shared buckets). */
  maxRateLimitedExchanges: 256,
  /** Pressure rises by this share of the gap per tick (fast attack: ~2 ticks to react). */
  attackPerTick: 0.5,
  /** Pressure falls by this share of the gap per tick (slower release: ~100 ms time constant). */
  releasePerTick: 0.1,
  /** Shed controller: proportional gain on (pressure - target). */
  shedProportionalGain: 1,
  /** Shed controller: integral gain per second on (pressure - target) while above target. */
  shedIntegralGainPerSec: 1,
  /** ... and while below it: unwinds fast, so a spike in a noisy signal does not keep shedding for seconds. */
  shedUnwindGainPerSec: 5,
  /** How strongly value protects a request: shed probability = share ^ (1 + bias * value). */
  valueBias: 4,
  /** An unknown publisher's value counts this much. */
  unknownPublisherWeight: 0.5,
  /** Per-DSP stats: weight of the newest reply in the moving averages. */
  dspStatsWeight: 0.05,
  /** A DSP whose average latency is at least this share of the effective deadline is "slow". */
  slowDspShare: 0.9,
  /** Under pressure a skipped (slow or not top-N) DSP still gets one call in this many, to re-learn. */
  dspProbeEvery: 20,
  /** Flash-crash detector: longest trailing baseline, in seconds (one bucket per second per DSP). */
  maxFlashCrashSeconds: 600,
} as const;
