// Which requests to shed when a worker is pressured: a request's value in 0..1 comes from its
// highest imp floor (relative to overload.highValueFloorCpm) and whether its publisher is known;
// its shed probability is share ^ (1 + valueBias * value), capped at 1 - minAdmitShare.
// So at a share of 0.5 a floor-less unknown request is shed half the time and a high-value one ~3%;
// only at a share near 1 does everything go, and even then minAdmitShare of each kind is served
// (chance, not publisher identity, decides: no publisher is starved).
import { OVERLOAD_LIMITS as L } from "./limits.ts";
import type { BidRequest } from "../openrtb/request.ts";
import type { OverloadSettings } from "./config.ts";

export class ValueShedder {
  private readonly known: Set<string>;

  constructor(private readonly settings: OverloadSettings, private readonly random: () => number = Math.random) {
    this.known = new Set(settings.knownPublishers);
  }

  /** 0 (floor-less, unknown publisher) .. 1 (a floor at highValueFloorCpm or more, known publisher). */
  value(req: BidRequest): number {
    let floor = 0;
    for (let i = 0; i < req.imp.length; i++) {
      const f = req.imp[i]!.bidfloor ?? 0;
      if (f > floor) floor = f;
    }
    const floorValue = Math.min(1, floor / this.settings.highValueFloorCpm);
    return floorValue * (this.isKnown(req) ? 1 : L.unknownPublisherWeight);
  }

  /** The chance this request is shed at `share`. */
  shedProbability(share: number, value: number): number {
    if (share <= 0) return 0;
    return Math.min(1 - this.settings.minAdmitShare, Math.pow(share, 1 + L.valueBias * value));
  }

  /** At a shed share of preParseShedShare or more: shed at random before parsing (value unknown). */
  shedBeforeParse(share: number): boolean {
    return share >= L.preParseShedShare && this.random() < Math.min(share, 1 - this.settings.minAdmitShare);
  }

  shouldShed(req: BidRequest, share: number): boolean {
    return share > 0 && this.random() < this.shedProbability(share, this.value(req));
  }

  private isKnown(req: BidRequest): boolean {
    const id = req.site?.publisher?.id ?? req.app?.publisher?.id ?? req.dooh?.publisher?.id;
    if (id === undefined) return false;
    return this.known.size === 0 || this.known.has(id);
  }
}
