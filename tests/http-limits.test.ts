// HTTP-level refusals of the auction endpoint against one real `tmax serve` process with a small
// body limit (server.maxBodyBytes 4096): wrong method 405 (Allow: POST), wrong content type 415,
// oversize body 413 (plain, chunked, and gzip that inflates past the limit), unsupported encoding
// 415, corrupt gzip 400. Never a 500, never a crash: the server is checked healthy at the end.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { gzipSync } from "node:zlib";
import { startSimDspProcess, startTmax, type Proc } from "./support/processes.ts";
import { bidRequest, metric, metrics, postAuction } from "./support/openrtb.ts";

const MAX_BODY = 4096;
/** Requests below that reach the handler and are refused (405/413/415/400), each counted "invalid". */
const REFUSALS = 19;
let sim: Proc;
let tmax: Proc;
let auctionUrl: string;

beforeAll(async () => {
  sim = await startSimDspProcess(["--latency-ms", "0", "--price", "1..2", "--bid-rate", "1"]);
  tmax = await startTmax({
    server: { maxBodyBytes: MAX_BODY },
    dsps: [{ id: "sim", endpoint: sim.url }],
    campaigns: [{ id: "c1", advertiserId: "adv1", dailyBudget: 1000, currency: "USD" }],
  }, 1);
  auctionUrl = `${tmax.url}/openrtb2/auction`;
});

afterAll(async () => {
  await tmax?.kill();
  await sim?.kill();
});

const encoder = new TextEncoder();
const JSON_TYPE = { "content-type": "application/json" };

/** A valid request's JSON padded with trailing spaces to exactly `bytes` bytes. */
function paddedRequest(bytes: number): { id: string; text: string } {
  const req = bidRequest();
  const text = JSON.stringify(req);
  if (text.length > bytes) throw new Error("request larger than the padding target");
  return { id: req.id as string, text: text + " ".repeat(bytes - text.length) };
}

/** A body sent with Transfer-Encoding: chunked (no Content-Length), in 1 KiB chunks. */
function chunked(bytes: Uint8Array): ReadableStream<Uint8Array> {
  return new ReadableStream({
    start(controller) {
      for (let at = 0; at < bytes.length; at += 1024) controller.enqueue(bytes.slice(at, at + 1024));
      controller.close();
    },
  });
}

async function send(init: RequestInit): Promise<{ status: number; json: any; headers: Headers }> {
  const res = await fetch(auctionUrl, init);
  const text = await res.text();
  return { status: res.status, json: text === "" ? null : JSON.parse(text), headers: res.headers };
}

function expectRefusal(res: { json: any }, field: string, reason: string): void {
  expect(res.json.error).toBe("invalid_request");
  expect(res.json.nbr).toBe(2);
  expect(res.json.field).toBe(field);
  expect(res.json.reason).toContain(reason);
}

describe("method", () => {
  test.each(["GET", "PUT", "DELETE", "PATCH", "OPTIONS"])("%s -> 405 with Allow: POST", async (method) => {
    const res = await send({ method, ...(method === "GET" ? {} : { headers: JSON_TYPE, body: JSON.stringify(bidRequest()) }) });
    expect(res.status).toBe(405);
    expect(res.headers.get("allow")).toBe("POST");
    expectRefusal(res, "(method)", `method ${method} not allowed; use POST`);
  });
});

describe("content type", () => {
  test("text/plain -> 415", async () => {
    const res = await send({ method: "POST", headers: { "content-type": "text/plain" }, body: JSON.stringify(bidRequest()) });
    expect(res.status).toBe(415);
    expectRefusal(res, "(content-type)", "content type must be application/json, got text/plain");
  });

  test("missing content type -> 415", async () => {
    const res = await send({ method: "POST", body: encoder.encode(JSON.stringify(bidRequest())) });
    expect(res.status).toBe(415);
    expectRefusal(res, "(content-type)", "got none");
  });

  test("application/jsonx -> 415", async () => {
    const res = await send({ method: "POST", headers: { "content-type": "application/jsonx" }, body: JSON.stringify(bidRequest()) });
    expect(res.status).toBe(415);
    expectRefusal(res, "(content-type)", "got application/jsonx");
  });

  test("application/json; charset=utf-8 (any case) is accepted", async () => {
    const req = bidRequest();
    const res = await postAuction(tmax.url, req, { "content-type": "Application/JSON; charset=utf-8" });
    expect(res.status).toBe(200);
    expect(res.json.id).toBe(req.id);
  });
});

