// The pressure controller of one worker. Every tick (OVERLOAD_LIMITS.tickMs):
//
//   raw      = max over signals of normalized(signal, [low, high])        0 = comfortable, 1 = saturated
//   pressure = pressure + (raw - pressure) * (raw > pressure ? attack : release)
//              fast attack (half the gap per 10 ms tick: reacts in ~20 ms), slower release (~100 ms),
//              so one quiet tick in a spike does not reopen the gates
//   error    = pressure - targetPressure
//   integral = clamp(integral + Ki * error * dt, 0, 1)                    anti-windup: never below 0 or above 1;
//              Ki = 1/s while above target, 5/s below (a spike's windup unwinds in well under a second)
//   share    = clamp(Kp * error + integral, 0, 1)                         the shed share: a PI controller
//
// The share rises while pressure is above its target and decays once it is below, so at a steady
// overload the worker settles where it sheds just enough to keep its signals near the target, and
// with no load the share returns to 0. The DSP deadline follows the pressure directly (deadline.ts).
import { OVERLOAD_LIMITS as L } from "./limits.ts";
import { normalized } from "./signals.ts";
import type { OverloadSettings } from "./config.ts";
import { clamp01 } from "../util/clamp.ts";

export interface SignalValues { inFlight: number; eventLoopLagMs: number; internalP99Ms: number; outboxPendingBytes: number }

export class PressureController {
  pressure = 0;
  shedShare = 0;
  private integral = 0;

  constructor(private readonly settings: OverloadSettings) {}

  /** Feeds one sample of the signals, `dtMs` after the previous one; returns the new pressure. */
  update(v: SignalValues, dtMs: number): number {
    const s = this.settings.signals;
    const raw = Math.max(
      normalized(v.inFlight, s.inFlight),
      normalized(v.eventLoopLagMs, s.eventLoopLagMs),
      normalized(v.internalP99Ms, s.internalP99Ms),
      normalized(v.outboxPendingBytes, s.outboxPendingBytes),
    );
    this.pressure += (raw - this.pressure) * (raw > this.pressure ? L.attackPerTick : L.releasePerTick);
    if (this.pressure < 1e-4) this.pressure = 0;
    const error = this.pressure - this.settings.targetPressure;
    const gain = error > 0 ? L.shedIntegralGainPerSec : L.shedUnwindGainPerSec;
    this.integral = clamp01(this.integral + gain * error * (dtMs / 1000));
    this.shedShare = clamp01(L.shedProportionalGain * error + this.integral);
    return this.pressure;
  }
}
