// The fraud screen of one worker: tier 1 rules, then the tier 2 model, for one request. Tier 3 acts
// through the shared tables (dynamic blocks, suspect marks). One Screener per worker, built at
// start; screen() reuses its verdict, signals and row buffer (no allocation on the IPv4 path).
//
// Order: the cheap static rules first (async blocklist, IP blocklist, data-center ranges, crawler
// UA, supply chain), then the shared history (rates, geography), then the model.
import type { BidRequest } from "../openrtb/request.ts";
import type { GbdtScorer } from "./gbdt/scorer.ts";
import type { FraudSettings } from "./settings.ts";
import type { FraudLists } from "./lists.ts";
import { BLOCK, FLAG, ALLOW, newVerdict, setVerdict, type Verdict } from "./verdict.ts";
import { FEATURE_COUNT, newHistorySignals, writeFeatures, type HistorySignals } from "./features.ts";
import { isCrawler } from "./rules/user-agent.ts";
import { checkSchain } from "./rules/schain.ts";
import { isBlocked, isDeviceBlocked, isSubnetSuspect } from "./shared/blocks.ts";
import { fnv1a, SEED_A, SEED_B } from "./shared/hash.ts";
import { countDevice, countRate, countTiming, countTotal, packCountry } from "./shared/history.ts";
import { H, type FraudState } from "./shared/state.ts";

const ZERO_IFA = "00000000-0000-0000-0000-000000000000";

export class Screener {
  private readonly verdict = newVerdict();
  private readonly signals: HistorySignals = newHistorySignals();
  private readonly score = new Float32Array(1);
  /** The current request's device key (first hash word). */
  private deviceA = 0;

  constructor(
    private readonly settings: FraudSettings,
    public lists: FraudLists,
    private readonly state: FraudState,
    /** null: no model (tier 2 off). */
    public scorer: GbdtScorer | null,
  ) {}

  /** The verdict for `req` at unix ms `nowMs` (the same object every call: read it before the next). */
  screen(req: BidRequest, nowMs: number): Verdict {
    const v = this.verdict;
    v.score = Number.NaN;
    const device = req.device;
    const ip = device?.ip ?? device?.ipv6 ?? "";
    const ua = device?.ua ?? "";
    const s = this.signals;
    if (ip !== "") {
      if (isBlocked(this.state, ip, nowMs)) return setVerdict(v, BLOCK, "async_blocklist");
      if (this.lists.blocklist.has(ip)) return setVerdict(v, BLOCK, "ip_blocklist");
      s.datacenter = this.lists.datacenter.has(ip);
      if (s.datacenter) return setVerdict(v, BLOCK, "datacenter_ip");
    } else {
      s.datacenter = false;
    }
    s.uaIsBot = ua !== "" && isCrawler(ua);
    if (s.uaIsBot && this.settings.crawlerUserAgents) return setVerdict(v, BLOCK, "crawler_ua");
    const schain = checkSchain(req.source, this.settings.schain);
    if (schain !== null) return setVerdict(v, BLOCK, schain);
    const history = this.observe(req, ip, ua, nowMs);
    if (history !== null) return setVerdict(v, BLOCK, history);
    if (isDeviceBlocked(this.state, this.deviceA, nowMs)) return setVerdict(v, BLOCK, "async_blocklist");
    this.model(req, v);
    if (v.action === ALLOW && this.signals.suspect) setVerdict(v, FLAG, "async_suspect");
    return v;
  }

