// The main thread's side of a server: allocate the shared memory and counters, set budgets,
// start `server.workers` workers on one port, and stop them again.
import { createSharedMemory } from "../auction/memory.ts";
import { SharedBudget } from "../budget/shared-budget.ts";
import { startBudget, type BudgetRuntime } from "../budget/runtime.ts";
import { startPacing } from "../budget/pacing/run.ts";
import { FreqCapTable } from "../freqcap/table.ts";
import { CounterLayout, CounterReader } from "../metrics/counters.ts";
import type { WasmVariant } from "../auction/kernel.ts";
import type { TmaxConfig } from "../config/load.ts";
import type { WorkerInit, WorkerMessage } from "./worker.ts";
import { WORKER_URL } from "../worker-url.ts";
import { ConfigError } from "../config/errors.ts";
import { applyRetention, archiveDirOf, summarizeRetention } from "../audit/archive/index.ts";
import { loadFraudModelFile } from "../fraud/model-file.ts";
import { loadFraudLists } from "../fraud/lists.ts";
import { createFraudState } from "../fraud/stage.ts";
import { startTier3, tier3Source } from "../fraud/async/run.ts";
import { writeModel, type FlatModel } from "../fraud/gbdt/model.ts";
import { configureLogging, log } from "../log/logger.ts";
import { allocateOverloadShared } from "../overload/guard.ts";
import { WorkerSet, workerSlots } from "./rolling.ts";
import { chooseStartSlots } from "./start-slots.ts";

export interface RunningServer {
  port: number;
  url: string;
  budget: SharedBudget;
  counters: CounterReader;
  /** The pod's budget control plane (leases, hierarchy, board). */
  budgetRuntime: BudgetRuntime;
  stop(): Promise<void>;
  /** Rolling restart (SIGHUP): every worker replaced one at a time, no accepted request lost; resolves with the count. */
  restartWorkers(): Promise<number>;
}

/** How long a worker may take to start before the server gives up. */
export const WORKER_START_TIMEOUT_MS = 15_000;
/** How long a worker may take to close its DSP pools and flush its audit outbox after its drain. */
export const WORKER_STOP_TIMEOUT_MS = 5_000;

export async function startServer(config: TmaxConfig, wasmVariant: WasmVariant = "release"): Promise<RunningServer> {
  configureLogging(config.log);
  const memory = createSharedMemory();
  const budget = new SharedBudget(memory);
  const budgetRuntime = await startBudget(config, budget); // slots hold leases, not the whole budget
  const pacing = startPacing(config, budget, budgetRuntime.board);
  new FreqCapTable(memory).setAllRules(config.campaigns);
  const fraudModel = loadFraudModel(config, memory);
  const slots = workerSlots(config.server.workers);
  const fraudState = createFraudState(slots);
  const layout = new CounterLayout(config.dsps.length, slots);
  const counterBuffer = layout.allocate();
  const overload = allocateOverloadShared(config, slots);
  const port = config.server.port === 0 ? freePort(config.server.host) : config.server.port;
  const workers: Worker[] = [];
  const initFor = (slot: number): WorkerInit => ({ config, memory, counters: counterBuffer, workerIndex: slot, workerCount: slots, port, wasmVariant, overload, budgetBoard: budgetRuntime.board.buffer, fraudState: fraudState.buffer, pacing: pacing.buffer });
  let first: number[] = [];
  try {
    first = await chooseStartSlots(config.audit.dir, config.server.workers, slots);
    for (const slot of first) workers.push(await spawnWorker(initFor(slot)));
  } catch (err) {
    for (const w of workers) w.terminate();
    pacing.stop();
    await budgetRuntime.stop();
    throw err;
  }
  const set = new WorkerSet(workers.map((worker, i) => ({ worker, slot: first[i]! })), slots, (slot) => spawnWorker(initFor(slot)),
    (old) => stopWorkers(old, config.server.shutdownDrainMs + WORKER_STOP_TIMEOUT_MS));
  const retention = startRetention(config);
  const tier3 = config.fraud.enabled && config.fraud.async.enabled ? startTier3(config.fraud, fraudState, config.audit.dir, tier3Source(config)) : null;
  const host = config.server.host === "0.0.0.0" ? "127.0.0.1" : config.server.host;
  return {
    port,
    url: `http://${host}:${port}`,
    budget,
    budgetRuntime,
    counters: new CounterReader(layout, counterBuffer),
    stop: async () => {
      clearInterval(retention);
      await tier3?.stop();
      await stopWorkers(set.live.map((w) => w.worker), config.server.shutdownDrainMs + WORKER_STOP_TIMEOUT_MS);
      pacing.stop();
      await budgetRuntime.stop(); // after the last auction: leases taken out, settled upward
    },
    restartWorkers: () => set.restart(),
  };
}

