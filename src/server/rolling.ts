// Rolling restart: replace the workers one at a time without losing an accepted request. For each
// live worker: start a fresh one in a free slot (its own counter row, WASM scratch area and outbox
// directory), wait until it serves (it shares the port with reusePort), then drain the old one (its
// listener closes, its in-flight auctions finish, its outbox is flushed) and free its slot for the
// next. There is always one slot more than server.workers (see workerSlots). If a fresh worker fails
// to start, the restart stops there and the old workers keep serving.
import { LIMITS } from "../config/limits.ts";

export interface LiveWorker { worker: Worker; slot: number }

/** Slots for `workers` workers: one spare for the rolling restart, unless at the limit. */
export function workerSlots(workers: number): number {
  return Math.min(workers + 1, LIMITS.maxWorkers);
}

export class WorkerSet {
  private running: Promise<number> | null = null;

  constructor(
    public live: LiveWorker[],
    readonly slots: number,
    private readonly spawn: (slot: number) => Promise<Worker>,
    private readonly stop: (workers: Worker[]) => Promise<void>,
  ) {}

  /** Replaces every worker, one at a time; resolves with how many were replaced. A restart asked during one joins it. */
  restart(): Promise<number> {
    this.running ??= this.replaceAll().finally(() => (this.running = null));
    return this.running;
  }

  private async replaceAll(): Promise<number> {
    if (this.slots <= this.live.length) throw new Error(`rolling restart needs a spare worker slot (server.workers below ${LIMITS.maxWorkers})`);
    let replaced = 0;
    for (const old of [...this.live]) {
      const slot = this.freeSlot();
      const worker = await this.spawn(slot);
      this.live.push({ worker, slot });
      await this.stop([old.worker]);
      this.live = this.live.filter((w) => w !== old);
      replaced++;
      console.log(JSON.stringify({ level: "info", msg: "worker replaced", oldSlot: old.slot, newSlot: slot }));
    }
    return replaced;
  }

  private freeSlot(): number {
    for (let slot = 0; slot < this.slots; slot++) if (!this.live.some((w) => w.slot === slot)) return slot;
    throw new Error("no free worker slot");
  }
}
