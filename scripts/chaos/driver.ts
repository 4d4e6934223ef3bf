// The chaos run's open-loop driver: request i is due at start + i / rps whatever the server does;
// each answer's latency is measured from its intended send time (no coordinated omission) and
// counted by kind: 200 with a DSP's bid = served, 200 with the house ad (seat "house") = house ad,
// 204 = refused fast (shed), anything else (or no answer within timeoutMs) = failed.
// "Within tmax" = answered (any 200 or 204) within tmaxMs; goodput counts only served ones.
import * as hdr from "hdr-histogram-js";
import { makeBodyFactory } from "../../src/sim/load.ts";
import { HttpPool } from "../../src/dsp/http-pool.ts";

export interface PhaseResult {
  rps: number; durationS: number; sent: number;
  served: number; servedWithinTmax: number; houseAds: number; houseAdsWithinTmax: number; shed: number; shedWithinTmax: number; failed: number;
  /** Share of all sent requests answered (200 or 204) within tmax. */
  withinTmaxShare: number;
  /** Served-within-tmax per second. */
  goodputRps: number;
  servedP50Ms: number; servedP99Ms: number; shedP50Ms: number; shedP99Ms: number; allP99Ms: number;
  failures: Record<string, number>;
  /** Requests not answered within tmax (late or failed), by the second they were due to be sent in. */
  missedBySecond: number[];
  /**
   * The generator's own stalls (its loop, GC or CPU, not running for > GENERATOR_STALL_MS): how many,
   * their longest, and the late answers that would have been within tmax but for the stalls they
   * overlapped (the generator could neither send them on time nor read their answers).
   */
  generator: { stalls: number; longestStallMs: number; lateFromStalls: number };
}

/** A gap this long between the generator's 1 ms ticks is a stall of its own. */
export const GENERATOR_STALL_MS = 5;

export interface DriveOptions { url: string; rps: number; durationS: number; tmaxMs: number; timeoutMs?: number; seed?: number; connections?: number }

/** The chaos stack's house ad seat (scripts/chaos/stack.ts). */
const HOUSE_SEAT = '"seat":"house"';
const histogram = () => hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });
const pctMs = (h: hdr.Histogram, p: number) => (h.totalCount === 0 ? 0 : Math.round(Math.min(h.getValueAtPercentile(p), h.maxValue) / 10) / 100);

export async function drive(o: DriveOptions): Promise<PhaseResult> {
  const timeoutMs = o.timeoutMs ?? 1_000;
  const total = Math.round(o.rps * o.durationS);
  const body = makeBodyFactory(o.seed ?? 7);
  const pool = new HttpPool({ url: new URL("/openrtb2/auction", o.url).toString(), maxSockets: o.connections ?? 512, maxQueued: 100_000, connectTimeoutMs: 1_000 });
  const servedH = histogram(), shedH = histogram(), allH = histogram();
  const r = { sent: 0, served: 0, servedWithinTmax: 0, houseAds: 0, houseAdsWithinTmax: 0, shed: 0, shedWithinTmax: 0, failed: 0 };
  const failures: Record<string, number> = {};
  const missedBySecond = new Array<number>(Math.ceil(o.durationS)).fill(0);
  const tmaxUs = o.tmaxMs * 1000;
  let inFlight = 0, next = 0;
  // The generator's stalls, newest last: [from, to] in performance.now() ms.
  const stalls: [number, number][] = [];
  let lastTick = performance.now(), longestStallMs = 0, lateFromStalls = 0;
  const stalledBetween = (fromMs: number, toMs: number) => {
    let total = 0;
    for (let k = stalls.length - 1; k >= 0 && stalls[k]![1] > fromMs; k--) total += Math.min(toMs, stalls[k]![1]) - Math.max(fromMs, stalls[k]![0]);
    return total;
  };
  const periodMs = 1000 / o.rps;
  const start = performance.now();
  const fire = (i: number, now: number) => {
    const intended = start + i * periodMs;
    inFlight++;
    r.sent++;
    pool.post(body(i), "x-openrtb-version: 2.6\r\n", now + timeoutMs, (outcome, status, text, detail) => {
      inFlight--;
      const answeredAt = performance.now();
      const us = Math.max(1, Math.round((answeredAt - intended) * 1000));
      if (us > tmaxUs && us - stalledBetween(intended, answeredAt) * 1000 <= tmaxUs) lateFromStalls++;
      allH.recordValue(us);
      if (us > tmaxUs || outcome !== "ok" || (status !== 200 && status !== 204)) missedBySecond[Math.min(missedBySecond.length - 1, Math.floor(i / o.rps))]!++;
      if (outcome === "ok" && status === 200 && text.includes(HOUSE_SEAT)) {
        r.houseAds++;
        if (us <= tmaxUs) r.houseAdsWithinTmax++;
      } else if (outcome === "ok" && status === 200) {
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
      if (now - lastTick > GENERATOR_STALL_MS) {
        stalls.push([lastTick, now]);
        longestStallMs = Math.max(longestStallMs, now - lastTick);
      }
      lastTick = now;
      const due = Math.min(total, Math.floor((now - start) / periodMs) + 1);
      while (next < due) fire(next++, now);
      if (next >= total && endAt === 0) endAt = now;
      if (endAt !== 0 && (inFlight === 0 || now - endAt > timeoutMs + 2_000)) { clearInterval(timer); resolve(); }
    }, 1);
  });
  pool.close();
  const answeredWithin = r.servedWithinTmax + r.houseAdsWithinTmax + r.shedWithinTmax;
  return {
    rps: o.rps, durationS: o.durationS, ...r,
    withinTmaxShare: r.sent === 0 ? 0 : answeredWithin / r.sent,
    goodputRps: r.servedWithinTmax / o.durationS,
    servedP50Ms: pctMs(servedH, 50), servedP99Ms: pctMs(servedH, 99), shedP50Ms: pctMs(shedH, 50), shedP99Ms: pctMs(shedH, 99), allP99Ms: pctMs(allH, 99),
    failures, missedBySecond,
    generator: { stalls: stalls.length, longestStallMs: Math.round(longestStallMs), lateFromStalls },
  };
}