function spawnWorker(init: WorkerInit): Promise<Worker> {
  const worker = new Worker(WORKER_URL);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker ${init.workerIndex} did not start within ${WORKER_START_TIMEOUT_MS} ms`)), WORKER_START_TIMEOUT_MS);
    worker.onmessage = (event: MessageEvent<WorkerMessage>) => {
      clearTimeout(timer);
      if (event.data.type === "ready") resolve(worker);
      else if (event.data.type === "failed") reject(new Error(`worker ${init.workerIndex} failed to start: ${event.data.error}`));
    };
    worker.onerror = (event) => {
      clearTimeout(timer);
      reject(new Error(`worker ${init.workerIndex} crashed: ${event.message}`));
    };
    worker.postMessage({ type: "init", init });
  });
}

/** Asks every worker to drain and stop; one that has not reported within `timeoutMs` is terminated. */
async function stopWorkers(workers: Worker[], timeoutMs: number): Promise<void> {
  await Promise.all(workers.map((worker) => new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      log.warn("worker did not stop in time: terminated", { timeoutMs });
      worker.terminate();
      resolve();
    }, timeoutMs);
    worker.onmessage = (event: MessageEvent<WorkerMessage>) => {
      if (event.data.type !== "stopped") return;
      clearTimeout(timer);
      worker.terminate();
      resolve();
    };
    worker.postMessage({ type: "stop" });
  })));
}

/** How often the archive's retention (warm -> cold, cold deletion after its years) runs. */
export const RETENTION_INTERVAL_MS = 3_600_000;

/** Applies the audit retention policy now and then hourly, in the main thread, off the request path. */
function startRetention(config: TmaxConfig): ReturnType<typeof setInterval> {
  const run = () => {
    applyRetention({ archiveDir: archiveDirOf(config.audit.dir), now: new Date(), policy: config.audit.retention })
      .then((report) => console.log(summarizeRetention(report)))
      .catch((err) => log.error("audit retention failed", { error: String((err as Error).message ?? err) }));
  };
  run();
  const timer = setInterval(run, RETENTION_INTERVAL_MS);
  timer.unref();
  return timer;
}

/**
 * Loads the configured XGBoost model (or, with the fraud stage on, the shipped default) into the
 * shared memory once, and checks the fraud lists; a bad file is a config error.
 */
function loadFraudModel(config: TmaxConfig, memory: WebAssembly.Memory): FlatModel | null {
  if (config.fraud.enabled) loadFraudLists(config.fraud);
  if (config.fraud.modelPath === null && !config.fraud.enabled) return null;
  let model: FlatModel | null;
  try {
    model = loadFraudModelFile(config.fraud.modelPath, config.fraud.enabled);
  } catch (err) {
    throw new ConfigError("fraud.modelPath", (err as Error).message);
  }
  if (model !== null) writeModel(memory, model);
  return model;
}

/** A port that is free right now (workers then bind it together with reusePort). */
function freePort(hostname: string): number {
  const probe = Bun.listen({ hostname, port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}
