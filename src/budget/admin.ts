// GET /admin/budgets[?campaign=ID]: this pod's budget status per campaign, behind the bearer token
// `budget.adminToken` (401 without or with a wrong one; 403 when no token is configured).
import { timingSafeEqual } from "node:crypto";
import { podStatus } from "./status.ts";
import type { Answer, WorkerContext } from "../pipeline/context.ts";

const json = (status: number, body: unknown, headers: Record<string, string> = {}): Answer =>
  ({ status, body: JSON.stringify(body), headers: { "content-type": "application/json", ...headers } });

export function handleAdminBudgets(ctx: WorkerContext, request: Request): Answer {
  const token = ctx.config.budget.adminToken;
  if (token === null) return json(403, { error: "admin_disabled", reason: "set budget.adminToken to enable /admin/budgets" });
  const given = /^Bearer (.+)$/.exec(request.headers.get("authorization") ?? "")?.[1] ?? "";
  if (!sameText(given, token)) return json(401, { error: "unauthorized", reason: "Authorization: Bearer <budget.adminToken> required" }, { "www-authenticate": "Bearer" });
  if (ctx.notices === undefined) return json(503, { error: "budget_board_unavailable" });
  const campaign = new URL(request.url).searchParams.get("campaign");
  const chosen = campaign === null ? ctx.campaignBySlot : ctx.campaignBySlot.filter((c) => c.id === campaign);
  if (campaign !== null && chosen.length === 0) return json(404, { error: "unknown_campaign", campaign });
  const { slots, board } = ctx.notices;
  return json(200, { pod: ctx.config.server.pod, region: ctx.config.server.region, mode: ctx.config.budget.mode, campaigns: chosen.map((c) => podStatus(c, slots, board, ctx.pacing)) });
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
