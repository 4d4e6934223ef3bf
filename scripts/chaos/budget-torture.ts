#!/usr/bin/env bun
// The budget torture run: 3 regions + global as real redis-servers (AOF on), 3 pod processes (one
// per region, 2 workers each), 1,000 campaigns with small budgets, 2 simulated DSPs bidding random
// prices for random campaigns, open-loop load on every pod; meanwhile a pod is SIGKILLed (and a
// replacement started, as an orchestrator would), one region's Redis is stopped and restarted, and
// the global coordinator is paused (SIGSTOP/SIGCONT). Then every pod is stopped and the checker
// (budget-check.ts) reads every source of truth. `npm run chaos:budget` runs a longer variant:
//   bun scripts/chaos/budget-torture.ts [--duration S] [--rps N] [--campaigns N]
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { startRedis, type RedisService } from "../services/redis.ts";
import { BUN, ROOT, startCli, startSimDspProcess, tempDir, type Proc } from "../../tests/support/processes.ts";
import { buildWasm } from "../build-wasm.ts";
import { checkBudgets, type CheckResult } from "./budget-check.ts";

export interface TortureOptions { durationSec: number; rpsPerPod: number; campaigns: number; imps: number; log?: (line: string) => void }

const REGIONS = [{ id: "r1", trafficShare: 0.4 }, { id: "r2", trafficShare: 0.3 }, { id: "r3", trafficShare: 0.3 }];
const LEASE_TTL_MS = 4_000;
const LEASE_GRACE_MS = 1_000;

