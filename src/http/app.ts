// The HTTP face of one worker: the auction endpoint, health, readiness and metrics. Handlers only
// translate HTTP to plain calls; the auction itself is src/pipeline/auction.ts.
import { Elysia } from "elysia";
import { readAuctionBody } from "./body.ts";
import { invalid, runAuction } from "../pipeline/auction.ts";
import type { Answer, WorkerContext } from "../pipeline/context.ts";

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
      return Response.json({ status: state.ready ? "ready" : "not_ready", ...state.detail }, { status: state.ready ? 200 : 503 });
    })
    .get("/metrics", async () => new Response(await hooks.metrics(), { headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" } }));
}

export async function handleAuction(ctx: WorkerContext, request: Request): Promise<Response> {
  const receivedAt = performance.now();
  try {
    const body = await readAuctionBody(request, ctx.config.server.maxBodyBytes);
    const exchangeId = request.headers.get("x-exchange-id");
    const answer = "text" in body
      ? await runAuction(ctx, body.text, receivedAt, exchangeId)
      : await invalid(ctx, body, undefined, body.status, exchangeId);
    if (answer.status === 405) answer.headers = { ...answer.headers, allow: "POST" };
    return toResponse(answer);
  } catch (err) {
    ctx.counters.request("error");
    console.error(JSON.stringify({ level: "error", msg: "auction failed", worker: ctx.workerIndex, error: String((err as Error).stack ?? err) }));
    return Response.json({ error: "internal_error" }, { status: 500, headers: { "x-openrtb-version": "2.6" } });
  }
}

function toResponse(answer: Answer): Response {
  return new Response(answer.body, { status: answer.status, headers: answer.headers });
}
