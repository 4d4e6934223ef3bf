// The fraud admin API, protected by `fraud.adminToken` (Authorization: Bearer <token>):
//   POST /admin/fraud/reload   re-read the blocklist, data-center list and model in every worker
//   POST /admin/fraud/block    {"target": "81.2.3.0/24" | "81.2.3.4" | "<ipv6>/48", "seconds": 3600}
// Without a configured token (or with the fraud stage off) the endpoints answer 404.
import { timingSafeEqual } from "node:crypto";
import type { WorkerContext } from "../pipeline/context.ts";
import { blockUntil } from "./shared/blocks.ts";

/** Longest block an operator may set at once (30 days). */
export const MAX_ADMIN_BLOCK_SEC = 30 * 86_400;

export async function fraudAdmin(ctx: WorkerContext, request: Request, action: "reload" | "block"): Promise<Response> {
  const stage = ctx.fraud;
  const token = stage?.settings.adminToken ?? null;
  if (stage === undefined || token === null) return Response.json({ error: "not_found" }, { status: 404 });
  if (!authorized(request.headers.get("authorization"), token)) {
    return Response.json({ error: "unauthorized", reason: "Authorization: Bearer <fraud.adminToken> required" }, { status: 401, headers: { "www-authenticate": "Bearer" } });
  }
  if (action === "reload") {
    try {
      return Response.json({ status: "reloaded", ...stage.reload() });
    } catch (err) {
      return Response.json({ error: "reload_failed", reason: (err as Error).message }, { status: 422 });
    }
  }
  let body: { target?: unknown; seconds?: unknown };
  try {
    body = (await request.json()) as typeof body;
  } catch {
    return Response.json({ error: "invalid_request", field: "(body)", reason: "not valid JSON" }, { status: 400 });
  }
  const seconds = body.seconds ?? 3600;
  if (typeof body.target !== "string") return Response.json({ error: "invalid_request", field: "target", reason: "must be an IP, an IPv4 /24 or an IPv6 /48" }, { status: 400 });
  if (!Number.isInteger(seconds) || (seconds as number) < 1 || (seconds as number) > MAX_ADMIN_BLOCK_SEC) {
    return Response.json({ error: "invalid_request", field: "seconds", reason: `must be an integer from 1 to ${MAX_ADMIN_BLOCK_SEC}` }, { status: 400 });
  }
  const now = Date.now();
  if (!blockUntil(stage.state, body.target, now, now + (seconds as number) * 1000)) {
    return Response.json({ error: "invalid_request", field: "target", reason: "must be an IP, an IPv4 /24 or an IPv6 /48" }, { status: 400 });
  }
  return Response.json({ status: "blocked", target: body.target, seconds });
}

function authorized(header: string | null, token: string): boolean {
  if (header === null || !header.startsWith("Bearer ")) return false;
  const given = Buffer.from(header.slice(7));
  const want = Buffer.from(token);
  return given.length === want.length && timingSafeEqual(given, want);
}
