// The HTTP face of one worker: the auction endpoint, health, readiness and metrics. Handlers only
// translate HTTP to plain calls; the auction itself is src/pipeline/auction.ts.
import { Elysia } from "elysia";
import { readAuctionBody } from "./body.ts";
import { invalid, runAuction } from "../pipeline/auction.ts";
import type { Answer, WorkerContext } from "../pipeline/context.ts";
import { observeRoutes } from "../observe/routes.ts";
import type { SloTracker } from "../slo/tracker.ts";
import { log } from "../log/logger.ts";
import { logAuction, requestIdOf } from "../log/request-log.ts";
import { preParseShed, rateLimitAnswer } from "../overload/stage.ts";
import { handleNotice } from "../budget/notice/handler.ts";
import { handleAdminBudgets } from "../budget/admin.ts";
import { fraudAdmin } from "../fraud/admin.ts";

export interface AppHooks {
  ready(): { ready: boolean; detail: Record<string, unknown> };
  metrics(): Promise<string>;
  /** The worker's SLO history, for /slo and /dashboard (src/observe/). */
  slo: SloTracker;
}

export function buildApp(ctx: WorkerContext, hooks: AppHooks) {
  return new Elysia()
    .all("/openrtb2/auction", ({ request }) => handleAuction(ctx, request), { parse: "none" })
    .get("/healthz", () => Response.json({ status: "ok", worker: ctx.workerIndex }))
    .get("/readyz", () => {
      const state = hooks.ready();
      if (ctx.drain?.stopping) return Response.json({ status: "shutting_down", ...state.detail }, { status: 503, headers: { connection: "close" } });
      return Response.json({ status: state.ready ? "ready" : "not_ready", ...state.detail }, { status: state.ready ? 200 : 503 });
    })
    .get("/notice/billing", async ({ request }) => notice(ctx, "billing", request))
    .get("/notice/loss", async ({ request }) => notice(ctx, "loss", request))
    .get("/admin/budgets", ({ request }) => toResponse(handleAdminBudgets(ctx, request)))
    .get("/metrics", async () => new Response(await hooks.metrics(), { headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" } }))
    .post("/admin/fraud/reload", ({ request }) => fraudAdmin(ctx, request, "reload"), { parse: "none" })
    .post("/admin/fraud/block", ({ request }) => fraudAdmin(ctx, request, "block"), { parse: "none" })
    .use(observeRoutes(hooks.slo));
}

export async function handleAuction(ctx: WorkerContext, request: Request): Promise<Response> {
  const receivedAt = performance.now();
  const drain = ctx.drain;
  if (drain !== undefined) drain.inFlight++;
  try {
    const response = await auction(ctx, request, receivedAt);
    // Draining: the auction is still served in full, but the client must not reuse this connection.
    if (drain?.stopping) response.headers.set("connection", "close");
    return response;
  } finally {
    if (drain !== undefined) drain.inFlight--;
  }
}

async function auction(ctx: WorkerContext, request: Request, receivedAt: number): Promise<Response> {
  let bodyText: string | undefined;
  try {
    const limited = rateLimitAnswer(ctx, request) ?? preParseShed(ctx, receivedAt);
    if (limited !== null) return limited;
    const body = await readAuctionBody(request, ctx.config.server.maxBodyBytes);
    if ("text" in body) bodyText = body.text;
    const exchangeId = request.headers.get("x-exchange-id");
    const answer = "text" in body
      ? await runAuction(ctx, body.text, receivedAt, exchangeId)
      : await invalid(ctx, body, undefined, body.status, exchangeId);
    if (answer.status === 405) answer.headers = { ...answer.headers, allow: "POST" };
    ctx.counters.histograms.request(answer.status === 200 ? "bid" : answer.status === 204 ? "nobid" : "invalid", performance.now() - receivedAt);
    if (log.sampled()) logAuction(log.child({ worker: ctx.workerIndex }), request, bodyText, answer, performance.now() - receivedAt);
    return toResponse(answer);
  } catch (err) {
    ctx.counters.request("error");
    ctx.counters.histograms.request("error", performance.now() - receivedAt);
    log.error("auction failed", { worker: ctx.workerIndex, requestId: requestIdOf(bodyText), xRequestId: request.headers.get("x-request-id") ?? undefined, error: err });
    return Response.json({ error: "internal_error" }, { status: 500, headers: { "x-openrtb-version": "2.6" } });
  }
}

async function notice(ctx: WorkerContext, type: "billing" | "loss", request: Request): Promise<Response> {
  if (ctx.notices === undefined) return Response.json({ error: "notices_disabled" }, { status: 404 });
  return toResponse(await handleNotice(ctx, ctx.notices, type, new URL(request.url)));
}

function toResponse(answer: Answer): Response {
  return new Response(answer.body, { status: answer.status, headers: answer.headers });
}
