// The answer to the exchange: a 200 BidResponse with one bid per won imp (grouped in one seat per
// DSP), prices as clearing prices, macros substituted; or 204 with the no-bid reason in a header.
import { microsToUnits } from "../config/money.ts";
import { substituteMacros } from "../openrtb/macros.ts";
import type { ExchangeBid, ExchangeBidResponse } from "../openrtb/response.ts";
import type { BidRequest } from "../openrtb/request.ts";
import type { NoBidReason } from "../openrtb/nbr.ts";
import type { Answer, WorkerContext } from "./context.ts";
import type { ImpWin } from "./decide.ts";
import { noticeUrls } from "../budget/notice/urls.ts";

export const OPENRTB_VERSION_HEADER = { "x-openrtb-version": "2.6" } as const;

export function noBidAnswer(reason: NoBidReason, nbr: number): Answer {
  return { status: 204, body: null, headers: { ...OPENRTB_VERSION_HEADER, "x-tmax-nbr": String(nbr), "x-tmax-no-bid-reason": reason } };
}

export function bidAnswer(ctx: WorkerContext, req: BidRequest, wins: ImpWin[]): Answer {
  const seats = new Map<string, ExchangeBid[]>();
  for (const win of wins) {
    const seat = ctx.config.dsps[win.bid.dsp]!.id;
    let bids = seats.get(seat);
    if (bids === undefined) seats.set(seat, (bids = []));
    bids.push(exchangeBid(ctx, req, win, seat));
  }
  const response: ExchangeBidResponse = {
    id: req.id,
    seatbid: [...seats].map(([seat, bid]) => ({ seat, bid })),
    cur: "USD",
  };
  return { status: 200, body: JSON.stringify(response), headers: { ...OPENRTB_VERSION_HEADER, "content-type": "application/json" } };
}

function exchangeBid(ctx: WorkerContext, req: BidRequest, win: ImpWin, seat: string): ExchangeBid {
  const { bid } = win.bid;
  const price = microsToUnits(win.clearingMicros);
  const values = {
    auctionId: req.id, bidId: bid.id, impId: bid.impid, seatId: seat, adId: bid.adid ?? "",
    price: String(price), currency: "USD",
  };
  const burl = substituteMacros(bid.burl, values);
  const lurl = substituteMacros(bid.lurl, values);
  const notices = ctx.notices === undefined ? { burl, lurl }
    : noticeUrls(ctx, ctx.notices, { requestId: req.id, bidId: bid.id, impId: bid.impid, slot: win.bid.slot, costMicros: win.costMicros, dspId: seat }, burl, lurl);
  return {
    id: bid.id,
    impid: bid.impid,
    price,
    adm: substituteMacros(bid.adm, values),
    adomain: bid.adomain,
    cid: bid.cid,
    crid: bid.crid,
    cat: bid.cat,
    nurl: substituteMacros(bid.nurl, values),
    burl: notices.burl,
    lurl: notices.lurl,
    w: bid.w,
    h: bid.h,
  };
}
