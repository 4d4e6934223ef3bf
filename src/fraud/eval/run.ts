// `tmax fraud eval`: replays labelled traffic from the traffic model through a real tmax (started
// here with simulated DSPs, 2 workers, the fraud stage on with the given config) at the traffic's
// own due times, then reads what the server decided for each request from its audit outbox (the
// bid_request event's fraud block) and reports per tier, per bot kind and on humans.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfig } from "../../config/load.ts";
import { startServer } from "../../server/start.ts";
import { startSimDsp } from "../../sim/dsp-sim.ts";
import { makeSender } from "../../sim/load-sender.ts";
import { makeTraffic, scenarioByName } from "../../sim/traffic/model.ts";
import { scanOutboxRecords } from "../../audit/query/index.ts";
import { evalReport, type EvalReport, type Outcome } from "./report.ts";
import type { Label } from "../../sim/traffic/actors.ts";
import type { FraudConfig } from "../settings.ts";

export interface EvalOptions {
  scenario: string;
  seed: number;
  rps: number;
  seconds: number;
  workers?: number;
  fraud?: FraudConfig;
}

export async function runFraudEval(opts: EvalOptions): Promise<EvalReport> {
  const traffic = makeTraffic({ scenario: scenarioByName(opts.scenario), seed: opts.seed, rps: opts.rps, durationMs: opts.seconds * 1000 });
  const dir = mkdtempSync(join(tmpdir(), "tmax-fraud-eval-"));
  const dsps = [0, 1].map((i) => startSimDsp({ port: 0, latencyMs: [1, 5], bidRate: 0.5, priceCpm: [0.5, 2], seed: 10 + i, campaigns: ["c1"], seat: `dsp${i}` }));
  const config = parseConfig({
    server: { port: 0, host: "127.0.0.1", workers: opts.workers ?? 2 },
    dsps: dsps.map((d, i) => ({ id: `dsp${i}`, endpoint: d.url })),
    campaigns: [{ id: "c1", advertiserId: "adv-1", dailyBudget: "1000000", currency: "USD" }],
    audit: { dir: join(dir, "audit") },
    fraud: { enabled: true, ...opts.fraud },
  });
  const server = await startServer(config);
  try {
    const { labels, answers } = await replay(server.url, traffic);
    const report = evalReport(await outcomesFromAudit(config.audit.dir, labels));
    report.answers = answers;
    report.shed = server.counters.noBids("audit_unavailable");
    return report;
  } finally {
    await server.stop();
    await Promise.all(dsps.map((d) => d.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Sends every request at its due time (open loop); resolves with the label of each request id once all are answered. */
async function replay(url: string, traffic: ReturnType<typeof makeTraffic>): Promise<{ labels: Map<string, Label>; answers: Record<string, number> }> {
  const sender = makeSender(`${url}/openrtb2/auction`, 64, 100_000, "http-pool");
  const labels = new Map<string, Label>();
  const answers: Record<string, number> = {};
  let pending = traffic.length;
  let finish = () => {};
  const done = new Promise<void>((resolve) => (finish = resolve));
  const start = performance.now();
  let next = 0;
  const tick = () => {
    const now = performance.now() - start;
    while (next < traffic.length && traffic[next]!.atMs <= now) {
      const item = traffic[next++]!;
      const id = `eval-${next}`;
      labels.set(id, item.label);
      sender.post(JSON.stringify({ ...item.body, id }), performance.now() + 2000, (outcome, status) => {
        const key = outcome === "ok" ? String(status) : outcome;
        answers[key] = (answers[key] ?? 0) + 1;
        if (--pending === 0) finish();
      });
    }
    if (next < traffic.length) setTimeout(tick, 1);
  };
  tick();
  if (traffic.length === 0) finish();
  await done;
  sender.close();
  return { labels, answers };
}

async function outcomesFromAudit(auditDir: string, labels: Map<string, Label>): Promise<Outcome[]> {
  const decided = new Map<string, Omit<Outcome, "label">>();
  await scanOutboxRecords(auditDir, (_w, _s, _o, payload) => {
    const event = JSON.parse(payload.toString("utf8")) as { event_type: string; request_id: string; fraud?: { result: string; tier: number; reason: string | null } };
    if (event.event_type === "bid_request" && event.fraud !== undefined) decided.set(event.request_id, { result: event.fraud.result, tier: event.fraud.tier, reason: event.fraud.reason });
  });
  return [...labels].map(([id, label]) => ({ label, ...(decided.get(id) ?? { result: "unscreened", tier: 0, reason: null }) }));
}
