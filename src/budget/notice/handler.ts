// GET /notice/billing and /notice/loss: the second phase of a spend. An answered impression reserved
// its cost in the auction kernel; the billing notice commits it, the loss notice releases it (the
// control plane forwards released money to the region's books); a reservation never notified stays
// counted as spent. Order: verify the signature, de-duplicate per bid (a repeat changes nothing),
// append the audit event, then count; only then is the DSP's own burl/lurl called (off the answer).
import { BOARD_COMMITTED, BOARD_DAY, BOARD_RELEASED, type BudgetBoard } from "../board.ts";
import { dayNumber } from "../day.ts";
import type { NoticeDedupe } from "./dedupe.ts";
import type { SharedBudget } from "../shared-budget.ts";
import { verifyNotice, type NoticeFacts, type NoticeType } from "./sign.ts";
import { EVENT_VERSION, type NoticeEvent } from "../../audit/schema.ts";
import type { Answer, WorkerContext } from "../../pipeline/context.ts";

/** How long tmax waits for a DSP's own burl/lurl. */
export const DSP_NOTICE_TIMEOUT_MS = 2_000;

export interface NoticeDeps {
  board: BudgetBoard;
  /** The pod's budget slots (status reads them). */
  slots: SharedBudget;
  dedupe: NoticeDedupe;
  secret: string;
  /** Where notice URLs point (this pod, or its region's load balancer). */
  baseUrl: string;
}

const json = (status: number, body: unknown): Answer => ({ status, body: JSON.stringify(body), headers: { "content-type": "application/json" } });

export async function handleNotice(ctx: WorkerContext, deps: NoticeDeps, type: NoticeType, url: URL): Promise<Answer> {
  const checked = verifyNotice(deps.secret, type, url.searchParams);
  if (!("facts" in checked)) return json(checked.status, { error: checked.status === 403 ? "bad_signature" : "invalid_notice", field: checked.field, reason: checked.reason });
  const facts = checked.facts;
  const slot = ctx.campaignSlotById.get(facts.campaignId);
  if (slot === undefined) return json(400, { error: "invalid_notice", field: "c", reason: `unknown campaign "${facts.campaignId}"` });
  let first: boolean;
  try {
    first = await deps.dedupe.first(`${facts.requestId}\u0000${facts.impId}\u0000${facts.bidId}`);
  } catch (err) {
    return json(503, { error: "notice_store_unavailable", reason: (err as Error).message });
  }
  if (!first) return json(200, { status: "duplicate" });
  try {
    await ctx.audit.record([JSON.stringify(noticeEvent(ctx, type, facts, url.searchParams))]);
  } catch {
    // Marked seen but not applied: a lost release stays counted as spent (the safe side).
    return json(503, { error: "audit_unavailable" });
  }
  const sameDay = deps.board.get(slot, BOARD_DAY) === dayNumber(facts.day);
  if (sameDay) deps.board.add(slot, type === "billing" ? BOARD_COMMITTED : BOARD_RELEASED, facts.costMicros);
  if (facts.dspUrl !== "") void callDsp(facts.dspUrl);
  return json(200, { status: type === "billing" ? "committed" : sameDay ? "released" : "past_day" });
}

function noticeEvent(ctx: WorkerContext, type: NoticeType, f: NoticeFacts, q: URLSearchParams): NoticeEvent {
  const campaign = ctx.campaignBySlot[ctx.campaignSlotById.get(f.campaignId)!]!;
  const price = Number(q.get("price"));
  const reason = Number(q.get("reason"));
  return {
    event_id: crypto.randomUUID(),
    event_version: EVENT_VERSION,
    event_time: new Date().toISOString(),
    request_id: f.requestId,
    exchange_id: null,
    publisher_id: null,
    advertiser_id: campaign.advertiserId,
    campaign_id: f.campaignId,
    dsp_id: f.dspId,
    region: ctx.config.server.region,
    pod: ctx.config.server.pod,
    worker: ctx.workerIndex,
    event_type: type === "billing" ? "billing_notice" : "loss_notice",
    imp_id: f.impId,
    bid_id: f.bidId,
    win_price_micros: Number.isFinite(price) && price > 0 && q.get("price")!.length < 20 ? Math.round(price * 1_000_000) : null,
    cost_micros: f.costMicros,
    loss_reason: Number.isInteger(reason) && q.get("reason") !== "" && q.get("reason") !== null ? reason : null,
  };
}

async function callDsp(url: string): Promise<void> {
  try {
    await fetch(url, { signal: AbortSignal.timeout(DSP_NOTICE_TIMEOUT_MS) });
  } catch {
    // The DSP's notice is its bookkeeping; ours is done. Nothing to undo.
  }
}
