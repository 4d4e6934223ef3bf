// The burl/lurl tmax puts in its BidResponse: signed tmax notice URLs carrying the DSP's own.
import { BOARD_DAY } from "../board.ts";
import { noticeUrl, type NoticeFacts } from "./sign.ts";
import type { NoticeDeps } from "./handler.ts";
import type { WorkerContext } from "../../pipeline/context.ts";

export interface WonBid { requestId: string; bidId: string; impId: string; slot: number; costMicros: number; dspId: string }

export function noticeUrls(ctx: WorkerContext, deps: NoticeDeps, won: WonBid, dspBurl: string | undefined, dspLurl: string | undefined): { burl: string; lurl: string } {
  const day = String(deps.board.get(won.slot, BOARD_DAY));
  const facts: NoticeFacts = {
    requestId: won.requestId, bidId: won.bidId, impId: won.impId, campaignId: ctx.campaignBySlot[won.slot]!.id, costMicros: won.costMicros,
    day: `${day.slice(0, 4)}-${day.slice(4, 6)}-${day.slice(6, 8)}`, pod: ctx.config.server.pod, dspId: won.dspId, dspUrl: "",
  };
  return {
    burl: noticeUrl(deps.baseUrl, deps.secret, "billing", { ...facts, dspUrl: dspBurl ?? "" }, "&price=${AUCTION_PRICE}"),
    lurl: noticeUrl(deps.baseUrl, deps.secret, "loss", { ...facts, dspUrl: dspLurl ?? "" }, "&reason=${AUCTION_LOSS}"),
  };
}
