import { afterEach, describe, expect, test } from "bun:test";
import { parseSimDspArgs, startSimDsp, type SimDsp, type SimDspOptions } from "./dsp-sim.ts";
import { makeBidRequest, makeRng } from "./requests.ts";

const started: SimDsp[] = [];
afterEach(async () => { await Promise.all(started.splice(0).map((d) => d.stop())); });

function sim(o: Partial<SimDspOptions>): SimDsp {
  const d = startSimDsp({ latencyMs: [0, 0], seed: 1, ...o });
  started.push(d);
  return d;
}

function post(url: string, body: unknown, timeoutMs = 3000): Promise<Response> {
  return fetch(url, { method: "POST", body: JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs) });
}

describe("sim-dsp answers", () => {
  test("bids carry the request id, existing impids, rounded prices and notice URLs", async () => {
    const d = sim({ bidRate: 1, campaigns: ["c1", "c2"] });
    const req = makeBidRequest(makeRng(3), { imps: 3 }) as any;
    const res = await post(d.url, req);
    expect(res.status).toBe(200);
    expect(res.headers.get("x-openrtb-version")).toBe("2.6");
    const br = (await res.json()) as any;
    expect(br.id).toBe(req.id);
    expect(br.cur).toBe("USD");
    expect(br.seatbid[0].seat).toBe("sim");
    const bids = br.seatbid[0].bid;
    expect(bids.map((b: any) => b.impid).sort()).toEqual(["1", "2", "3"]);
    expect(new Set(bids.map((b: any) => b.id)).size).toBe(3);
    for (const b of bids) {
      expect(b.price).toBeGreaterThanOrEqual(0.5);
      expect(b.price).toBeLessThanOrEqual(5);
      expect(Math.round(b.price * 10000) / 10000).toBe(b.price);
      expect(["c1", "c2"]).toContain(b.cid);
      expect(b.adomain).toEqual([`${b.cid}-brand.example`]);
      expect(b.adm).toStartWith("<div");
      expect(b.w).toBeGreaterThan(0);
      expect(b.nurl).toBe(`http://127.0.0.1:${d.port}/win?price=\${AUCTION_PRICE}`);
      expect(b.burl).toContain("${AUCTION_ID}");
      expect(b.lurl).toContain("${AUCTION_LOSS}");
    }
    expect(d.stats()).toMatchObject({ requests: 1, bids: 3, nobids: 0 });
  });

  test("fixed price, adomain and cat overrides", async () => {
    const d = sim({ bidRate: 1, fixedPriceCpm: 1.23456, adomain: ["x.example"], cat: ["IAB2"], seat: "s9" });
    const br = (await (await post(d.url, makeBidRequest(makeRng(4), { imps: 2 }))).json()) as any;
    expect(br.seatbid[0].seat).toBe("s9");
    for (const b of br.seatbid[0].bid) {
      expect(b.price).toBe(1.2346);
      expect(b.adomain).toEqual(["x.example"]);
      expect(b.cat).toEqual(["IAB2"]);
    }
  });

  test("bidRate 0 answers 204 with an empty body", async () => {
    const d = sim({ bidRate: 0 });
    const res = await post(d.url, makeBidRequest(makeRng(5)));
    expect(res.status).toBe(204);
    expect(await res.text()).toBe("");
    expect(d.stats()).toMatchObject({ requests: 1, bids: 0, nobids: 1 });
  });

  test("errorRate 1 answers 500 or malformed JSON, both kinds", async () => {
    const d = sim({ errorRate: 1 });
    const kinds = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const res = await post(d.url, makeBidRequest(makeRng(i)));
      const text = await res.text();
      if (res.status === 500) { kinds.add("500"); continue; }
      expect(() => JSON.parse(text)).toThrow();
      kinds.add("malformed");
    }
    expect([...kinds].sort()).toEqual(["500", "malformed"]);
    expect(d.stats().errors).toBe(20);
  });

  test("latency is honoured", async () => {
    const d = sim({ latencyMs: [60, 70], bidRate: 1 });
    const t = performance.now();
    const res = await post(d.url, makeBidRequest(makeRng(6)));
    await res.text();
    const took = performance.now() - t;
    expect(took).toBeGreaterThanOrEqual(58);
    expect(took).toBeLessThan(500);
  });

  test("timeoutRate 1 holds the answer past the caller's deadline", async () => {
    const d = sim({ timeoutRate: 1 });
    const t = performance.now();
    await expect(post(d.url, makeBidRequest(makeRng(7)), 200)).rejects.toThrow();
    expect(performance.now() - t).toBeGreaterThanOrEqual(190);
    expect(d.stats().timeouts).toBe(1);
  });

  test("answer hook scripts odd answers; malformed requests get 400", async () => {
    const d = sim({ answer: (r) => (r.json?.id === "odd" ? { status: 200, body: '{"id":"other"}' } : undefined), bidRate: 0 });
    const odd = await post(d.url, { id: "odd", imp: [] });
    expect(await odd.text()).toBe('{"id":"other"}');
    expect((await post(d.url, makeBidRequest(makeRng(8)))).status).toBe(204);
    const bad = await fetch(d.url, { method: "POST", body: "{not json" });
    expect(bad.status).toBe(400);
  });

  test("healthz and notice endpoints", async () => {
    const d = sim({});
    const base = `http://127.0.0.1:${d.port}`;
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect((await fetch(`${base}/win?price=1.5`)).status).toBe(200);
    expect((await fetch(`${base}/loss?reason=102`)).status).toBe(200);
    expect(d.stats()).toMatchObject({ wins: 1, losses: 1, requests: 0 });
  });
});

describe("parseSimDspArgs", () => {
  test("valid flags", () => {
    const o = parseSimDspArgs(["--port", "9001", "--latency-ms", "10..30", "--bid-rate", "0.5", "--price=1..2",
      "--campaigns", "c1,c2", "--error-rate", "0.1", "--timeout-rate", "0.05", "--seed", "42", "--seat", "dspA"]);
    expect(o).toMatchObject({ port: 9001, latencyMs: [10, 30], bidRate: 0.5, priceCpm: [1, 2], campaigns: ["c1", "c2"],
      errorRate: 0.1, timeoutRate: 0.05, seed: 42, seat: "dspA" });
    expect(parseSimDspArgs(["--latency-ms", "25"]).latencyMs).toEqual([25, 25]);
    expect(parseSimDspArgs([])).toMatchObject({ port: 0, latencyMs: [20, 80], bidRate: 0.8, campaigns: ["c1"], seat: "sim" });
  });

  test("invalid flags throw naming the flag", () => {
    const bad: Array<[string[], RegExp]> = [
      [["--port", "70000"], /--port.*range/],
      [["--port", "abc"], /--port.*not a number/],
      [["--latency-ms", "80..20"], /--latency-ms.*>/],
      [["--latency-ms", "-5"], /--latency-ms/],
      [["--bid-rate", "1.5"], /--bid-rate.*range/],
      [["--price", "x..2"], /--price/],
      [["--campaigns", ","], /--campaigns.*empty/],
      [["--error-rate"], /--error-rate.*missing/],
      [["--timeout-rate", "-0.1"], /--timeout-rate/],
      [["--seed", "1.5"], /--seed.*integer/],
      [["--bogus", "1"], /--bogus.*unknown/],
    ];
    for (const [argv, re] of bad) expect(() => parseSimDspArgs(argv)).toThrow(re);
  });
});
