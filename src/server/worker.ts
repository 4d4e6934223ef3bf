// A worker thread: instantiates the WASM kernel over the shared memory, opens its DSP pools and
// its audit outbox (with the consumers reading it), and serves HTTP on the shared port (reusePort:
// the kernel spreads connections).
import { loadWasmKernel, type WasmVariant } from "../auction/kernel.ts";
import { AuctionScratch } from "../auction/scratch.ts";
import { layout as L } from "../auction/memory.ts";
import { SharedBudget } from "../budget/shared-budget.ts";
import { loadWasmFreqCap } from "../freqcap/kernel.ts";
import { FreqCapTable } from "../freqcap/table.ts";
import { LocalCaps } from "../freqcap/local.ts";
import { createRedisCapStore } from "../freqcap/remote.ts";
import { remoteCapSink } from "../freqcap/request.ts";
import { DspFanout } from "../dsp/fanout.ts";
import { CounterLayout, CounterReader, WorkerCounters } from "../metrics/counters.ts";
import { buildRegistry } from "../metrics/exposition.ts";
import { startWorkerObserve } from "../observe/worker-observe.ts";
import { startWorkerAudit } from "../audit/worker-audit.ts";
import { buildApp } from "../http/app.ts";
import { workerNotices } from "../budget/notice/worker-notices.ts";
import { PacingReader } from "../budget/pacing-shared.ts";
import { attachFraudState, FraudStage } from "../fraud/stage.ts";
import { FraudCounterReader, registerFraudMetrics } from "../fraud/metrics.ts";
import type { TmaxConfig } from "../config/load.ts";
import type { DrainState, WorkerContext } from "../pipeline/context.ts";
import { configureLogging, log } from "../log/logger.ts";
import { installOverloadGuard } from "../overload/install.ts";
import { OverloadLayout, OverloadReader, registerOverloadMetrics } from "../overload/metrics.ts";
import type { OverloadShared } from "../overload/guard.ts";

export interface WorkerInit {
  config: TmaxConfig;
  memory: WebAssembly.Memory;
  counters: SharedArrayBuffer;
  workerIndex: number;
  /** Worker slots: server.workers plus one spare for the rolling restart (src/server/rolling.ts). */
  workerCount: number;
  port: number;
  wasmVariant: WasmVariant;
  overload: OverloadShared;
  /** The pod's budget board (src/budget/board.ts): notice counters, lease figures. */
  budgetBoard: SharedArrayBuffer;
  /** The fraud stage's shared tables and counters (src/fraud/shared/state.ts). */
  fraudState: SharedArrayBuffer;
  /** Each campaign's participation probability from the pacing controller (src/budget/pacing-shared.ts). */
  pacing: SharedArrayBuffer;
}

/** How often a worker copies its outbox and relay state into the shared gauges. */
export const AUDIT_SAMPLE_MS = 1_000;
/** A relay whose consumer thread has not reported yet counts as not connected. */
const RELAY_NOT_REPORTED = { lagRecords: 0, lagBytes: 0, connected: false };

export type WorkerMessage = { type: "ready"; workerIndex: number } | { type: "stopped"; workerIndex: number } | { type: "failed"; error: string };

declare const self: Worker;

