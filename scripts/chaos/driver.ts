// The chaos run's open-loop driver: request i is due at start + i / rps whatever the server does;
// each answer's latency is measured from its intended send time (no coordinated omission) and
// counted by status: 200 = served (a DSP bid or the house ad), 204 = refused fast (shed), anything
// else (or no answer within timeoutMs) = failed. "Within tmax" = answered (200 or 204) within tmaxMs.
import * as hdr from "hdr-histogram-js";
import { makeBodyFactory } from "../../src/sim/load.ts";
import { makePoolSender } from "../../src/sim/load-sender.ts";

export interface PhaseResult {
  rps: number; durationS: number; sent: number;
  served: number; servedWithinTmax: number; shed: number; shedWithinTmax: number; failed: number;
  /** Share of all sent requests answered (200 or 204) within tmax. */
  withinTmaxShare: number;
  /** Served-within-tmax per second. */
  goodputRps: number;
  servedP50Ms: number; servedP99Ms: number; shedP99Ms: number; allP99Ms: number;
  failures: Record<string, number>;
}

export interface DriveOptions { url: string; rps: number; durationS: number; tmaxMs: number; timeoutMs?: number; seed?: number; connections?: number }

const histogram = () => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
const pctMs = (h: hdr.Histogram, p: number) => (h.totalCount === 0 ? 0 : Math.round(Math.min(h.getValueAtPercentile(p), h.maxValue) / 10) / 100);

export async function drive(o: DriveOptions): Promise<PhaseResult> {
  const timeoutMs = o.timeoutMs ?? 1_000;
  const total = Math.round(o.rps * o.durationS);
  const body = makeBodyFactory(o.seed ?? 7);
  const sender = makePoolSender(new URL("/openrtb2/auction", o.url).toString(), o.connections ?? 512, 100_000);
  const servedH = histogram(), shedH = histogram(), allH = histogram();
  const r = { sent: 0, served: 0, servedWithinTmax: 0, shed: 0, shedWithinTmax: 0, failed: 0 };
  const failures: Record<string, number> = {};
  const tmaxUs = o.tmaxMs * 1000;
  let inFlight = 0, next = 0;
  const periodMs = 1000 / o.rps;
  const start = performance.now();
  const fire = (i: number, now: number) => {
    const intended = start + i * periodMs;
    inFlight++;
    r.sent++;
    sender.post(body(i), now + timeoutMs, (outcome, status, detail) => {
      inFlight--;
      const us = Math.max(1, Math.round((performance.now() - intended) * 1000));
      allH.recordValue(us);
      if (outcome === "ok" && status === 200) {
        r.served++;
        servedH.recordValue(us);
        if (us <= tmaxUs) r.servedWithinTmax++;
      } else if (outcome === "ok" && status === 204) {
        r.shed++;
        shedH.recordValue(us);
        if (us <= tmaxUs) r.shedWithinTmax++;
      } else {
        r.failed++;
        const kind = outcome === "ok" ? `status_${status}` : outcome === "error" ? detail || "error" : outcome;
        failures[kind] = (failures[kind] ?? 0) + 1;
      }
    });
  };
  await new Promise<void>((resolve) => {
    let endAt = 0;
    const timer = setInterval(() => {
      const now = performance.now();
      const due = Math.min(total, Math.floor((now - start) / periodMs) + 1);
      while (next < due) fire(next++, now);
      if (next >= total && endAt === 0) endAt = now;
      if (endAt !== 0 && (inFlight === 0 || now - endAt > timeoutMs + 2_000)) { clearInterval(timer); resolve(); }
    }, 1);
  });
  sender.close();
  const answeredWithin = r.servedWithinTmax + r.shedWithinTmax;
  return {
    rps: o.rps, durationS: o.durationS, ...r,
    withinTmaxShare: r.sent === 0 ? 0 : answeredWithin / r.sent,
    goodputRps: r.servedWithinTmax / o.durationS,
    servedP50Ms: pctMs(servedH, 50), servedP99Ms: pctMs(servedH, 99), shedP99Ms: pctMs(shedH, 99), allP99Ms: pctMs(allH, 99),
    failures,
  };
}
