// The benchmark's floor: a bare Bun.serve that does the part of an auction no bidder can skip,
// reading the body, JSON.parse and validateBidRequest (the same code tmax runs), then answers 204.
// Prints one JSON line {"url": ...} when listening. GET /stats returns its request counters.
// Exits on SIGINT/SIGTERM or when its stdin closes (the bench process died).
// usage: bun scripts/bench/baseline-server.ts [--port N]
import { validateBidRequest } from "../../src/openrtb/validate.ts";

const MAX_IMPS = 10; // tmax's default auction.maxImps
const ORTB_HEADERS = { "x-openrtb-version": "2.6" };
const JSON_HEADERS = { "content-type": "application/json", "x-openrtb-version": "2.6" };

const stats = { requests: 0, valid: 0, invalid: 0 };

async function auction(req: Request): Promise<Response> {
  stats.requests++;
  let value: unknown;
  try {
    value = JSON.parse(await req.text());
  } catch (err) {
    stats.invalid++;
    return new Response(JSON.stringify({ error: "invalid_request", reason: (err as Error).message }), { status: 400, headers: JSON_HEADERS });
  }
  const problem = validateBidRequest(value, MAX_IMPS);
  if (problem !== null) {
    stats.invalid++;
    return new Response(JSON.stringify({ error: "invalid_request", ...problem }), { status: 400, headers: JSON_HEADERS });
  }
  stats.valid++;
  return new Response(null, { status: 204, headers: ORTB_HEADERS });
}

function portFlag(argv: string[]): number {
  const i = argv.indexOf("--port");
  if (i < 0) return 0;
  const n = Number(argv[i + 1]);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`--port: expected 0..65535, got "${argv[i + 1]}"`);
  return n;
}

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: portFlag(process.argv.slice(2)),
  idleTimeout: 30,
  fetch(req) {
    const path = new URL(req.url).pathname;
    if (path === "/openrtb2/auction" && req.method === "POST") return auction(req);
    if (path === "/stats") return Response.json(stats);
    return new Response("not found", { status: 404 });
  },
});

let stopping = false;
function stop(): void {
  if (stopping) return;
  stopping = true;
  void server.stop(true).finally(() => process.exit(0));
}
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
process.stdin.on("end", stop);
process.stdin.on("close", stop);
process.stdin.resume();

console.log(JSON.stringify({ level: "info", msg: "baseline listening", url: `http://127.0.0.1:${server.port}`, pid: process.pid }));
