// From DSP replies to auction candidates: count each DSP's outcome, feed its breaker, keep the
// well-formed bids for this request.
import { checkDspAnswer, type AnswerContext, type CandidateBid } from "../dsp/answer.ts";
import type { DspReply } from "../dsp/fanout.ts";
import type { WorkerContext } from "./context.ts";

export interface Collected {
  candidates: CandidateBid[];
  rejected: number;
  /** DSPs that answered properly (a bid, or a valid no-bid); 0 means every call failed or timed out. */
  answered: number;
}

export function collectBids(ctx: WorkerContext, replies: DspReply[], answerCtx: AnswerContext): Collected {
  const candidates: CandidateBid[] = [];
  let rejected = 0;
  let answered = 0;
  replies.sort((a, b) => a.dsp - b.dsp); // config order, so equal bids are broken the same way every time
  for (const reply of replies) {
    const ok = collectOne(ctx, reply, answerCtx, candidates, () => rejected++);
    ctx.fanout.recordResult(reply.dsp, ok);
    if (ok && reply.outcome === "ok") answered++;
  }
  return { candidates, rejected, answered };
}

/** Returns whether the DSP answered properly (for its breaker). */
function collectOne(ctx: WorkerContext, reply: DspReply, answerCtx: AnswerContext, out: CandidateBid[], onReject: () => void): boolean {
  const { counters } = ctx;
  if (reply.outcome !== "ok") {
    counters.dsp(reply.dsp, reply.outcome === "timeout" ? "timeout" : reply.outcome === "queue_full" ? "queue_full" : "error");
    return reply.outcome === "queue_full"; // our own bound, not the DSP's fault
  }
  if (reply.status === 204) {
    counters.dsp(reply.dsp, "nobid");
    return true;
  }
  if (reply.status !== 200) {
    counters.dsp(reply.dsp, "error");
    return false;
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
    return false;
  }
  counters.dsp(reply.dsp, out.length > before ? "bid" : "nobid");
  return true;
}
