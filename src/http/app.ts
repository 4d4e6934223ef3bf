// The HTTP face of one worker: the auction endpoint, health, readiness and metrics. Handlers only
// translate HTTP to plain calls; the auction itself is src/pipeline/auction.ts.
import { Elysia } from "elysia";
import { readAuctionBody } from "./body.ts";
import { invalid, runAuction } from "../pipeline/auction.ts";
import type { Answer, WorkerContext } from "../pipeline/context.ts";
import { fraudAdmin } from "../fraud/admin.ts";

export interface AppHooks {
  ready(): { ready: boolean; detail: Record<string, unknown> };
  metrics(): Promise<string>;
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
    .post("/admin/fraud/reload", ({ request }) => fraudAdmin(ctx, request, "reload"), { parse: "none" })
    .post("/admin/fraud/block", ({ request }) => fraudAdmin(ctx, request, "block"), { parse: "none" })
    .get("/metrics", async () => new Response(await hooks.metrics(), { headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" } }));
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
  try {
    const body = await readAuctionBody(request, ctx.config.server.maxBodyBytes);
    const exchangeId = request.headers.get("x-exchange-id");
    const answer = "text" in body
      ? await runAuction(ctx, body.text, receivedAt, exchangeId)
      : await invalid(ctx, body, undefined, body.status, exchangeId);
    if (answer.status === 405) answer.headers = { ...answer.headers, allow: "POST" };
    ctx.counters.histograms.request(answer.status === 200 ? "bid" : answer.status === 204 ? "nobid" : "invalid", performance.now() - receivedAt);
    return toResponse(answer);
  } catch (err) {
    ctx.counters.request("error");
    ctx.counters.histograms.request("error", performance.now() - receivedAt);
    console.error(JSON.stringify({ level: "error", msg: "auction failed", worker: ctx.workerIndex, error: String((err as Error).stack ?? err) }));
    return Response.json({ error: "internal_error" }, { status: 500, headers: { "x-openrtb-version": "2.6" } });
  }
}

function toResponse(answer: Answer): Response {
  return new Response(answer.body, { status: answer.status, headers: answer.headers });
}