export async function startWorker(init: WorkerInit) {
  const { config, memory, workerIndex, workerCount } = init;
  configureLogging(config.log);
  const layout = new CounterLayout(config.dsps.length, workerCount);
  const counters = new WorkerCounters(layout, init.counters, workerIndex);
  const reader = new CounterReader(layout, init.counters);
  const budget = new SharedBudget(memory);
  const audit = await startWorkerAudit(config, workerIndex);
  const ctx: WorkerContext = {
    config,
    workerIndex,
    kernel: loadWasmKernel(memory, init.wasmVariant),
    scratch: new AuctionScratch(memory, workerIndex),
    fanout: new DspFanout(config, counters, config.server.workers),
    counters,
    audit,
    campaignSlotById: new Map(config.campaigns.map((c) => [c.id, c.slot])),
    campaignBySlot: config.campaigns,
    localCaps: new LocalCaps(loadWasmFreqCap(memory, init.wasmVariant), new FreqCapTable(memory)),
    drain: { inFlight: 0, stopping: false },
    notices: workerNotices(config, init.budgetBoard, budget, init.port),
    pacing: new PacingReader(init.pacing),
  };
  const fraudState = attachFraudState(init.fraudState, workerCount);
  if (config.fraud.enabled) ctx.fraud = new FraudStage(config.fraud, fraudState, workerIndex, memory, init.wasmVariant);
  const drain = ctx.drain!;
  const capStore = config.frequencyCapStore === null ? null : createRedisCapStore({
    url: config.frequencyCapStore.redisUrl, flushMs: config.frequencyCapStore.flushMs, timeoutMs: config.frequencyCapStore.fetchTimeoutMs,
  });
  if (capStore !== null) {
    ctx.remoteCaps = capStore;
    ctx.capSink = remoteCapSink(capStore);
  }
  const overload = installOverloadGuard(ctx, init.overload, audit);
  const registry = buildRegistry(config, reader, budget, ctx.notices?.board);
  const observe = startWorkerObserve(config, reader, budget, registry, capStore);
  registerOverloadMetrics(registry, config, new OverloadReader(OverloadLayout.of(config, init.overload.rows), init.overload.cells));
  registerFraudMetrics(registry, new FraudCounterReader(fraudState));
  const app = buildApp(ctx, {
    ready: () => ({
      ready: reader.workersReady() >= config.server.workers,
      detail: { config: "valid", wasm: ctx.kernel.name, workers: `${reader.workersReady()}/${config.server.workers}`, fraudModel: fraudModelSummary(memory) },
    }),
    metrics: () => registry.metrics(),
    slo: observe.tracker,
  });
  app.listen({ port: init.port, hostname: config.server.host, reusePort: true, maxRequestBodySize: config.server.maxBodyBytes * 2 });
  const server = app.server!;
  counters.markReady();
  const auditSampler = setInterval(() => {
    const relay = audit.relay === null ? null : audit.relay.stats() ?? RELAY_NOT_REPORTED;
    counters.auditState(audit.outbox.pendingBytes, audit.healthy(), relay);
    const { commits, loopCommits, slowLoopWrites } = audit.outbox.stats();
    counters.auditCommits(commits, loopCommits, slowLoopWrites);
    const consumers = audit.consumersYield.stats();
    counters.consumers(consumers.yielding, consumers.yieldedMs, consumers.forcedCatchUps, audit.consumerLagBytes());
  }, AUDIT_SAMPLE_MS);
  auditSampler.unref();
  return {
    stop: async () => {
      await drainHttp(server, drain, config.server.shutdownDrainMs, workerIndex);
      ctx.fanout.close();
      overload.stop();
      await capStore?.close(); // flushes queued increments first
      clearInterval(auditSampler);
      observe.stop();
      await audit.stop();
      counters.markStopped();
      ctx.notices?.dedupe.close();
    },
  };
}

/** How often a draining worker looks at its in-flight count. */
const DRAIN_POLL_MS = 5;

/**
 * Graceful HTTP stop, bounded by `drainMs`: close the listener (new connections are refused; Bun
 * closes idle keep-alive connections), let every in-flight auction finish (its DSP calls, decision,
 * audit record and answer; answers carry `Connection: close`), then close what is left. Within the
 * limit it resolves only once no auction is running, so DSP pools and the outbox close after the last
 * one; past it, the connections still open are closed (those clients see their answer cut).
 */
export async function drainHttp(server: { stop(closeActiveConnections?: boolean): Promise<void> }, drain: DrainState, drainMs: number, workerIndex: number): Promise<void> {
  drain.stopping = true;
  const deadline = performance.now() + drainMs;
  let closed = false;
  const stopped = server.stop(false).then(() => { closed = true; }, () => { closed = true; });
  while ((!closed || drain.inFlight > 0) && performance.now() < deadline) {
    await Bun.sleep(Math.max(0, Math.min(DRAIN_POLL_MS, deadline - performance.now())));
  }
  if (closed && drain.inFlight === 0) return;
  log.warn("shutdown drain limit reached: closing in-flight connections", { worker: workerIndex, inFlight: drain.inFlight, drainMs });
  await server.stop(true).catch(() => {});
  await Promise.race([stopped, Bun.sleep(DRAIN_POLL_MS * 20)]);
}

/** What the shared memory's model header says: "N trees, F features", or "none". */
function fraudModelSummary(memory: WebAssembly.Memory): string {
  const header = new Int32Array(memory.buffer, L.GBDT_BASE, L.GBDT_HEADER_BYTES / 4);
  const trees = header[L.GBDT_TREE_COUNT_OFF / 4]!;
  return trees === 0 ? "none" : `${trees} trees, ${header[L.GBDT_FEATURE_COUNT_OFF / 4]} features`;
}

if (typeof self !== "undefined" && typeof Bun !== "undefined" && !Bun.isMainThread) {
  let running: Awaited<ReturnType<typeof startWorker>> | null = null;
  self.onmessage = async (event: MessageEvent) => {
    const message = event.data as { type: "init"; init: WorkerInit } | { type: "stop" };
    if (message.type === "init") {
      try {
        running = await startWorker(message.init);
        postMessage({ type: "ready", workerIndex: message.init.workerIndex } satisfies WorkerMessage);
      } catch (err) {
        postMessage({ type: "failed", error: String((err as Error).stack ?? err) } satisfies WorkerMessage);
      }
    } else if (message.type === "stop") {
      await running?.stop();
      postMessage({ type: "stopped", workerIndex: -1 } satisfies WorkerMessage);
    }
  };
}
