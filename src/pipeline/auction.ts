// One auction, top down. Each line is a stage; each stage lives in its own module.
//   (rate limits and extreme-overload sheds happen before the body is read: src/http/app.ts)
//   intake -> shed (overload guard) -> fraud screen -> deadline -> fan-out -> collect (pacing)
//   -> [distributed: merge other pods' cap counts]
//   -> decide (WASM: floors, brand safety, frequency caps, price, budget)
//   -> cap increments to the sink, if any -> respond (or a house ad) -> audit (before the answer leaves)
import { NBR } from "../openrtb/nbr.ts";
import { validateBidRequest } from "../openrtb/validate.ts";
import type { BidRequest } from "../openrtb/request.ts";
import { fanoutWindowMs } from "./deadline.ts";
import { collectBids } from "./collect.ts";
import { decide, type Decision } from "./decide.ts";
import { bidAnswer, noBidAnswer } from "./respond.ts";
import { auctionEvents, invalidRequestEvent } from "../audit/events.ts";
import { LIMITS } from "../config/limits.ts";
import { reportCapIncrements } from "../freqcap/request.ts";
import { syncRemoteCaps } from "../freqcap/sync.ts";
import type { Answer, WorkerContext } from "./context.ts";
import type { DspReply } from "../dsp/fanout.ts";
import { shedStage } from "../overload/stage.ts";
import { houseAdAnswer } from "../overload/house-ad.ts";
import { fraudBlocked, screen } from "./fraud.ts";

/**
 * `receivedAt` is performance.now() when the request arrived; `bodyText` the decoded body;
 * `exchangeId` who sent it (the x-exchange-id header), when known.
 */
export async function runAuction(ctx: WorkerContext, bodyText: string, receivedAt: number, exchangeId: string | null = null): Promise<Answer> {
  const intake = parseRequest(bodyText, ctx.config.auction.maxImps);
  if ("problem" in intake) return invalid(ctx, intake.problem, intake.requestId, 400, exchangeId);
  if (!ctx.audit.healthy()) return shed(ctx, "audit_unavailable");
  const req = intake.request;
  const shedAnswer = shedStage(ctx, req, exchangeId, receivedAt);
  if (shedAnswer !== null) return shedAnswer;
  const dspLimit = screen(ctx, req); // [fraud] tier 1 rules + tier 2 score: 0 = blocked, fewer DSPs when flagged
  if (dspLimit === 0) return fraudBlocked(ctx, req, exchangeId, receivedAt);
  const requestTmaxMs = req.tmax;
  const settings = ctx.config.auction;
  const windowMs = fanoutWindowMs(requestTmaxMs, settings, ctx.overload?.dspTimeoutMs);
  const fanoutStart = performance.now();
  const replies: DspReply[] = windowMs >= settings.minDspTimeoutMs
    ? await ctx.fanout.fanOut(req, receivedAt + windowMs, settings, dspLimit)
    : [];
  // Internal processing excludes the DSP wait only up to the window: a fan-out that ends late is our own lateness.
  const fanoutWaitMs = Math.min(performance.now() - fanoutStart, Math.max(0, receivedAt + windowMs - fanoutStart));
  req.tmax = requestTmaxMs; // the fan-out rewrote it per DSP
  if (replies.length > 0 && replies.every(timedOut)) ctx.overload?.recordStarved(); // the DSPs may be at their limit
  const collected = collectBids(ctx, replies, answerContext(ctx, req));
  if (ctx.remoteCaps) await syncRemoteCaps(ctx.remoteCaps, ctx, req, collected.candidates);
  const decision: Decision = replies.length === 0
    ? { wins: [], noBidReason: windowMs >= settings.minDspTimeoutMs ? "no_dsps" : "deadline_too_short", budgetSkips: 0, cappedBids: 0, capIncrements: [] }
    : decide(ctx, req, collected);
  reportCapIncrements(ctx.capSink, decision.capIncrements);
  const answer = decision.noBidReason === null
    ? bidAnswer(ctx, req, decision.wins)
    : houseAdAnswer(ctx, req, decision.noBidReason) ?? noBidAnswer(decision.noBidReason, NBR.unknownError);
  const events = auctionEvents(ctx, req, exchangeId, replies, collected.candidates, decision, performance.now() - receivedAt);
  const auditStart = performance.now();
  try {
    await ctx.audit.record(events);
    ctx.counters.histograms.auditWait(performance.now() - auditStart);
  } catch {
    // No answer leaves without its audit record. Any reservation stays counted as spent (safe side).
    ctx.counters.histograms.internal(performance.now() - receivedAt - fanoutWaitMs);
    return shed(ctx, "audit_unavailable");
  }
  ctx.counters.histograms.internal(performance.now() - receivedAt - fanoutWaitMs);
  countOutcome(ctx, decision);
  return answer;
}

const timedOut = (reply: DspReply) => reply.outcome === "timeout";

function shed(ctx: WorkerContext, reason: "audit_unavailable"): Answer {
  ctx.counters.request("nobid");
  ctx.counters.noBid(reason);
  return noBidAnswer(reason, NBR.technicalError);
}

type Intake = { request: BidRequest } | { problem: { field: string; reason: string }; requestId?: string };

function parseRequest(bodyText: string, maxImps: number): Intake {
  let value: unknown;
  try {
    value = JSON.parse(bodyText);
  } catch (err) {
    return { problem: { field: "(body)", reason: `not valid JSON: ${(err as Error).message}` } };
  }
  const problem = validateBidRequest(value, maxImps);
  if (problem !== null) {
    const id = (value as { id?: unknown } | null)?.id;
    return { problem, requestId: typeof id === "string" ? id : undefined };
  }
  return { request: value as BidRequest };
}

export async function invalid(
  ctx: WorkerContext, problem: { field: string; reason: string }, requestId?: string, status = 400, exchangeId: string | null = null,
): Promise<Answer> {
  ctx.counters.request("invalid");
  // Bad input is answered as such even when the audit trail cannot take the record.
  await ctx.audit.record([invalidRequestEvent(ctx, problem, requestId, status, exchangeId)]).catch(() => undefined);
  return {
    status,
    body: JSON.stringify({ error: "invalid_request", nbr: NBR.invalidRequest, field: problem.field, reason: problem.reason }),
    headers: { "content-type": "application/json", "x-openrtb-version": "2.6" },
  };
}

function answerContext(ctx: WorkerContext, req: BidRequest) {
  const impIndexById = new Map<string, number>();
  req.imp.forEach((imp, i) => impIndexById.set(imp.id, i));
  return { requestId: req.id, impIndexById, campaignSlotById: ctx.campaignSlotById, maxBids: LIMITS.maxBidsPerRequest };
}

function countOutcome(ctx: WorkerContext, decision: Decision): void {
  if (decision.noBidReason !== null) {
    ctx.counters.request("nobid");
    ctx.counters.noBid(decision.noBidReason);
    ctx.counters.budgetSkips(decision.budgetSkips);
    return;
  }
  ctx.counters.request("bid");
  for (const win of decision.wins) ctx.counters.win(win.costMicros);
  ctx.counters.budgetSkips(decision.budgetSkips);
}
