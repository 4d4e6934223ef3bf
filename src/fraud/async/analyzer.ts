// Tier 3: patterns the request path cannot see, found in the stream of bid_request events (their
// fraud block: ip_subnet, device_key, result) over a sliding window:
//   - a burst from one subnet (more than `subnetBurst` requests in the window)   -> block the subnet
//   - machine-regular timing of one device (>= REGULAR_MIN_EVENTS requests whose
//     gaps vary by less than `regularGapCv` (coefficient of variation))           -> block the device
//   - many devices on one subnet (more than `devicesPerSubnet` in the window)     -> mark it suspect (flag)
// and, from auction_result wins joined to their billing/loss notices (no-render.ts):
//   - a subnet whose wins are almost never billed (rendered)                      -> flag or block it (noRender.action)
// Decisions are pure (analyze returns actions); run.ts applies them to the shared tables.
import { NoRenderDetector, type NoRenderSettings, type StreamEvent } from "./no-render.ts";

export interface AnalyzerSettings {
  windowMs: number;
  subnetBurst: number;
  devicesPerSubnet: number;
  regularGapCv: number;
  noRender: NoRenderSettings;
}

export type Tier3Action =
  | { kind: "block_subnet"; subnet: string; why: string }
  | { kind: "block_device"; deviceKey: string; why: string }
  | { kind: "suspect_subnet"; subnet: string; why: string }
  /** No-render cluster, noRender.action "block". */
  | { kind: "no_render_block"; subnet: string; why: string }
  /** No-render cluster, noRender.action "flag": marked suspect like suspect_subnet. */
  | { kind: "no_render_suspect"; subnet: string; why: string };

/** Requests of one device needed before its timing is judged. */
export const REGULAR_MIN_EVENTS = 6;
/** Keys tracked at most (oldest dropped first): bounds the analyzer's memory. */
export const MAX_TRACKED_KEYS = 200_000;

interface SubnetState { times: number[]; devices: Map<string, number> }

export class Tier3Analyzer {
  private readonly subnets = new Map<string, SubnetState>();
  private readonly devices = new Map<string, number[]>();
  /** What was already acted on (so an action is taken once per window, not on every poll). */
  private readonly acted = new Map<string, number>();
  readonly noRender: NoRenderDetector;

  constructor(private readonly settings: AnalyzerSettings) {
    this.noRender = new NoRenderDetector(settings.noRender, settings.windowMs);
  }

  /** One audit event (already parsed): screened bid_requests, wins (auction_result) and billing / loss notices are read, the rest ignored. */
  ingest(event: StreamEvent & { fraud?: { ip_subnet: string | null; device_key: string | null } }): void {
    this.noRender.ingest(event);
    if (event.event_type !== "bid_request" || event.fraud === undefined || event.event_time === undefined) return;
    const at = Date.parse(event.event_time);
    const { ip_subnet: subnet, device_key: device } = event.fraud;
    if (subnet !== null) {
      let s = this.subnets.get(subnet);
      if (s === undefined) this.subnets.set(subnet, (s = { times: [], devices: new Map() }));
      s.times.push(at);
      if (device !== null) s.devices.set(device, at);
    }
    if (device !== null) {
      let times = this.devices.get(device);
      if (times === undefined) this.devices.set(device, (times = []));
      times.push(at);
      if (times.length > REGULAR_MIN_EVENTS * 2) times.splice(0, times.length - REGULAR_MIN_EVENTS * 2);
    }
    this.bound();
  }

  /** The actions due at unix ms `nowMs` (each once per window), after dropping what left the window. */
  analyze(nowMs: number): Tier3Action[] {
    const { windowMs, subnetBurst, devicesPerSubnet, regularGapCv } = this.settings;
    const since = nowMs - windowMs;
    const actions: Tier3Action[] = [];
    for (const [subnet, s] of this.subnets) {
      while (s.times.length > 0 && s.times[0]! < since) s.times.shift();
      for (const [device, last] of s.devices) if (last < since) s.devices.delete(device);
      if (s.times.length === 0) { this.subnets.delete(subnet); continue; }
      if (s.times.length > subnetBurst && this.once(`b:${subnet}`, nowMs)) actions.push({ kind: "block_subnet", subnet, why: `${s.times.length} requests in ${windowMs} ms` });
      else if (s.devices.size > devicesPerSubnet && this.once(`s:${subnet}`, nowMs)) actions.push({ kind: "suspect_subnet", subnet, why: `${s.devices.size} devices in ${windowMs} ms` });
    }
    for (const [device, times] of this.devices) {
      if (times.at(-1)! < nowMs - windowMs * 6) { this.devices.delete(device); continue; }
      if (times.length < REGULAR_MIN_EVENTS) continue;
      const cv = gapVariation(times);
      if (cv < regularGapCv && this.once(`d:${device}`, nowMs)) actions.push({ kind: "block_device", deviceKey: device, why: `${times.length} requests, gap variation ${cv.toFixed(3)}` });
    }
    const noRenderKind = this.settings.noRender.action === "block" ? "no_render_block" : "no_render_suspect";
    for (const f of this.noRender.analyze(nowMs)) {
      if (this.once(`n:${f.subnet}`, nowMs)) actions.push({ kind: noRenderKind, subnet: f.subnet, why: `${f.wins} wins, ${f.billed} billed, in ${windowMs} ms` });
    }
    for (const [key, at] of this.acted) if (at < since) this.acted.delete(key);
    return actions;
  }

  private once(key: string, nowMs: number): boolean {
    if (this.acted.has(key)) return false;
    this.acted.set(key, nowMs);
    return true;
  }

  private bound(): void {
    for (const map of [this.subnets, this.devices] as Map<string, unknown>[]) {
      if (map.size <= MAX_TRACKED_KEYS) continue;
      const oldest = map.keys().next().value;
      if (oldest !== undefined) map.delete(oldest);
    }
  }
}

/** Standard deviation / mean of the gaps between consecutive times. */
export function gapVariation(times: readonly number[]): number {
  const gaps: number[] = [];
  for (let i = 1; i < times.length; i++) gaps.push(times[i]! - times[i - 1]!);
  const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
  if (mean <= 0) return 0;
  const variance = gaps.reduce((a, g) => a + (g - mean) ** 2, 0) / gaps.length;
  return Math.sqrt(variance) / mean;
}