describe("body size (server.maxBodyBytes 4096)", () => {
  test("exactly the limit is accepted", async () => {
    const { id, text } = paddedRequest(MAX_BODY);
    const res = await postAuction(tmax.url, encoder.encode(text));
    expect(res.status).toBe(200);
    expect(res.json.id).toBe(id);
  });

  test("one byte over the limit -> 413", async () => {
    const res = await postAuction(tmax.url, encoder.encode(paddedRequest(MAX_BODY + 1).text));
    expect(res.status).toBe(413);
    expectRefusal(res, "(body)", `body larger than ${MAX_BODY} bytes`);
  });

  // Past Bun's maxRequestBodySize (2 x maxBodyBytes) Bun itself answers 413 (no JSON body) before
  // the handler runs, so this one is not counted in tmax_requests_total.
  test("far over the limit (256 KiB) -> 413", async () => {
    const res = await postAuction(tmax.url, encoder.encode(paddedRequest(256 * 1024).text));
    expect(res.status).toBe(413);
  });

  test("chunked, no content-length, just over the limit -> 413", async () => {
    const res = await send({ method: "POST", headers: JSON_TYPE, body: chunked(encoder.encode(paddedRequest(MAX_BODY + 500).text)) });
    expect(res.status).toBe(413);
    expectRefusal(res, "(body)", `body larger than ${MAX_BODY} bytes`);
  });

  test("chunked, no content-length, far over the limit -> 413", async () => {
    // The handler runs (no content-length to refuse early); Bun stops the read past 2 x maxBodyBytes.
    const res = await send({ method: "POST", headers: JSON_TYPE, body: chunked(encoder.encode(paddedRequest(64 * 1024).text)) });
    expect(res.status).toBe(413);
  });
});

describe("content encoding", () => {
  test("gzip-encoded valid request is answered", async () => {
    const req = bidRequest();
    const res = await postAuction(tmax.url, gzipSync(JSON.stringify(req)), { "content-encoding": "gzip" });
    expect(res.status).toBe(200);
    expect(res.json.id).toBe(req.id);
  });

  test("gzip (upper case) whose inflated size is exactly the limit is answered", async () => {
    const { id, text } = paddedRequest(MAX_BODY);
    const res = await postAuction(tmax.url, gzipSync(text), { "content-encoding": "GZIP" });
    expect(res.status).toBe(200);
    expect(res.json.id).toBe(id);
  });

  test("gzip that inflates one byte past the limit -> 413", async () => {
    const res = await postAuction(tmax.url, gzipSync(paddedRequest(MAX_BODY + 1).text), { "content-encoding": "gzip" });
    expect(res.status).toBe(413);
    expectRefusal(res, "(body)", `body larger than ${MAX_BODY} bytes`);
  });

  test("gzip bomb (2 KiB inflating to 2 MiB) -> 413", async () => {
    const bomb = gzipSync(new Uint8Array(2 * 1024 * 1024).fill(0x20));
    expect(bomb.length).toBeLessThan(MAX_BODY); // so it is the inflated size that is refused
    const res = await postAuction(tmax.url, bomb, { "content-encoding": "gzip" });
    expect(res.status).toBe(413);
    expectRefusal(res, "(body)", `body larger than ${MAX_BODY} bytes`);
  });

  test("br -> 415", async () => {
    const res = await postAuction(tmax.url, JSON.stringify(bidRequest()), { "content-encoding": "br" });
    expect(res.status).toBe(415);
    expectRefusal(res, "(content-encoding)", "content encoding br not supported");
  });

  test("deflate -> 415", async () => {
    const res = await postAuction(tmax.url, JSON.stringify(bidRequest()), { "content-encoding": "deflate" });
    expect(res.status).toBe(415);
    expectRefusal(res, "(content-encoding)", "content encoding deflate not supported");
  });

  test("corrupt gzip -> 400", async () => {
    const res = await postAuction(tmax.url, encoder.encode(JSON.stringify(bidRequest())), { "content-encoding": "gzip" });
    expect(res.status).toBe(400);
    expectRefusal(res, "(body)", "gzip body could not be inflated");
  });

  test("truncated gzip -> 400", async () => {
    const gz = gzipSync(JSON.stringify(bidRequest()));
    const res = await postAuction(tmax.url, gz.subarray(0, gz.length - 10), { "content-encoding": "gzip" });
    expect(res.status).toBe(400);
    expectRefusal(res, "(body)", "gzip body could not be inflated");
  });

  test("gzip of non-JSON -> 400", async () => {
    const res = await postAuction(tmax.url, gzipSync("not json at all"), { "content-encoding": "gzip" });
    expect(res.status).toBe(400);
    expectRefusal(res, "(body)", "not valid JSON");
  });

  test("gzip of an invalid request is validated after inflating -> 400 naming the field", async () => {
    const req = bidRequest({}, { banner: { w: 0, h: 250 } });
    const res = await postAuction(tmax.url, gzipSync(JSON.stringify(req)), { "content-encoding": "gzip" });
    expect(res.status).toBe(400);
    expectRefusal(res, "imp[0].banner.w", "greater or equal to 1");
  });
});

describe("after all refusals", () => {
  test("the server is healthy, still bids, and counted no errors", async () => {
    const health = await fetch(`${tmax.url}/healthz`);
    expect(health.status).toBe(200);
    const req = bidRequest();
    const res = await postAuction(tmax.url, req);
    expect(res.status).toBe(200);
    expect(res.json.id).toBe(req.id);
    const text = await metrics(tmax.url);
    expect(metric(text, 'tmax_requests_total{outcome="error"}')).toBe(0);
    expect(metric(text, 'tmax_requests_total{outcome="invalid"}')).toBe(REFUSALS);
    expect(tmax.output()).not.toContain('"level":"error"');
  });
});
