// GET /slo (the four SLOs as JSON) and GET /dashboard (the live page and its assets). Any worker
// answers: every worker samples the same shared counters.
import { Elysia } from "elysia";
import { DASHBOARD_ASSETS } from "./assets.ts";
import type { SloTracker } from "../slo/tracker.ts";

export function observeRoutes(tracker: SloTracker) {
  const asset = (name: string) => {
    const a = DASHBOARD_ASSETS[name];
    if (a === undefined) return Response.json({ error: "not_found" }, { status: 404 });
    return new Response(a.body, { headers: { "content-type": a.type, "cache-control": "no-cache" } });
  };
  return new Elysia()
    .get("/slo", () => Response.json(tracker.snapshot()))
    .get("/dashboard", () => asset(""))
    .get("/dashboard/:file", ({ params }) => asset(params.file));
}
