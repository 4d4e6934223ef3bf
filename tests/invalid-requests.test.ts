// Invalid bid requests against one real `tmax serve` process: every row must be answered 400 with
// { error: "invalid_request", nbr: 2, field, reason } naming the exact field; requests that are odd
// but valid OpenRTB must not be refused. The server must stay healthy and count no errors.
// HTTP-level limits (method, content type, size, encoding) are in http-limits.test.ts.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startSimDspProcess, startTmax, type Proc } from "./support/processes.ts";
import { bidRequest, metric, metrics, postAuction } from "./support/openrtb.ts";

let sim: Proc;
let tmax: Proc;

beforeAll(async () => {
  sim = await startSimDspProcess(["--latency-ms", "0", "--price", "1..2", "--bid-rate", "1"]);
  tmax = await startTmax({
    dsps: [{ id: "sim", endpoint: sim.url }],
    campaigns: [{ id: "c1", advertiserId: "adv1", dailyBudget: 1000, currency: "USD" }],
  }, 1);
});

afterAll(async () => {
  await tmax?.kill();
  await sim?.kill();
});

type Body = Record<string, unknown> | unknown[] | string;

/** A valid request with `edit` applied to a copy (delete a key by setting it to undefined). */
function req(edit: (r: any) => void): Record<string, unknown> {
  const r = bidRequest();
  edit(r);
  return r;
}

function imps(n: number, make: (i: number) => unknown = (i) => ({ id: String(i + 1), banner: { w: 300, h: 250 } })): unknown[] {
  return Array.from({ length: n }, (_, i) => make(i));
}

/** `{"a":{"a":...1...}}` nested `depth` objects deep, as JSON text (JSON.stringify of it may overflow). */
function nestedJson(depth: number): string {
  return '{"a":'.repeat(depth - 1) + "{}" + "}".repeat(depth - 1);
}

/** A valid request whose top-level `ext` is `depth` objects deep (so the deepest is at depth + 1). */
function deepExtRequest(depth: number): string {
  return JSON.stringify(bidRequest()).replace(/}$/, `,"ext":${nestedJson(depth)}}`);
}

const AT_REASON = "must be 1 (first price), 2 (second price) or an exchange-specific value >= 500";
const CHANNEL_REASON = "at most one of site, app, dooh may be present";