  /** Updates the shared history for the IP and the device; a rate or geography rule that fires. */
  private observe(req: BidRequest, ip: string, ua: string, nowMs: number): "ip_rate" | "device_rate" | "impossible_geo" | null {
    const { state, signals: s } = this;
    const { windowMs, maxPerIp, maxPerDevice } = this.settings.rateLimits;
    const clockMs = state.clockMs(nowMs);
    const clockSec = state.clockSec(nowMs);
    const deviceA = deviceKey(req, ip, ua, SEED_A);
    this.deviceA = deviceA;
    const deviceB = deviceKey(req, ip, ua, SEED_B);
    s.suspect = ip !== "" && isSubnetSuspect(state, ip, nowMs);
    if (ip !== "") {
      const at = state.ips.upsert(fnv1a(ip, SEED_A), fnv1a(ip, SEED_B), clockSec);
      const total = countTotal(state.ips, at, clockSec);
      s.ipRate = countRate(state.ips, at, clockMs, windowMs);
      s.ipJitter = countTiming(state.ips, at, clockMs, total);
      s.ipAgeSec = clockSec - state.ips.words[at + H.FIRST_SEC]!;
      s.ipDevices = countDevice(state.ips, at, deviceA);
    } else {
      s.ipRate = 0; s.ipJitter = Number.NaN; s.ipAgeSec = 0; s.ipDevices = 0;
    }
    const dev = state.devices;
    const at = dev.upsert(deviceA, deviceB, clockSec);
    const lastMs = dev.words[at + H.LAST_MS]!;
    const total = countTotal(dev, at, clockSec);
    s.deviceRate = countRate(dev, at, clockMs, windowMs);
    s.deviceJitter = countTiming(dev, at, clockMs, total);
    s.deviceTotal = total;
    s.deviceAgeSec = clockSec - dev.words[at + H.FIRST_SEC]!;
    const country = packCountry(req.device?.geo?.country);
    const before = country === 0 ? 0 : Atomics.exchange(dev.words, at + H.COUNTRY_OR_DEVICES, country);
    s.geoChanged = before !== 0 && before !== country && total > 1;
    if (s.ipRate > maxPerIp) return "ip_rate";
    if (s.deviceRate > maxPerDevice) return "device_rate";
    const geoMs = this.settings.geoIntervalSec * 1000;
    if (s.geoChanged && geoMs > 0 && ((clockMs - lastMs) | 0) < geoMs) return "impossible_geo";
    return null;
  }

  private model(req: BidRequest, v: Verdict): Verdict {
    const scorer = this.scorer;
    if (scorer === null) return setVerdict(v, ALLOW, null);
    const seq = this.state.modelSeq();
    if ((seq & 1) === 1) return setVerdict(v, ALLOW, null); // an admin reload is rewriting the model: unscored, as without a model
    writeFeatures(scorer.rows, 0, req, this.signals);
    try {
      scorer.scoreBatch(scorer.rows, 1, FEATURE_COUNT, this.score);
    } catch (err) {
      if (this.state.modelSeq() === seq) throw err;
      return setVerdict(v, ALLOW, null); // the model changed under the kernel (it may trap): unscored
    }
    if (this.state.modelSeq() !== seq) return setVerdict(v, ALLOW, null);
    const score = this.score[0]!;
    if (score > this.settings.blockThreshold) setVerdict(v, BLOCK, "model_score");
    else if (score >= this.settings.flagThreshold) setVerdict(v, FLAG, "model_score");
    else setVerdict(v, ALLOW, null);
    v.score = score;
    return v;
  }

  /** The history signals of the last screen() (for tests and the training export). */
  get lastSignals(): Readonly<HistorySignals> {
    return this.signals;
  }
}

/** The device: device.ifa (not all zeros), else user.id, else IP + user agent. */
function deviceKey(req: BidRequest, ip: string, ua: string, seed: number): number {
  const ifa = req.device?.ifa;
  if (ifa !== undefined && ifa !== "" && ifa !== ZERO_IFA) return fnv1a(ifa, seed);
  const user = req.user?.id;
  if (user !== undefined && user !== "") return fnv1a(user, seed ^ 0x55);
  return fnv1a(ua, fnv1a(ip, seed ^ 0xaa));
}

/** The device key as tier 3 sees it in the audit (hex of its first hash word). */
export function deviceKeyHex(req: BidRequest): string {
  const device = req.device;
  return (deviceKey(req, device?.ip ?? device?.ipv6 ?? "", device?.ua ?? "", SEED_A) >>> 0).toString(16).padStart(8, "0");
}
