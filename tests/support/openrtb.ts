import { scanOutboxRecords } from "../../src/audit/query/index.ts";
// Building bid requests and reading answers in tests.
export function bidRequest(overrides: Record<string, unknown> = {}, imp: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id: `req-${crypto.randomUUID()}`,
    imp: [{ id: "1", banner: { w: 300, h: 250 }, bidfloor: 0.1, ...imp }],
    site: { domain: "news.example", publisher: { id: "pub-1" } },
    device: { ua: "Mozilla/5.0", ip: "203.0.113.7" },
    user: { id: "u1" },
    at: 2,
    tmax: 100,
    ...overrides,
  };
}

export async function postAuction(baseUrl: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: any; headers: Headers; ms: number }> {
  const started = performance.now();
  const res = await fetch(`${baseUrl}/openrtb2/auction`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" || body instanceof Uint8Array ? body : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text === "" ? null : JSON.parse(text), headers: res.headers, ms: performance.now() - started };
}

/** Reads one sample from Prometheus text, e.g. metric(text, 'tmax_requests_total{outcome="bid"}'). */
export function metric(text: string, sample: string): number {
  const line = text.split("\n").find((l) => l.startsWith(sample + " "));
  if (line === undefined) throw new Error(`metric ${sample} not found`);
  return Number(line.slice(sample.length + 1));
}

export async function metrics(baseUrl: string): Promise<string> {
  return await (await fetch(`${baseUrl}/metrics`)).text();
}

/** Every event in an audit directory's outboxes (all workers), read straight from the segment files. */
export async function readAudit(dir: string): Promise<any[]> {
  const events: any[] = [];
  await scanOutboxRecords(dir, (_worker, _segment, _offset, payload) => events.push(JSON.parse(payload.toString("utf8"))));
  return events;
}
