// The dashboard in a real browser (Debian's chromium, driven by playwright-core): `tmax demo` (what
// `npm start` runs) serves it; the page polls /metrics and /slo, every chart whose metric tmax
// exposes draws non-zero data (those healthy at zero, like errors or relay lag, at least draw),
// panels for metrics other features add later say "no data", and a screenshot is saved.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser } from "playwright-core";
import type { Subprocess } from "bun";
import { BUN, ROOT } from "./support/processes.ts";

// The callbacks passed to page.waitForFunction / $$eval run in the browser; this project's types are Bun's (no DOM lib).
declare const document: any;
type HTMLElement = any;

const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
/** Charts for metrics tmax exposes today: each must draw. */
const CHARTS_WITH_DATA = ["rps", "bidrate", "latency", "errors", "dsplatency", "revenue", "spendrate", "winrate", "winprice", "brandsafety", "cpu", "memory", "outbox", "commits", "consumers"];
/** Polls (one a second) before judging: rates need a few scrapes. */
const POLLS = 6;

let demo: Subprocess<"ignore", "pipe", "pipe">, browser: Browser, out = "";

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`chromium not found at ${CHROMIUM}: apt-get install -y --no-install-recommends chromium (or set CHROMIUM_PATH)`);
  demo = Bun.spawn([BUN, join(ROOT, "src/cli.ts"), "demo", "--port", "0", "--rps", "30"], { cwd: ROOT, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
  const reader = demo.stdout.getReader();
  const decoder = new TextDecoder();
  const deadline = Date.now() + 30_000;
  while (!/SLOs\s+http\S+/.test(out) && Date.now() < deadline) {
    const { value, done } = await reader.read();
    if (done) break;
    out += decoder.decode(value, { stream: true });
  }
  reader.releaseLock();
  void (async () => { for await (const _ of demo.stdout) { /* keep draining */ } })();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-dev-shm-usage"] });
});

afterAll(async () => {
  await browser?.close();
  demo?.kill("SIGINT");
  await demo?.exited;
});

test("npm start prints the dashboard and /slo URLs; the dashboard renders every chart live", async () => {
  const dashboardUrl = /dashboard\s+(http:\/\/\S+\/dashboard)/.exec(out)?.[1];
  const sloUrl = /SLOs\s+(http:\/\/\S+\/slo)/.exec(out)?.[1];
  expect(dashboardUrl).toBeDefined();
  expect((await fetch(sloUrl!)).status).toBe(200);

  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  const pageErrors: string[] = [];
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  await page.goto(dashboardUrl!);
  await page.waitForFunction((n) => Number(document.body.dataset.polls ?? 0) >= n, POLLS, { timeout: 60_000, polling: 250 });
  // A chart gets its first point after two scrapes, and non-zero rates once traffic shows in both.
  await page.waitForFunction((ids) => ids.every((id) => document.getElementById(`card-${id}`)?.dataset.nonzero === "true"
    || document.getElementById(`card-${id}`)?.dataset.zeroOk === "true"), CHARTS_WITH_DATA, { timeout: 30_000, polling: 250 }).catch(() => {});

  const cards = await page.$$eval(".card", (els) => els.map((el) => ({
    id: el.id.replace("card-", ""), kind: (el as HTMLElement).dataset.kind, state: (el as HTMLElement).dataset.state,
    nonzero: (el as HTMLElement).dataset.nonzero === "true", zeroOk: (el as HTMLElement).dataset.zeroOk === "true",
    canvas: el.querySelector("canvas") !== null, rows: el.querySelectorAll("tr").length, text: el.textContent ?? "",
  })));
  const byId = new Map(cards.map((c) => [c.id, c]));
  for (const id of CHARTS_WITH_DATA) {
    const c = byId.get(id);
    expect({ id, state: c?.state, canvas: c?.canvas }).toEqual({ id, state: "data", canvas: true });
    if (!c!.zeroOk) expect({ id, nonzero: c!.nonzero }).toEqual({ id, nonzero: true });
  }
  // Every chart either draws or says why not: its metric is not exposed by this tmax.
  const exposed = await (await fetch(dashboardUrl!.replace("/dashboard", "/metrics"))).text();
  for (const c of cards.filter((x) => x.kind === "chart")) {
    if (c.state === "nodata") {
      expect(c.text).toContain("is not exposed");
      const metricName = /no data: (\S+) is not exposed/.exec(c.text)![1]!;
      expect(exposed).not.toContain(`\n${metricName}`);
    } else {
      expect({ id: c.id, state: c.state, canvas: c.canvas }).toEqual({ id: c.id, state: "data", canvas: true });
    }
  }
  expect(byId.get("breakers")!.rows).toBe(6); // header + 5 DSPs
  expect(byId.get("advertisers")!.rows).toBe(4); // header + 3 advertisers
  expect(byId.get("campaigns")!.rows).toBe(4);
  expect(byId.get("breakers")!.text).toContain("closed");

  const slos = await page.$$eval(".slo", (els) => els.map((el) => ({ name: (el as HTMLElement).dataset.slo, text: el.textContent ?? "" })));
  expect(slos.map((s) => s.name)).toEqual(["latency", "availability", "budget_accuracy", "bid_rate"]);
  for (const s of slos) expect(s.text).toMatch(/\d+\.\d+%/);
  expect(await page.textContent("#status")).toContain("live");
  expect(pageErrors).toEqual([]);

  // The page's PromQL-like arithmetic, in the browser: parsing (escaped label values), rate() and
  // histogram_quantile() over bucket increases (linear inside a bucket, as Prometheus does).
  const math = await page.evaluate(async () => {
    const url = "/dashboard/prom.js"; // a URL of the page's origin, not a module of this project
    const m = await import(url);
    const scrape = (t: number, text: string) => ({ t, metrics: m.parseProm(text) });
    const a = scrape(0, 'h_bucket{le="0.1"} 0\nh_bucket{le="0.2"} 0\nh_bucket{le="+Inf"} 0\nc_total{k="a \\"q\\""} 10\n');
    const b = scrape(2000, '# HELP h x\nh_bucket{le="0.1"} 50\nh_bucket{le="0.2"} 100\nh_bucket{le="+Inf"} 100\nc_total{k="a \\"q\\""} 30\n');
    return { p50: m.quantile(b, a, "h", 0.5), p75: m.quantile(b, a, "h", 0.75), rate: m.rate(b, a, "c_total"), label: [...m.byLabel(b, "c_total", "k").keys()][0], none: m.quantile(a, a, "h", 0.5) };
  });
  expect(math.p50).toBeCloseTo(0.1, 9);
  expect(math.p75).toBeCloseTo(0.15, 9);
  expect(math).toMatchObject({ rate: 10, label: 'a "q"', none: null });

  mkdirSync(join(ROOT, "data"), { recursive: true });
  const shot = join(ROOT, "data", `dashboard-${Date.now()}.png`);
  await page.screenshot({ path: shot, fullPage: true });
  console.log(`dashboard screenshot: ${shot}`);
  expect(existsSync(shot)).toBe(true);
}, 120_000);
