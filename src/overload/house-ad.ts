// House ads: when no DSP bid (or none could be called), answer the configured house ad for every
// imp whose floor it meets, instead of a no-bid. It reserves no budget (it is the publisher's own
// ad); the audit keeps the auction's no-bid reason, the metric tmax_house_ads_total counts them.
import { microsToUnits } from "../config/money.ts";
import { OPENRTB_VERSION_HEADER } from "../pipeline/respond.ts";
import type { BidRequest } from "../openrtb/request.ts";
import type { NoBidReason } from "../openrtb/nbr.ts";
import type { Answer, WorkerContext } from "../pipeline/context.ts";

/** No-bid reasons where no DSP bid at all: the cases a house ad may fill. */
const FILLABLE: ReadonlySet<NoBidReason> = new Set<NoBidReason>(["no_dsps", "dsp_failures", "no_bids"]);

export function houseAdAnswer(ctx: WorkerContext, req: BidRequest, noBidReason: NoBidReason | null): Answer | null {
  const ad = ctx.config.houseAd;
  if (ad === null || noBidReason === null || !FILLABLE.has(noBidReason)) return null;
  const price = microsToUnits(ad.priceMicros);
  const bid = req.imp
    .filter((imp) => (imp.bidfloor ?? 0) <= price)
    .map((imp) => ({ id: `house-${req.id}-${imp.id}`, impid: imp.id, price, adm: ad.adm, crid: ad.crid, adomain: ad.adomain }));
  if (bid.length === 0) return null;
  ctx.overload?.cells.houseAd();
  const body = JSON.stringify({ id: req.id, seatbid: [{ seat: ad.seat, bid }], cur: "USD" });
  return { status: 200, body, headers: { ...OPENRTB_VERSION_HEADER, "content-type": "application/json", "x-tmax-house-ad": "1" } };
}
