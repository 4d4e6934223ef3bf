import { afterEach, describe, expect, test } from "bun:test";
import { formatSummary, makeBodyFactory, normaliseTarget, parseLoadArgs, runLoad } from "./load.ts";

type Stop = () => void | Promise<void>;
const cleanups: Stop[] = [];
afterEach(async () => { for (const c of cleanups.splice(0)) await c(); });

function stub(handler: (r: Request, n: number) => Response | Promise<Response>): string {
  let n = 0;
  const s = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: async (r) => { await r.text(); return handler(r, ++n); } });
  cleanups.push(() => s.stop(true));
  return `http://127.0.0.1:${s.port}/openrtb2/auction`;
}

/** A stub in its own process whose event loop freezes for 300 ms at the 200th request: a real server stall. */
async function stallingStubProcess(): Promise<string> {
  const code = `let n = 0; const s = Bun.serve({ port: 0, hostname: "127.0.0.1", async fetch(r) { await r.text();
    if (++n === 200) { const t = performance.now(); while (performance.now() - t < 300) {} }
    return new Response(null, { status: 204 }); } }); console.log(s.port);`;
  const p = Bun.spawn([process.execPath, "-e", code], { stdout: "pipe", stderr: "inherit" });
  cleanups.push(() => { p.kill(); });
  const reader = p.stdout.getReader();
  let out = "";
  while (!out.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("stub process exited");
    out += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return `http://127.0.0.1:${out.trim()}/openrtb2/auction`;
}

const quiet = () => {};

describe("runLoad", () => {
  for (const client of ["http-pool", "fetch"] as const) test(`${client}: open loop at 200 rps for 2 s sends ~400, plausible latencies`, async () => {
    let bodies = 0, badHeader = 0;
    const target = stub(async (r) => {
      bodies++;
      if (r.headers.get("x-openrtb-version") !== "2.6") badHeader++;
      await Bun.sleep(5);
      return new Response(null, { status: 204 });
    });
    const lines: string[] = [];
    const s = await runLoad({ target, rps: 200, durationS: 2, client, onProgress: (l) => lines.push(l) });
    expect(s.client).toBe(client);
    expect(Math.abs(s.sent - 400)).toBeLessThanOrEqual(20);
    expect(s.nobid).toBe(s.sent);
    expect(s.ok + s.errors + s.dropped).toBe(0);
    expect(bodies).toBe(s.sent);
    expect(badHeader).toBe(0);
    expect(s.p50).toBeGreaterThanOrEqual(4.5);
    expect(s.p50).toBeLessThan(50);
    expect(s.p99).toBeLessThan(100);
    expect(s.max).toBeGreaterThanOrEqual(s.p99);
    expect(Math.abs(s.rps - 200)).toBeLessThan(10);
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines[0]).toMatch(/^t=1s sent=\d+ ok=0 nobid=\d+ errors=0 .*rps=\d+ p99_1s=[\d.]+ms$/);
    expect(JSON.parse(formatSummary(s))).toEqual(s);
    expect(formatSummary(s)).not.toContain("\n");
  });

  test("a 300 ms server stall shows in p99 (no coordinated omission)", async () => {
    const target = await stallingStubProcess();
    const s = await runLoad({ target, rps: 200, durationS: 2, onProgress: quiet });
    expect(s.nobid).toBe(s.sent);
    expect(s.p50).toBeLessThan(50);
    expect(s.p99).toBeGreaterThanOrEqual(200);
    expect(s.max).toBeGreaterThanOrEqual(250);
  });

  test("a stall of the generator itself is measured from intended send times", async () => {
    const target = stub(() => new Response(null, { status: 204 }));
    setTimeout(() => { const t = performance.now(); while (performance.now() - t < 300) {} }, 1000);
    const s = await runLoad({ target, rps: 200, durationS: 2, onProgress: quiet });
    expect(Math.abs(s.sent - 400)).toBeLessThanOrEqual(20); // caught up after the stall
    expect(s.p99).toBeGreaterThanOrEqual(200);
  });

  test("status classes and maxInFlight drops", async () => {
    const target = stub((_r, n) => new Response(n % 2 ? "{}" : "boom", { status: n % 2 ? 200 : 500 }));
    const s = await runLoad({ target, rps: 100, durationS: 1, onProgress: quiet });
    expect(s.ok + s.errors).toBe(s.sent);
    expect(Math.abs(s.ok - s.errors)).toBeLessThanOrEqual(1);

    const slow = stub(async () => { await Bun.sleep(100); return new Response(null, { status: 204 }); });
    const d = await runLoad({ target: slow, rps: 100, durationS: 1, maxInFlight: 2, timeoutMs: 400, onProgress: quiet });
    expect(d.dropped).toBeGreaterThan(50);
    expect(d.sent + d.dropped).toBe(100);
    expect(d.nobid).toBe(d.sent);
    expect(d.p90).toBeGreaterThanOrEqual(390); // drops recorded at the timeout
  });

  test("timeouts count as errors", async () => {
    const target = stub(async () => { await Bun.sleep(300); return new Response(null, { status: 204 }); });
    const s = await runLoad({ target, rps: 50, durationS: 0.4, timeoutMs: 50, onProgress: quiet });
    expect(s.sent).toBe(20);
    expect(s.errors).toBe(20);
    expect(s.timeouts).toBe(20);
  });
});

describe("bodies and flags", () => {
  test("body factory gives valid JSON with unique ids", () => {
    const body = makeBodyFactory(3, 2);
    const seen = new Set<string>(), tids = new Set<string>();
    for (let i = 0; i < 600; i++) {
      const r = JSON.parse(body(i));
      seen.add(r.id); tids.add(r.source.tid);
      expect(r.imp.length).toBe(2);
    }
    expect(seen.size).toBe(600);
    expect(tids.size).toBe(600);
  });

  test("normaliseTarget appends the auction path to a bare origin", () => {
    expect(normaliseTarget("http://127.0.0.1:8080")).toBe("http://127.0.0.1:8080/openrtb2/auction");
    expect(normaliseTarget("http://h:1/x")).toBe("http://h:1/x");
  });

  test("parseLoadArgs", () => {
    expect(parseLoadArgs(["--target", "http://127.0.0.1:8080/openrtb2/auction", "--rps", "500", "--duration=10", "--seed", "3", "--imps", "2"]))
      .toMatchObject({ target: "http://127.0.0.1:8080/openrtb2/auction", rps: 500, durationS: 10, seed: 3, imps: 2 });
    const bad: Array<[string[], RegExp]> = [
      [["--rps", "5", "--duration", "1"], /--target.*required/],
      [["--target", "nope", "--rps", "5", "--duration", "1"], /--target.*URL/],
      [["--target", "http://h/", "--rps", "0", "--duration", "1"], /--rps/],
      [["--target", "http://h/", "--rps", "5", "--duration", "x"], /--duration/],
      [["--target", "http://h/", "--rps", "5", "--duration", "1", "--imps", "1.5"], /--imps.*integer/],
      [["--target", "http://h/", "--rps", "5"], /--duration.*required/],
      [["--target", "http://h/", "--rps"], /--rps.*missing/],
      [["--what", "1"], /--what.*unknown/],
      [["--client", "curl"], /--client.*http-pool or fetch/],
    ];
    for (const [argv, re] of bad) expect(() => parseLoadArgs(argv)).toThrow(re);
  });
});
