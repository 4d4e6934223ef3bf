// From DSP replies to auction candidates: count each DSP's outcome, feed its breaker, keep the
// well-formed bids for this request.
import { checkDspAnswer, type AnswerContext, type CandidateBid } from "../dsp/answer.ts";
import { OVERLOAD_DEADLINE, type BreakerVerdict, type DspReply } from "../dsp/fanout.ts";
import type { WorkerContext } from "./context.ts";

export interface Collected {
  candidates: CandidateBid[];
  /** Bids left out because their campaign's pacing said not this time (even pacing). */
  paced: number;
  rejected: number;
  /** DSPs that answered properly (a bid, or a valid no-bid); 0 means every call failed or timed out. */
  answered: number;
}

export function collectBids(ctx: WorkerContext, replies: DspReply[], answerCtx: AnswerContext): Collected {
  const candidates: CandidateBid[] = [];
  let rejected = 0;
  let answered = 0;
  replies.sort((a, b) => a.dsp - b.dsp); // config order, so equal bids are broken the same way every time
  ctx.counters.histograms.fanoutSize(replies.length);
  for (const reply of replies) {
    ctx.counters.histograms.dsp(reply.dsp, reply.latencyMs);
    const verdict = collectOne(ctx, reply, answerCtx, candidates, () => rejected++);
    ctx.fanout.recordResult(reply.dsp, verdict);
    if (verdict === "success") answered++;
  }
  const paced = dropPaced(ctx, candidates);
  return { candidates, paced, rejected, answered };
}

/**
 * Even pacing: each candidate's campaign takes part with its controller's probability (one shared
 * load and one random draw per bid); the others are removed in place. Before the auction, so a
 * paced campaign neither wins nor sets the second price.
 */
function dropPaced(ctx: WorkerContext, candidates: CandidateBid[]): number {
  const pacing = ctx.pacing;
  if (pacing === undefined) return 0;
  let kept = 0;
  for (const c of candidates) if (pacing.shouldBid(c.slot, Math.random())) candidates[kept++] = c;
  const paced = candidates.length - kept;
  candidates.length = kept;
  if (paced > 0) ctx.counters.bidsPaced(paced);
  return paced;
}

/** Counts one reply and keeps its good bids; the verdict is for the DSP's breaker. */
function collectOne(ctx: WorkerContext, reply: DspReply, answerCtx: AnswerContext, out: CandidateBid[], onReject: () => void): BreakerVerdict {
  const { counters } = ctx;
  if (reply.outcome !== "ok") {
    counters.dsp(reply.dsp, reply.outcome === "timeout" ? "timeout" : reply.outcome === "queue_full" ? "queue_full" : "error");
    // A full queue is our own bound, and a timeout noticed late is our own stall: not the DSP's fault;
    // nor is one under a deadline the overload guard cut short.
    return reply.outcome === "queue_full" || reply.detail === "stalled" || reply.detail === OVERLOAD_DEADLINE ? "neutral" : "failure";
  }
  if (reply.status === 204) {
    counters.dsp(reply.dsp, "nobid");
    return "success";
  }
  if (reply.status !== 200) {
    counters.dsp(reply.dsp, "error");
    return "failure";
  }
  const before = out.length;
  const verdict = checkDspAnswer(reply.body, reply.dsp, answerCtx, out, (reason) => {
    counters.bidRejected(reply.dsp, reason);
    onReject();
  });
  if (verdict !== "ok") {
    counters.bidRejected(reply.dsp, verdict === "wrong_id" ? "wrong_id" : "malformed");
    counters.dsp(reply.dsp, "error");
    onReject();
    return "failure";
  }
  counters.dsp(reply.dsp, out.length > before ? "bid" : "nobid");
  return "success";
}
