// One worker's fraud stage: its Screener over the shared fraud state, the WASM GBDT scorer over the
// worker's row buffer, and the reload handshake (an admin reload in any worker bumps the shared
// generation; every worker reloads its lists on its next request).
import type { FraudSettings } from "./settings.ts";
import { loadFraudLists } from "./lists.ts";
import { Screener } from "./screen.ts";
import { FraudState } from "./shared/state.ts";
import { FRAUD_COUNTER_ROW } from "./metrics.ts";
import { loadWasmScorer, type GbdtScorer } from "./gbdt/scorer.ts";
import { writeModel } from "./gbdt/model.ts";
import { loadFraudModelFile } from "./model-file.ts";
import { layout as L } from "../auction/memory.ts";
import type { WasmVariant } from "../wasm/load.ts";

export class FraudStage {
  readonly screener: Screener;
  private seenGeneration: number;

  constructor(
    readonly settings: FraudSettings, readonly state: FraudState, readonly workerIndex: number,
    private readonly memory: WebAssembly.Memory, private readonly wasmVariant: WasmVariant,
  ) {
    this.seenGeneration = state.generation();
    this.screener = new Screener(settings, loadFraudLists(settings), state, this.scorer());
  }

  /** Picks up a reload done by another worker (one atomic load per request). */
  refresh(): void {
    if (this.state.generation() === this.seenGeneration) return;
    this.seenGeneration = this.state.generation();
    try {
      this.screener.lists = loadFraudLists(this.settings);
    } catch (err) {
      // The file changed again since the reload that checked it: keep the lists this worker has.
      console.error(JSON.stringify({ level: "error", msg: "fraud lists reload failed: kept the previous lists", worker: this.workerIndex, error: (err as Error).message }));
    }
    this.screener.scorer = this.scorer();
  }

  /**
   * Admin reload: re-reads the lists and the model file, writes the model into the shared memory and
   * tells the other workers. A bad file throws (ConfigError or model error) and changes nothing.
   */
  reload(): { model: string; generation: number } {
    const lists = loadFraudLists(this.settings);
    const model = loadFraudModelFile(this.settings.modelPath, true);
    if (model !== null) this.state.writingModel(() => writeModel(this.memory, model));
    this.screener.lists = lists;
    this.screener.scorer = this.scorer();
    this.seenGeneration = this.state.bumpGeneration();
    return { model: model === null ? "none" : `${model.roots.length} trees, ${model.featureCount} features`, generation: this.seenGeneration };
  }

  /** The WASM scorer, or null while no model is in the shared memory. */
  private scorer(): GbdtScorer | null {
    const header = new Int32Array(this.memory.buffer, L.GBDT_BASE, 4);
    if (Atomics.load(header, L.GBDT_TREE_COUNT_OFF >> 2) === 0) return null;
    return loadWasmScorer(this.memory, this.wasmVariant, this.workerIndex);
  }
}

/** The shared fraud state for `workerCount` workers (the main thread makes it once); its clock starts at `nowMs`. */
export function createFraudState(workerCount: number, nowMs = Date.now()): FraudState {
  return FraudState.create(workerCount, FRAUD_COUNTER_ROW, nowMs);
}

/** A worker's view of the state the main thread made. */
export function attachFraudState(buffer: SharedArrayBuffer, workerCount: number): FraudState {
  return new FraudState(buffer, workerCount, FRAUD_COUNTER_ROW);
}