// [name, body, field, reason substring]
const INVALID: Array<[string, () => Body, string, string]> = [
  ["not JSON", () => "{not json", "(body)", "not valid JSON"],
  ["empty body", () => "", "(body)", "not valid JSON"],
  ["truncated JSON", () => JSON.stringify(bidRequest()).slice(0, -3), "(body)", "not valid JSON"],
  ["JSON array", () => [bidRequest()], "(root)", "must be a JSON object"],
  ["JSON string", () => '"hello"', "(root)", "must be a JSON object"],
  ["JSON null", () => "null", "(root)", "must be a JSON object"],
  ["missing id", () => req((r) => delete r.id), "id", "is required"],
  ["empty id", () => req((r) => (r.id = "")), "id", "greater or equal to 1"],
  ["id wrong type", () => req((r) => (r.id = 42)), "id", "expected string"],
  ["id too long", () => req((r) => (r.id = "x".repeat(129))), "id", "less or equal to 128"],
  ["id with a lone surrogate", () => req((r) => (r.id = "req-\ud800")), "id", "must be well-formed Unicode"],
  ["missing imp", () => req((r) => delete r.imp), "imp", "is required"],
  ["empty imp", () => req((r) => (r.imp = [])), "imp", "greater or equal to 1"],
  ["imp not array", () => req((r) => (r.imp = { id: "1", banner: {} })), "imp", "expected array"],
  ["imp entry not object", () => req((r) => (r.imp = ["1"])), "imp[0]", "expected object"],
  ["too many imps (11 > maxImps 10)", () => req((r) => (r.imp = imps(11))), "imp", "at most 10 imps per request, got 11"],
  ["10k imps", () => req((r) => (r.imp = imps(10_000, () => ({})))), "imp", "at most 10 imps per request, got 10000"],
  ["duplicate imp ids", () => req((r) => (r.imp = imps(3, (i) => ({ id: i === 2 ? "1" : String(i + 1), banner: {} })))), "imp[2].id", 'duplicate imp id "1"'],
  ["imp without media", () => req((r) => (r.imp = [{ id: "1", bidfloor: 1 }])), "imp[0]", "must have at least one of banner, video, audio, native"],
  ["second imp without media", () => req((r) => (r.imp = [{ id: "1", video: {} }, { id: "2", ext: {} }])), "imp[1]", "must have at least one of banner, video, audio, native"],
  ["imp.id empty", () => req((r) => (r.imp[0].id = "")), "imp[0].id", "greater or equal to 1"],
  ["imp.id missing", () => req((r) => delete r.imp[0].id), "imp[0].id", "is required"],
  ["imp.id with a lone surrogate", () => req((r) => (r.imp = [{ id: "1", banner: {} }, { id: "\udc00", banner: {} }])), "imp[1].id", "must be well-formed Unicode"],
  ["imp.id number", () => req((r) => (r.imp[0].id = 1)), "imp[0].id", "expected string"],
  ["banner not object", () => req((r) => (r.imp[0].banner = [300, 250])), "imp[0].banner", "expected object"],
  ["banner.w 0", () => req((r) => (r.imp[0].banner.w = 0)), "imp[0].banner.w", "greater or equal to 1"],
  ["banner.w negative", () => req((r) => (r.imp[0].banner.w = -300)), "imp[0].banner.w", "greater or equal to 1"],
  ["banner.w fractional", () => req((r) => (r.imp[0].banner.w = 300.5)), "imp[0].banner.w", "expected integer"],
  ["banner.h string", () => req((r) => (r.imp[0].banner.h = "250")), "imp[0].banner.h", "expected integer"],
  ["imp[1].banner.w 0", () => req((r) => (r.imp = [{ id: "1", banner: { w: 300, h: 250 } }, { id: "2", banner: { w: 0, h: 250 } }])), "imp[1].banner.w", "greater or equal to 1"],
  ["banner.format[0].w 0", () => req((r) => (r.imp[0].banner = { format: [{ w: 0, h: 250 }] })), "imp[0].banner.format[0].w", "greater or equal to 1"],
  ["banner.format[1].h negative", () => req((r) => (r.imp[0].banner = { format: [{ w: 300, h: 250 }, { w: 728, h: -90 }] })), "imp[0].banner.format[1].h", "greater or equal to 1"],
  ["banner.format not array", () => req((r) => (r.imp[0].banner = { format: { w: 300, h: 250 } })), "imp[0].banner.format", "expected array"],
  ["video.w 0", () => req((r) => (r.imp[0] = { id: "1", video: { w: 0, h: 480, mimes: ["video/mp4"] } })), "imp[0].video.w", "greater or equal to 1"],
  ["video.mimes entry not string", () => req((r) => (r.imp[0] = { id: "1", video: { mimes: ["video/mp4", 4] } })), "imp[0].video.mimes[1]", "expected string"],
  ["native.request number", () => req((r) => (r.imp[0] = { id: "1", native: { request: 5 } })), "imp[0].native.request", "must be a string or an object"],
  ["bidfloor negative", () => req((r) => (r.imp[0].bidfloor = -0.01)), "imp[0].bidfloor", "greater or equal to 0"],
  ["bidfloor string", () => req((r) => (r.imp[0].bidfloor = "0.5")), "imp[0].bidfloor", "expected number"],
  ["bidfloorcur EUR", () => req((r) => (r.imp[0].bidfloorcur = "EUR")), "imp[0].bidfloorcur", "only USD is supported"],
  ["secure 2", () => req((r) => (r.imp[0].secure = 2)), "imp[0].secure", "less or equal to 1"],
  ["tmax negative", () => req((r) => (r.tmax = -1)), "tmax", "greater or equal to 0"],
  ["tmax string", () => req((r) => (r.tmax = "100")), "tmax", "expected integer"],
  ["tmax fractional", () => req((r) => (r.tmax = 99.5)), "tmax", "expected integer"],
  ["at 3", () => req((r) => (r.at = 3)), "at", AT_REASON],
  ["at 0", () => req((r) => (r.at = 0)), "at", AT_REASON],
  ["at 499", () => req((r) => (r.at = 499)), "at", AT_REASON],
  ["at -1", () => req((r) => (r.at = -1)), "at", AT_REASON],
  ["at string", () => req((r) => (r.at = "2")), "at", "expected integer"],
  ["site + app", () => req((r) => (r.app = { bundle: "com.example" })), "app", `${CHANNEL_REASON} (got site, app)`],
  ["app + dooh", () => req((r) => { delete r.site; r.app = { bundle: "com.example" }; r.dooh = { id: "screen-1" }; }), "dooh", `${CHANNEL_REASON} (got app, dooh)`],
  ["site + dooh", () => req((r) => (r.dooh = {})), "dooh", `${CHANNEL_REASON} (got site, dooh)`],
  ["site not object", () => req((r) => (r.site = "news.example")), "site", "expected object"],
  ["site null", () => req((r) => (r.site = null)), "site", "expected object"],
  ["site.publisher not object", () => req((r) => (r.site.publisher = "pub-1")), "site.publisher", "expected object"],
  ["device.ua number", () => req((r) => (r.device.ua = 5)), "device.ua", "expected string"],
  ["device.geo.lat string", () => req((r) => (r.device.geo = { lat: "52.5" })), "device.geo.lat", "expected number"],
  ["user not object", () => req((r) => (r.user = ["u1"])), "user", "expected object"],
  ["cur [EUR]", () => req((r) => (r.cur = ["EUR"])), "cur", "must include USD"],
  ["cur not array", () => req((r) => (r.cur = "USD")), "cur", "expected array"],
  ["badv not array", () => req((r) => (r.badv = "bad.example")), "badv", "expected array"],
  ["bcat entry not string", () => req((r) => (r.bcat = ["IAB25", 7])), "bcat[1]", "expected string"],
  ["test 2", () => req((r) => (r.test = 2)), "test", "less or equal to 1"],
  ["source not object", () => req((r) => (r.source = 1)), "source", "expected object"],
  ["ext nested 100 deep", () => deepExtRequest(100), "ext" + ".a".repeat(63), "nested deeper than 64 levels"],
  ["ext nested 40000 deep (near the body limit)", () => deepExtRequest(40_000), "ext" + ".a".repeat(63), "nested deeper than 64 levels"],
  ["array nested 200 deep", () => JSON.stringify(bidRequest()).replace(/}$/, `,"ext":${"[".repeat(200)}${"]".repeat(200)}}`), "ext" + "[0]".repeat(63), "nested deeper than 64 levels"],
];

