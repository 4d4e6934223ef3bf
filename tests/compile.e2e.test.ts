// Operators deploy one binary: build it, start it outside the source tree with a config and a
// simulated DSP, and get a priced bid back.
import { afterAll, expect, test } from "bun:test";
import { join } from "node:path";
import { compileBinary } from "../scripts/compile.ts";
import { startSimDspProcess, tempDir, writeConfig, type Proc } from "./support/processes.ts";
import { bidRequest, postAuction } from "./support/openrtb.ts";

const started: Proc[] = [];
afterAll(async () => { await Promise.all(started.map((p) => p.kill())); });

test("bun build --compile gives a binary that serves auctions with its embedded WASM", async () => {
  const dir = tempDir("tmax-bin-");
  const binary = join(dir, "tmax");
  compileBinary(binary);
  const dsp = await startSimDspProcess(["--latency-ms", "0", "--bid-rate", "1", "--fixed-price", "2", "--campaigns", "c1"]);
  started.push(dsp);
  const config = writeConfig({ dsps: [{ id: "d1", endpoint: dsp.url }], campaigns: [{ id: "c1", advertiserId: "a1", dailyBudget: 10, currency: "USD" }], audit: { dir: join(dir, "audit") } });
  const proc = Bun.spawn([binary, "serve", "--config", config, "--port", "0", "--workers", "2"], { cwd: dir, stdout: "pipe", stderr: "pipe" });
  started.push({ url: "", proc: proc as any, output: () => "", kill: async () => { proc.kill(); return await proc.exited; } });
  const reader = proc.stdout.getReader();
  const line = new TextDecoder().decode((await reader.read()).value);
  const url = (JSON.parse(line.split("\n")[0]!) as { url: string }).url;
  // A plausible browser: the fraud stage (on by default, with its embedded lists and model) lets it through.
  const device = { ua: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36", ip: "81.2.3.4", devicetype: 2, os: "Windows", language: "en", js: 1 };
  const res = await postAuction(url, bidRequest({ at: 1, device }));
  expect(res.status).toBe(200);
  expect(res.json.seatbid[0].bid[0].price).toBe(2);
  const ready = await (await fetch(`${url}/readyz`)).json();
  // The dashboard page, its script and the chart library are embedded too (no node_modules beside the binary).
  const dashboard = await fetch(`${url}/dashboard`);
  expect(dashboard.status).toBe(200);
  expect(await dashboard.text()).toContain("/dashboard/app.js");
  for (const asset of ["app.js", "prom.js", "uPlot.iife.min.js", "uPlot.min.css", "dashboard.css"]) {
    const res = await fetch(`${url}/dashboard/${asset}`);
    expect({ asset, status: res.status, size: (await res.text()).length > 500 }).toEqual({ asset, status: 200, size: true });
  }
  expect(((await (await fetch(`${url}/slo`)).json()) as { slos: unknown[] }).slos).toHaveLength(4);
  expect(ready).toMatchObject({ status: "ready", wasm: "wasm-release", workers: "2/2", fraudModel: "80 trees, 25 features" });
  const crawler = await postAuction(url, bidRequest({ device: { ...device, ua: "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)" } }));
  expect(crawler.headers.get("x-tmax-nbr")).toBe("3");
  const cloud = await postAuction(url, bidRequest({ device: { ...device, ip: "34.120.1.1" } }));
  expect(cloud.headers.get("x-tmax-nbr")).toBe("5");
}, 60_000);
