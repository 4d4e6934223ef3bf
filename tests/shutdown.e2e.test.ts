// Graceful shutdown through real processes: SIGTERM while auctions are in flight. Every accepted
// auction is finished (DSP answer used, decision, audit record, 200 answer), the outbox holds every
// win after exit, the process exits 0, and a connection attempted during the drain never hangs.
import { connect, type Socket } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startSimDspProcess, startTmax, type Proc } from "./support/processes.ts";
import { bidRequest, postAuction, readAudit } from "./support/openrtb.ts";

let dsp: Proc;

beforeAll(async () => {
  dsp = await startSimDspProcess(["--latency-ms", "150", "--bid-rate", "1", "--fixed-price", "2", "--campaigns", "c1", "--seat", "slow"]);
});

afterAll(async () => {
  await dsp?.kill();
});

function startSlowTmax(server: Record<string, unknown> = {}) {
  return startTmax({
    server,
    auction: { dspTimeoutMs: 300 },
    dsps: [{ id: "slow", endpoint: dsp.url }],
    campaigns: [{ id: "c1", advertiserId: "adv-1", dailyBudget: 1000, currency: "USD" }],
  });
}

/** A raw HTTP/1.1 connection: what it received, and how it ended ("end" = the server's FIN, "error: ..." = reset). */
function rawConnection(port: number, host: string) {
  const socket: Socket = connect(port, host);
  let received = "";
  const waiters: Array<() => void> = [];
  socket.on("data", (chunk) => { received += chunk.toString("utf8"); for (const w of waiters) w(); });
  const ended = new Promise<string>((resolve) => {
    socket.on("end", () => resolve("end"));
    socket.on("error", (err) => resolve(`error: ${err.message}`));
  });
  return {
    ended,
    text: () => received,
    send: (data: string) => socket.write(data),
    waitFor: (done: (text: string) => boolean, ms: number) => new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no match within ${ms} ms: ${received}`)), ms);
      const check = () => { if (done(received)) { clearTimeout(timer); resolve(); } };
      waiters.push(check);
      check();
    }),
  };
}

/** Settles within `ms` or says it hung. */
function within<T>(p: Promise<T>, ms: number): Promise<T | "hung"> {
  return Promise.race([p, Bun.sleep(ms).then(() => "hung" as const)]);
}

describe("SIGTERM with auctions in flight", () => {
  test("all 20 in-flight auctions are answered 200 with the DSP's bid, audited, and the process exits 0", async () => {
    const tmax = await startSlowTmax();
    const requests = Array.from({ length: 20 }, () => bidRequest({ at: 1, tmax: 1000 }, { bidfloor: 0.5 }));
    const answers = requests.map((req) => postAuction(tmax.url, req).then((r) => r, (err) => ({ error: String(err) })));
    await Bun.sleep(30); // accepted, waiting on the 150 ms DSP
    tmax.proc.kill("SIGTERM");
    // A new connection during the drain: refused or answered, never left hanging.
    const late = await within(fetch(`${tmax.url}/healthz`).then((r) => `answered ${r.status}`, (err) => `refused: ${String(err)}`), 5_000);
    expect(late).not.toBe("hung");
    const results = await Promise.all(answers);
    const code = await within(tmax.proc.exited, 15_000);
    expect(code).toBe(0);
    for (const [i, r] of results.entries()) {
      expect(r).not.toHaveProperty("error");
      const res = r as Awaited<ReturnType<typeof postAuction>>;
      expect(res.status).toBe(200);
      expect(res.json.id).toBe(requests[i]!.id);
      expect(res.json.seatbid[0].seat).toBe("slow");
      expect(res.json.seatbid[0].bid[0].price).toBe(2);
    }
    const wins = (await readAudit(tmax.auditDir)).filter((e) => e.event_type === "auction_result" && e.dsp_id === "slow");
    expect(new Set(wins.map((e) => e.request_id))).toEqual(new Set(requests.map((r) => r.id)));
  });

  test("keep-alive: a busy connection gets its full answer with Connection: close, an idle one is closed cleanly (FIN, not reset)", async () => {
    const tmax = await startSlowTmax();
    const { port, hostname } = new URL(tmax.url);
    const idle = rawConnection(Number(port), hostname);
    const busy = rawConnection(Number(port), hostname);
    const warm = JSON.stringify(bidRequest({ tmax: 1000 }));
    idle.send(`POST /openrtb2/auction HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(warm)}\r\n\r\n${warm}`);
    await idle.waitFor((text) => text.includes("HTTP/1.1 200"), 5_000);
    const req = bidRequest({ at: 1, tmax: 1000 }, { bidfloor: 0.5 });
    const body = JSON.stringify(req);
    busy.send(`POST /openrtb2/auction HTTP/1.1\r\nHost: ${hostname}:${port}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    await Bun.sleep(30);
    tmax.proc.kill("SIGTERM");
    expect(await within(busy.ended, 5_000)).toBe("end");
    expect(busy.text()).toMatch(/^HTTP\/1\.1 200/);
    expect(busy.text().toLowerCase()).toContain("connection: close");
    expect(busy.text()).toContain(req.id as string);
    expect(await within(idle.ended, 5_000)).toBe("end");
    expect(await within(tmax.proc.exited, 15_000)).toBe(0);
  });

  test("an idle server exits 0 promptly on SIGTERM", async () => {
    const tmax = await startSlowTmax();
    expect((await postAuction(tmax.url, bidRequest({ tmax: 1000 }))).status).toBe(200);
    const started = performance.now();
    tmax.proc.kill("SIGTERM");
    expect(await within(tmax.proc.exited, 10_000)).toBe(0);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  test("the drain is bounded: past server.shutdownDrainMs in-flight auctions are cut and the process still exits", async () => {
    const tmax = await startSlowTmax({ shutdownDrainMs: 0 });
    const answers = Array.from({ length: 5 }, () => postAuction(tmax.url, bidRequest({ tmax: 1000 })).then((r) => r.status, () => "cut"));
    await Bun.sleep(30);
    const started = performance.now();
    tmax.proc.kill("SIGTERM");
    expect(await within(tmax.proc.exited, 10_000)).toBe(0);
    expect(performance.now() - started).toBeLessThan(5_000);
    for (const a of await Promise.all(answers)) expect([200, "cut"]).toContain(a);
  });

  test("a second signal during the drain forces a non-zero exit", async () => {
    const tmax = await startSlowTmax();
    const answers = Array.from({ length: 3 }, () => postAuction(tmax.url, bidRequest({ tmax: 1000 })).catch(() => null));
    await Bun.sleep(30);
    tmax.proc.kill("SIGTERM");
    await Bun.sleep(10);
    tmax.proc.kill("SIGINT");
    const code = await within(tmax.proc.exited, 10_000);
    expect(code).not.toBe("hung");
    expect(code).not.toBe(0);
    await Promise.all(answers);
  });
});