// Odd but valid: must not be refused. [name, body]
const VALID: Array<[string, () => Record<string, unknown> | string]> = [
  ["unknown top-level fields", () => req((r) => { r.ext = { prebid: { x: 1 } }; r.somethingNew = [1, "two", { three: 3 }]; r.regs = { coppa: 0 }; })],
  ["unknown nested fields", () => req((r) => {
    r.site.ext = { amp: 1 }; r.site.publisher.ext = { k: "v" }; r.device.geo = { country: "DEU", ext: {} }; r.user.ext = { eids: [{ source: "x", uids: [{ id: "1" }] }] };
    r.imp[0].ext = { gpid: "/1/home" }; r.imp[0].banner.zzz = true; r.imp[0].pmp = { deals: [] };
  })],
  ["at 500", () => req((r) => (r.at = 500))],
  ["at 1", () => req((r) => (r.at = 1))],
  ["at absent", () => req((r) => delete r.at)],
  ["cur []", () => req((r) => (r.cur = []))],
  ["cur [EUR, USD]", () => req((r) => (r.cur = ["EUR", "USD"]))],
  ["tmax 0 (default tmax)", () => req((r) => (r.tmax = 0))],
  ["bidfloor 0, bidfloorcur USD", () => req((r) => { r.imp[0].bidfloor = 0; r.imp[0].bidfloorcur = "USD"; })],
  ["exactly maxImps (10) imps", () => req((r) => (r.imp = imps(10)))],
  ["app instead of site", () => req((r) => { delete r.site; r.app = { bundle: "com.example", publisher: { id: "pub-2" } }; })],
  ["dooh instead of site", () => req((r) => { delete r.site; r.dooh = { id: "screen-1" }; })],
  ["no site/app/dooh", () => req((r) => delete r.site)],
  ["video, audio and native imps", () => req((r) => (r.imp = [
    { id: "v", video: { w: 640, h: 480, mimes: ["video/mp4"] } }, { id: "a", audio: { mimes: ["audio/mp4"] } },
    { id: "n", native: { request: "{\"ver\":\"1.2\"}" } }, { id: "n2", native: { request: { ver: "1.2", assets: [] } } },
  ]))],
  ["test 1", () => req((r) => (r.test = 1))],
  ["non-ASCII ids (emoji, umlaut)", () => req((r) => { r.id = `req-😀-${crypto.randomUUID()}`; r.imp[0].id = "ü/1?&"; })],
  ["ext nested 30 deep", () => deepExtRequest(30)],
];

describe("invalid bid requests are answered 400 naming the field", () => {
  test.each(INVALID)("%s", async (_name, make, field, reason) => {
    const res = await postAuction(tmax.url, make());
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toStartWith("application/json");
    expect(res.json.error).toBe("invalid_request");
    expect(res.json.nbr).toBe(2);
    expect(res.json.field).toBe(field);
    expect(res.json.reason).toContain(reason);
  });
});

describe("odd but valid requests are not refused", () => {
  test.each(VALID)("%s", async (_name, make) => {
    const body = make();
    const res = await postAuction(tmax.url, body);
    if (res.status === 400) throw new Error(`refused: ${JSON.stringify(res.json)}`);
    expect([200, 204]).toContain(res.status);
    const id = (typeof body === "string" ? JSON.parse(body) : body).id;
    if (res.status === 200) expect(res.json.id).toBe(id);
  });
});

describe("after the whole table", () => {
  test("the server is healthy, still bids, and counted every refusal as invalid and nothing as an error", async () => {
    const health = await fetch(`${tmax.url}/healthz`);
    expect(health.status).toBe(200);
    expect(((await health.json()) as { status: string }).status).toBe("ok");

    const body = bidRequest();
    const res = await postAuction(tmax.url, body);
    expect(res.status).toBe(200);
    expect(res.json.id).toBe(body.id);
    expect(res.json.seatbid[0].bid[0].cid).toBe("c1");

    const text = await metrics(tmax.url);
    expect(metric(text, 'tmax_requests_total{outcome="error"}')).toBe(0);
    expect(metric(text, 'tmax_requests_total{outcome="invalid"}')).toBe(INVALID.length);
    expect(metric(text, 'tmax_requests_total{outcome="bid"}') + metric(text, 'tmax_requests_total{outcome="nobid"}')).toBe(VALID.length + 1);
    expect(tmax.output()).not.toContain('"level":"error"');
  });
});
