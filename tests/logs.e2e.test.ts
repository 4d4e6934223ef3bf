// Structured logs through a real server: with `log.sampleRate: 1` every auction writes one JSON line
// carrying the exchange's request id, its x-request-id and the answer; with the default rate the
// request path stays quiet; `log.level` filters; a bad `log` config names the field.
import { afterAll, expect, test } from "bun:test";
import { parseConfig } from "../src/config/load.ts";
import { ConfigError } from "../src/config/errors.ts";
import { startSimDspProcess, startTmax, type Proc } from "./support/processes.ts";
import { bidRequest, postAuction } from "./support/openrtb.ts";

const started: Proc[] = [];
afterAll(async () => { await Promise.all(started.map((p) => p.kill())); });

const auctionLines = (output: string) => output.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l)).filter((r) => r.msg === "auction");

async function until(check: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check() && Date.now() < deadline) await Bun.sleep(50);
}

test("sampleRate 1: one JSON line per auction with the request ids and the answer", async () => {
  const dsp = await startSimDspProcess(["--latency-ms", "1", "--bid-rate", "1", "--fixed-price", "2", "--campaigns", "c1"]);
  started.push(dsp);
  const tmax = await startTmax({
    dsps: [{ id: "d1", endpoint: dsp.url }],
    campaigns: [{ id: "c1", advertiserId: "a1", dailyBudget: 10, currency: "USD" }],
    log: { level: "info", sampleRate: 1 },
  }, 1);
  started.push(tmax);
  expect((await postAuction(tmax.url, bidRequest({ id: "req-logged-1" }), { "x-request-id": "trace-1" })).status).toBe(200);
  expect((await postAuction(tmax.url, "{not json")).status).toBe(400);
  await until(() => auctionLines(tmax.output()).length >= 2);
  const lines = auctionLines(tmax.output());
  expect(lines).toHaveLength(2);
  expect(lines[0]).toMatchObject({ level: "info", msg: "auction", worker: 0, requestId: "req-logged-1", xRequestId: "trace-1", status: 200 });
  expect(typeof lines[0].ms).toBe("number");
  expect(new Date(lines[0].time).toString()).not.toBe("Invalid Date");
  expect(lines[1]).toMatchObject({ msg: "auction", status: 400 });
  expect(lines[1].requestId).toBeUndefined();
});

test("level warn: no sampled auction lines even at sampleRate 1; the default rate keeps the path quiet", async () => {
  const dsp = await startSimDspProcess(["--latency-ms", "1", "--bid-rate", "1", "--fixed-price", "2", "--campaigns", "c1"]);
  started.push(dsp);
  const base = { dsps: [{ id: "d1", endpoint: dsp.url }], campaigns: [{ id: "c1", advertiserId: "a1", dailyBudget: 10, currency: "USD" }] };
  const [warnOnly, defaults] = await Promise.all([startTmax({ ...base, log: { level: "warn", sampleRate: 1 } }, 1), startTmax(base, 1)]);
  started.push(warnOnly, defaults);
  for (let i = 0; i < 20; i++) {
    await postAuction(warnOnly.url, bidRequest());
    await postAuction(defaults.url, bidRequest());
  }
  await Bun.sleep(300);
  expect(auctionLines(warnOnly.output())).toHaveLength(0);
  // Default 0.001: 20 requests log none with probability 0.98; not asserted as a certainty.
  expect(auctionLines(defaults.output()).length).toBeLessThanOrEqual(2);
});

test("a bad log config names its field", () => {
  const base = { dsps: [], campaigns: [] };
  const error = (raw: unknown) => { try { parseConfig(raw); return null; } catch (e) { return e as ConfigError; } };
  expect(error({ ...base, log: { level: "verbose" } })?.message).toStartWith("config error: log.level:");
  expect(error({ ...base, log: { sampleRate: 2 } })?.message).toStartWith("config error: log.sampleRate:");
  expect(error({ ...base, log: { colour: true } })?.message).toStartWith("config error: log");
  expect(parseConfig(base).log).toEqual({ level: "info", sampleRate: 0.001 });
});
