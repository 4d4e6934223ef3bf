// `tmax demo` (what `npm start` runs): the embedded default with five simulated DSPs, three
// campaigns and light traffic, printing what to try. Ctrl-C stops everything.
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "./config/load.ts";
import { startServer } from "./server/start.ts";
import { startSimDsp, type SimDsp } from "./sim/dsp-sim.ts";
import { makeBidRequest, makeRng } from "./sim/requests.ts";
import { stopOnSignals } from "./main.ts";

export interface DemoOptions { port?: number; rps?: number; seconds?: number; quiet?: boolean }

const CAMPAIGNS = [
  { id: "c1", advertiserId: "adv-acme", dailyBudget: "500.00", currency: "USD" },
  { id: "c2", advertiserId: "adv-globex", dailyBudget: "250.00", currency: "USD" },
  { id: "c3", advertiserId: "adv-initech", dailyBudget: "5.00", currency: "USD" },
] as const;

export async function runDemo(opts: DemoOptions = {}) {
  const sims: SimDsp[] = Array.from({ length: 5 }, (_, i) => startSimDsp({
    port: 0, latencyMs: [15 + i * 5, 45 + i * 5], bidRate: 0.7, priceCpm: [0.5, 4], seed: 100 + i,
    campaigns: [CAMPAIGNS[i % 3]!.id, CAMPAIGNS[(i + 1) % 3]!.id], seat: `dsp${i + 1}`, respectFloor: true,
  }));
  const config = parseConfig({
    server: { port: opts.port ?? 8080, workers: 2 },
    dsps: sims.map((s, i) => ({ id: `dsp${i + 1}`, endpoint: s.url })),
    campaigns: CAMPAIGNS,
    audit: { dir: join(mkdtempSync(join(tmpdir(), "tmax-demo-")), "audit") },
  }, process.env);
  const server = await startServer(config);
  const traffic = startTraffic(server.url, opts.rps ?? 5);
  const stopAll = async () => {
    clearInterval(traffic);
    await server.stop();
    await Promise.all(sims.map((s) => s.stop()));
  };
  if (!opts.quiet) printWelcome(server.url, config.audit.dir);
  const printStatus = () => {
    const c = server.counters;
    console.log(`[demo] requests bid=${c.requests("bid")} nobid=${c.requests("nobid")} invalid=${c.requests("invalid")} wins=${c.wins()} spend=$${(c.reservedMicros() / 1e6).toFixed(4)}`);
  };
  const status = setInterval(printStatus, 5_000);
  if (opts.seconds !== undefined) {
    await Bun.sleep(opts.seconds * 1000);
    clearInterval(status);
    printStatus();
    await stopAll();
    return server;
  }
  stopOnSignals({ stop: async () => { clearInterval(status); await stopAll(); } });
  return server;
}

function startTraffic(url: string, rps: number): ReturnType<typeof setInterval> {
  const rng = makeRng(7);
  return setInterval(() => {
    fetch(`${url}/openrtb2/auction`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-openrtb-version": "2.6" },
      body: JSON.stringify(makeBidRequest(rng)),
    }).then((r) => r.arrayBuffer(), () => undefined);
  }, Math.max(1, Math.round(1000 / rps)));
}

function printWelcome(url: string, auditDir: string): void {
  console.log(`
tmax demo: embedded mode, 2 workers, 5 simulated DSPs, 3 campaigns, light traffic.

  auction   POST ${url}/openrtb2/auction
  try it    curl -si ${url}/openrtb2/auction -H 'content-type: application/json' --data @tests/fixtures/bid-request.json
  metrics   ${url}/metrics
  dashboard ${url}/dashboard
  SLOs      ${url}/slo
  health    ${url}/healthz   ready: ${url}/readyz
  audit     npx tmax audit query --audit-dir ${auditDir} --request-id demo-request-1
            (outbox, Parquet archive and billing ledger under ${auditDir})

Ctrl-C stops everything.
`);
}