export async function runBudgetTorture(opts: TortureOptions): Promise<CheckResult> {
  const log = opts.log ?? ((l: string) => console.log(l));
  buildWasm();
  const day = new Date().toISOString().slice(0, 10);
  if (msToUtcMidnight() < (opts.durationSec + 60) * 1_000) throw new Error("too close to UTC midnight: the day would roll during the run");
  const redis: RedisService[] = [];
  const procs: Proc[] = [];
  try {
    for (let i = 0; i < REGIONS.length + 1; i++) redis.push(await startRedis({ appendonly: true }));
    const globalRedis = redis[REGIONS.length]!;
    const campaigns = Array.from({ length: opts.campaigns }, (_, i) => ({ id: `c${i}`, budgetMicros: 3_000 + ((i * 7919) % 71) * 100 }));
    const ids = campaigns.map((c) => c.id).join(",");
    const sims = await Promise.all([1, 2].map((seed) => startSimDspProcess(["--latency-ms", "1..5", "--bid-rate", "1", "--price", "0.5..2", "--campaigns", ids, "--seat", `sim${seed}`, "--seed", String(seed)])));
    procs.push(...sims);
    const base = {
      dsps: sims.map((s, i) => ({ id: `sim${i + 1}`, endpoint: s.url })),
      // asap: the torture measures delivery against budget within minutes, not a day's even spend curve
      campaigns: campaigns.map((c) => ({ id: c.id, advertiserId: `a${c.id}`, dailyBudget: (c.budgetMicros / 1e6).toFixed(6), currency: "USD", pacing: "asap" })),
      budget: {
        mode: "redis", globalRedisUrl: globalRedis.url, leaseTtlMs: LEASE_TTL_MS, leaseGraceMs: LEASE_GRACE_MS, tickMs: 100, commandTimeoutMs: 300,
        minLease: "0.002", leaseShare: 0.25, maxLeaseFraction: 0.5, noticeSecret: "torture-notice-secret-0123456789",
        regions: REGIONS.map((r, i) => ({ ...r, redisUrl: redis[i]!.url })),
      },
    };
    const pods = REGIONS.map((r, i) => ({ pod: `pod-${i + 1}`, region: r.id, auditDir: join(tempDir("tmax-torture-"), "audit"), killed: false }));
    const startPod = async (p: (typeof pods)[number]) => {
      const file = join(tempDir(), "tmax.json");
      writeFileSync(file, JSON.stringify({ ...base, server: { region: p.region, pod: p.pod }, audit: { dir: p.auditDir } }));
      const proc = await startCli(["serve", "--config", file, "--port", "0", "--workers", "2"]);
      procs.push(proc);
      return proc;
    };
    const running = await Promise.all(pods.map(startPod));
    log(`started: 4 redis-servers, 2 sim DSPs, ${pods.length} pods x 2 workers, ${campaigns.length} campaigns`);
    const D = opts.durationSec;
    const loads = running.map((p, i) => runLoad(p.url, D, i + 1, opts));
    await Bun.sleep(D * 300);
    log(`t=${(D * 0.3).toFixed(0)}s SIGKILL ${pods[0]!.pod}`);
    pods[0]!.killed = true;
    await running[0]!.kill("SIGKILL");
    await Bun.sleep(D * 100);
    const replacement = { ...pods[0]!, pod: `${pods[0]!.pod}-b`, auditDir: join(tempDir("tmax-torture-"), "audit"), killed: false };
    pods.push(replacement);
    const revived = await startPod(replacement);
    log(`t=${(D * 0.4).toFixed(0)}s replacement ${replacement.pod} started in ${replacement.region}; stopping region r2's Redis`);
    const replacementLoad = runLoad(revived.url, Math.max(1, Math.round(D * 0.6)), 9, opts);
    redis[1]!.kill("SIGTERM"); // a clean stop: AOF flushed; restarted on the same port and dir
    await redis[1]!.exited;
    await Bun.sleep(D * 150);
    await redis[1]!.restart();
    log(`t=${(D * 0.55).toFixed(0)}s region r2's Redis restarted; pausing the global coordinator (SIGSTOP)`);
    redis[REGIONS.length]!.kill("SIGSTOP");
    await Bun.sleep(D * 100);
    redis[REGIONS.length]!.kill("SIGCONT");
    log(`t=${(D * 0.65).toFixed(0)}s global coordinator resumed (SIGCONT)`);
    const summaries = await Promise.all([...loads, replacementLoad]);
    log(`load done: ${summaries.map((s) => s.trim().split("\n").pop()).join(" | ")}`);
    await Promise.all([running[1]!, running[2]!, revived].map((p) => p.kill("SIGTERM")));
    await Bun.sleep(LEASE_TTL_MS + LEASE_GRACE_MS + 500); // the killed pod's leases are past expiry + grace
    return await checkBudgets({
      day, campaigns, globalUrl: globalRedis.url, regions: REGIONS.map((r, i) => ({ id: r.id, url: redis[i]!.url })),
      pods, graceMs: LEASE_GRACE_MS,
    });
  } finally {
    await Promise.all(procs.map((p) => p.kill("SIGKILL").catch(() => 0)));
    redis.forEach((r) => { try { r.kill("SIGCONT"); } catch { /* gone */ } });
    await Promise.all(redis.map((r) => r.stop()));
  }
}

async function runLoad(url: string, seconds: number, seed: number, opts: TortureOptions): Promise<string> {
  const proc = Bun.spawn([BUN, join(ROOT, "src", "cli.ts"), "load", "--target", `${url}/openrtb2/auction`, "--rps", String(opts.rpsPerPod), "--duration", String(seconds), "--imps", String(opts.imps), "--seed", String(seed)], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  const [out] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  return out;
}

function msToUtcMidnight(): number {
  const now = new Date();
  return Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1) - now.getTime();
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { duration: { type: "string" }, rps: { type: "string" }, campaigns: { type: "string" }, imps: { type: "string" } }, strict: true });
  const result = await runBudgetTorture({
    durationSec: Number(values.duration ?? 120), rpsPerPod: Number(values.rps ?? 60), campaigns: Number(values.campaigns ?? 1000), imps: Number(values.imps ?? 10),
  });
  for (const line of result.lines) console.log(line);
  process.exitCode = result.overBudget === 0 ? 0 : 1;
}
