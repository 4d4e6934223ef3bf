// [fraud] between intake and fan-out: tier 1 rules and the tier 2 score (src/fraud/screen.ts).
// A blocked request is answered 204 with its OpenRTB no-bid reason before any DSP is called (and
// audited); a flagged one goes to fewer DSPs, carrying ext.tmax.ivt = { score, flagged: true }.
import type { BidRequest } from "../openrtb/request.ts";
import type { Answer, WorkerContext } from "./context.ts";
import { noBidAnswer } from "./respond.ts";
import { NBR } from "../openrtb/nbr.ts";
import { auctionEvents } from "../audit/events.ts";
import { countVerdict } from "../fraud/metrics.ts";
import { ACTION_NAMES, BLOCK, FLAG, type Verdict } from "../fraud/verdict.ts";
import { subnetOf } from "../fraud/ip/address.ts";
import { deviceKeyHex } from "../fraud/screen.ts";
import type { FraudAudit } from "../audit/schema.ts";

/** Set on a screened request (a symbol: never serialised to DSPs); read by the audit events. */
const FRAUD_AUDIT = Symbol("tmax.fraud");
/** How many DSPs a request may go to: all, fewer (flagged), or none (blocked). */
export const ALL_DSPS = Number.POSITIVE_INFINITY;

/** Screens `req`; returns the number of DSPs it may go to (0 = blocked: answer with fraudBlocked). */
export function screen(ctx: WorkerContext, req: BidRequest): number {
  const stage = ctx.fraud;
  if (stage === undefined) return ALL_DSPS;
  stage.refresh();
  const v = stage.screener.screen(req, Date.now());
  countVerdict(stage.state, ctx.workerIndex, v);
  (req as { [FRAUD_AUDIT]?: FraudAudit })[FRAUD_AUDIT] = auditOf(req, v);
  if (v.action === BLOCK) return 0;
  if (v.action !== FLAG) return ALL_DSPS;
  const ext = ((req as { ext?: Record<string, unknown> }).ext ??= {});
  ext.tmax = { ...(ext.tmax as object | undefined), ivt: { score: round4(v.score), flagged: true } };
  let enabled = 0;
  for (const dsp of ctx.config.dsps) if (dsp.enabled) enabled++;
  return Math.max(1, Math.floor(enabled * stage.settings.flaggedDspShare));
}

/** The 204 for a blocked request, after its events (bid_request with the fraud block, auction_result per imp) are recorded. */
export async function fraudBlocked(ctx: WorkerContext, req: BidRequest, exchangeId: string | null, receivedAt: number): Promise<Answer> {
  const audit = fraudAuditOf(req)!;
  const decision = { wins: [], noBidReason: "invalid_traffic" as const, budgetSkips: 0, cappedBids: 0, capIncrements: [] };
  ctx.counters.request("nobid");
  try {
    await ctx.audit.record(auctionEvents(ctx, req, exchangeId, [], [], decision, performance.now() - receivedAt));
  } catch {
    // No answer leaves without its audit record, a fraud block neither: shed as the auction path does.
    ctx.counters.noBid("audit_unavailable");
    return noBidAnswer("audit_unavailable", NBR.technicalError);
  }
  ctx.counters.noBid("invalid_traffic");
  const answer = noBidAnswer("invalid_traffic", audit.nbr!);
  answer.headers!["x-tmax-fraud-reason"] = audit.reason!;
  return answer;
}

/** The fraud block of a screened request's audit events, or null when it was not screened. */
export function fraudAuditOf(req: BidRequest): FraudAudit | null {
  return (req as { [FRAUD_AUDIT]?: FraudAudit })[FRAUD_AUDIT] ?? null;
}

function auditOf(req: BidRequest, v: Verdict): FraudAudit {
  const ip = req.device?.ip ?? req.device?.ipv6;
  return {
    result: ACTION_NAMES[v.action],
    tier: v.tier,
    reason: v.reason,
    nbr: v.action === BLOCK ? v.nbr : null,
    score: v.score === v.score ? round4(v.score) : null,
    ip_subnet: ip === undefined ? null : subnetOf(ip),
    device_key: deviceKeyHex(req),
  };
}

const round4 = (x: number) => Math.round(x * 10_000) / 10_000;
