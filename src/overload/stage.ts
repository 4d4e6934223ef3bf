// The overload stages of the request path:
// - rateLimitAnswer (before the body is read, src/http/app.ts): the exchange's shared token bucket;
// - preParseShed (next): at an extreme shed share, a 204 without even parsing the body;
// - shedStage (right after intake, src/pipeline/auction.ts): when the worker is pressured, a share of
//   requests chosen by value is answered 204 at once: no DSP call, counted as no-bid reason
//   "overload", audited as a no-bid (without waiting for the group commit: a shed answer carries
//   no money, and must not wait behind the outbox that may be part of the overload).
import { NBR } from "../openrtb/nbr.ts";
import { noBidAnswer, OPENRTB_VERSION_HEADER } from "../pipeline/respond.ts";
import { auctionEvents } from "../audit/events.ts";
import type { BidRequest } from "../openrtb/request.ts";
import type { Decision } from "../pipeline/decide.ts";
import type { Answer, WorkerContext } from "../pipeline/context.ts";

const SHED: Decision = { wins: [], noBidReason: "overload", budgetSkips: 0, cappedBids: 0, capIncrements: [] };

export function shedStage(ctx: WorkerContext, req: BidRequest, exchangeId: string | null, receivedAt: number): Answer | null {
  const guard = ctx.overload;
  if (guard === undefined) return null;
  const share = guard.shedShare;
  if (share <= 0 || !guard.shedder.shouldShed(req, share)) return null;
  guard.cells.shed();
  ctx.counters.request("nobid");
  ctx.counters.noBid("overload");
  ctx.audit.record(auctionEvents(ctx, req, exchangeId, [], [], SHED, performance.now() - receivedAt)).catch(() => undefined);
  return noBidAnswer("overload", NBR.technicalError);
}

/**
 * A 204 before the body is even parsed: at extreme pressure (OVERLOAD_LIMITS.preParseShedShare), or when
 * the worker already runs as many auctions as its adaptive concurrency limit allows (limit.ts: past it
 * an admitted request would only queue behind the others and miss its tmax). Null to go on.
 */
export function preParseShed(ctx: WorkerContext, receivedAt: number): Response | null {
  const guard = ctx.overload;
  if (guard === undefined || !guard.enabled) return null;
  const full = guard.overLimit(ctx.drain?.inFlight ?? 0); // inFlight counts this request too
  if (!full && !guard.shedder.shedBeforeParse(guard.shedShare)) return null;
  guard.cells.shedBeforeParse();
  ctx.counters.request("nobid");
  ctx.counters.noBid("overload");
  ctx.counters.histograms.request("nobid", performance.now() - receivedAt);
  return new Response(null, { status: 204, headers: PRE_PARSE_SHED_HEADERS });
}

const PRE_PARSE_SHED_HEADERS = { ...OPENRTB_VERSION_HEADER, "x-tmax-nbr": String(NBR.technicalError), "x-tmax-no-bid-reason": "overload" };

/** 429 (with Retry-After) or 204 when the request's exchange is over its rate; null to go on. */
export function rateLimitAnswer(ctx: WorkerContext, request: Request): Response | null {
  const limiter = ctx.overload?.rateLimiter;
  if (limiter === undefined || limiter === null) return null;
  const verdict = limiter.refuse(request.headers.get(limiter.settings.header));
  if (verdict === null) return null;
  ctx.overload!.cells.rateLimited(verdict.exchange);
  if (verdict.rule.answer === 204) {
    return new Response(null, { status: 204, headers: { ...OPENRTB_VERSION_HEADER, "x-tmax-no-bid-reason": "rate_limited" } });
  }
  return Response.json({ error: "rate_limited", exchange: verdict.rule.id }, { status: 429, headers: { ...OPENRTB_VERSION_HEADER, "retry-after": "1" } });
}
