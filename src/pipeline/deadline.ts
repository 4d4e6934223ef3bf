// The one home of deadline arithmetic. An exchange gives us `tmax` ms for the whole round trip;
// we keep `networkBufferMs` for the wire and `responseReserveMs` to run the auction and answer,
// and never wait on DSPs longer than the configured `dspTimeoutMs`.
export interface DeadlineSettings {
  dspTimeoutMs: number;
  networkBufferMs: number;
  responseReserveMs: number;
  minDspTimeoutMs: number;
  defaultTmaxMs: number;
}

/**
 * Milliseconds after receipt by which every DSP answer must be in (may be <= 0: no time at all).
 * `dspTimeoutMs`: the overload guard's effective DSP timeout (pressuredDspTimeoutMs), when lower.
 */
export function fanoutWindowMs(requestTmaxMs: number | undefined, s: DeadlineSettings, dspTimeoutMs = s.dspTimeoutMs): number {
  const tmaxMs = requestTmaxMs === undefined || requestTmaxMs === 0 ? s.defaultTmaxMs : requestTmaxMs;
  return Math.min(s.dspTimeoutMs, dspTimeoutMs, tmaxMs - s.networkBufferMs - s.responseReserveMs);
}

/**
 * The tmax to tell one DSP, in whole ms, given the shared deadline (performance.now() ms), the DSP's
 * own timeout and the time now; 0 when the DSP cannot make it (it is then skipped).
 */
export function dspTmaxMs(deadlineAt: number, dspTimeoutMs: number, nowMs: number, s: DeadlineSettings): number {
  const ms = Math.floor(Math.min(deadlineAt - nowMs, dspTimeoutMs));
  return ms >= s.minDspTimeoutMs ? ms : 0;
}

/**
 * The DSP timeout at overload `pressure` (0..1): `dspTimeoutMs` with none, falling linearly to
 * `pressuredMs` at full pressure (whole ms), so a saturated worker stops waiting on its slowest DSPs.
 */
export function pressuredDspTimeoutMs(dspTimeoutMs: number, pressuredMs: number, pressure: number): number {
  const p = pressure <= 0 ? 0 : pressure >= 1 ? 1 : pressure;
  return Math.round(dspTimeoutMs - (dspTimeoutMs - Math.min(pressuredMs, dspTimeoutMs)) * p);
}
